//! Mapping sqlx errors to pyxa's [`Error`]: a lost or unreachable database is `unavailable`,
//! anything unexpected `internal`. Constraint violations that mean something to the caller
//! (duplicates, unknown parents) are mapped at the call site first, with [`constraint_kind`].

use pyxa_core::{Error, ErrorCode};
use sqlx::error::{DatabaseError, ErrorKind as DbErrorKind};

/// Maps a sqlx error: lost or unreachable database -> `unavailable`, anything else `internal`.
/// Constraint violations that mean something to the caller are mapped at the call site first.
pub(crate) fn db_err(e: sqlx::Error) -> Error {
    let unavailable = match &e {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::Protocol(_) => true,
        sqlx::Error::Database(d) => db_unavailable(d.as_ref()),
        _ => false,
    };
    if unavailable {
        Error::new(ErrorCode::DatabaseUnavailable, e.to_string())
    } else {
        Error::internal(format!("database: {e}"))
    }
}

/// Database errors that say "the database cannot serve now" rather than "this query is wrong".
fn db_unavailable(d: &dyn DatabaseError) -> bool {
    if let Some(e) = d.try_downcast_ref::<sqlx::sqlite::SqliteError>() {
        let primary = e.code().and_then(|c| c.parse::<i32>().ok()).map(|c| c & 0xff);
        // BUSY, LOCKED, IOERR, FULL, CANTOPEN, READONLY
        return matches!(primary, Some(5 | 6 | 8 | 10 | 13 | 14));
    }
    if let Some(e) = d.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() {
        let code = e.code();
        // connection exception, insufficient resources, operator intervention
        return code.starts_with("08") || code.starts_with("53") || code.starts_with("57");
    }
    false
}

/// The kind of a database-side error (unique or foreign-key violation...), if it is one.
pub(crate) fn constraint_kind(e: &sqlx::Error) -> Option<DbErrorKind> {
    match e {
        sqlx::Error::Database(d) => Some(d.kind()),
        _ => None,
    }
}

pub(crate) fn migrate_err(e: sqlx::migrate::MigrateError) -> Error {
    match e {
        sqlx::migrate::MigrateError::Execute(e) => db_err(e).context("migrating the database"),
        e => Error::new(ErrorCode::MigrationFailed, format!("migrating the database: {e}")),
    }
}

/// A stored value pyxa cannot read back.
pub(crate) fn corrupt(what: &str, detail: impl std::fmt::Display) -> Error {
    Error::internal(format!("corrupt {what} in the database: {detail}"))
}
