//! Teaching by feedback: a correction (or a confirmation) on an answer about a photo adds that
//! photo to the collection with the label, at once, so the next ask about it uses it.

use pyxa_core::{Error, ErrorCode, Feedback, Result};
use serde::Serialize;

use crate::kb::{ItemInput, KnowledgeBase};

#[derive(Debug, Clone, Default)]
pub struct FeedbackInput {
    /// Whether the answer was right.
    pub correct: Option<bool>,
    /// The right label, when the answer was wrong (or to confirm one).
    pub label: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum FeedbackStatus {
    /// Kept for the record; nothing to learn (no photo, or no label).
    Recorded,
    /// The photo joined the collection with the label.
    Learned,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FeedbackOutcome {
    pub status: FeedbackStatus,
    /// The item created from the correction, if one was.
    pub item_id: Option<String>,
    /// The label that was taught.
    pub label: Option<String>,
}

impl KnowledgeBase {
    pub async fn feedback(&self, answer_id: &str, input: FeedbackInput) -> Result<FeedbackOutcome> {
        let answer = self
            .meta
            .get_answer(answer_id)
            .await?
            .ok_or_else(|| Error::new(ErrorCode::UnknownAnswer, format!("no answer {answer_id}")))?;
        let label = input.label.as_deref().map(str::trim).filter(|l| !l.is_empty()).map(str::to_string);
        if label.is_none() && input.correct.is_none() {
            return Err(Error::new(ErrorCode::EmptyFeedback, "send {\"label\": \"...\"} or {\"correct\": true}"));
        }
        let confirmed_top = if input.correct == Some(true) && label.is_none() {
            answer.candidates.get(0).and_then(|c| c.get("label")).and_then(|l| l.as_str()).map(str::to_string)
        } else {
            None
        };
        let taught = label.clone().or(confirmed_top);
        let mut item_id = None;
        let mut status = FeedbackStatus::Recorded;
        if let (Some(taught), Some(hash)) = (&taught, &answer.image_hash) {
            let bytes = self.images.read_original(hash).await?;
            let item = ItemInput {
                image: Some(bytes),
                label: Some(taught.clone()),
                metadata: Some(serde_json::json!({"source": "feedback", "answer_id": answer.answer_id})),
                ..Default::default()
            };
            match self.add_item(&answer.collection, item).await {
                Ok(item) => item_id = Some(item.id),
                // Taught before: nothing new to learn.
                Err(e) if e.code == ErrorCode::DuplicateItem => {}
                Err(e) if e.code == ErrorCode::UnknownCollection => {
                    return Err(Error::new(ErrorCode::CollectionGone, "the answer's collection was deleted"));
                }
                Err(e) => return Err(e),
            }
            status = FeedbackStatus::Learned;
        }
        self.meta
            .insert_feedback(&Feedback {
                id: uuid::Uuid::now_v7().to_string(),
                answer_id: answer.answer_id.clone(),
                correct: input.correct,
                label,
                item_id: item_id.clone(),
                created_at: pyxa_core::now(),
            })
            .await?;
        Ok(FeedbackOutcome { status, item_id, label: taught })
    }
}
