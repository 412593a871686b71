//! Angle classification and recognition of cut-out text lines, in batches of crops sorted by
//! aspect ratio (as rapidocr does, so padding is small): the classifier sees `3 x 48 x 192`
//! and answers 0 or 180 degrees; the recogniser sees `3 x 48 x W` with `W` the batch's widest
//! aspect ratio times 48 (at least 320, at most `max_width`) and answers per-column character
//! probabilities, decoded greedily (CTC: repeats merged, blanks dropped).

use image::RgbImage;
use ort::session::Session;
use ort::value::Tensor;
use pyxa_core::{Error, Result};

use super::pixels::{resize, write_chw_bgr};

const HEIGHT: u32 = 48;
const CLS_WIDTH: u32 = 192;
const REC_MIN_WIDTH: u32 = 320;
const BATCH: usize = 6;

fn infer_err(e: impl std::fmt::Display) -> Error {
    Error::internal(format!("text recognition failed: {e}"))
}

/// Indices of `crops` in increasing aspect ratio, cut into batches.
fn batches(crops: &[RgbImage]) -> Vec<Vec<usize>> {
    let ratio = |i: usize| f64::from(crops[i].width()) / f64::from(crops[i].height().max(1));
    let mut order: Vec<usize> = (0..crops.len()).collect();
    order.sort_by(|&a, &b| ratio(a).total_cmp(&ratio(b)));
    order.chunks(BATCH).map(<[usize]>::to_vec).collect()
}

/// Resizes a crop to height 48 keeping its aspect (width rounded up, at most `max_w`).
fn fit(img: &RgbImage, max_w: u32) -> Result<RgbImage> {
    let ratio = f64::from(img.width()) / f64::from(img.height().max(1));
    let w = ((f64::from(HEIGHT) * ratio).ceil() as u32).clamp(1, max_w);
    resize(img, w, HEIGHT)
}

fn run(session: &mut Session, input: Vec<f32>, n: usize, width: u32) -> Result<(Vec<i64>, Vec<f32>)> {
    let shape = vec![n as i64, 3, i64::from(HEIGHT), i64::from(width)];
    let tensor = Tensor::from_array((shape, input)).map_err(infer_err)?;
    let name = session.inputs()[0].name().to_string();
    let outputs = session.run(ort::inputs![name.as_str() => tensor]).map_err(infer_err)?;
    let (shape, data) = outputs[0].try_extract_tensor::<f32>().map_err(infer_err)?;
    Ok((shape.to_vec(), data.to_vec()))
}

/// Turns crops that the classifier reads as upside down (with more than `thresh`) by 180
/// degrees, in place. Returns how many were turned.
pub fn classify(session: &mut Session, crops: &mut [RgbImage], thresh: f32) -> Result<usize> {
    let mut turned = 0;
    let plane = (HEIGHT * CLS_WIDTH) as usize;
    for batch in batches(crops) {
        let mut input = vec![0f32; batch.len() * 3 * plane];
        for (k, &i) in batch.iter().enumerate() {
            let fitted = fit(&crops[i], CLS_WIDTH)?;
            write_chw_bgr(&fitted, &mut input[k * 3 * plane..], CLS_WIDTH as usize, HEIGHT as usize);
        }
        let (shape, probs) = run(session, input, batch.len(), CLS_WIDTH)?;
        let classes = shape.last().copied().unwrap_or(0) as usize;
        if classes < 2 || probs.len() != batch.len() * classes {
            return Err(infer_err(format!("classifier output shape {shape:?}")));
        }
        for (k, &i) in batch.iter().enumerate() {
            let row = &probs[k * classes..(k + 1) * classes];
            // Labels are ["0", "180"]: turn when "180" wins with enough confidence.
            if row[1] > row[0] && row[1] > thresh {
                image::imageops::rotate180_in_place(&mut crops[i]);
                turned += 1;
            }
        }
    }
    Ok(turned)
}

/// Reads each crop: its text and score (the mean probability of the kept characters; 0 when
/// nothing was read). `charset[0]` is the CTC blank.
pub fn recognize(session: &mut Session, crops: &[RgbImage], charset: &[String], max_width: u32) -> Result<Vec<(String, f32)>> {
    let mut out = vec![(String::new(), 0f32); crops.len()];
    for batch in batches(crops) {
        let widest = batch
            .iter()
            .map(|&i| f64::from(crops[i].width()) / f64::from(crops[i].height().max(1)))
            .fold(f64::from(REC_MIN_WIDTH) / f64::from(HEIGHT), f64::max);
        let width = ((f64::from(HEIGHT) * widest) as u32).clamp(REC_MIN_WIDTH, max_width.max(REC_MIN_WIDTH));
        let plane = (HEIGHT * width) as usize;
        let mut input = vec![0f32; batch.len() * 3 * plane];
        for (k, &i) in batch.iter().enumerate() {
            let fitted = fit(&crops[i], width)?;
            write_chw_bgr(&fitted, &mut input[k * 3 * plane..], width as usize, HEIGHT as usize);
        }
        let (shape, probs) = run(session, input, batch.len(), width)?;
        if shape.len() != 3 || shape[0] as usize != batch.len() || shape[2] as usize != charset.len() {
            return Err(infer_err(format!("recogniser output shape {shape:?} for {} characters", charset.len())));
        }
        let (steps, classes) = (shape[1] as usize, shape[2] as usize);
        for (k, &i) in batch.iter().enumerate() {
            out[i] = ctc_greedy(&probs[k * steps * classes..(k + 1) * steps * classes], classes, charset);
        }
    }
    Ok(out)
}

/// Greedy CTC decoding of `steps x classes` probabilities: the best class per step, repeats
/// merged, blanks (class 0) dropped; the score is the mean probability of what was kept.
pub fn ctc_greedy(probs: &[f32], classes: usize, charset: &[String]) -> (String, f32) {
    let mut text = String::new();
    let (mut sum, mut kept) = (0f32, 0usize);
    let mut prev = usize::MAX;
    for row in probs.chunks(classes) {
        let (best, p) = row.iter().enumerate().fold((0, f32::MIN), |acc, (i, &v)| if v > acc.1 { (i, v) } else { acc });
        if best != 0 && best != prev {
            text.push_str(&charset[best]);
            sum += p;
            kept += 1;
        }
        prev = best;
    }
    (text, if kept == 0 { 0.0 } else { sum / kept as f32 })
}

/// The recogniser's classes: the blank, the model's character list (its `character`
/// metadata, one per line), then a space, as rapidocr builds it.
pub fn charset_from_metadata(character: &str) -> Vec<String> {
    std::iter::once("blank".to_string())
        .chain(
            character.strip_suffix('\n').unwrap_or(character).split('\n').map(|c| c.strip_suffix('\r').unwrap_or(c).to_string()),
        )
        .chain(std::iter::once(" ".to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ctc_merges_repeats_and_drops_blanks() {
        let charset = charset_from_metadata("a\nb");
        assert_eq!(charset, ["blank", "a", "b", " "]);
        // Steps: a a blank a b space b.
        let best = [1usize, 1, 0, 1, 2, 3, 2];
        let mut probs = vec![0.0f32; best.len() * 4];
        for (t, &c) in best.iter().enumerate() {
            probs[t * 4 + c] = 0.8;
        }
        let (text, score) = ctc_greedy(&probs, 4, &charset);
        assert_eq!(text, "aab b");
        assert!((score - 0.8).abs() < 1e-6);
        assert_eq!(ctc_greedy(&[0.9, 0.1, 0.0, 0.0], 4, &charset), (String::new(), 0.0));
    }
}
