//! Embeds every file of `frontend/` into the binary: the portal needs no build step and no
//! files next to the executable.

use std::fmt::Write as _;
use std::path::Path;

fn mime(name: &str) -> &'static str {
    match name.rsplit('.').next().unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "json" | "webmanifest" => "application/json",
        "ico" => "image/x-icon",
        _ => "application/octet-stream",
    }
}

fn main() {
    // Read at run time, not with env!(): cargo may reuse a compiled build script for a checkout
    // at another path, and a stale path would silently embed nothing.
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let dir = Path::new(&manifest_dir).join("../../frontend");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut entries = Vec::new();
    let read = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("the portal's files {}: {e}", dir.display()));
    for entry in read.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        let servable =
            path.is_file() && !name.starts_with('.') && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b));
        if servable {
            println!("cargo:rerun-if-changed={}", path.display());
            entries.push((name, path.canonicalize().expect("frontend file")));
        }
    }
    assert!(entries.iter().any(|(name, _)| name == "index.html"), "no index.html in {}", dir.display());
    entries.sort();
    let mut code = String::from("/// Embedded portal files: name -> (bytes, MIME type).\npub fn get(name: &str) -> Option<(&'static [u8], &'static str)> {\n    match name {\n");
    for (name, path) in &entries {
        let _ = writeln!(code, "        {name:?} => Some((include_bytes!({:?}), {:?})),", path.display().to_string(), mime(name));
    }
    code.push_str("        _ => None,\n    }\n}\n");
    let out = Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR")).join("frontend_assets.rs");
    std::fs::write(out, code).expect("write frontend_assets.rs");
}
