//! Errors of the domain library, mapped once to the protocol's error codes.

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use aws_smithy_types::error::operation::BuildError;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("environment variable {0} is not set")]
    Missing(&'static str),
    #[error("environment variable {name} has an invalid value {value:?}")]
    Invalid { name: &'static str, value: String },
}

/// HS256 wants at least as many key bytes as the hash has; a shorter key is a
/// configuration mistake, refused rather than used.
pub const MIN_KEY_BYTES: usize = 16;

/// Why the token signing key could not be had.
#[derive(Debug, Error)]
pub enum SecretError {
    #[error("JWT_SECRET_ARN is not set: this function is not given the signing key")]
    NotConfigured,
    #[error("reading the signing key from Secrets Manager failed: {0}")]
    Unavailable(String),
    #[error("the signing key is shorter than {MIN_KEY_BYTES} bytes")]
    TooShort,
}

/// One failed AWS call as the SDK reports it after its own retries, with
/// whether trying again later may succeed.
#[derive(Debug, Error)]
#[error("{message}")]
pub struct CallFailure {
    /// The service's error code (`ThrottlingException`…), when it answered with one.
    pub code: Option<String>,
    pub message: String,
    /// Throttling, a 5xx, a timeout or a dropped connection: the same call
    /// may succeed in a moment. Anything else (refused, invalid) will not.
    pub retryable: bool,
}

/// Error codes that mean "too much, too fast" across the services used here.
const THROTTLING_CODES: &[&str] = &[
    "ThrottlingException",
    "Throttling",
    "ThrottledException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "TooManyRequestsException",
    "SlowDown",
    "LimitExceededException",
    "TransactionInProgressException",
];

impl CallFailure {
    pub fn of<E>(err: &SdkError<E, HttpResponse>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let code = err.code().map(str::to_owned);
        let status = err.raw_response().map(|r| r.status().as_u16());
        let retryable = match err {
            SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) => true,
            SdkError::ConstructionFailure(_) => false,
            _ => code.as_deref().is_some_and(|c| THROTTLING_CODES.contains(&c)) || status.is_some_and(|s| s == 429 || s >= 500),
        };
        CallFailure { code, message: DisplayErrorContext(err).to_string(), retryable }
    }
}

