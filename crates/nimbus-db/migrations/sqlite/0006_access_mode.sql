-- access_mode: 'authenticated' assets of type upload are delivered only through signed URLs.
ALTER TABLE assets ADD COLUMN access_mode TEXT NOT NULL DEFAULT 'public';
