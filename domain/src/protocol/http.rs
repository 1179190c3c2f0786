//! The HTTP API's request and response bodies (docs/http-api.md).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::views::{AttachmentView, AvatarView, ChatSummary, MessageChange, MessageView, PresenceView};

/// `POST /chats/{chatId}/attachments`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateAttachmentRequest {
    pub file_name: String,
    pub content_type: String,
    pub size: u64,
    /// Base64 SHA-256 of the exact bytes to upload.
    pub sha256: String,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AttachmentUpload {
    pub attachment_id: String,
    /// Presigned S3 URL: PUT the bytes there with exactly `uploadHeaders`.
    pub upload_url: String,
    pub upload_method: String,
    pub upload_headers: std::collections::BTreeMap<String, String>,
    /// Milliseconds since the epoch.
    pub expires_at: u64,
}

/// `GET /chats/{chatId}/attachments/{attachmentId}`.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AttachmentDownload {
    #[serde(flatten)]
    pub attachment: AttachmentView,
    /// Presigned S3 GET URL.
    pub url: String,
    pub expires_at: u64,
}

/// `GET /chats/{chatId}/messages`: messages in ascending seq order.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MessagesPage {
    pub chat_id: String,
    /// Each as it is now (for a removed member: as it was when they were removed).
    pub messages: Vec<MessageView>,
    /// The changes (edits, deletions, reactions) in the same window, each at
    /// its own seq: with `messages` and `hidden`, every seq of the window.
    #[serde(default)]
    pub events: Vec<MessageChange>,
    /// Seqs of messages the caller deleted for themself.
    #[serde(default)]
    pub hidden: Vec<u64>,
    /// More messages lie beyond this page in the direction asked for.
    pub has_more: bool,
}

/// `GET /chats`.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChatsPage {
    pub chats: Vec<ChatSummary>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// `GET /chats/{chatId}`.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChatDetails {
    #[serde(flatten)]
    pub summary: ChatSummary,
    pub admins: Vec<String>,
    pub created_by: String,
    pub created_at: u64,
}

/// `GET /users/{userId}`.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserProfile {
    /// `userId`, `online`, `lastSeen`.
    #[serde(flatten)]
    pub presence: PresenceView,
    /// Chats the caller and this user are both in.
    pub chats_in_common: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub about: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar: Option<AvatarView>,
}

/// `POST /users/me/avatar`: the image to upload as the caller's avatar.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateAvatarRequest {
    pub content_type: String,
    pub size: u64,
    /// Base64 SHA-256 of the exact bytes to upload.
    pub sha256: String,
}

/// `GET /users/{userId}/avatar`.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AvatarDownload {
    #[serde(flatten)]
    pub avatar: AvatarView,
    /// Presigned S3 GET URL.
    pub url: String,
    pub expires_at: u64,
}

/// Every HTTP API error body: the WebSocket's `error` frame without its `type`.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HttpError {
    pub code: String,
    pub message: String,
    /// Seconds to wait before retrying (`rate_limited`; also the `Retry-After` header).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
}
