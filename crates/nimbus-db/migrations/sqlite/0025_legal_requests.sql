-- Requests from authorities for people's data (privacy F16), registered by the operator:
-- who asked, on what basis, for which kinds of data, and when the people concerned may be
-- told (at once, after a date such as the end of a gag order, or never, with a reason
-- reviewed every 90 days).
CREATE TABLE legal_requests (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    authority         TEXT NOT NULL,
    -- police, court, regulator or other
    authority_kind    TEXT NOT NULL,
    legal_basis       TEXT NOT NULL,
    -- registry categories, comma-separated
    categories        TEXT NOT NULL,
    received_at       BIGINT NOT NULL,
    disclosed_at      BIGINT,
    attachment_sha256 TEXT,
    -- NULL: never (see never_reason)
    notify_after      BIGINT,
    never_reason      TEXT,
    review_at         BIGINT,
    created_at        BIGINT NOT NULL
);
-- The people a request is about, and when each was told.
CREATE TABLE legal_request_subjects (
    request_id  BIGINT NOT NULL REFERENCES legal_requests(id) ON DELETE CASCADE,
    user_id     BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    notified_at BIGINT,
    PRIMARY KEY (request_id, user_id)
);
