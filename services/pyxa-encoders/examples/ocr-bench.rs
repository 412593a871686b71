//! OCR time per photo at a given thread count, over the test photos:
//! `cargo run --release -p pyxa-encoders --example ocr-bench -- [--threads 1] [--runs 5] [--lines]
//! [--det-min-side 0] [--det-max-side 960] [PHOTO...]`
//! (default photos: `pyxa models pull test-photos` plus `tests/data/ocr-zh-en.png`, and the
//! page photo scaled up to 3600 px to show that big photos are scaled first).

use std::path::PathBuf;
use std::time::Duration;

use pyxa_encoders::ocr::{self, OcrSettings, TextReader};
use pyxa_encoders::preprocess::{decode, DecodeLimits};
use pyxa_models::Home;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (mut threads, mut runs, mut show, mut photos) = (1usize, 5usize, false, Vec::<PathBuf>::new());
    let home = Home::from_env();
    let mut settings = OcrSettings::new(home.ort_library());
    while let Some(a) = args.next() {
        match a.as_str() {
            "--threads" => threads = args.next().ok_or("--threads N")?.parse()?,
            "--runs" => runs = args.next().ok_or("--runs N")?.parse()?,
            "--lines" => show = true,
            "--det-min-side" => settings.det_min_side = args.next().ok_or("--det-min-side N")?.parse()?,
            "--det-max-side" => settings.det_max_side = args.next().ok_or("--det-max-side N")?.parse()?,
            other => photos.push(other.into()),
        }
    }
    if photos.is_empty() {
        let dir = home.root.join("test-photos");
        for name in [
            "page.png",
            "chelsea.png",
            "coffee.png",
            "rocket.jpg",
            "astronaut.png",
            "motorcycle_left.png",
            "camera.png",
            "horse.png",
        ] {
            photos.push(dir.join(name));
        }
        photos.push(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/ocr-zh-en.png"));
    }
    settings.threads = threads;
    let reader = TextReader::load(&home.ocr_models(), &settings)?;
    let mut images = Vec::new();
    for p in &photos {
        let img = decode(&std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()))?, DecodeLimits::default())?.rgb;
        images.push((p.file_name().unwrap_or_default().to_string_lossy().into_owned(), img));
    }
    if let Some((_, page)) = images.iter().find(|(n, _)| n == "page.png") {
        let big = image::imageops::resize(page, 3600, 1791, image::imageops::FilterType::Triangle);
        images.push(("page.png x9.4 (3600x1791)".into(), big));
    }
    println!(
        "threads {threads}, detector sides {}..{}, {runs} runs per photo (after one warm-up run)",
        settings.det_min_side, settings.det_max_side
    );
    let mut all = Vec::new();
    for (name, img) in &images {
        let (lines, _) = reader.read_timed(img)?;
        let mut times = Vec::new();
        let mut last = Default::default();
        for _ in 0..runs {
            let (_, t) = reader.read_timed(img)?;
            times.push(t.total);
            last = t;
        }
        times.sort();
        all.extend(times.iter().copied());
        let text = ocr::text(&lines).replace('\n', " | ");
        if show {
            for l in &lines {
                println!("    {:.3} {:?} {:?}", l.score, l.text, l.bbox);
            }
        }
        println!(
            "{name:<28} {:>4}x{:<4} median {:>7.1} ms (det {:.0}, cls {:.0}, rec {:.0} ms; {} boxes)  {:.60}",
            img.width(),
            img.height(),
            ms(times[times.len() / 2]),
            ms(last.detect),
            ms(last.classify),
            ms(last.recognize),
            last.boxes,
            text
        );
    }
    all.sort();
    let pick = |q: f64| all[((all.len() as f64 - 1.0) * q).round() as usize];
    println!(
        "all photos: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms over {} reads",
        ms(pick(0.5)),
        ms(pick(0.99)),
        ms(*all.last().unwrap()),
        all.len()
    );
    Ok(())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
