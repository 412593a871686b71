//! The PP-OCR text reader on real photos (models from `pyxa models pull ocr`, the English page
//! from `pyxa models pull test-photos`): scikit-image's `page.png` (a photographed book page)
//! and `tests/data/ocr-zh-en.png` (Chinese and English lines, one upside down; rendered by
//! `tests/data/make_ocr_photo.py` from Debian's fonts-wqy-zenhei with Pillow).

use std::sync::OnceLock;

use pyxa_encoders::ocr::{self, OcrSettings, TextLine, TextReader};
use pyxa_encoders::preprocess::{decode, DecodeLimits};
use pyxa_models::Home;

fn reader() -> &'static TextReader {
    static READER: OnceLock<TextReader> = OnceLock::new();
    READER.get_or_init(|| {
        let home = Home::from_env();
        TextReader::load(&home.ocr_models(), &OcrSettings::new(home.ort_library()))
            .expect("OCR models load (run `pyxa models pull ocr`)")
    })
}

fn photo(path: &std::path::Path) -> image::RgbImage {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e} (run `pyxa models pull test-photos`)", path.display()));
    decode(&bytes, DecodeLimits::default()).unwrap().rgb
}

/// Lower case, no whitespace: the assertions tolerate spacing and case.
fn squash(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).flat_map(char::to_lowercase).collect()
}

fn assert_reads(lines: &[TextLine], img: &image::RgbImage, words: &[&str]) {
    let all = squash(&ocr::text(lines));
    let mut last = 0;
    for w in words {
        let at = all.find(&squash(w)).unwrap_or_else(|| panic!("{w:?} not in {:?}", ocr::text(lines)));
        assert!(at >= last, "{w:?} is out of reading order in {:?}", ocr::text(lines));
        last = at;
    }
    for l in lines {
        assert!(l.score >= 0.5 && l.score <= 1.0, "{l:?}");
        for [x, y] in l.bbox {
            assert!((0.0..=img.width() as f32).contains(&x) && (0.0..=img.height() as f32).contains(&y), "{l:?}");
        }
    }
}

#[test]
fn ocr_reads_an_english_page() {
    let img = photo(&Home::from_env().root.join("test-photos/page.png"));
    let lines = reader().read(&img).unwrap();
    for l in &lines {
        eprintln!("{:.3} {:?} {:?}", l.score, l.text, l.bbox);
    }
    assert_reads(
        &lines,
        &img,
        &["Region-based segmentation", "Let us first determine markers", "coins", "background", "label", "histogram"],
    );
}

#[test]
fn ocr_reads_chinese_and_english_and_turns_upside_down_lines() {
    let img = photo(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/ocr-zh-en.png"));
    let lines = reader().read(&img).unwrap();
    for l in &lines {
        eprintln!("{:.3} {:?} {:?}", l.score, l.text, l.bbox);
    }
    assert_reads(
        &lines,
        &img,
        &["北京欢迎你", "Hello World 2024", "今天天气很好", "咖啡", "Coffee", "每杯25元", "上下颠倒", "upside down"],
    );
}

#[test]
fn ocr_finds_no_text_in_a_blank_photo_and_bounds_big_ones() {
    let blank = image::RgbImage::from_pixel(800, 600, image::Rgb([250, 250, 250]));
    assert!(reader().read(&blank).unwrap().is_empty());
    let tiny = image::RgbImage::from_pixel(3, 2, image::Rgb([0, 0, 0]));
    assert!(reader().read(&tiny).unwrap().is_empty());
    // A 3600-pixel-wide photo is scaled first: its boxes come back in its own coordinates.
    let page = photo(&Home::from_env().root.join("test-photos/page.png"));
    let big = image::imageops::resize(&page, 3600, 1791, image::imageops::FilterType::Triangle);
    let lines = reader().read(&big).unwrap();
    assert_reads(&lines, &big, &["Region-based segmentation", "histogram"]);
    assert!(lines.iter().any(|l| l.bbox[1][0] > 2500.0), "{lines:?}");
}
