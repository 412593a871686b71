//! Photo decoding and preprocessing, hardened against hostile input: the header is read and the
//! dimensions checked before any pixel buffer is allocated.

use pyxa_core::ErrorCode;
use std::io::Cursor;

use fast_image_resize::{self as fr, images::Image as FrImage, FilterType, PixelType, ResizeAlg, ResizeOptions};
use image::{DynamicImage, GenericImageView, ImageDecoder, ImageFormat, ImageReader, Limits};
use pyxa_core::{Error, Result};
use pyxa_models::manifest::{Interpolation, Preprocess, View};

/// Bounds on what pyxa agrees to decode.
#[derive(Debug, Clone, Copy)]
pub struct DecodeLimits {
    pub max_bytes: usize,
    pub max_side: u32,
    pub max_pixels: u64,
    /// Most memory one decode may need (decoded pixels plus the RGB copy), estimated from the
    /// header before anything is allocated.
    pub max_decode_bytes: u64,
}

impl Default for DecodeLimits {
    fn default() -> Self {
        // 40 MP covers every phone camera; a 20000x20000 "bomb" is 400 MP. 256 MiB takes a
        // 40 MP JPEG or a 30 MP PNG with alpha, not a 40 MP 16-bit one.
        Self { max_bytes: 25 * 1024 * 1024, max_side: 16_384, max_pixels: 40_000_000, max_decode_bytes: 256 << 20 }
    }
}

/// Memory all decodes in the process may hold at once, and how many may run at once: a burst
/// of large photos waits its turn instead of exhausting memory.
const DECODE_MEMORY_BUDGET: u64 = 768 << 20;
const MAX_CONCURRENT_DECODES: usize = 4;

/// The process-wide decode budget. Decodes run on blocking threads, so this blocks.
struct DecodeBudget {
    in_use: std::sync::Mutex<(u64, usize)>,
    freed: std::sync::Condvar,
}

static DECODE_BUDGET: DecodeBudget = DecodeBudget { in_use: std::sync::Mutex::new((0, 0)), freed: std::sync::Condvar::new() };

/// A share of the decode budget, returned when dropped.
struct DecodeShare(u64);

impl DecodeBudget {
    fn take(&'static self, bytes: u64) -> DecodeShare {
        // One decode larger than the whole budget still runs, alone.
        let bytes = bytes.min(DECODE_MEMORY_BUDGET);
        let mut in_use = self.in_use.lock().unwrap_or_else(|p| p.into_inner());
        while in_use.1 >= MAX_CONCURRENT_DECODES || in_use.0 + bytes > DECODE_MEMORY_BUDGET {
            in_use = self.freed.wait(in_use).unwrap_or_else(|p| p.into_inner());
        }
        in_use.0 += bytes;
        in_use.1 += 1;
        DecodeShare(bytes)
    }
}

impl Drop for DecodeShare {
    fn drop(&mut self) {
        let mut in_use = DECODE_BUDGET.in_use.lock().unwrap_or_else(|p| p.into_inner());
        in_use.0 -= self.0;
        in_use.1 -= 1;
        DECODE_BUDGET.freed.notify_all();
    }
}

/// A decoded, upright RGB photo.
#[derive(Debug, Clone)]
pub struct DecodedImage {
    pub rgb: image::RgbImage,
    pub format: ImageFormat,
}

fn not_an_image(msg: impl Into<String>) -> Error {
    Error::new(ErrorCode::NotAnImage, msg)
}

fn invalid_image(msg: impl Into<String>) -> Error {
    Error::new(ErrorCode::InvalidImage, msg)
}

fn too_large(msg: impl Into<String>) -> Error {
    Error::new(ErrorCode::ImageTooLarge, msg)
}

/// Checks format and dimensions from the header only (cheap): lets a streaming endpoint refuse
/// a non-image with a 4xx before the stream starts.
pub fn probe(bytes: &[u8], limits: DecodeLimits) -> Result<(u32, u32)> {
    header(bytes, limits).map(|(_, decoder)| decoder.dimensions())
}

