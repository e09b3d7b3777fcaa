-- Console accounts. Personal data: users.email. Sessions and links are stored by the
-- SHA-256 of their token, never the token itself.
CREATE TABLE users (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    email TEXT NOT NULL UNIQUE,
    password_hash     TEXT,
    disabled_at       BIGINT,
    failed_sign_ins   BIGINT NOT NULL DEFAULT 0,
    locked_until      BIGINT NOT NULL DEFAULT 0,
    created_at        BIGINT NOT NULL,
    last_sign_in_at   BIGINT,
    -- Two-step sign-in: the TOTP secret (hex) once confirmed, one being set up, and the last
    -- step whose code was used (a code works once).
    totp_secret       TEXT,
    totp_pending      TEXT,
    totp_last_step    BIGINT NOT NULL DEFAULT 0
);

-- Recovery codes of two-step sign-in, by hash; a used one is deleted.
CREATE TABLE recovery_codes (
    user_id    BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,
    PRIMARY KEY (user_id, code_hash)
);

-- A person's role in a product environment.
CREATE TABLE user_roles (
    user_id  BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    env_id   BIGINT NOT NULL REFERENCES environments(id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    PRIMARY KEY (user_id, env_id)
);
CREATE INDEX user_roles_by_env ON user_roles (env_id);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id       BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    last_seen_at  BIGINT NOT NULL
);
CREATE INDEX sessions_by_user ON sessions (user_id);

-- One-time links: the first owner's set-up, invitations and password resets.
CREATE TABLE account_links (
    token_hash TEXT PRIMARY KEY,
    purpose TEXT NOT NULL,
    user_id     BIGINT REFERENCES users(id) ON DELETE CASCADE,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);
