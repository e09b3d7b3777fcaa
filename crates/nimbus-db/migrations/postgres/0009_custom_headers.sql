-- Response headers added when an asset is delivered (`headers` on upload: Link, X-Robots-Tag), as JSON pairs.
ALTER TABLE assets ADD COLUMN headers TEXT NOT NULL DEFAULT '[]';
