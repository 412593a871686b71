//! Text detection (PP-OCRv4 DB): the photo resized to sides that are multiples of 32 with the
//! long side at most `det_max_side`, the probability map thresholded and dilated (2x2), one box
//! per 8-connected component (its minimum-area rectangle), the mean probability inside the box
//! as its score, the box grown by `area * unclip_ratio / perimeter` ("unclip") and mapped back
//! to the photo. This is rapidocr's `DBPostProcess` with connected components in place of
//! OpenCV's contours (the same outer boundaries; holes are not boxes).

use image::RgbImage;
use ort::session::Session;
use ort::value::Tensor;
use pyxa_core::{Error, Result};

use super::geometry::{dist, inside_convex, min_area_rect, order_quad, Pt};
use super::pixels::{resize, write_chw_bgr};

/// Post-processing knobs (rapidocr's config values are the defaults).
#[derive(Debug, Clone, Copy)]
pub struct DetParams {
    pub min_side: u32,
    pub max_side: u32,
    pub thresh: f32,
    pub box_thresh: f32,
    pub unclip_ratio: f32,
    pub max_candidates: usize,
}

/// A detected text box in the coordinates of the picture given to [`detect`]: corners
/// top-left, top-right, bottom-right, bottom-left, and the detector's mean probability.
#[derive(Debug, Clone, Copy)]
pub struct DetBox {
    pub quad: [Pt; 4],
    pub score: f32,
}

/// The detector's input size for a `w x h` picture: small pictures scaled up until the short
/// side is `min_side`, then the long side kept at most `max_side`; each side rounded to a
/// multiple of 32 (at least 32).
pub fn input_size(w: u32, h: u32, min_side: u32, max_side: u32) -> (u32, u32) {
    let (long, short) = (f64::from(w.max(h)), f64::from(w.min(h).max(1)));
    let mut ratio = if short < f64::from(min_side) { f64::from(min_side) / short } else { 1.0 };
    if long * ratio > f64::from(max_side) {
        ratio = f64::from(max_side) / long;
    }
    // Python's round (half to even), as rapidocr rounds.
    let round32 = |v: u32| ((((f64::from(v) * ratio).floor()) / 32.0).round_ties_even() as u32 * 32).max(32);
    (round32(w), round32(h))
}

pub fn detect(session: &mut Session, img: &RgbImage, p: &DetParams) -> Result<Vec<DetBox>> {
    let (w, h) = img.dimensions();
    let (iw, ih) = input_size(w, h, p.min_side, p.max_side);
    let resized = resize(img, iw, ih)?;
    let (iw, ih) = (iw as usize, ih as usize);
    let mut input = vec![0f32; 3 * iw * ih];
    write_chw_bgr(&resized, &mut input, iw, ih);
    let tensor = Tensor::from_array((vec![1i64, 3, ih as i64, iw as i64], input)).map_err(infer_err)?;
    let name = session.inputs()[0].name().to_string();
    let outputs = session.run(ort::inputs![name.as_str() => tensor]).map_err(infer_err)?;
    let (shape, pred) = outputs[0].try_extract_tensor::<f32>().map_err(infer_err)?;
    let (mh, mw) = (shape[shape.len() - 2] as usize, shape[shape.len() - 1] as usize);
    if pred.len() != mh * mw {
        return Err(infer_err(format!("detector output shape {shape:?}")));
    }
    Ok(boxes_from_map(pred, mw, mh, w, h, p))
}

fn infer_err(e: impl std::fmt::Display) -> Error {
    Error::internal(format!("text detection failed: {e}"))
}

