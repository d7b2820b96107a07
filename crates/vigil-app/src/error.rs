//! What a command or query can end in, each with the one sentence a person
//! is shown; front ends map them to their own (the web: a status code).

use vigil_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The access table refuses it.
    #[error("{0}")]
    Forbidden(String),
    /// No such record.
    #[error("{0}")]
    NotFound(String),
    /// The database cannot be reached; nothing was saved.
    #[error(
        "The database cannot be reached just now, so nothing was saved. Try again in a minute."
    )]
    Unavailable(String),
    /// Something that should not happen; the detail goes to the server log.
    #[error("Something went wrong on the server and nothing was saved. Try again; if it happens again, tell your administrator.")]
    Internal(String),
    /// The command cannot be carried out as asked; the sentence says why
    /// and nothing was saved.
    #[error("{0}")]
    Refused(String),
    /// Too many passwords are being checked at once.
    #[error("{0}")]
    Busy(#[from] crate::auth::Busy),
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(m) => AppError::Unavailable(m),
            other => AppError::Internal(other.to_string()),
        }
    }
}

impl From<tokio::task::JoinError> for AppError {
    fn from(e: tokio::task::JoinError) -> Self {
        AppError::Internal(format!("a background task failed: {e}"))
    }
}
