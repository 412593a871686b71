//! Request bodies that are either multipart (with an `image` file part) or JSON (with
//! `image_base64`), read into one typed struct per route. Multipart fields arrive as strings,
//! so numbers and booleans are accepted as either.

use actix_multipart::Multipart;
use actix_web::http::header;
use actix_web::{web, HttpMessage, HttpRequest};
use base64::Engine as _;
use futures::{StreamExt, TryStreamExt};
use pyxa_core::{Error, ErrorCode, Result};

use super::body::tripped;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{Map, Value};

/// Largest non-file multipart field.
const MAX_FIELD_BYTES: usize = 64 * 1024;
/// Largest sum of a form's non-file fields (or a JSON body's fields besides the photo).
pub const MAX_NON_FILE_BYTES: usize = 256 * 1024;
/// Most parts a form may have; pyxa's forms have at most a handful.
const MAX_PARTS: usize = 32;

/// A typed body and the photo that came with it.
pub struct Upload<T> {
    pub body: T,
    pub image: Option<Vec<u8>>,
}

/// Reads a multipart or JSON body into `T` (the image goes apart).
pub async fn read_upload<T: DeserializeOwned>(req: &HttpRequest, payload: web::Payload, max_upload: usize) -> Result<Upload<T>> {
    let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_ascii_lowercase();
    let (fields, image) = if content_type.starts_with("multipart/form-data") {
        read_multipart(req, payload, max_upload).await?
    } else if content_type.starts_with("application/json") {
        let body = read_body(req, payload, max_upload * 4 / 3 + MAX_NON_FILE_BYTES).await?;
        let value: Value = serde_json::from_slice(&body).map_err(|e| Error::new(ErrorCode::InvalidJson, e.to_string()))?;
        let Value::Object(mut fields) = value else {
            return Err(Error::new(ErrorCode::InvalidJson, "expected a JSON object"));
        };
        let image = match fields.remove("image_base64") {
            Some(Value::String(b64)) => Some(decode_base64_image(&b64)?),
            Some(Value::Null) | None => None,
            Some(_) => return Err(Error::new(ErrorCode::InvalidBase64, "image_base64 must be a string")),
        };
        (fields, image)
    } else {
        return Err(Error::new(ErrorCode::UnsupportedContentType, "send multipart/form-data or application/json"));
    };
    let body = serde_json::from_value(Value::Object(fields)).map_err(|e| Error::new(ErrorCode::InvalidJson, e.to_string()))?;
    Ok(Upload { body, image })
}

async fn read_multipart(
    req: &HttpRequest,
    payload: web::Payload,
    max_upload: usize,
) -> Result<(Map<String, Value>, Option<Vec<u8>>)> {
    let mut fields = Map::new();
    let mut image = None;
    let mut non_file_bytes = 0;
    let mut multipart = multipart_of(req, payload)?;
    let mut parts = 0;
    while let Some(field) = multipart.next().await {
        let mut field = field.map_err(|e| tripped(req, ErrorCode::InvalidMultipart, e))?;
        parts += 1;
        if parts > MAX_PARTS {
            return Err(Error::new(ErrorCode::TooManyParts, format!("a form has at most {MAX_PARTS} parts")));
        }
        let name = field.name().unwrap_or("").to_string();
        let is_image = name == "image";
        if is_image && image.is_some() {
            return Err(Error::new(ErrorCode::InvalidMultipart, "send one \"image\" file, not several"));
        }
        let limit = if is_image { max_upload } else { MAX_FIELD_BYTES.min(MAX_NON_FILE_BYTES - non_file_bytes) };
        let mut buf = Vec::new();
        while let Some(chunk) = field.try_next().await.map_err(|e| tripped(req, ErrorCode::InvalidMultipart, e))? {
            if buf.len() + chunk.len() > limit {
                let (code, limit) = match is_image {
                    true => (ErrorCode::UploadTooLarge, max_upload),
                    false if buf.len() + chunk.len() > MAX_FIELD_BYTES => (ErrorCode::FieldTooLarge, MAX_FIELD_BYTES),
                    false => (ErrorCode::BodyTooLarge, MAX_NON_FILE_BYTES),
                };
                return Err(Error::new(code, format!("field {name:?} is larger than {limit} bytes (or the form's fields are)")));
            }
            buf.extend_from_slice(&chunk);
        }
        if is_image {
            image = Some(buf);
        } else {
            non_file_bytes += buf.len();
            let text = String::from_utf8(buf)
                .map_err(|_| Error::new(ErrorCode::InvalidUtf8, format!("field {name:?} is not UTF-8 text")))?;
            fields.insert(name, Value::String(text));
        }
    }
    Ok((fields, image))
}

