//! Reading text in photos (Chinese and English): PP-OCRv4 detection, the PP-OCR angle
//! classifier and PP-OCRv4 recognition on ONNX Runtime, with rapidocr's pre- and
//! post-processing (the models come from the `ocr` artifact, `pyxa models pull ocr`).
//!
//! Time per photo is bounded: the photo is first scaled so its long side is at most
//! `max_side`, detection runs with the long side at most `det_max_side`, and at most
//! `max_boxes` boxes (the largest) are read. One intra-op thread by default.
//!
//! Modules: `geometry` (hulls, rotated rectangles, perspective crops), `pixels` (resizing,
//! tensors), `det` (detection and DB post-processing), `rec` (angle classifier, recogniser,
//! CTC decoding).

mod det;
mod geometry;
mod pixels;
mod rec;

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use image::RgbImage;
use ort::session::Session;
use pyxa_core::{Error, ErrorCode, Result};

use crate::runtime::{self, Device};
use det::DetParams;
use geometry::{dist, warp_quad};

pub const DET_MODEL: &str = "ch_PP-OCRv4_det_infer.onnx";
pub const CLS_MODEL: &str = "ch_ppocr_mobile_v2.0_cls_infer.onnx";
pub const REC_MODEL: &str = "ch_PP-OCRv4_rec_infer.onnx";

/// How the text reader runs. `new` gives rapidocr's thresholds and pyxa's bounds.
#[derive(Debug, Clone)]
pub struct OcrSettings {
    pub ort_library: PathBuf,
    pub device: Device,
    /// ONNX Runtime intra-op threads per model.
    pub threads: usize,
    /// The photo is scaled down first so that its long side is at most this.
    pub max_side: u32,
    /// The detector's input: small photos scaled up until the short side is `det_min_side`,
    /// the long side at most `det_max_side` (both rounded to multiples of 32). The defaults,
    /// 0 and 960, are PaddleOCR's; rapidocr's are 736 and `max_side` (slower, and on these
    /// test photos no more text, but fewer stray one-character reads on photos without text).
    pub det_min_side: u32,
    pub det_max_side: u32,
    pub det_thresh: f32,
    pub box_thresh: f32,
    pub unclip_ratio: f32,
    /// At most this many boxes are read (the largest, by area times detection score).
    pub max_boxes: usize,
    pub use_angle_classifier: bool,
    pub cls_thresh: f32,
    /// Lines read with a lower mean character probability are dropped.
    pub text_score: f32,
    /// Widest recogniser input (a longer line is squeezed into it).
    pub rec_max_width: u32,
}

impl OcrSettings {
    pub fn new(ort_library: PathBuf) -> Self {
        Self {
            ort_library,
            device: Device::Cpu,
            threads: 1,
            max_side: 2000,
            det_min_side: 0,
            det_max_side: 960,
            det_thresh: 0.3,
            box_thresh: 0.5,
            unclip_ratio: 1.6,
            max_boxes: 50,
            use_angle_classifier: true,
            cls_thresh: 0.9,
            text_score: 0.5,
            rec_max_width: 1600,
        }
    }
}

/// One line of text: what was read, its score (mean character probability) and its box in
/// the photo's pixels, corners top-left, top-right, bottom-right, bottom-left.
#[derive(Debug, Clone, PartialEq)]
pub struct TextLine {
    pub text: String,
    pub score: f32,
    pub bbox: [[f32; 2]; 4],
}

/// Where the time of one `read` went.
#[derive(Debug, Clone, Copy, Default)]
pub struct OcrTimings {
    pub detect: Duration,
    pub classify: Duration,
    pub recognize: Duration,
    pub total: Duration,
    /// Boxes the detector found (before the `max_boxes` cap).
    pub boxes: usize,
}

/// The PP-OCR text reader. `read` takes `&self` (the sessions are locked one at a time), so
/// one reader can be shared between threads.
pub struct TextReader {
    det: Mutex<Session>,
    cls: Mutex<Session>,
    rec: Mutex<Session>,
    charset: Vec<String>,
    settings: OcrSettings,
    providers: Vec<String>,
}

impl std::fmt::Debug for TextReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TextReader").field("providers", &self.providers).field("characters", &self.charset.len()).finish()
    }
}

