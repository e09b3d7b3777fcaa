-- Product news by mail (privacy F6): off unless the person opts in; since when they did.
-- Each change is a consent event: kind 'product_news' (the account page) or 'unsubscribe'
-- (the link in a message), `objects` 1 when they stopped it, 0 when they asked for it.
ALTER TABLE users ADD COLUMN product_news_at BIGINT;
