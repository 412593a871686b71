//! The `answers` and `feedback` tables: every answer pyxa gave (with the candidates and
//! citations it was based on) and the feedback users left on it. Inserting an answer creates or
//! touches its conversation in the same transaction (see `conversations`).

use pyxa_core::{AnswerRecord, Error, ErrorCode, Feedback, Result};
use sqlx::any::AnyRow;
use sqlx::error::ErrorKind as DbErrorKind;
use sqlx::AnyPool;

use crate::conversations;
use crate::errors::{constraint_kind, db_err};
use crate::rows::{bytes_vector, collect, get, json_text, text_json, vector_bytes};

macro_rules! answer_cols {
    () => {
        "id, conversation_id, collection, prompt, answer, language, mode, image_hash, image_vector, \
         candidates, citations, created_at"
    };
}

fn answer_from_row(row: &AnyRow) -> Result<AnswerRecord> {
    let candidates: String = get(row, "candidates")?;
    let citations: String = get(row, "citations")?;
    Ok(AnswerRecord {
        answer_id: get(row, "id")?,
        conversation_id: get(row, "conversation_id")?,
        collection: get(row, "collection")?,
        prompt: get(row, "prompt")?,
        answer: get(row, "answer")?,
        language: get(row, "language")?,
        mode: get(row, "mode")?,
        image_hash: get(row, "image_hash")?,
        image_vector: bytes_vector(get(row, "image_vector")?)?,
        candidates: text_json("answer candidates", &candidates)?,
        citations: text_json("answer citations", &citations)?,
        created_at: get(row, "created_at")?,
        owner: None,
    })
}

pub(crate) async fn insert_answer(pool: &AnyPool, answer: &AnswerRecord) -> Result<()> {
    let mut tx = pool.begin().await.map_err(db_err)?;
    conversations::touch(&mut tx, answer).await?;
    sqlx::query(concat!("INSERT INTO answers (", answer_cols!(), ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"))
        .bind(&answer.answer_id)
        .bind(&answer.conversation_id)
        .bind(&answer.collection)
        .bind(&answer.prompt)
        .bind(&answer.answer)
        .bind(&answer.language)
        .bind(&answer.mode)
        .bind(&answer.image_hash)
        .bind(vector_bytes(&answer.image_vector))
        .bind(json_text(&answer.candidates))
        .bind(json_text(&answer.citations))
        .bind(answer.created_at)
        .execute(&mut *tx)
        .await
        .map_err(|e| match constraint_kind(&e) {
            Some(DbErrorKind::UniqueViolation) => {
                Error::new(ErrorCode::DuplicateAnswer, format!("answer {:?} already exists", answer.answer_id))
            }
            _ => db_err(e),
        })?;
    tx.commit().await.map_err(db_err)
}

pub(crate) async fn get_answer(pool: &AnyPool, answer_id: &str) -> Result<Option<AnswerRecord>> {
    let row = sqlx::query(concat!("SELECT ", answer_cols!(), " FROM answers WHERE id = $1"))
        .bind(answer_id)
        .fetch_optional(pool)
        .await
        .map_err(db_err)?;
    row.as_ref().map(answer_from_row).transpose()
}

/// A conversation's answers, oldest first.
pub(crate) async fn conversation_answers(pool: &AnyPool, conversation_id: &str) -> Result<Vec<AnswerRecord>> {
    let rows = sqlx::query(concat!("SELECT ", answer_cols!(), " FROM answers WHERE conversation_id = $1 ORDER BY seq"))
        .bind(conversation_id)
        .fetch_all(pool)
        .await
        .map_err(db_err)?;
    collect(rows, answer_from_row)
}

pub(crate) async fn insert_feedback(pool: &AnyPool, feedback: &Feedback) -> Result<()> {
    sqlx::query(
        "INSERT INTO feedback (id, answer_id, correct, label, item_id, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&feedback.id)
    .bind(&feedback.answer_id)
    .bind(feedback.correct.map(i64::from))
    .bind(&feedback.label)
    .bind(&feedback.item_id)
    .bind(feedback.created_at)
    .execute(pool)
    .await
    .map_err(|e| match constraint_kind(&e) {
        Some(DbErrorKind::UniqueViolation) => {
            Error::new(ErrorCode::DuplicateFeedback, format!("feedback {:?} already exists", feedback.id))
        }
        Some(DbErrorKind::ForeignKeyViolation) => {
            Error::new(ErrorCode::UnknownAnswer, format!("no answer {:?}", feedback.answer_id))
        }
        _ => db_err(e),
    })?;
    Ok(())
}
