-- The API key (its id) that started a conversation: with keys, a conversation is visible to that
-- key only (and to the admin). NULL: made without keys.
ALTER TABLE conversations ADD COLUMN owner TEXT;
