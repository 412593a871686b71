//! The OCR adapter: PP-OCRv4 (`pyxa_encoders::ocr`) behind the domain's `TextReader` trait, on
//! blocking threads.

use std::sync::Arc;

use async_trait::async_trait;
use pyxa_core::{Error, Result, RgbPixels, TextReader};
use pyxa_encoders::ocr;

/// Lines this short are kept only when read with at least this score: stray marks on photos
/// without text read as one or two characters at middling scores.
const SHORT_LINE_CHARS: usize = 2;
const SHORT_LINE_MIN_SCORE: f32 = 0.8;

pub struct OcrReader(pub Arc<pyxa_encoders::TextReader>);

#[async_trait]
impl TextReader for OcrReader {
    async fn read_text(&self, pixels: RgbPixels) -> Result<String> {
        let reader = self.0.clone();
        tokio::task::spawn_blocking(move || {
            let img = image::RgbImage::from_raw(pixels.width, pixels.height, pixels.data)
                .ok_or_else(|| Error::internal("pixels do not match their dimensions"))?;
            let lines: Vec<_> = reader
                .read(&img)?
                .into_iter()
                .filter(|l| l.text.chars().count() > SHORT_LINE_CHARS || l.score >= SHORT_LINE_MIN_SCORE)
                .collect();
            Ok(ocr::text(&lines))
        })
        .await
        .map_err(|e| Error::internal("OCR task").with_source(e))?
    }
}