impl TextReader {
    /// Loads ONNX Runtime (once per process) and the three models from `dir`. Blocking.
    pub fn load(dir: &Path, settings: &OcrSettings) -> Result<TextReader> {
        runtime::init(&settings.ort_library)?;
        let path = |name: &str| -> Result<PathBuf> {
            let p = dir.join(name);
            if p.is_file() {
                Ok(p)
            } else {
                Err(Error::new(ErrorCode::OcrModelsMissing, format!("{} is missing; run `pyxa models pull ocr`", p.display())))
            }
        };
        let (det, providers) = runtime::open_session(&path(DET_MODEL)?, settings.device, settings.threads)?;
        let (cls, _) = runtime::open_session(&path(CLS_MODEL)?, settings.device, settings.threads)?;
        let (rec, _) = runtime::open_session(&path(REC_MODEL)?, settings.device, settings.threads)?;
        let character = rec
            .metadata()
            .ok()
            .and_then(|m| m.custom("character"))
            .ok_or_else(|| Error::new(ErrorCode::ModelLoadFailed, format!("{REC_MODEL} has no `character` metadata")))?;
        let charset = rec::charset_from_metadata(&character);
        tracing::info!(characters = charset.len(), providers = ?providers, "text reader ready");
        Ok(TextReader {
            det: Mutex::new(det),
            cls: Mutex::new(cls),
            rec: Mutex::new(rec),
            charset,
            settings: settings.clone(),
            providers,
        })
    }

    /// The execution providers that run the models.
    pub fn providers(&self) -> &[String] {
        &self.providers
    }

    /// The text lines in `img`, in reading order (top to bottom, left to right).
    pub fn read(&self, img: &RgbImage) -> Result<Vec<TextLine>> {
        Ok(self.read_timed(img)?.0)
    }

    pub fn read_timed(&self, img: &RgbImage) -> Result<(Vec<TextLine>, OcrTimings)> {
        let started = Instant::now();
        let s = &self.settings;
        let mut timings = OcrTimings::default();
        let (raw_w, raw_h) = img.dimensions();
        if raw_w == 0 || raw_h == 0 {
            return Ok((Vec::new(), timings));
        }
        // Scale first (bounded time), then pad very flat pictures top and bottom.
        let (work, pad_top) = working_image(img, s.max_side)?;
        let (ratio_w, ratio_h) =
            (f64::from(raw_w) / f64::from(work.width()), f64::from(raw_h) / f64::from(work.height() - 2 * pad_top));

        let t = Instant::now();
        let params = DetParams {
            min_side: s.det_min_side,
            max_side: s.det_max_side,
            thresh: s.det_thresh,
            box_thresh: s.box_thresh,
            unclip_ratio: s.unclip_ratio,
            max_candidates: 1000,
        };
        let mut boxes = det::detect(&mut *lock(&self.det)?, &work, &params)?;
        timings.detect = t.elapsed();
        timings.boxes = boxes.len();
        // The largest, surest boxes first.
        let weight = |b: &det::DetBox| dist(b.quad[0], b.quad[1]) * dist(b.quad[0], b.quad[3]) * f64::from(b.score);
        boxes.sort_by(|a, b| weight(b).total_cmp(&weight(a)));
        boxes.truncate(s.max_boxes);

        let mut crops = Vec::with_capacity(boxes.len());
        for b in &boxes {
            let q = &b.quad;
            let w = dist(q[0], q[1]).max(dist(q[2], q[3])) as u32;
            let h = dist(q[0], q[3]).max(dist(q[1], q[2])) as u32;
            let crop = warp_quad(&work, q, w.max(1), h.max(1)).ok_or_else(|| Error::internal("degenerate text box"))?;
            // Tall crops are vertical text: turn them to read left to right.
            crops.push(if f64::from(crop.height()) >= 1.5 * f64::from(crop.width()) { geometry::rot90(&crop) } else { crop });
        }
        if s.use_angle_classifier && !crops.is_empty() {
            let t = Instant::now();
            rec::classify(&mut *lock(&self.cls)?, &mut crops, s.cls_thresh)?;
            timings.classify = t.elapsed();
        }
        let t = Instant::now();
        let read = if crops.is_empty() {
            Vec::new()
        } else {
            rec::recognize(&mut *lock(&self.rec)?, &crops, &self.charset, s.rec_max_width)?
        };
        timings.recognize = t.elapsed();

        let mut lines = Vec::new();
        for (b, (text, score)) in boxes.iter().zip(read) {
            if score < s.text_score || text.trim().is_empty() {
                continue;
            }
            let bbox = b.quad.map(|[x, y]| {
                [
                    ((x * ratio_w) as f32).clamp(0.0, raw_w as f32),
                    (((y - f64::from(pad_top)) * ratio_h) as f32).clamp(0.0, raw_h as f32),
                ]
            });
            lines.push(TextLine { text, score, bbox });
        }
        let lines = rows(&lines).into_iter().flatten().map(|i| lines[i].clone()).collect();
        timings.total = started.elapsed();
        Ok((lines, timings))
    }
}

