//! Text and title out of a file, by format. Hostile input gives an error, never a panic: the
//! PDF reader is run under `catch_unwind` because a malformed file can make it panic.

use pyxa_core::{Error, ErrorCode, Result};

/// The formats pyxa reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentFormat {
    PlainText,
    Markdown,
    Html,
    Pdf,
}

impl DocumentFormat {
    pub fn from_file_name(name: &str) -> Option<Self> {
        let ext = name.rsplit_once('.')?.1.to_ascii_lowercase();
        Some(match ext.as_str() {
            "txt" | "text" => Self::PlainText,
            "md" | "markdown" => Self::Markdown,
            "html" | "htm" => Self::Html,
            "pdf" => Self::Pdf,
            _ => return None,
        })
    }

    pub fn mime(self) -> &'static str {
        match self {
            Self::PlainText => "text/plain",
            Self::Markdown => "text/markdown",
            Self::Html => "text/html",
            Self::Pdf => "application/pdf",
        }
    }
}

/// A document's text and, when the file names one, its title.
#[derive(Debug, Clone, PartialEq)]
pub struct Extracted {
    pub title: Option<String>,
    pub text: String,
}

pub fn extract(format: DocumentFormat, bytes: &[u8]) -> Result<Extracted> {
    let extracted = match format {
        DocumentFormat::PlainText => Extracted { title: None, text: decode_text(bytes)? },
        DocumentFormat::Markdown => {
            let text = decode_text(bytes)?;
            Extracted { title: markdown_title(&text), text }
        }
        DocumentFormat::Html => html(bytes)?,
        DocumentFormat::Pdf => pdf(bytes)?,
    };
    Ok(Extracted { title: extracted.title.map(|t| clean_line(&t)).filter(|t| !t.is_empty()), text: tidy(&extracted.text) })
}

fn invalid(msg: impl Into<String>) -> Error {
    Error::new(ErrorCode::InvalidDocument, msg)
}

/// UTF-8 (with or without a BOM), UTF-16 with a BOM, or GB18030 (which covers GBK/GB2312, the
/// usual encodings of Chinese text files); anything else is refused rather than garbled.
fn decode_text(bytes: &[u8]) -> Result<String> {
    if let Some((encoding, bom)) = encoding_rs::Encoding::for_bom(bytes) {
        let (text, had_errors) = encoding.decode_without_bom_handling(&bytes[bom..]);
        if had_errors {
            return Err(invalid(format!("the file is not valid {}", encoding.name())));
        }
        return Ok(text.into_owned());
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Ok(text.to_string());
    }
    let (text, had_errors) = encoding_rs::GB18030.decode_without_bom_handling(bytes);
    if had_errors || text.contains('\u{0}') {
        return Err(invalid("the file is not text in UTF-8, UTF-16 or GB18030"));
    }
    Ok(text.into_owned())
}

/// The first level-1 or level-2 ATX heading.
fn markdown_title(text: &str) -> Option<String> {
    text.lines().map(str::trim).find_map(|l| l.strip_prefix("# ").or_else(|| l.strip_prefix("## "))).map(str::to_string)
}

fn html(bytes: &[u8]) -> Result<Extracted> {
    let source = decode_text(bytes)?;
    let text = html2text::config::plain_no_decorate()
        .no_link_wrapping()
        .string_from_read(source.as_bytes(), 100_000)
        .map_err(|e| invalid(format!("the HTML could not be read: {e}")))?;
    Ok(Extracted { title: html_title(&source), text })
}

/// The `<title>`, with the common entities decoded.
fn html_title(source: &str) -> Option<String> {
    let lower = source.to_ascii_lowercase();
    let start = lower.find("<title")?;
    let open_end = start + lower[start..].find('>')? + 1;
    let close = open_end + lower[open_end..].find("</title")?;
    let raw = &source[open_end..close];
    let decoded = raw
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&nbsp;", " ")
        .replace("&amp;", "&");
    Some(decoded)
}

