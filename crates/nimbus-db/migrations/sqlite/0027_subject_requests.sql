-- The request desk (privacy F8): requests about their data from people who may have no
-- account (access, rectify, erase, restrict, object, and removal of content that shows
-- them), proved by a link mailed to the address they give; due 30 days after receipt, once
-- extendable to 90 with a reason; kept three years after they are closed, as evidence.
CREATE TABLE subject_requests (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind            TEXT NOT NULL,
    email           TEXT NOT NULL,
    -- A public id the request names (removal requests), and its product environment.
    cloud           TEXT,
    public_id       TEXT,
    details         TEXT NOT NULL,
    -- SHA-256 of the verification link's token; NULL once used.
    token_hash      TEXT,
    verified_at     BIGINT,
    received_at     BIGINT NOT NULL,
    due_at          BIGINT NOT NULL,
    extension_reason TEXT,
    -- open, done or refused
    status          TEXT NOT NULL,
    closed_at       BIGINT
);
CREATE INDEX subject_requests_by_token ON subject_requests (token_hash);
-- What happened to a request, in order (who acted: the requester, an operator, the system).
CREATE TABLE subject_request_log (
    request_id  BIGINT NOT NULL REFERENCES subject_requests(id) ON DELETE CASCADE,
    at          BIGINT NOT NULL,
    actor       TEXT NOT NULL,
    note        TEXT NOT NULL
);
CREATE INDEX subject_request_log_by_request ON subject_request_log (request_id, at);
