//! The `conversations` table: one row per conversation, created by its first answer (titled
//! from that answer's prompt) and touched by every later one. The answers themselves live in
//! `answers`; this module does not read them.

use pyxa_core::{AnswerRecord, ConversationSummary, Result};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, AnyPool};

use crate::errors::db_err;
use crate::rows::{collect, get};

/// Longest conversation title, in characters.
const TITLE_CHARS: usize = 80;

macro_rules! conversation_cols {
    () => {
        "c.id, c.title, c.collection, c.created_at, c.updated_at, c.owner, \
         (SELECT COUNT(*) FROM answers a WHERE a.conversation_id = c.id) AS turns"
    };
}

/// Conversation title: the first prompt on one line, cut at [`TITLE_CHARS`].
fn title_of(prompt: &str) -> String {
    let line = prompt.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.is_empty() {
        return "Untitled".into();
    }
    if line.chars().count() <= TITLE_CHARS {
        return line;
    }
    let mut t: String = line.chars().take(TITLE_CHARS - 1).collect();
    t.truncate(t.trim_end().len());
    t.push('…');
    t
}

fn conversation_from_row(row: &AnyRow) -> Result<ConversationSummary> {
    Ok(ConversationSummary {
        id: get(row, "id")?,
        title: get(row, "title")?,
        collection: get(row, "collection")?,
        created_at: get(row, "created_at")?,
        updated_at: get(row, "updated_at")?,
        turns: get(row, "turns")?,
        owner: get(row, "owner")?,
    })
}

/// Creates `answer`'s conversation when it does not exist yet and moves its `updated_at` forward,
/// inside the caller's transaction (the one that then inserts the answer).
pub(crate) async fn touch(conn: &mut AnyConnection, answer: &AnswerRecord) -> Result<()> {
    // The write comes first, so SQLite takes its write lock up front (no upgrade deadlock).
    sqlx::query(
        "INSERT INTO conversations (id, title, collection, created_at, updated_at, owner) \
         VALUES ($1, $2, $3, $4, $4, $5) ON CONFLICT (id) DO NOTHING",
    )
    .bind(&answer.conversation_id)
    .bind(title_of(&answer.prompt))
    .bind(&answer.collection)
    .bind(answer.created_at)
    .bind(&answer.owner)
    .execute(&mut *conn)
    .await
    .map_err(db_err)?;
    sqlx::query(
        "UPDATE conversations SET updated_at = CASE WHEN updated_at > $2 THEN updated_at ELSE $2 END \
         WHERE id = $1",
    )
    .bind(&answer.conversation_id)
    .bind(answer.created_at)
    .execute(&mut *conn)
    .await
    .map_err(db_err)?;
    Ok(())
}

pub(crate) async fn conversation_summary(pool: &AnyPool, id: &str) -> Result<Option<ConversationSummary>> {
    let row = sqlx::query(concat!("SELECT ", conversation_cols!(), " FROM conversations c WHERE c.id = $1"))
        .bind(id)
        .fetch_optional(pool)
        .await
        .map_err(db_err)?;
    row.as_ref().map(conversation_from_row).transpose()
}

pub(crate) async fn list_conversations(pool: &AnyPool, limit: i64) -> Result<Vec<ConversationSummary>> {
    // Most recently active first; within one second, the one with the latest answer.
    let rows = sqlx::query(concat!(
        "SELECT ",
        conversation_cols!(),
        " FROM conversations c ORDER BY c.updated_at DESC, \
         (SELECT MAX(a.seq) FROM answers a WHERE a.conversation_id = c.id) DESC, c.id LIMIT $1"
    ))
    .bind(limit.max(0))
    .fetch_all(pool)
    .await
    .map_err(db_err)?;
    collect(rows, conversation_from_row)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles() {
        assert_eq!(title_of("  what is\nthis  bird? "), "what is this bird?");
        assert_eq!(title_of("   "), "Untitled");
        let long = "鸟".repeat(200);
        let t = title_of(&long);
        assert_eq!(t.chars().count(), TITLE_CHARS);
        assert!(t.ends_with('…'));
    }
}
