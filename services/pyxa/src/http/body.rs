//! Bounds on any request, applied before a handler sees it: the size of its headers, and for
//! its body a deadline between chunks and one for the whole body (a client sending a byte a
//! second cannot hold a connection), the largest body any route accepts, and the largest header
//! block of a multipart part (actix's multipart parser buffers a part's headers until it finds
//! their end). Routes bound their own bodies more tightly; this is the ceiling.
//!
//! A tripped bound ends the body with an I/O error and records why in the request, so the code
//! that reads the body answers with the right error code ([`tripped`]).

use std::cell::Cell;
use std::pin::Pin;
use std::rc::Rc;
use std::time::{Duration, Instant};

use actix_web::body::MessageBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::middleware::Next;
use actix_web::web::Bytes;
use actix_web::{HttpMessage, HttpRequest};
use futures::{Stream, StreamExt};
use pyxa_core::{Error, ErrorCode};

use super::AppState;

/// Largest sum of a request's header names and values (browsers send a few KiB with cookies).
const MAX_HEADER_BYTES: usize = 32 * 1024;
/// Largest header block of one multipart part; real forms send a few hundred bytes.
const MAX_PART_HEADER_BYTES: usize = 16 * 1024;

/// Why a body was cut off; kept in the request's extensions.
#[derive(Clone, Default)]
struct Trip(Rc<Cell<Option<ErrorCode>>>);

/// The error for a body that could not be read: the bound it tripped, if any, else `fallback`
/// with the reader's own message.
pub fn tripped(req: &HttpRequest, fallback: ErrorCode, message: impl std::fmt::Display) -> Error {
    match req.extensions().get::<Trip>().and_then(|t| t.0.get()) {
        Some(ErrorCode::RequestTimeout) => {
            Error::new(ErrorCode::RequestTimeout, "the request body arrived too slowly; send it again at a steady pace")
        }
        Some(ErrorCode::HeadersTooLarge) => Error::new(
            ErrorCode::HeadersTooLarge,
            format!("a multipart part's headers are longer than {MAX_PART_HEADER_BYTES} bytes"),
        ),
        Some(code) => Error::new(code, "the request body is larger than any route accepts"),
        None => Error::new(fallback, message.to_string()),
    }
}

/// Middleware: wraps the request body in the bounds above.
pub async fn guard_body(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let header_bytes: usize = req.headers().iter().map(|(name, value)| name.as_str().len() + value.len()).sum();
    if header_bytes > MAX_HEADER_BYTES {
        let e = Error::new(ErrorCode::HeadersTooLarge, format!("the request headers are larger than {MAX_HEADER_BYTES} bytes"));
        return Err(super::errors::ApiError(e).into());
    }
    let limits = req.app_data::<actix_web::web::Data<AppState>>().map(|s| s.limits.clone()).unwrap_or_default();
    let boundary = req
        .mime_type()
        .ok()
        .flatten()
        .filter(|m| m.type_() == mime::MULTIPART)
        .and_then(|m| m.get_param(mime::BOUNDARY).map(|b| b.as_str().as_bytes().to_vec()));
    let trip = Trip::default();
    req.extensions_mut().insert(trip.clone());
    let (_, payload) = req.parts_mut();
    let inner = std::mem::replace(payload, Payload::None);
    let bounded = BoundedBody {
        inner,
        trip,
        read: 0,
        max_bytes: limits.max_body_bytes(),
        idle: limits.body_idle_timeout,
        deadline: Instant::now() + limits.body_deadline,
        part_headers: boundary.map(PartHeaderWatch::new),
        done: false,
    };
    let stream: Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>> = Box::pin(bounded.into_stream().fuse());
    req.set_payload(Payload::from(stream));
    next.call(req).await
}

struct BoundedBody {
    inner: Payload,
    trip: Trip,
    read: usize,
    max_bytes: usize,
    idle: Duration,
    deadline: Instant,
    part_headers: Option<PartHeaderWatch>,
    done: bool,
}

impl BoundedBody {
    fn into_stream(self) -> impl Stream<Item = Result<Bytes, PayloadError>> {
        futures::stream::unfold(self, |mut body| async move {
            if body.done {
                return None;
            }
            let wait = body.idle.min(body.deadline.saturating_duration_since(Instant::now()));
            let item = match tokio::time::timeout(wait, body.inner.next()).await {
                Err(_) => Some(body.trip_with(ErrorCode::RequestTimeout)),
                Ok(None) => None,
                Ok(Some(Err(e))) => Some(Err(e)),
                Ok(Some(Ok(chunk))) => {
                    body.read += chunk.len();
                    if body.read > body.max_bytes {
                        Some(body.trip_with(ErrorCode::BodyTooLarge))
                    } else if body.part_headers.as_mut().is_some_and(|w| !w.feed(&chunk)) {
                        Some(body.trip_with(ErrorCode::HeadersTooLarge))
                    } else {
                        Some(Ok(chunk))
                    }
                }
            };
            body.done = !matches!(item, Some(Ok(_)));
            item.map(|item| (item, body))
        })
    }

