-- Text read from an item's photo (OCR): shown with the item, embedded with its text vector so
-- the photo is found by its words, and given to answers as evidence.
ALTER TABLE items ADD COLUMN ocr_text TEXT;
