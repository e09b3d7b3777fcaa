-- One node renders a derivative while the others wait for its blob: the claim of a render
-- in progress, taken over by another node once it expires (its node died).
CREATE TABLE render_claims (
    blob_key TEXT COLLATE "C" PRIMARY KEY,
    owner TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
