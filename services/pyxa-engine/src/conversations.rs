//! Conversations: the questions and answers of one thread, as stored.

use pyxa_core::{ConversationSummary, Error, ErrorCode, Result, Timestamp};

use crate::kb::KnowledgeBase;

/// Conversations listed at most.
const MAX_LISTED: i64 = 100;

/// One question and its answer, as kept. Ids only: `image` is the photo's hash.
#[derive(Debug, Clone)]
pub struct Turn {
    pub answer_id: String,
    pub prompt: String,
    pub answer: String,
    pub language: String,
    pub mode: String,
    pub image: Option<String>,
    /// As stored with the answer (the shape of [`crate::answer::candidate::Candidate`]).
    pub candidates: serde_json::Value,
    /// As stored with the answer (the shape of [`crate::answer::Citation`]; answers kept by
    /// earlier versions carry `thumbnail_url` instead of `image`).
    pub citations: serde_json::Value,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone)]
pub struct Conversation {
    pub summary: ConversationSummary,
    pub turns: Vec<Turn>,
}

impl KnowledgeBase {
    pub async fn list_conversations(&self) -> Result<Vec<ConversationSummary>> {
        self.meta.list_conversations(MAX_LISTED).await
    }

    pub async fn conversation(&self, id: &str) -> Result<Conversation> {
        let (summary, records) = self
            .meta
            .get_conversation(id)
            .await?
            .ok_or_else(|| Error::new(ErrorCode::UnknownConversation, format!("no conversation {id}")))?;
        let turns = records
            .into_iter()
            .map(|r| Turn {
                answer_id: r.answer_id,
                prompt: r.prompt,
                answer: r.answer,
                language: r.language,
                mode: r.mode,
                image: r.image_hash,
                candidates: r.candidates,
                citations: r.citations,
                created_at: r.created_at,
            })
            .collect();
        Ok(Conversation { summary, turns })
    }
}