fn header(bytes: &[u8], limits: DecodeLimits) -> Result<(ImageFormat, impl ImageDecoder + '_)> {
    if bytes.is_empty() {
        return Err(Error::new(ErrorCode::EmptyImage, "the image file is empty (0 bytes)"));
    }
    if bytes.len() > limits.max_bytes {
        return Err(too_large(format!("the image file is {} bytes; the limit is {} bytes", bytes.len(), limits.max_bytes)));
    }
    let reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| invalid_image(format!("cannot read the image: {e}")))?;
    let format = match reader.format() {
        Some(f @ (ImageFormat::Jpeg | ImageFormat::Png | ImageFormat::WebP | ImageFormat::Gif)) => f,
        Some(other) => return Err(not_an_image(format!("{other:?} images are not supported; send JPEG, PNG, WebP or GIF"))),
        None => return Err(not_an_image("the file is not an image (JPEG, PNG, WebP or GIF expected)")),
    };
    let mut reader = reader;
    let mut decode_limits = Limits::default();
    decode_limits.max_image_width = Some(limits.max_side);
    decode_limits.max_image_height = Some(limits.max_side);
    decode_limits.max_alloc = Some(limits.max_pixels * 4 + (64 << 20));
    reader.limits(decode_limits);
    let decoder = reader.into_decoder().map_err(|e| map_decode_error(e, limits))?;
    let (width, height) = decoder.dimensions();
    if width == 0 || height == 0 {
        return Err(invalid_image("the image has no pixels"));
    }
    if width > limits.max_side || height > limits.max_side || u64::from(width) * u64::from(height) > limits.max_pixels {
        return Err(too_large(format!(
            "the image is {width}x{height} pixels; the limit is {} pixels and {} per side",
            limits.max_pixels, limits.max_side
        )));
    }
    let needs = decode_bytes(&decoder);
    if needs > limits.max_decode_bytes {
        return Err(too_large(format!(
            "decoding this {width}x{height} {:?} image needs {} MiB; the limit is {} MiB",
            decoder.color_type(),
            needs >> 20,
            limits.max_decode_bytes >> 20
        )));
    }
    // After the size checks: a huge image is refused as too large even when it is also cut off.
    check_complete(format, bytes)?;
    Ok((format, decoder))
}

/// Refuses a file that was cut off: some decoders fill missing pixels with grey instead of
/// failing, and a half photo must not be classified (or stored) as if it were whole.
fn check_complete(format: ImageFormat, bytes: &[u8]) -> Result<()> {
    let find = |needle: &[u8], from: usize| {
        bytes.get(from..).and_then(|b| b.windows(needle.len()).position(|w| w == needle)).map(|p| p + from)
    };
    let complete = match format {
        // The end-of-image marker after the first scan (0xFF is byte-stuffed inside scans, so
        // FF D9 there can only be the marker).
        ImageFormat::Jpeg => find(&[0xFF, 0xDA], 2).is_some_and(|sos| find(&[0xFF, 0xD9], sos + 2).is_some()),
        // The IEND chunk.
        ImageFormat::Png => bytes.len() >= 12 && bytes[8..].windows(4).rev().take(64).any(|w| w == b"IEND"),
        // The RIFF length covers the file.
        ImageFormat::WebP => {
            bytes.len() >= 12 && u32::from_le_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]) as usize + 8 <= bytes.len()
        }
        // The trailer byte.
        ImageFormat::Gif => bytes.iter().rev().take(64).any(|&b| b == 0x3B),
        _ => true,
    };
    if complete {
        Ok(())
    } else {
        Err(invalid_image(format!("the {format:?} file is truncated (it ends before the image does)")))
    }
}

/// Decodes jpeg/png/webp/gif (first frame), applies EXIF orientation, flattens alpha on white.
pub fn decode(bytes: &[u8], limits: DecodeLimits) -> Result<DecodedImage> {
    let (format, mut decoder) = header(bytes, limits)?;
    let _share = DECODE_BUDGET.take(decode_bytes(&decoder));
    let orientation = decoder.orientation().unwrap_or(image::metadata::Orientation::NoTransforms);
    let img = DynamicImage::from_decoder(decoder).map_err(|e| map_decode_error(e, limits))?;
    // Rotated after flattening: the 8-bit RGB copy is the smallest one to rotate.
    let mut rgb = DynamicImage::ImageRgb8(flatten_on_white(img));
    rgb.apply_orientation(orientation);
    Ok(DecodedImage { rgb: rgb.into_rgb8(), format })
}

fn map_decode_error(e: image::ImageError, limits: DecodeLimits) -> Error {
    match e {
        image::ImageError::Limits(l) => {
            too_large(format!("the image exceeds the decoding limits ({l}); at most {} pixels per side", limits.max_side))
        }
        image::ImageError::Unsupported(u) => not_an_image(format!("unsupported image: {u}")),
        other => invalid_image(format!("the image is corrupt or truncated: {other}")),
    }
}

