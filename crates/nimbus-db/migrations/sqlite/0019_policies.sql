-- Versions of the privacy policy and the terms, each with what changed and when it takes
-- effect; and who went on using Nimbus after a version took effect (acceptance).
CREATE TABLE policies (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    kind          TEXT NOT NULL,
    version       BIGINT NOT NULL,
    text_md       TEXT NOT NULL,
    changelog_md  TEXT NOT NULL,
    change_class  TEXT NOT NULL,
    published_at  BIGINT NOT NULL,
    effective_at  BIGINT NOT NULL,
    UNIQUE (kind, version)
);
CREATE TABLE policy_acceptances (
    user_id      BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    policy_id    BIGINT NOT NULL REFERENCES policies(id) ON DELETE CASCADE,
    accepted_at  BIGINT NOT NULL,
    PRIMARY KEY (user_id, policy_id)
);