/// Failures of DynamoDB calls, or of (de)serialising an item: the store's errors.
#[derive(Debug, Error)]
pub enum StoreError {
    #[error("DynamoDB: {0}")]
    Call(CallFailure),
    #[error("DynamoDB request could not be built: {0}")]
    Build(String),
    #[error("item does not match its schema: {0}")]
    Item(#[from] serde_dynamo::Error),
    #[error("gave up after {0} attempts with unprocessed items")]
    Unprocessed(usize),
}

impl StoreError {
    pub fn retryable(&self) -> bool {
        match self {
            StoreError::Call(failure) => failure.retryable,
            // DynamoDB leaves items unprocessed when throttled.
            StoreError::Unprocessed(_) => true,
            StoreError::Build(_) | StoreError::Item(_) => false,
        }
    }
}

/// A failed SDK call becomes the `Call` variant of its backend's error.
macro_rules! from_sdk_error {
    ($($backend:ident),+) => {$(
        impl<E> From<SdkError<E, HttpResponse>> for $backend
        where
            E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        {
            fn from(err: SdkError<E, HttpResponse>) -> Self {
                $backend::Call(CallFailure::of(&err))
            }
        }
    )+};
}

from_sdk_error!(StoreError, MediaError, PushError);

impl From<BuildError> for StoreError {
    fn from(err: BuildError) -> Self {
        StoreError::Build(err.to_string())
    }
}

/// Failures of S3 calls (the media bucket).
#[derive(Debug, Error)]
pub enum MediaError {
    #[error("S3: {0}")]
    Call(CallFailure),
    #[error("S3 request could not be built: {0}")]
    Build(String),
}

/// Failures of SNS calls (mobile push).
#[derive(Debug, Error)]
pub enum PushError {
    #[error("SNS: {0}")]
    Call(CallFailure),
    #[error("SNS answered without an endpoint ARN")]
    NoEndpoint,
}

/// A backend failure behind a request, by service.
#[derive(Debug, Error)]
pub enum BackendError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Media(#[from] MediaError),
    #[error(transparent)]
    Push(#[from] PushError),
}

impl BackendError {
    pub fn retryable(&self) -> bool {
        match self {
            BackendError::Store(e) => e.retryable(),
            BackendError::Media(MediaError::Call(f)) | BackendError::Push(PushError::Call(f)) => f.retryable,
            BackendError::Media(MediaError::Build(_)) | BackendError::Push(PushError::NoEndpoint) => false,
        }
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
    /// One of the two blocked the other: no 1-1 chat, no 1-1 messages, no
    /// adding the blocker to a group (`blockUser`).
    #[error("{0}")]
    Blocked(String),
    #[error("you have blocked {max} users; unblock one first")]
    TooManyBlocked { max: usize },
    /// Past the edit or delete window (`EditWindowSeconds`, `DeleteWindowSeconds`).
    #[error("{0}")]
    TooLate(String),
    #[error("you have deleted {max} messages of this chat for yourself; that is the most")]
    TooManyHidden { max: usize },
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
    /// A participant named in `createChat` or added to a group has never
    /// signed in: there is no such user (yet) to chat with.
    #[error("no user {}: they have never signed in", .0.join(", "))]
    UnknownUsers(Vec<String>),
    #[error("{what} is larger than the {max} bytes allowed")]
    TooLarge { what: String, max: u64 },
    #[error("the chat is too busy right now, retry with the same clientMessageId")]
    Contention,
    /// An encrypted send named a device list (`devices`) the chat's members
    /// no longer have: fetch `getDeviceKeys`, share the session with the
    /// devices that are new (a new session if one went), and send again.
    #[error("the chat's devices changed since {0:?}: getDeviceKeys, share the session, and send again with the same clientMessageId")]
    DevicesChanged(String),
    /// Over a per-user or per-device limit (`limits`): nothing was done.
    #[error("over the {limit} limit; retry in {retry_after_secs} s")]
    RateLimited { limit: &'static str, retry_after_secs: u64 },
    /// A backend refused or failed for a reason retrying will not fix.
    #[error("internal error")]
    Internal(#[source] BackendError),
    /// A backend is throttling or briefly failing (after the SDK's own
    /// retries): the client should retry shortly, with the same ids.
    #[error("the service is busy; retry in a moment")]
    Unavailable(#[source] BackendError),
    /// The function's time ran out before the request was done: the client
    /// retries it with the same ids (what was done is found, not repeated).
    #[error("the request ran out of time; retry it with the same ids")]
    OutOfTime,
}

/// Every backend failure becomes `unavailable` (retry) or `internal`, here and only here.
impl<E: Into<BackendError>> From<E> for AppError {
    fn from(err: E) -> Self {
        let err = err.into();
        if err.retryable() { AppError::Unavailable(err) } else { AppError::Internal(err) }
    }
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
            AppError::Blocked(_) => "blocked",
            AppError::TooManyBlocked { .. } => "too_many_blocked",
            AppError::TooManyMembers { .. } => "too_many_members",
            AppError::TooLate(_) => "too_late",
            AppError::TooManyHidden { .. } => "too_many_hidden",
            AppError::MessageTooLong { .. } => "message_too_long",
            AppError::TooManyDevices { .. } => "too_many_devices",
            AppError::DeviceNotRegistered => "device_not_registered",
            AppError::Contention => "contention",
            AppError::DevicesChanged(_) => "devices_changed",
            AppError::RateLimited { .. } => "rate_limited",
            AppError::NotFound(_) => "not_found",
            AppError::UnknownUsers(_) => "unknown_user",
            AppError::TooLarge { .. } => "too_large",
            AppError::PushUnavailable(..) => "push_unavailable",
            AppError::Internal(_) => "internal",
            AppError::Unavailable(_) | AppError::OutOfTime => "unavailable",
        }
    }

    /// HTTP status for the places that answer with one ($connect, the HTTP API).
    pub fn http_status(&self) -> u16 {
        match self {
            AppError::Unauthorized => 401,
            AppError::NotMember | AppError::Forbidden(_) | AppError::Blocked(_) => 403,
            AppError::TooManyDevices { .. } | AppError::DeviceNotRegistered => 403,
            AppError::MessageTooLong { .. } | AppError::TooLarge { .. } => 413,
            AppError::NotFound(_) | AppError::UnknownUsers(_) => 404,
            AppError::RateLimited { .. } => 429,
            AppError::DevicesChanged(_) => 409,
            AppError::Contention | AppError::Unavailable(_) | AppError::OutOfTime => 503,
            AppError::Internal(_) => 500,
            _ => 400,
        }
    }

    /// Logs a failed request: an internal failure with its cause as an error,
    /// a refusal (the client's doing) as info.
    pub fn log(&self, route: &str) {
        match self {
            AppError::Internal(cause) => tracing::error!(route, code = self.code(), error = %cause, "request failed"),
            AppError::Unavailable(cause) => tracing::warn!(route, code = self.code(), error = %cause, "request failed, retryable"),
            AppError::OutOfTime => tracing::warn!(route, code = self.code(), "request ran out of time, retryable"),
            _ => tracing::info!(route, code = self.code(), error = %self, "request refused"),
        }
    }

    /// Seconds the client should wait before retrying, when the error says.
    pub fn retry_after_secs(&self) -> Option<u64> {
        match self {
            AppError::RateLimited { retry_after_secs, .. } => Some(*retry_after_secs),
            AppError::OutOfTime => Some(1),
            _ => None,
        }
    }

    pub fn invalid(reason: impl Into<String>) -> Self {
        AppError::InvalidRequest(reason.into())
    }
}