/// Memory a decode needs: the decoder's pixel buffer plus the 8-bit RGB image made from it
/// (rotation by EXIF orientation may need one more RGB copy).
fn decode_bytes(decoder: &impl ImageDecoder) -> u64 {
    let (w, h) = decoder.dimensions();
    decoder.total_bytes() + 2 * 3 * u64::from(w) * u64::from(h)
}

fn flatten_on_white(img: DynamicImage) -> image::RgbImage {
    if !img.color().has_alpha() {
        return img.into_rgb8();
    }
    let (w, h) = (img.width(), img.height());
    let mut out = image::RgbImage::new(w, h);
    // Pixel by pixel, so a 16-bit photo never gets a whole 8-bit RGBA copy.
    for (dst, (_, _, src)) in out.pixels_mut().zip(img.pixels()) {
        let a = u32::from(src[3]);
        for c in 0..3 {
            // Integer blend with rounding: c*a + 255*(255-a), divided by 255.
            let v = u32::from(src[c]) * a + 255 * (255 - a);
            dst[c] = ((v + 127) / 255) as u8;
        }
    }
    out
}

/// Every view the manifest asks for, each a CHW float tensor of `3*crop*crop`.
pub fn to_views(img: &image::RgbImage, spec: &Preprocess) -> Result<Vec<Vec<f32>>> {
    spec.views()
        .iter()
        .map(|view| match view {
            View::CentreCrop => to_tensor(img, spec),
            View::Letterbox => letterbox(img, spec),
        })
        .collect()
}

fn resize(img: &image::RgbImage, width: u32, height: u32, interpolation: Interpolation) -> Result<FrImage<'static>> {
    let (w, h) = img.dimensions();
    let src = fr::images::ImageRef::new(w, h, img.as_raw(), PixelType::U8x3)
        .map_err(|e| Error::internal(format!("resize source: {e}")))?;
    let mut dst = FrImage::new(width, height, PixelType::U8x3);
    let filter = match interpolation {
        Interpolation::Bicubic => FilterType::CatmullRom,
        Interpolation::Bilinear => FilterType::Bilinear,
    };
    fr::Resizer::new()
        .resize(&src, &mut dst, &ResizeOptions::new().resize_alg(ResizeAlg::Convolution(filter)))
        .map_err(|e| Error::internal(format!("resize: {e}")))?;
    Ok(dst)
}

/// Copies a `width` x `height` RGB block (row stride `stride` bytes, starting at `left`, `top`)
/// into a normalised CHW tensor at offset (`x0`, `y0`); the rest of the tensor stays 0, which
/// is the mean colour after normalisation.
struct Placement {
    left: usize,
    top: usize,
    width: usize,
    height: usize,
    x0: usize,
    y0: usize,
}

fn normalise_into(out: &mut [f32], side: usize, buf: &[u8], stride: usize, at: Placement, spec: &Preprocess) {
    let plane = side * side;
    for y in 0..at.height {
        let row = &buf[(at.top + y) * stride + at.left * 3..][..at.width * 3];
        for x in 0..at.width {
            for c in 0..3 {
                out[c * plane + (at.y0 + y) * side + at.x0 + x] = (f32::from(row[x * 3 + c]) - spec.mean[c]) / spec.std[c];
            }
        }
    }
}

/// Resize (short side), centre-crop and normalise into a CHW float tensor of `3*crop*crop`.
pub fn to_tensor(img: &image::RgbImage, spec: &Preprocess) -> Result<Vec<f32>> {
    let (w, h) = img.dimensions();
    let short = w.min(h).max(1);
    // torchvision's Resize(int): the long side is truncated, not rounded.
    let (nw, nh) = if w <= h {
        (spec.resize_short, ((u64::from(h) * u64::from(spec.resize_short)) / u64::from(short)).max(1) as u32)
    } else {
        (((u64::from(w) * u64::from(spec.resize_short)) / u64::from(short)).max(1) as u32, spec.resize_short)
    };
    let nw = nw.max(spec.crop);
    let nh = nh.max(spec.crop);
    let crop = spec.crop as usize;
    // torchvision's CenterCrop rounds the offsets.
    let left = ((f64::from(nw - spec.crop)) / 2.0).round() as usize;
    let top = ((f64::from(nh - spec.crop)) / 2.0).round() as usize;
    if u64::from(nw) * u64::from(nh) > MAX_RESIZED_AREA_IN_CROPS * (crop as u64 * crop as u64) {
        return centre_crop_of_a_strip(img, spec, (nw, nh), (left, top));
    }
    let dst = resize(img, nw, nh, spec.interpolation)?;
    let mut out = vec![0f32; 3 * crop * crop];
    let at = Placement { left, top, width: crop, height: crop, x0: 0, y0: 0 };
    normalise_into(&mut out, crop, dst.buffer(), nw as usize * 3, at, spec);
    Ok(out)
}

