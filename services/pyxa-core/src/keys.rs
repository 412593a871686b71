//! API keys: what a key may do (scopes), where (collections), and how keys are made and kept
//! (only their SHA-256 is stored; the key itself is shown once, when it is created).

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{Error, ErrorCode, Result, Timestamp};

/// What a key may do. `admin` may do everything, including managing keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// List and read collections, items, documents, conversations; search.
    Read,
    /// Ask questions (`/v1/ask`, `/v1/chat/completions`).
    Ask,
    /// Create, change and delete collections, items and documents.
    Write,
    /// Give feedback on answers (corrections become items).
    Teach,
    /// Everything, and managing API keys.
    Admin,
}

impl Scope {
    pub const ALL: [Scope; 5] = [Scope::Read, Scope::Ask, Scope::Write, Scope::Teach, Scope::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Ask => "ask",
            Scope::Write => "write",
            Scope::Teach => "teach",
            Scope::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Result<Self> {
        Scope::ALL
            .into_iter()
            .find(|scope| scope.as_str() == s.trim())
            .ok_or_else(|| Error::new(ErrorCode::InvalidScopes, format!("unknown scope {s:?}: read, ask, write, teach or admin")))
    }
}

/// A stored key, without its secret.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ApiKey {
    pub id: String,
    /// The key's first characters, to tell keys apart in a list.
    pub prefix: String,
    pub scopes: Vec<Scope>,
    /// The collections it may touch; `None`: all of them.
    pub collections: Option<Vec<String>>,
    pub created_at: Timestamp,
}

impl ApiKey {
    /// Whether the key may do `scope` (an `admin` key may do anything).
    pub fn allows(&self, scope: Scope) -> bool {
        self.scopes.contains(&scope) || self.scopes.contains(&Scope::Admin)
    }

    /// Whether the key may touch `collection`.
    pub fn covers(&self, collection: &str) -> bool {
        self.collections.as_ref().is_none_or(|cs| cs.iter().any(|c| c == collection))
    }
}

/// A key to store: its hash and what it may do.
#[derive(Debug, Clone)]
pub struct NewApiKey {
    pub id: String,
    pub hash: String,
    pub prefix: String,
    pub scopes: Vec<Scope>,
    pub collections: Option<Vec<String>>,
}

/// Characters of a key kept in the clear (`pyxa_` and four more).
const PREFIX_CHARS: usize = 9;

/// The stored form of a key: its SHA-256, hex. Keys are 192 random bits, so a plain hash is
/// enough (no password stretching needed).
pub fn key_hash(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// A fresh key `pyxa_` + 48 hex characters, and what is stored of it.
pub fn generate(scopes: Vec<Scope>, collections: Option<Vec<String>>) -> Result<(String, NewApiKey)> {
    if scopes.is_empty() {
        return Err(Error::new(ErrorCode::InvalidScopes, "a key needs at least one scope"));
    }
    if collections.as_ref().is_some_and(|c| c.is_empty()) {
        return Err(Error::new(ErrorCode::InvalidScopes, "a key limited to collections needs at least one"));
    }
    let random = format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple());
    // UUID v4 has 122 random bits in 128: take 48 hex characters of the two, skipping the
    // fixed version and variant digits.
    let secret: String =
        random.chars().enumerate().filter(|(i, _)| ![12, 16, 44, 48].contains(i)).map(|(_, c)| c).take(48).collect();
    let key = format!("pyxa_{secret}");
    let mut scopes = scopes;
    scopes.sort();
    scopes.dedup();
    let stored = NewApiKey {
        id: uuid::Uuid::now_v7().to_string(),
        hash: key_hash(&key),
        prefix: key.chars().take(PREFIX_CHARS).collect(),
        scopes,
        collections,
    };
    Ok((key, stored))
}

/// Constant-time string equality (for comparing a presented key with the admin key).
pub fn same_secret(a: &str, b: &str) -> bool {
    let (a, b) = (key_hash(a), key_hash(b));
    a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_random_hashed_and_scoped() {
        let (key, stored) = generate(vec![Scope::Read, Scope::Read], Some(vec!["a".into()])).unwrap();
        let (other, _) = generate(vec![Scope::Ask], None).unwrap();
        assert_ne!(key, other);
        assert!(key.starts_with("pyxa_") && key.len() == 53, "{key}");
        assert_eq!(stored.hash, key_hash(&key));
        assert!(!stored.hash.contains(&key[5..]));
        assert_eq!(stored.scopes, vec![Scope::Read]);
        let api = ApiKey {
            id: stored.id,
            prefix: stored.prefix,
            scopes: stored.scopes,
            collections: stored.collections,
            created_at: 0,
        };
        assert!(api.allows(Scope::Read) && !api.allows(Scope::Write));
        assert!(api.covers("a") && !api.covers("b"));
        assert!(same_secret(&key, &key) && !same_secret(&key, &other));
        assert_eq!(Scope::parse("teach").unwrap(), Scope::Teach);
        assert_eq!(Scope::parse("root").unwrap_err().code, ErrorCode::InvalidScopes);
        assert!(generate(vec![], None).is_err());
    }
}
