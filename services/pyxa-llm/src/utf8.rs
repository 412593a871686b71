//! Incremental UTF-8 decoding: byte-level BPE tokens (and network chunks) may end in the middle
//! of a multi-byte character; only complete characters are ever handed out.

#[derive(Debug, Default)]
pub(crate) struct Utf8Decoder {
    pending: Vec<u8>,
}

impl Utf8Decoder {
    /// Append bytes; return every complete character decoded so far (possibly empty). Invalid
    /// sequences become U+FFFD; an incomplete sequence at the end is kept for the next push.
    pub(crate) fn push(&mut self, bytes: &[u8]) -> String {
        self.pending.extend_from_slice(bytes);
        let mut out = String::new();
        loop {
            match std::str::from_utf8(&self.pending) {
                Ok(s) => {
                    out.push_str(s);
                    self.pending.clear();
                    return out;
                }
                Err(e) => {
                    let valid = e.valid_up_to();
                    // SAFETY-free: the prefix is valid by construction.
                    out.push_str(std::str::from_utf8(&self.pending[..valid]).unwrap_or_default());
                    match e.error_len() {
                        // Incomplete character at the end: wait for more bytes.
                        None => {
                            self.pending.drain(..valid);
                            return out;
                        }
                        Some(n) => {
                            out.push('\u{FFFD}');
                            self.pending.drain(..valid + n);
                        }
                    }
                }
            }
        }
    }

    /// Whatever is left (an unfinished character) as lossy text.
    pub(crate) fn finish(&mut self) -> String {
        let rest = String::from_utf8_lossy(&self.pending).into_owned();
        self.pending.clear();
        rest
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_multibyte_characters() {
        let text = "猫 is a cat, 咖啡 é.";
        let bytes = text.as_bytes();
        for step in 1..5 {
            let mut d = Utf8Decoder::default();
            let mut out = String::new();
            for chunk in bytes.chunks(step) {
                let piece = d.push(chunk);
                assert!(!piece.contains('\u{FFFD}'));
                out.push_str(&piece);
            }
            out.push_str(&d.finish());
            assert_eq!(out, text);
        }
    }

    #[test]
    fn invalid_bytes_become_replacement() {
        let mut d = Utf8Decoder::default();
        assert_eq!(d.push(b"a\xffb"), "a\u{FFFD}b");
        assert_eq!(d.push(b"\xe7\x8c"), "");
        assert_eq!(d.finish(), "\u{FFFD}");
    }
}