/// A resized photo larger than this many crops is not made whole: only its centre is resized.
/// A 1 x 16384 strip would otherwise become a 256 x 4,194,304 image (3 GiB) to keep 224 x 224.
const MAX_RESIZED_AREA_IN_CROPS: u64 = 16;

/// The centre crop of a very long or tall photo: the part of the source that the crop covers,
/// resized straight to `crop` x `crop`, so memory and time stay bounded whatever the aspect.
fn centre_crop_of_a_strip(img: &image::RgbImage, spec: &Preprocess, resized: (u32, u32), at: (usize, usize)) -> Result<Vec<f32>> {
    let (w, h) = img.dimensions();
    let (sx, sy) = (f64::from(w) / f64::from(resized.0), f64::from(h) / f64::from(resized.1));
    let c = f64::from(spec.crop);
    let src = fr::images::ImageRef::new(w, h, img.as_raw(), PixelType::U8x3)
        .map_err(|e| Error::internal(format!("resize source: {e}")))?;
    let mut dst = FrImage::new(spec.crop, spec.crop, PixelType::U8x3);
    let filter = match spec.interpolation {
        Interpolation::Bicubic => FilterType::CatmullRom,
        Interpolation::Bilinear => FilterType::Bilinear,
    };
    let options =
        ResizeOptions::new().resize_alg(ResizeAlg::Convolution(filter)).crop(at.0 as f64 * sx, at.1 as f64 * sy, c * sx, c * sy);
    fr::Resizer::new().resize(&src, &mut dst, &options).map_err(|e| Error::internal(format!("resize: {e}")))?;
    let crop = spec.crop as usize;
    let mut out = vec![0f32; 3 * crop * crop];
    normalise_into(
        &mut out,
        crop,
        dst.buffer(),
        crop * 3,
        Placement { left: 0, top: 0, width: crop, height: crop, x0: 0, y0: 0 },
        spec,
    );
    Ok(out)
}

