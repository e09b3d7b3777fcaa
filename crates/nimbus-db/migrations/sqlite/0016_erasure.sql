-- A person who asked for their account to be deleted: blocked at once, erased when this
-- time comes (the grace period), unless they cancel first.
ALTER TABLE users ADD COLUMN deletion_due_at BIGINT;

-- People erased, by hashes keyed with the installation's secret only: the account (its id
-- and creation time) and its address. A copy of each entry lives in the blob store, so that
-- a catalog restored from a backup taken before an erasure is erased again at start.
CREATE TABLE erasure_ledger (
    subject_hash TEXT PRIMARY KEY,
    email_hash TEXT NOT NULL,
    erased_at    BIGINT NOT NULL
);
