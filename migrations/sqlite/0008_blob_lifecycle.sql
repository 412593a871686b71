-- When a photo was last uploaded or asked about: photos no item keeps are deleted once this is
-- older than the retention (and at once when their last item is deleted).
ALTER TABLE blobs ADD COLUMN used_at INTEGER NOT NULL DEFAULT 0;
UPDATE blobs SET used_at = created_at;
CREATE INDEX blobs_used ON blobs (used_at);
-- Reference checks before a photo is deleted.
CREATE INDEX items_blob ON items (blob_hash);
CREATE INDEX answers_image ON answers (image_hash);