/// The whole photo: long side resized to `crop`, centred on a mean-colour square.
pub fn letterbox(img: &image::RgbImage, spec: &Preprocess) -> Result<Vec<f32>> {
    let (w, h) = img.dimensions();
    let long = u64::from(w.max(h).max(1));
    let side = u64::from(spec.crop);
    let nw = ((u64::from(w) * side + long / 2) / long).clamp(1, side) as u32;
    let nh = ((u64::from(h) * side + long / 2) / long).clamp(1, side) as u32;
    let dst = resize(img, nw, nh, spec.interpolation)?;
    let crop = spec.crop as usize;
    let mut out = vec![0f32; 3 * crop * crop];
    let (nw, nh) = (nw as usize, nh as usize);
    let at = Placement { left: 0, top: 0, width: nw, height: nh, x0: (crop - nw) / 2, y0: (crop - nh) / 2 };
    normalise_into(&mut out, crop, dst.buffer(), nw * 3, at, spec);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(w: u32, h: u32, rgba: bool) -> Vec<u8> {
        let mut out = Vec::new();
        if rgba {
            let img = image::RgbaImage::from_pixel(w, h, image::Rgba([255, 0, 0, 0]));
            img.write_to(&mut Cursor::new(&mut out), ImageFormat::Png).unwrap();
        } else {
            let img = image::RgbImage::from_pixel(w, h, image::Rgb([10, 20, 30]));
            img.write_to(&mut Cursor::new(&mut out), ImageFormat::Png).unwrap();
        }
        out
    }

    #[test]
    fn rejects_empty_and_garbage() {
        assert_eq!(decode(b"", DecodeLimits::default()).unwrap_err().code, "empty_image");
        assert_eq!(decode(b"hello, not an image", DecodeLimits::default()).unwrap_err().code, "not_an_image");
    }

    #[test]
    fn rejects_truncated() {
        let bytes = png(64, 64, false);
        let err = decode(&bytes[..bytes.len() / 2], DecodeLimits::default()).unwrap_err();
        assert_eq!(err.code, "invalid_image", "{err}");
    }

    #[test]
    fn a_jpeg_cut_off_is_refused_and_a_whole_one_decodes() {
        // A noisy photo-like JPEG, so the scan is long enough to cut in the middle.
        let img = image::RgbImage::from_fn(256, 256, |x, y| {
            image::Rgb([(x * 7 % 251) as u8, (y * 13 % 241) as u8, ((x ^ y) % 255) as u8])
        });
        let mut jpeg = Vec::new();
        img.write_to(&mut Cursor::new(&mut jpeg), ImageFormat::Jpeg).unwrap();
        assert!(decode(&jpeg, DecodeLimits::default()).is_ok());
        for cut in [2000, jpeg.len() / 2, jpeg.len() - 2] {
            let err = decode(&jpeg[..cut], DecodeLimits::default()).unwrap_err();
            assert_eq!(err.code, "invalid_image", "cut at {cut}: {err}");
            assert_eq!(probe(&jpeg[..cut], DecodeLimits::default()).unwrap_err().code, "invalid_image");
        }
        // Bytes after the end marker (some cameras append data) are fine.
        let mut trailing = jpeg.clone();
        trailing.extend_from_slice(b"trailer");
        assert!(decode(&trailing, DecodeLimits::default()).is_ok());
    }

    /// EfficientNet-Lite0's preprocessing with the given views.
    fn lite0_spec(views: Vec<View>) -> Preprocess {
        Preprocess {
            resize_short: 256,
            crop: 224,
            mean: [127.0; 3],
            std: [128.0; 3],
            interpolation: Interpolation::Bicubic,
            views,
        }
    }

    #[test]
    fn transparent_pixels_become_white() {
        let img = decode(&png(4, 4, true), DecodeLimits::default()).unwrap();
        assert_eq!(img.rgb.get_pixel(0, 0).0, [255, 255, 255]);
    }

    #[test]
    fn tensor_has_the_crop_shape_and_normalisation() {
        let img = image::RgbImage::from_pixel(300, 200, image::Rgb([127, 255, 0]));
        let spec = lite0_spec(vec![]);
        let t = to_tensor(&img, &spec).unwrap();
        assert_eq!(t.len(), 3 * 224 * 224);
        assert!((t[0] - 0.0).abs() < 1e-6);
        assert!((t[224 * 224] - 1.0).abs() < 1e-6);
        assert!((t[2 * 224 * 224] + 127.0 / 128.0).abs() < 1e-6);
    }

    #[test]
    fn letterbox_keeps_the_whole_photo_on_a_mean_coloured_square() {
        // A 400x100 white strip: 224x56 of it in the middle rows, mean colour (0) above and below.
        let img = image::RgbImage::from_pixel(400, 100, image::Rgb([255, 255, 255]));
        let spec = lite0_spec(vec![View::CentreCrop, View::Letterbox]);
        let views = to_views(&img, &spec).unwrap();
        assert_eq!(views.len(), 2);
        let lb = &views[1];
        let white = 128.0 / 128.0;
        let at = |x: usize, y: usize| lb[y * 224 + x];
        assert_eq!(at(112, 0), 0.0, "padding above");
        assert_eq!(at(112, 223), 0.0, "padding below");
        assert!((at(0, 112) - white).abs() < 1e-6 && (at(223, 112) - white).abs() < 1e-6, "the full width is kept");
        let rows_of_photo = (0..224).filter(|&y| at(112, y) != 0.0).count();
        assert_eq!(rows_of_photo, 56);
    }

    #[test]
    fn a_very_long_strip_is_cropped_before_it_is_resized() {
        let spec = lite0_spec(vec![View::CentreCrop, View::Letterbox]);
        // Left half black, right half white: the centre crop straddles the edge.
        let mut strip = image::RgbImage::from_pixel(16_384, 2, image::Rgb([0, 0, 0]));
        for x in 8_192..16_384 {
            for y in 0..2 {
                strip.put_pixel(x, y, image::Rgb([255, 255, 255]));
            }
        }
        let views = to_views(&strip, &spec).unwrap();
        let crop = &views[0];
        assert_eq!(crop.len(), 3 * 224 * 224);
        assert!(crop[112 * 224] < -0.9 && crop[112 * 224 + 223] > 0.9, "black left, white right");
        // A moderately wide photo keeps the exact path (resize whole, then crop).
        let wide = image::RgbImage::from_pixel(1200, 300, image::Rgb([10, 200, 30]));
        assert_eq!(to_tensor(&wide, &spec).unwrap().len(), 3 * 224 * 224);
        let tall = image::RgbImage::from_pixel(3, 20_000, image::Rgb([255, 0, 0]));
        assert_eq!(to_views(&tall, &spec).unwrap().len(), 2);
    }
}
