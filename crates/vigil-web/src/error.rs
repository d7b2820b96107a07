//! Errors a request can end in, each with the status and the one sentence a
//! person is shown.

use vigil_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    /// The access table refuses it (403).
    #[error("{0}")]
    Forbidden(String),
    /// No such record or page (404).
    #[error("{0}")]
    NotFound(String),
    /// A form that did not come from this session (403).
    #[error(
        "This form has expired or did not come from Vigil. Go back, reload the page and try again."
    )]
    Csrf,
    /// The database cannot be reached; nothing was saved (503).
    #[error(
        "The database cannot be reached just now, so nothing was saved. Try again in a minute."
    )]
    Unavailable(String),
    /// Something that should not happen (500); the detail goes to the server log.
    #[error("Something went wrong on the server and nothing was saved. Try again; if it happens again, tell your administrator.")]
    Internal(String),
    /// A command that cannot be carried out as asked (409); nothing was saved.
    #[error("{0}")]
    Refused(String),
    /// Too many passwords are being checked at once (503, with Retry-After).
    #[error("{0}")]
    Busy(#[from] vigil_app::auth::Busy),
    /// The request body was larger than any form needs (413).
    #[error("What you sent is larger than any form accepts (over 1 MB), so nothing was saved. Go back and shorten the longest answer.")]
    TooLarge,
    /// A POST whose body is not a URL-encoded form (415).
    #[error("Vigil only accepts forms sent from its own pages, and this was not one, so nothing was saved. Go back, reload the page and try again.")]
    NotAForm,
    /// A form whose text is not UTF-8 (400): refused rather than guessed at.
    #[error("What you sent is not plain text (some of it is not in the UTF-8 character set), so nothing was saved. Go back, reload the page and type it again.")]
    NotText,
    /// Too many referrals from one account in a minute (429).
    #[error("You have sent a lot of referrals in the last minute. Wait a minute, then send this one again.")]
    TooMany,
}

impl From<StoreError> for WebError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(m) => WebError::Unavailable(m),
            other => WebError::Internal(other.to_string()),
        }
    }
}

impl From<vigil_app::AppError> for WebError {
    fn from(e: vigil_app::AppError) -> Self {
        use vigil_app::AppError as A;
        match e {
            A::Forbidden(m) => WebError::Forbidden(m),
            A::NotFound(m) => WebError::NotFound(m),
            A::Unavailable(m) => WebError::Unavailable(m),
            A::Internal(m) => WebError::Internal(m),
            A::Refused(m) => WebError::Refused(m),
            A::Busy(b) => WebError::Busy(b),
        }
    }
}

impl From<tokio::task::JoinError> for WebError {
    fn from(e: tokio::task::JoinError) -> Self {
        WebError::Internal(format!("a background task failed: {e}"))
    }
}

impl WebError {
    pub fn status(&self) -> u16 {
        match self {
            WebError::Forbidden(_) | WebError::Csrf => 403,
            WebError::NotFound(_) => 404,
            WebError::Unavailable(_) | WebError::Busy(_) => 503,
            WebError::Internal(_) => 500,
            WebError::Refused(_) => 409,
            WebError::TooLarge => 413,
            WebError::NotAForm => 415,
            WebError::NotText => 400,
            WebError::TooMany => 429,
        }
    }

    /// The heading of the error page.
    pub fn title(&self) -> &'static str {
        match self {
            WebError::Forbidden(_) | WebError::Csrf => "You cannot do this",
            WebError::NotFound(_) => "Page not found",
            WebError::Unavailable(_) => "Sorry, the service is unavailable",
            WebError::Busy(_) => "Sorry, the service is busy",
            WebError::Internal(_) => "Sorry, there is a problem with the service",
            WebError::TooLarge => "What you sent is too large",
            WebError::NotAForm | WebError::NotText => "What you sent could not be read",
            WebError::TooMany => "Wait a minute",
            WebError::Refused(_) => "This cannot be done as asked",
        }
    }
}