    fn trip_with(&mut self, code: ErrorCode) -> Result<Bytes, PayloadError> {
        self.trip.0.set(Some(code));
        let kind = if code == ErrorCode::RequestTimeout { std::io::ErrorKind::TimedOut } else { std::io::ErrorKind::InvalidData };
        Err(PayloadError::Io(std::io::Error::new(kind, code.as_str())))
    }
}

/// Follows a multipart body across chunks: after each `--boundary`, the part's headers must end
/// (`\r\n\r\n`) within [`MAX_PART_HEADER_BYTES`].
struct PartHeaderWatch {
    delimiter: Vec<u8>,
    /// The last bytes of the previous chunk, so a delimiter split between chunks is found.
    tail: Vec<u8>,
    /// Header bytes seen so far while inside a part's headers.
    in_headers: Option<usize>,
}

impl PartHeaderWatch {
    fn new(boundary: Vec<u8>) -> Self {
        let mut delimiter = b"--".to_vec();
        delimiter.extend_from_slice(&boundary);
        Self { delimiter, tail: Vec::new(), in_headers: None }
    }

    /// False once a part's headers are too long.
    fn feed(&mut self, chunk: &[u8]) -> bool {
        const HEADERS_END: &[u8] = b"\r\n\r\n";
        let mut data = std::mem::take(&mut self.tail);
        data.extend_from_slice(chunk);
        let mut pos = 0;
        loop {
            match self.in_headers {
                Some(seen) => match memchr::memmem::find(&data[pos..], HEADERS_END) {
                    Some(i) if seen + i <= MAX_PART_HEADER_BYTES => {
                        self.in_headers = None;
                        pos += i + HEADERS_END.len();
                    }
                    Some(_) => return false,
                    None => {
                        let seen = seen + data.len() - pos;
                        if seen > MAX_PART_HEADER_BYTES {
                            return false;
                        }
                        self.in_headers = Some(seen);
                        break;
                    }
                },
                None => match memchr::memmem::find(&data[pos..], &self.delimiter) {
                    Some(i) => {
                        self.in_headers = Some(0);
                        pos += i + self.delimiter.len();
                    }
                    None => break,
                },
            }
        }
        // Keep what a match split across chunks could start with (bytes already matched are
        // never kept, so nothing is found twice).
        let keep = self.delimiter.len().max(HEADERS_END.len()) - 1;
        self.tail = data[pos.max(data.len().saturating_sub(keep))..].to_vec();
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn watch_all(chunks: &[&[u8]]) -> bool {
        let mut w = PartHeaderWatch::new(b"XyZ".to_vec());
        chunks.iter().all(|c| w.feed(c))
    }

    #[test]
    fn normal_forms_pass_in_any_chunking() {
        let form = b"--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nhello\r\n--XyZ\r\nContent-Disposition: form-data; name=\"image\"; filename=\"x.png\"\r\nContent-Type: image/png\r\n\r\n\x89PNG....\r\n--XyZ--\r\n";
        assert!(watch_all(&[form]));
        for size in [1, 2, 3, 7, 50] {
            let chunks: Vec<&[u8]> = form.chunks(size).collect();
            assert!(watch_all(&chunks), "chunks of {size}");
        }
    }

    #[test]
    fn long_part_headers_are_caught_even_split_across_chunks() {
        let mut form = b"--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\nX-Pad: ".to_vec();
        form.extend(std::iter::repeat_n(b'a', MAX_PART_HEADER_BYTES + 10));
        form.extend_from_slice(b"\r\n\r\nbody\r\n--XyZ--\r\n");
        assert!(!watch_all(&[&form]));
        let chunks: Vec<&[u8]> = form.chunks(1000).collect();
        assert!(!watch_all(&chunks));
        // The same amount of bytes in a part's body is fine.
        let mut body = b"--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n".to_vec();
        body.extend(std::iter::repeat_n(b'a', MAX_PART_HEADER_BYTES * 4));
        body.extend_from_slice(b"\r\n--XyZ--\r\n");
        let chunks: Vec<&[u8]> = body.chunks(1000).collect();
        assert!(watch_all(&chunks));
    }
}
