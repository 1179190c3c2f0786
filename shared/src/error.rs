//! Errors of the domain library, mapped once to the protocol's error codes.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("environment variable {0} is not set")]
    Missing(&'static str),
    #[error("environment variable {name} has an invalid value {value:?}")]
    Invalid { name: &'static str, value: String },
}

/// Failures of a DynamoDB or Management API call, or of (de)serialising an item.
#[derive(Debug, Error)]
pub enum StoreError {
    #[error("DynamoDB: {0}")]
    Dynamo(String),
    #[error("item does not match its schema: {0}")]
    Item(#[from] serde_dynamo::Error),
    #[error("S3: {0}")]
    Media(String),
    #[error("gave up after {0} attempts with unprocessed items")]
    Unprocessed(usize),
}

impl<E, R> From<aws_sdk_dynamodb::error::SdkError<E, R>> for StoreError
where
    E: std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    fn from(err: aws_sdk_dynamodb::error::SdkError<E, R>) -> Self {
        StoreError::Dynamo(aws_sdk_dynamodb::error::DisplayErrorContext(err).to_string())
    }
}

/// Everything a request can fail with. `code()` is the stable string clients see.
#[derive(Debug, Error)]
pub enum AppError {
    #[error("missing, invalid or expired token")]
    Unauthorized,
    #[error("request body is not valid JSON")]
    MalformedJson,
    #[error("unknown action {0:?}")]
    UnknownAction(String),
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    #[error("you are not a member of this chat")]
    NotMember,
    #[error("{0}")]
    Forbidden(String),
    #[error("a chat has at most {max} members including its creator")]
    TooManyMembers { max: usize },
    #[error("message text is longer than {max} bytes")]
    MessageTooLong { max: usize },
    #[error("this user already has {max} devices; unregister one first")]
    TooManyDevices { max: usize },
    #[error("this device is not registered: you have the most devices allowed; listDevices, unregisterDevice one, then reconnect")]
    DeviceNotRegistered,
    #[error("push platform {0:?} is not available; this deployment offers {1}")]
    PushUnavailable(String, String),
    #[error("{0}")]
    NotFound(String),
    #[error("{what} is larger than the {max} bytes allowed")]
    TooLarge { what: String, max: u64 },
    #[error("the chat is too busy right now, retry with the same clientMessageId")]
    Contention,
    #[error("internal error")]
    Internal(#[from] StoreError),
}

impl AppError {
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Unauthorized => "unauthorized",
            AppError::MalformedJson => "malformed_json",
            AppError::UnknownAction(_) => "unknown_action",
            AppError::InvalidRequest(_) => "invalid_request",
            AppError::NotMember => "not_member",
            AppError::Forbidden(_) => "forbidden",
            AppError::TooManyMembers { .. } => "too_many_members",
            AppError::MessageTooLong { .. } => "message_too_long",
            AppError::TooManyDevices { .. } => "too_many_devices",
            AppError::DeviceNotRegistered => "device_not_registered",
            AppError::Contention => "contention",
            AppError::NotFound(_) => "not_found",
            AppError::TooLarge { .. } => "too_large",
            AppError::PushUnavailable(..) => "push_unavailable",
            AppError::Internal(_) => "internal",
        }
    }

    /// HTTP status for the places that answer with one ($connect, the HTTP API).
    pub fn http_status(&self) -> u16 {
        match self {
            AppError::Unauthorized => 401,
            AppError::NotMember | AppError::Forbidden(_) => 403,
            AppError::TooManyDevices { .. } | AppError::DeviceNotRegistered => 403,
            AppError::MessageTooLong { .. } | AppError::TooLarge { .. } => 413,
            AppError::NotFound(_) => 404,
            AppError::Contention => 503,
            AppError::Internal(_) => 500,
            _ => 400,
        }
    }

    /// Logs a failed request: an internal failure with its cause as an error,
    /// a refusal (the client's doing) as info.
    pub fn log(&self, route: &str) {
        match self {
            AppError::Internal(cause) => tracing::error!(route, code = self.code(), error = %cause, "request failed"),
            _ => tracing::info!(route, code = self.code(), error = %self, "request refused"),
        }
    }

    pub fn invalid(reason: impl Into<String>) -> Self {
        AppError::InvalidRequest(reason.into())
    }
}
