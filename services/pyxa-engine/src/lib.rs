//! pyxa's domain: the knowledge base (collections, items, search, start-up repair), the answer
//! pipeline (question -> evidence -> candidates -> prompt -> verified answer), teaching by
//! feedback, and conversations.
//!
//! It depends on `pyxa-core`'s traits only: no ONNX Runtime, no Qdrant, no SQL, no HTTP. Ids
//! live here; URLs, status codes, JSON shapes and metrics belong to the HTTP layer, engines to
//! their adapter crates. The `testing` feature adds deterministic fakes of every trait.

pub mod answer;
pub mod conversations;
pub mod kb;
pub mod lexicon;
pub mod teach;
#[cfg(feature = "testing")]
pub mod testing;
pub mod zeroshot;

pub use answer::{AnswerSettings, AskRequest, AskResponse, AskService, Mode};
pub use kb::{ItemInput, KnowledgeBase, DEFAULT_COLLECTION, MAX_TOP_K};