/// DB post-processing of a `mw x mh` probability map into boxes in a `dest_w x dest_h` picture.
pub fn boxes_from_map(pred: &[f32], mw: usize, mh: usize, dest_w: u32, dest_h: u32, p: &DetParams) -> Vec<DetBox> {
    // Threshold, then dilate with a 2x2 kernel anchored at (1,1): a pixel is set when it or
    // its left, upper or upper-left neighbour is above the threshold.
    let on = |x: usize, y: usize| pred[y * mw + x] > p.thresh;
    let mut mask = vec![false; mw * mh];
    for y in 0..mh {
        for x in 0..mw {
            mask[y * mw + x] = on(x, y) || (x > 0 && on(x - 1, y)) || (y > 0 && (on(x, y - 1) || (x > 0 && on(x - 1, y - 1))));
        }
    }
    let mut boxes = Vec::new();
    let mut seen = vec![false; mw * mh];
    let mut stack = Vec::new();
    let mut candidates = 0;
    for start in 0..mw * mh {
        if !mask[start] || seen[start] {
            continue;
        }
        candidates += 1;
        if candidates > p.max_candidates {
            break;
        }
        // One 8-connected component; its hull is that of each row's extreme pixels.
        let mut rows: std::collections::HashMap<usize, (usize, usize)> = std::collections::HashMap::new();
        seen[start] = true;
        stack.push(start);
        while let Some(i) = stack.pop() {
            let (x, y) = (i % mw, i / mw);
            let e = rows.entry(y).or_insert((x, x));
            e.0 = e.0.min(x);
            e.1 = e.1.max(x);
            for dy in -1i64..=1 {
                for dx in -1i64..=1 {
                    let (nx, ny) = (x as i64 + dx, y as i64 + dy);
                    if nx < 0 || ny < 0 || nx >= mw as i64 || ny >= mh as i64 {
                        continue;
                    }
                    let j = ny as usize * mw + nx as usize;
                    if mask[j] && !seen[j] {
                        seen[j] = true;
                        stack.push(j);
                    }
                }
            }
        }
        let pts: Vec<Pt> = rows.iter().flat_map(|(&y, &(a, b))| [[a as f64, y as f64], [b as f64, y as f64]]).collect();
        let rect = min_area_rect(pts);
        if rect.short_side() < 3.0 {
            continue;
        }
        let score = box_score(pred, mw, mh, &order_quad(rect.corners()));
        if score < p.box_thresh {
            continue;
        }
        let distance = rect.w * rect.h * f64::from(p.unclip_ratio) / (2.0 * (rect.w + rect.h));
        let grown = rect.expand(distance);
        if grown.short_side() < 5.0 {
            continue;
        }
        // Back to the picture's scale, rounded and clipped as rapidocr does.
        let (sx, sy) = (f64::from(dest_w) / mw as f64, f64::from(dest_h) / mh as f64);
        let quad = order_quad(grown.corners().map(|[x, y]| {
            [(x * sx).round().clamp(0.0, f64::from(dest_w - 1)), (y * sy).round().clamp(0.0, f64::from(dest_h - 1))]
        }));
        if dist(quad[0], quad[1]).floor() <= 3.0 || dist(quad[0], quad[3]).floor() <= 3.0 {
            continue;
        }
        boxes.push(DetBox { quad, score });
    }
    boxes
}

/// Mean probability over the pixels inside the quad (rapidocr's `box_score_fast`).
fn box_score(pred: &[f32], mw: usize, mh: usize, quad: &[Pt; 4]) -> f32 {
    let clampx = |v: f64| (v.max(0.0) as usize).min(mw - 1);
    let clampy = |v: f64| (v.max(0.0) as usize).min(mh - 1);
    let xmin = clampx(quad.iter().map(|p| p[0]).fold(f64::MAX, f64::min).floor());
    let xmax = clampx(quad.iter().map(|p| p[0]).fold(f64::MIN, f64::max).ceil());
    let ymin = clampy(quad.iter().map(|p| p[1]).fold(f64::MAX, f64::min).floor());
    let ymax = clampy(quad.iter().map(|p| p[1]).fold(f64::MIN, f64::max).ceil());
    // OpenCV fills the polygon of the truncated corners.
    let poly: Vec<Pt> = quad.iter().map(|p| [p[0].trunc(), p[1].trunc()]).collect();
    let (mut sum, mut n) = (0f64, 0usize);
    for y in ymin..=ymax {
        for x in xmin..=xmax {
            if inside_convex(&poly, [x as f64, y as f64]) {
                sum += f64::from(pred[y * mw + x]);
                n += 1;
            }
        }
    }
    if n == 0 {
        0.0
    } else {
        (sum / n as f64) as f32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_sizes_are_multiples_of_32_within_the_limit() {
        assert_eq!(input_size(384, 191, 0, 960), (384, 192));
        assert_eq!(input_size(4000, 3000, 0, 960), (960, 704));
        assert_eq!(input_size(10, 10, 0, 960), (32, 32));
        // rapidocr's "short side 736", bounded by the long side.
        assert_eq!(input_size(384, 191, 736, 960), (960, 480));
        assert_eq!(input_size(600, 400, 736, 2000), (1088, 736));
    }

    #[test]
    fn one_blob_gives_one_unclipped_box() {
        let (mw, mh) = (64, 32);
        let mut pred = vec![0f32; mw * mh];
        for y in 10..20 {
            for x in 8..50 {
                pred[y * mw + x] = 0.9;
            }
        }
        let p = DetParams { min_side: 0, max_side: 960, thresh: 0.3, box_thresh: 0.5, unclip_ratio: 1.6, max_candidates: 1000 };
        let boxes = boxes_from_map(&pred, mw, mh, 128, 64, &p);
        assert_eq!(boxes.len(), 1, "{boxes:?}");
        let q = boxes[0].quad;
        // The blob spans x 8..=50, y 10..=20 after dilation; unclip grows it by about 6.9.
        assert!(q[0][0] < 8.0 * 2.0 && q[1][0] > 50.0 * 2.0, "{q:?}");
        assert!(q[0][1] < 10.0 * 2.0 && q[3][1] > 20.0 * 2.0, "{q:?}");
        // The box includes the dilated edge (probability 0): 0.9 * (10 * 42) / (11 * 43).
        assert!((boxes[0].score - 0.799).abs() < 0.01, "{}", boxes[0].score);
    }
}
