//! The one error type server functions return. It crosses the network, so
//! the browser shows the same message the server meant.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    #[error("sign in to continue")]
    Unauthorized,
    #[error("{0}")]
    Forbidden(String),
    /// Bad input: `field` names the form field the message belongs next to.
    #[error("{message}")]
    Invalid { field: String, message: String },
    #[error("{0}")]
    Conflict(String),
    #[error("not found")]
    NotFound,
    /// Over a rate limit: the message says how long to wait.
    #[error("{0}")]
    TooMany(String),
    #[error("something went wrong on our side; please try again")]
    Internal,
    #[error("{}", server_fn_message(.0))]
    ServerFn(ServerFnErrorErr),
}

/// The framework refuses a body it cannot read before our code sees it;
/// its own words ("length limit exceeded") do not tell a person what to do.
fn server_fn_message(e: &ServerFnErrorErr) -> String {
    match e {
        ServerFnErrorErr::Args(why) | ServerFnErrorErr::Deserialization(why)
            if why.contains("length limit exceeded") =>
        {
            "this is more than can be sent at once; make it shorter and send it again".into()
        }
        ServerFnErrorErr::Args(why) | ServerFnErrorErr::Deserialization(why) => format!(
            "this request could not be read ({why}); reload the page and send the form again"
        ),
        other => other.to_string(),
    }
}

impl AppError {
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        AppError::Invalid {
            field: field.to_string(),
            message: message.into(),
        }
    }

    pub fn status(&self) -> u16 {
        match self {
            AppError::Unauthorized => 401,
            AppError::Forbidden(_) => 403,
            AppError::Invalid { .. } => 422,
            AppError::Conflict(_) => 409,
            AppError::NotFound => 404,
            AppError::TooMany(_) => 429,
            AppError::Internal => 500,
            AppError::ServerFn(e) => match e {
                ServerFnErrorErr::Args(_) | ServerFnErrorErr::Deserialization(_) => 400,
                _ => 500,
            },
        }
    }

    /// The message for `field`, when this error is about that field.
    pub fn for_field(&self, name: &str) -> Option<String> {
        match self {
            AppError::Invalid { field, message } if field == name => Some(message.clone()),
            _ => None,
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        AppError::ServerFn(value)
    }
}

#[cfg(feature = "ssr")]
impl From<quizfunnel::store::StoreError> for AppError {
    fn from(e: quizfunnel::store::StoreError) -> Self {
        use quizfunnel::store::StoreError;
        match e {
            StoreError::Conflict(m) => AppError::Conflict(m),
            StoreError::NotFound => AppError::NotFound,
            StoreError::Internal(m) => {
                tracing::error!(error = %m, "store failure");
                AppError::Internal
            }
        }
    }
}

/// Sets the HTTP status of the response to match the error, so non-browser
/// callers (and tests) see 401/403/422 rather than a blanket 500.
#[cfg(feature = "ssr")]
pub fn respond(e: AppError) -> AppError {
    if let Some(res) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>()
        && let Ok(code) = axum::http::StatusCode::from_u16(e.status())
    {
        res.set_status(code);
    }
    e
}

/// An error where the page or form it stopped is, announced to screen
/// readers.
pub fn error_view(e: &AppError) -> leptos::prelude::AnyView {
    use leptos::prelude::*;
    view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any()
}
