-- Workspace settings of a collection, as JSON: default answer mode (chat/query), system prompt,
-- temperature, how many pieces of evidence to retrieve, and the similarity below which
-- retrieved evidence is ignored. '{}' means pyxa's defaults.
ALTER TABLE collections ADD COLUMN settings TEXT NOT NULL DEFAULT '{}';
