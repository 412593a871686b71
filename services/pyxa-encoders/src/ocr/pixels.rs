//! Pixel plumbing shared by the text reader's three models: resizing (fast_image_resize,
//! bilinear) and writing a picture into a normalised BGR CHW tensor, `(v / 255 - 0.5) / 0.5`,
//! which is PaddleOCR's normalisation for detection, angle classification and recognition
//! (rapidocr feeds OpenCV's BGR order, so channel 0 is blue).

use fast_image_resize::{self as fr, images::Image as FrImage, FilterType, PixelType, ResizeAlg, ResizeOptions};
use image::RgbImage;
use pyxa_core::{Error, Result};

/// Resizes to exactly `w x h` (bilinear; area-aware when shrinking).
pub fn resize(img: &RgbImage, w: u32, h: u32) -> Result<RgbImage> {
    let (w, h) = (w.max(1), h.max(1));
    if img.dimensions() == (w, h) {
        return Ok(img.clone());
    }
    let src = fr::images::ImageRef::new(img.width(), img.height(), img.as_raw(), PixelType::U8x3)
        .map_err(|e| Error::internal(format!("ocr resize source: {e}")))?;
    let mut dst = FrImage::new(w, h, PixelType::U8x3);
    fr::Resizer::new()
        .resize(&src, &mut dst, &ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Bilinear)))
        .map_err(|e| Error::internal(format!("ocr resize: {e}")))?;
    RgbImage::from_raw(w, h, dst.into_vec()).ok_or_else(|| Error::internal("ocr resize: buffer size"))
}

/// Writes `img` into `out` (one `3 x plane_h x plane_w` slot of a batch, zero-filled
/// beforehand) at its top-left corner, normalised, BGR.
pub fn write_chw_bgr(img: &RgbImage, out: &mut [f32], plane_w: usize, plane_h: usize) {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let plane = plane_w * plane_h;
    let raw = img.as_raw();
    for y in 0..h.min(plane_h) {
        for x in 0..w.min(plane_w) {
            let at = (y * w + x) * 3;
            for c in 0..3 {
                // Channel c of the tensor is BGR: blue first.
                out[c * plane + y * plane_w + x] = f32::from(raw[at + 2 - c]) / 127.5 - 1.0;
            }
        }
    }
}