fn pdf(bytes: &[u8]) -> Result<Extracted> {
    if !bytes.starts_with(b"%PDF-") {
        return Err(invalid("the file does not start like a PDF (%PDF-)"));
    }
    let owned = bytes.to_vec();
    let text = std::panic::catch_unwind(move || pdf_extract::extract_text_from_mem(&owned))
        .map_err(|_| invalid("the PDF is malformed (its text could not be read)"))?
        .map_err(|e| invalid(format!("the PDF could not be read: {e}")))?;
    Ok(Extracted { title: None, text })
}

/// Normalises line ends, drops control characters, trims trailing spaces and collapses runs
/// of blank lines (PDF and HTML extraction leave many).
fn tidy(text: &str) -> String {
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let mut out = String::with_capacity(text.len());
    let mut blank_run = 0;
    for line in text.lines() {
        let line: String = line.chars().filter(|c| !c.is_control() || *c == '\t').collect();
        let line = line.trim_end();
        if line.trim().is_empty() {
            blank_run += 1;
            if blank_run > 1 {
                continue;
            }
        } else {
            blank_run = 0;
        }
        out.push_str(line);
        out.push('\n');
    }
    out.trim().to_string()
}

fn clean_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ").chars().filter(|c| !c.is_control()).take(300).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_by_extension() {
        assert_eq!(DocumentFormat::from_file_name("Notes.TXT"), Some(DocumentFormat::PlainText));
        assert_eq!(DocumentFormat::from_file_name("a.b.md"), Some(DocumentFormat::Markdown));
        assert_eq!(DocumentFormat::from_file_name("page.htm"), Some(DocumentFormat::Html));
        assert_eq!(DocumentFormat::from_file_name("x.pdf"), Some(DocumentFormat::Pdf));
        assert_eq!(DocumentFormat::from_file_name("x.docx"), None);
        assert_eq!(DocumentFormat::from_file_name("README"), None);
    }

    #[test]
    fn text_in_utf8_utf16_and_gb18030() {
        assert_eq!(extract(DocumentFormat::PlainText, "猫叫摩卡。\r\n".as_bytes()).unwrap().text, "猫叫摩卡。");
        let utf16: Vec<u8> = [0xFF, 0xFE].into_iter().chain("hi 猫".encode_utf16().flat_map(u16::to_le_bytes)).collect();
        assert_eq!(extract(DocumentFormat::PlainText, &utf16).unwrap().text, "hi 猫");
        let (gbk, _, _) = encoding_rs::GB18030.encode("办公室的猫叫摩卡");
        assert_eq!(extract(DocumentFormat::PlainText, &gbk).unwrap().text, "办公室的猫叫摩卡");
        assert_eq!(extract(DocumentFormat::PlainText, &[0x00, 0xFF, 0x00, 0xC3]).unwrap_err().code, "invalid_document");
    }

    #[test]
    fn markdown_title_is_its_first_heading() {
        let md = "Intro line\n\n# Office handbook\n\nThe cat is Mochi.\n\n\n\nRoom 305.";
        let e = extract(DocumentFormat::Markdown, md.as_bytes()).unwrap();
        assert_eq!(e.title.as_deref(), Some("Office handbook"));
        assert_eq!(e.text, "Intro line\n\n# Office handbook\n\nThe cat is Mochi.\n\nRoom 305.");
    }

    #[test]
    fn html_text_and_title() {
        let page = "<html><head><title>植物 &amp; 养护</title><style>p{}</style></head>\
                    <body><h1>浇水</h1><p>每周浇水<b>两次</b>。</p><ul><li>Fern</li></ul><script>var x=1;</script></body></html>";
        let e = extract(DocumentFormat::Html, page.as_bytes()).unwrap();
        assert_eq!(e.title.as_deref(), Some("植物 & 养护"));
        assert!(e.text.contains("每周浇水两次"), "{}", e.text);
        assert!(e.text.contains("Fern"), "{}", e.text);
        assert!(!e.text.contains("var x"), "{}", e.text);
    }

    #[test]
    fn broken_pdfs_are_errors_not_panics() {
        for bytes in
            [&b"not a pdf"[..], b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF", b"%PDF-"]
        {
            assert_eq!(extract(DocumentFormat::Pdf, bytes).unwrap_err().code, "invalid_document");
        }
    }
}
