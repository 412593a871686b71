//! Encoding shared by every table: vectors as little-endian f32 bytes, JSON as TEXT, and typed
//! column reads that report a corrupt row instead of panicking.

use pyxa_core::{Embedding, Result};
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::errors::corrupt;

pub(crate) fn vector_bytes(v: &Option<Embedding>) -> Option<Vec<u8>> {
    v.as_ref().map(|v| v.iter().flat_map(|x| x.to_le_bytes()).collect())
}

pub(crate) fn bytes_vector(b: Option<Vec<u8>>) -> Result<Option<Embedding>> {
    let Some(b) = b else { return Ok(None) };
    if b.len() % 4 != 0 {
        return Err(corrupt("vector", format!("{} bytes is not a whole number of f32", b.len())));
    }
    Ok(Some(b.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect()))
}

pub(crate) fn json_text(v: &serde_json::Value) -> String {
    // Serialising a `Value` cannot fail (its map keys are strings).
    serde_json::to_string(v).unwrap_or_else(|_| "null".into())
}

pub(crate) fn text_json(what: &str, s: &str) -> Result<serde_json::Value> {
    serde_json::from_str(s).map_err(|e| corrupt(what, e))
}

pub(crate) fn get<'r, T>(row: &'r AnyRow, col: &str) -> Result<T>
where
    T: sqlx::Decode<'r, sqlx::Any> + sqlx::Type<sqlx::Any>,
{
    row.try_get(col).map_err(|e| corrupt("row", e))
}

pub(crate) fn collect<T>(rows: Vec<AnyRow>, f: impl Fn(&AnyRow) -> Result<T>) -> Result<Vec<T>> {
    rows.iter().map(f).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vectors_round_trip_bit_exact() {
        let v = vec![0.0, -0.0, 1.5, f32::MIN_POSITIVE, f32::MAX, -1e-30, f32::NAN];
        let back = bytes_vector(vector_bytes(&Some(v.clone()))).unwrap().unwrap();
        assert_eq!(v.iter().map(|x| x.to_bits()).collect::<Vec<_>>(), back.iter().map(|x| x.to_bits()).collect::<Vec<_>>());
        assert!(bytes_vector(Some(vec![1, 2, 3])).is_err());
        assert_eq!(bytes_vector(None).unwrap(), None);
    }
}