fn lock(m: &Mutex<Session>) -> Result<std::sync::MutexGuard<'_, Session>> {
    m.lock().map_err(|_| Error::internal("an OCR session panicked"))
}

/// The picture detection runs on: scaled so the long side is at most `max_side` and the short
/// side at least 30, then, when it is at most 30 high or more than 8 times wider than high,
/// padded with black top and bottom (rapidocr's letterbox). Returns it and the padding.
fn working_image(img: &RgbImage, max_side: u32) -> Result<(RgbImage, u32)> {
    const MIN_SIDE: f64 = 30.0;
    let (w, h) = (f64::from(img.width()), f64::from(img.height()));
    let mut scale = if w.max(h) > f64::from(max_side) { f64::from(max_side) / w.max(h) } else { 1.0 };
    if w.min(h) * scale < MIN_SIDE {
        scale = MIN_SIDE / w.min(h);
    }
    let scaled =
        if scale == 1.0 { img.clone() } else { pixels::resize(img, (w * scale).round() as u32, (h * scale).round() as u32)? };
    let (sw, sh) = scaled.dimensions();
    if sh > 30 && sw <= 8 * sh {
        return Ok((scaled, 0));
    }
    let target = ((sw / 8).max(30) * 2).max(sh);
    let pad = (target - sh) / 2;
    let mut out = RgbImage::new(sw, sh + 2 * pad);
    image::imageops::replace(&mut out, &scaled, 0, i64::from(pad));
    Ok((out, pad))
}

/// Groups lines into rows, top to bottom, each left to right: a line joins a row when its
/// vertical centre is within half the smaller height of the row's first line's centre.
fn rows(lines: &[TextLine]) -> Vec<Vec<usize>> {
    let span = |l: &TextLine| {
        let ys = l.bbox.map(|p| p[1]);
        let (top, bottom) = (ys.iter().copied().fold(f32::MAX, f32::min), ys.iter().copied().fold(f32::MIN, f32::max));
        ((top + bottom) / 2.0, bottom - top)
    };
    let left = |l: &TextLine| l.bbox.iter().map(|p| p[0]).fold(f32::MAX, f32::min);
    let mut order: Vec<usize> = (0..lines.len()).collect();
    order.sort_by(|&a, &b| span(&lines[a]).0.total_cmp(&span(&lines[b]).0));
    let mut rows: Vec<Vec<usize>> = Vec::new();
    for i in order {
        let (cy, h) = span(&lines[i]);
        let joins = rows.last().is_some_and(|row| {
            let (rcy, rh) = span(&lines[row[0]]);
            (cy - rcy).abs() < 0.5 * h.min(rh)
        });
        match rows.last_mut() {
            Some(row) if joins => row.push(i),
            _ => rows.push(vec![i]),
        }
    }
    for row in &mut rows {
        row.sort_by(|&a, &b| left(&lines[a]).total_cmp(&left(&lines[b])));
    }
    rows
}

/// All the text, in reading order: lines on one row joined by a space, rows by a newline.
pub fn text(lines: &[TextLine]) -> String {
    rows(lines)
        .iter()
        .map(|row| row.iter().map(|&i| lines[i].text.trim()).collect::<Vec<_>>().join(" "))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(text: &str, x: f32, y: f32, w: f32, h: f32) -> TextLine {
        TextLine { text: text.into(), score: 1.0, bbox: [[x, y], [x + w, y], [x + w, y + h], [x, y + h]] }
    }

    #[test]
    fn text_is_in_reading_order() {
        let lines = vec![
            line("world", 120.0, 12.0, 80.0, 20.0),
            line("second", 10.0, 60.0, 90.0, 22.0),
            line("hello", 10.0, 10.0, 90.0, 20.0),
        ];
        assert_eq!(text(&lines), "hello world\nsecond");
    }

    #[test]
    fn flat_pictures_are_letterboxed() {
        let img = RgbImage::from_pixel(400, 20, image::Rgb([255, 255, 255]));
        let (work, pad) = working_image(&img, 2000).unwrap();
        assert_eq!(work.width(), 600);
        assert_eq!(work.height(), 30 + 2 * pad);
        let (work, pad) = working_image(&RgbImage::new(4000, 1000), 2000).unwrap();
        assert_eq!((work.dimensions(), pad), ((2000, 500), 0));
    }
}