/// The parts of a multipart body; a missing or empty boundary is refused up front (actix would
/// yield no parts, and the form would look empty).
fn multipart_of(req: &HttpRequest, payload: web::Payload) -> Result<Multipart> {
    let boundary = req.mime_type().ok().flatten().and_then(|m| m.get_param(mime::BOUNDARY).map(|b| b.as_str().to_string()));
    if boundary.is_none_or(|b| b.is_empty()) {
        return Err(Error::new(ErrorCode::InvalidMultipart, "multipart/form-data needs a non-empty boundary parameter"));
    }
    Ok(Multipart::new(req.headers(), payload))
}

/// A file from a multipart form: its name (from the part's `filename`) and bytes.
pub struct UploadedFile {
    pub file_name: String,
    pub bytes: Vec<u8>,
}

/// Reads a multipart form that carries exactly one file in the part named `field`; other parts
/// are refused so that a client's mistake is not silently ignored.
pub async fn read_one_file(req: &HttpRequest, payload: web::Payload, field_name: &str, max_bytes: usize) -> Result<UploadedFile> {
    let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_ascii_lowercase();
    if !content_type.starts_with("multipart/form-data") {
        return Err(Error::new(
            ErrorCode::UnsupportedContentType,
            format!("send multipart/form-data with a {field_name:?} file"),
        ));
    }
    let mut multipart = multipart_of(req, payload)?;
    let mut file = None;
    while let Some(field) = multipart.next().await {
        let mut field = field.map_err(|e| tripped(req, ErrorCode::InvalidMultipart, e))?;
        let name = field.name().unwrap_or("").to_string();
        if name != field_name || file.is_some() {
            return Err(Error::new(
                ErrorCode::InvalidMultipart,
                format!("send one {field_name:?} file and nothing else (got {name:?})"),
            ));
        }
        let file_name = field.content_disposition().and_then(|d| d.get_filename()).unwrap_or("").to_string();
        let mut bytes = Vec::new();
        while let Some(chunk) = field.try_next().await.map_err(|e| tripped(req, ErrorCode::InvalidMultipart, e))? {
            if bytes.len() + chunk.len() > max_bytes {
                return Err(Error::new(ErrorCode::DocumentTooLarge, format!("the file is larger than {max_bytes} bytes")));
            }
            bytes.extend_from_slice(&chunk);
        }
        file = Some(UploadedFile { file_name, bytes });
    }
    file.ok_or_else(|| Error::new(ErrorCode::InvalidMultipart, format!("the form has no {field_name:?} file")))
}

/// Base64 (optionally a `data:` URL) to bytes.
pub fn decode_base64_image(s: &str) -> Result<Vec<u8>> {
    let data = match s.strip_prefix("data:") {
        Some(rest) => {
            rest.split_once(',').map(|(_, d)| d).ok_or_else(|| Error::new(ErrorCode::InvalidBase64, "malformed data URL"))?
        }
        None => s,
    };
    let cleaned: String = data.chars().filter(|c| !c.is_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(cleaned.as_bytes())
        .map_err(|e| Error::new(ErrorCode::InvalidBase64, format!("image_base64 is not valid base64: {e}")))
}

async fn read_body(req: &HttpRequest, mut payload: web::Payload, limit: usize) -> Result<web::Bytes> {
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| tripped(req, ErrorCode::InvalidBody, e))?;
        if body.len() + chunk.len() > limit {
            return Err(Error::new(ErrorCode::BodyTooLarge, format!("the request body is larger than {limit} bytes")));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// A number as JSON sends it or as a form field's text.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Loose {
    Bool(bool),
    Number(serde_json::Number),
    Text(String),
}

impl Loose {
    fn text(&self) -> String {
        match self {
            Loose::Bool(b) => b.to_string(),
            Loose::Number(n) => n.to_string(),
            Loose::Text(t) => t.trim().to_string(),
        }
    }

    /// An integer in `1..=max`, else `code`.
    pub fn count(value: Option<&Loose>, field: &str, default: usize, max: usize, code: ErrorCode) -> Result<usize> {
        match value {
            None => Ok(default),
            Some(v) => v
                .text()
                .parse::<usize>()
                .ok()
                .filter(|k| (1..=max).contains(k))
                .ok_or_else(|| Error::new(code, format!("{field} must be an integer between 1 and {max}"))),
        }
    }

    /// `true`, `1`, `yes` or `on` (as JSON or text).
    pub fn flag(value: Option<&Loose>) -> bool {
        value.is_some_and(|v| matches!(v.text().as_str(), "true" | "1" | "yes" | "on"))
    }
}

/// A JSON object sent as an object (JSON bodies) or as text (form fields).
pub fn json_object(value: Option<Value>, code: ErrorCode, field: &str) -> Result<Option<Value>> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => {
            serde_json::from_str(&s).map(Some).map_err(|e| Error::new(code, format!("{field} is not valid JSON: {e}")))
        }
        Some(v) => Ok(Some(v)),
    }
}

/// A text field, trimmed; empty means absent.
pub fn non_empty(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}
