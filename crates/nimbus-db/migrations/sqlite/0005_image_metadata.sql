-- Embedded EXIF fields read at upload (name, value pairs as JSON), for `image_metadata`.
ALTER TABLE assets ADD COLUMN image_metadata TEXT NOT NULL DEFAULT '[]';
