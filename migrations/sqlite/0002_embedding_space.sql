-- The embedding space of each item's stored vectors (NULL: stored before spaces were recorded).
-- Vectors of different spaces are never compared: a bundle change re-embeds items (pyxa reindex).
ALTER TABLE items ADD COLUMN space TEXT;
CREATE INDEX items_collection_space ON items (collection, space);
