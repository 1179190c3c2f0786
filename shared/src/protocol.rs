//! Every frame of the WebSocket protocol, both directions. `docs/protocol.md`
//! describes the same frames for client authors.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::AppError;

// ---- client → server (one type per route; API Gateway picks the route by `action`)

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateChatRequest {
    /// Other members (the caller is always a member). One other and no name: a 1-1 chat.
    pub participants: Vec<String>,
    #[serde(default)]
    pub name: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SendMessageRequest {
    pub chat_id: String,
    /// Chosen by the client, unique per message; a retry reuses it.
    pub client_message_id: String,
    pub message: String,
    #[serde(default)]
    pub attachments: Vec<String>,
    /// The `seq` of a message of the same chat this one replies to (quotes).
    #[serde(default)]
    pub reply_to: Option<u64>,
}

/// The message a reply quotes, as it was when quoted.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Quote {
    pub seq: u64,
    pub message_id: String,
    pub sender_id: String,
    /// The start of its text (at most `QUOTE_SNIPPET_CHARS` characters).
    pub snippet: String,
    pub attachment_count: usize,
    /// The quoted message was deleted for everyone since: no snippet, no attachments.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deleted: bool,
}

/// How much of a quoted message's text a reply carries.
pub const QUOTE_SNIPPET_CHARS: usize = 100;

/// Acknowledges inbox entries: messages by `messageId`, other frames by `eventId`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AckRequest {
    #[serde(default)]
    pub message_id: Option<String>,
    #[serde(default)]
    pub message_ids: Vec<String>,
    #[serde(default)]
    pub event_ids: Vec<String>,
}

impl AckRequest {
    pub fn into_ids(self) -> Vec<String> {
        let mut ids = self.message_ids;
        ids.extend(self.message_id);
        ids.extend(self.event_ids);
        ids
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum ParticipantOperation {
    Add,
    Remove,
    /// Makes a member an admin (admins only).
    Promote,
    /// Makes an admin a member again (admins only; a group keeps one admin).
    Demote,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ModifyChatParticipantsRequest {
    pub chat_id: String,
    pub user_id: String,
    pub operation: ParticipantOperation,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MarkReadRequest {
    pub chat_id: String,
    pub up_to_seq: u64,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ListChatsRequest {
    /// `nextCursor` from the previous `chats` reply, for the next page.
    #[serde(default)]
    pub cursor: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UnregisterDeviceRequest {
    /// Another device of the caller (a lost phone); this device when absent.
    #[serde(default)]
    pub device_id: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ListDevicesRequest {}

/// One of the caller's registered devices (`listDevices`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceView {
    pub device_id: String,
    /// Milliseconds since the epoch.
    pub registered_at: u64,
    /// Holds a live connection now.
    pub online: bool,
    /// When its current (or last recorded) connection opened, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connected_at: Option<u64>,
    /// `APNS` or `GCM` when it receives pushes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub push_platform: Option<String>,
    /// The device asking.
    pub current: bool,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RegisterPushRequest {
    /// `APNS` or `GCM` (the platforms this deployment has an SNS platform application for).
    pub platform: String,
    pub token: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UnregisterPushRequest {}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AcceptChatRequest {
    pub chat_id: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MuteChatRequest {
    pub chat_id: String,
    pub muted: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HeartbeatRequest {}

/// The caller is typing in a chat (`typing: true`, sent again every few
/// seconds while they type) or stopped (`false`). Never stored.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TypingRequest {
    pub chat_id: String,
    pub typing: bool,
}

/// A group's name and/or description, set by an admin. An empty
/// `description` clears it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateChatRequest {
    pub chat_id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
}

/// The caller's profile: a display name and an "about" line (fields left
/// out stay; an empty `about` clears it; none at all reads the profile).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateProfileRequest {
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub about: Option<String>,
    /// An upload from `POST /users/me/avatar` (an empty string removes the avatar).
    #[serde(default)]
    pub avatar: Option<String>,
}

/// A user's profile picture: an image uploaded through `POST /users/me/avatar`,
/// downloaded through `GET /users/{userId}/avatar`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AvatarView {
    pub attachment_id: String,
    pub content_type: String,
    pub size: u64,
    pub sha256: String,
}

/// The sender replaces the text of one of their messages (within the edit window).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EditMessageRequest {
    pub chat_id: String,
    pub seq: u64,
    pub message: String,
}

/// Deletes a message for everyone in the chat (`forEveryone: true`: its
/// sender, or a group admin, within the delete window) or only for the
/// caller's own devices.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DeleteMessageRequest {
    pub chat_id: String,
    pub seq: u64,
    pub for_everyone: bool,
}

/// Sets (or, with `emoji` null or empty, removes) the caller's one reaction to a message.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReactRequest {
    pub chat_id: String,
    pub seq: u64,
    #[serde(default)]
    pub emoji: Option<String>,
}

/// Block (`blocked: true`) or unblock a user; the reply is the caller's block list.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BlockUserRequest {
    pub user_id: String,
    pub blocked: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ListBlockedRequest {}

/// How long a `typing: true` shows without being renewed: a client that
/// stops sending (closed, offline) needs no `false` for its indicator to go.
pub const TYPING_SHOWS_FOR_MS: u64 = 6_000;

/// Presence of these users now, and `presence` frames when it changes in the
/// next minutes (ask again to keep watching).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SubscribePresenceRequest {
    pub user_ids: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PresenceView {
    pub user_id: String,
    pub online: bool,
    /// When the user's last device went offline (milliseconds), if ever.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_seen: Option<u64>,
    /// The user hides their presence from the caller (`setPrivacy`): then
    /// `online` is false and there is no `lastSeen`, whatever they are.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub hidden: bool,
}

/// Who sees a user online and their last seen (`setPrivacy`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum PresenceVisibility {
    Everyone,
    /// People the user accepted (created a chat with, accepted or replied to).
    Contacts,
    Nobody,
}

/// Changes the caller's privacy settings (fields left out stay as they are;
/// none at all reads them).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SetPrivacyRequest {
    #[serde(default)]
    pub presence: Option<PresenceVisibility>,
    #[serde(default)]
    pub read_receipts: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MessageStatusRequest {
    pub chat_id: String,
    pub seq: u64,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SyncRequest {
    /// `cursor` from the previous `synced` reply, to continue a large inbox.
    #[serde(default)]
    pub cursor: Option<String>,
    #[serde(default)]
    pub limit: Option<usize>,
}

/// A request frame split into the route's own fields and what every frame
/// carries: its `requestId` (echoed in the reply) and the connection it came on.
pub struct Request<T> {
    pub request_id: Option<String>,
    pub connection_id: String,
    pub body: T,
}

/// The envelope fields parsed from a frame, before the connection is known.
pub struct Envelope<T> {
    pub request_id: Option<String>,
    pub body: T,
}

/// Parses a frame for one route. Failures keep the `requestId` when the frame
/// was JSON, so the error frame can echo it.
pub fn parse_request<T: DeserializeOwned>(body: Option<&str>) -> Result<Envelope<T>, (AppError, Option<String>)> {
    let mut value: Value = serde_json::from_str(body.unwrap_or("")).map_err(|_| (AppError::MalformedJson, None))?;
    let Some(object) = value.as_object_mut() else {
        return Err((AppError::invalid("a frame is a JSON object"), None));
    };
    let request_id = match object.remove("requestId") {
        None | Some(Value::Null) => None,
        Some(Value::String(id)) if id.len() <= 128 => Some(id),
        Some(_) => return Err((AppError::invalid("requestId must be a string of at most 128 characters"), None)),
    };
    object.remove("action");
    let body = T::deserialize(value).map_err(|e| (AppError::invalid(e.to_string()), request_id.clone()))?;
    Ok(Envelope { request_id, body })
}

/// The `requestId` of a frame, if it is JSON and has one (for error replies).
pub fn request_id_of(body: Option<&str>) -> Option<String> {
    let value: Value = serde_json::from_str(body?).ok()?;
    value.get("requestId")?.as_str().map(str::to_owned)
}

// ---- server → client

/// A stored message as every device sees it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageView {
    pub chat_id: String,
    pub message_id: String,
    pub seq: u64,
    pub sender_id: String,
    pub sender_device: String,
    pub client_message_id: String,
    pub message: String,
    /// The uploaded files the message carries (fetch each through the HTTP API).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<AttachmentView>,
    /// Members named as `@userId` in the text, parsed by the server.
    #[serde(default)]
    pub mentions: Vec<String>,
    /// Milliseconds since the epoch, when the server accepted the message.
    pub sent_at: u64,
    /// The message this one replies to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<Quote>,
    /// When its text was last edited (`editMessage`), if ever.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edited_at: Option<u64>,
    /// Deleted for everyone: the text, attachments, quote and reactions are gone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted: Option<Deletion>,
    /// Reactions, one per user, grouped by emoji.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reactions: Vec<ReactionCount>,
    /// The seq of the last change (edit, deletion, reaction) this state
    /// includes: a client applies a `messageChanged` only when its seq is greater.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_seq: Option<u64>,
}

/// Who deleted a message for everyone, and when.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Deletion {
    pub by: String,
    pub at: u64,
}

/// One emoji's reactions to a message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReactionCount {
    pub emoji: String,
    pub count: usize,
    /// Who reacted with it, by user id.
    pub users: Vec<String>,
}

/// A change to an earlier message of the chat — an edit, a deletion for
/// everyone, a reaction — with its own `seq` in the chat's sequence, so every
/// device applies the same changes in the same order (live, on `sync`, and in
/// history's `events`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageChange {
    /// Acknowledge it by this id.
    pub event_id: String,
    pub chat_id: String,
    pub seq: u64,
    /// The changed message.
    pub target_seq: u64,
    pub message_id: String,
    /// Who sent the changed message.
    pub target_sender_id: String,
    /// Who changed it.
    pub user_id: String,
    pub at: u64,
    #[serde(flatten)]
    pub change: Change,
    /// The recipient cannot see the changed message (it was sent before they
    /// joined): the change comes without its content, to keep `seq` gapless.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub hidden: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "camelCase")]
pub enum Change {
    /// The new text (absent when `hidden`).
    Edited {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message: Option<String>,
    },
    Deleted,
    /// The user's reaction now; null: they removed it.
    Reacted {
        emoji: Option<String>,
    },
}

/// One member's view of a chat, for the chat list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChatSummary {
    pub chat_id: String,
    pub kind: ChatKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// A group's description (`updateChat`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub participants: Vec<String>,
    /// The caller sees messages after this seq (the chat's seq when they joined).
    #[serde(default)]
    pub joined_at_seq: u64,
    pub last_seq: u64,
    pub last_active_at: u64,
    pub last_read: u64,
    /// Messages after `lastRead` (the UI's bold chat when > 0).
    pub unread_count: u64,
    /// Unread messages that mention the caller.
    pub mention_count: u64,
    /// Set when the caller was removed: they see the chat up to this seq.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub removed_at_seq: Option<u64>,
    /// A message request or group invitation the caller has not accepted
    /// (`acceptChat`, or reply): list it apart.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub request: bool,
    /// The last message the caller may see (the HTTP chat list fills it in).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_message: Option<MessagePreview>,
    /// A 1-1 chat's other member's display name (`updateProfile`), when they
    /// have one and show it to the caller.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer_name: Option<String>,
    /// The same peer's avatar (its `attachmentId`; fetch `GET /users/{userId}/avatar`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer_avatar: Option<String>,
    /// Whose display name `peer_name` may be (a 1-1 chat's other member who
    /// accepted it and blocks no one there); not sent.
    #[serde(skip)]
    pub peer: Option<String>,
    /// The seq of the last message (not change) the caller may see, for the
    /// preview, when known from the chat; not sent.
    #[serde(skip)]
    pub preview_seq: Option<u64>,
}

/// The start of a chat's last message, for the chat list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessagePreview {
    pub seq: u64,
    pub sender_id: String,
    pub text: String,
    pub attachment_count: usize,
    pub sent_at: u64,
    /// The last message was deleted for everyone.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deleted: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub edited: bool,
}

// ---- HTTP API (docs/http-api.md) ----

/// A file a message carries, as recipients see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttachmentView {
    pub attachment_id: String,
    pub file_name: String,
    pub content_type: String,
    pub size: u64,
    pub sha256: String,
}

/// `POST /chats/{chatId}/attachments`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateAttachmentRequest {
    pub file_name: String,
    pub content_type: String,
    pub size: u64,
    /// Base64 SHA-256 of the exact bytes to upload.
    pub sha256: String,
}

#[derive(Debug, Serialize, Deserialize)]
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
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttachmentDownload {
    #[serde(flatten)]
    pub attachment: AttachmentView,
    /// Presigned S3 GET URL.
    pub url: String,
    pub expires_at: u64,
}

/// `GET /chats/{chatId}/messages`: messages in ascending seq order.
#[derive(Debug, Serialize, Deserialize)]
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
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChatsPage {
    pub chats: Vec<ChatSummary>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// `GET /chats/{chatId}`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChatDetails {
    #[serde(flatten)]
    pub summary: ChatSummary,
    pub admins: Vec<String>,
    pub created_by: String,
    pub created_at: u64,
}

/// `GET /users/{userId}`.
#[derive(Debug, Serialize, Deserialize)]
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
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateAvatarRequest {
    pub content_type: String,
    pub size: u64,
    /// Base64 SHA-256 of the exact bytes to upload.
    pub sha256: String,
}

/// `GET /users/{userId}/avatar`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AvatarDownload {
    #[serde(flatten)]
    pub avatar: AvatarView,
    /// Presigned S3 GET URL.
    pub url: String,
    pub expires_at: u64,
}

/// Every HTTP API error body.
#[derive(Debug, Serialize, Deserialize)]
pub struct HttpError {
    pub code: String,
    pub message: String,
    /// Seconds to wait before retrying (`rate_limited`; also the `Retry-After` header).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecipientStatus {
    pub user_id: String,
    pub delivered: bool,
    pub read: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ReceiptStatus {
    Delivered,
    Read,
}

// A frame is built once per reply or post and serialised at once: boxing the
// larger variants would only add an allocation.
#[expect(clippy::large_enum_variant)]
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum ServerFrame {
    ChatCreated {
        chat_id: String,
        kind: ChatKind,
        #[serde(skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        participants: Vec<String>,
        /// False when a 1-1 chat between the two users already existed.
        created: bool,
    },
    /// Reply to `sendMessage`: the message is stored and in every recipient's inbox.
    SendResult {
        status: &'static str,
        chat_id: String,
        client_message_id: String,
        message_id: String,
        seq: u64,
        /// True when this `clientMessageId` had already been accepted.
        duplicate: bool,
    },
    NewMessage(MessageView),
    /// A chat the recipient is a member of was created (to every member's
    /// devices but the creating one, live or on `sync`).
    NewChat {
        event_id: String,
        chat_id: String,
        kind: ChatKind,
        #[serde(skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        participants: Vec<String>,
        admins: Vec<String>,
        created_by: String,
        created_at: u64,
    },
    /// Membership changed; also sent to the added or removed user.
    ChatUpdate {
        event_id: String,
        chat_id: String,
        operation: ParticipantOperation,
        user_id: String,
        by: String,
        participants: Vec<String>,
        admins: Vec<String>,
        version: u64,
        /// The chat's last seq when the change took effect.
        seq: u64,
    },
    /// Another device of the same user read the chat up to `upToSeq`.
    ReadSync {
        event_id: String,
        chat_id: String,
        up_to_seq: u64,
    },
    /// To a sender: `userId` has received (any device acked) or read the
    /// sender's messages in the chat up to `upToSeq`.
    Receipt {
        event_id: String,
        chat_id: String,
        user_id: String,
        status: ReceiptStatus,
        up_to_seq: u64,
    },
    ParticipantsModified {
        chat_id: String,
        participants: Vec<String>,
        admins: Vec<String>,
        version: u64,
        seq: u64,
    },
    MarkedRead {
        chat_id: String,
        last_read: u64,
    },
    /// One page of the chat list, sized to fit one WebSocket message.
    Chats {
        chats: Vec<ChatSummary>,
        /// Present when more chats follow: send `listChats` again with it.
        #[serde(skip_serializing_if = "Option::is_none")]
        next_cursor: Option<String>,
    },
    DeviceUnregistered {
        device_id: String,
        /// Inbox entries the device had not acknowledged, now discarded.
        discarded: usize,
    },
    Devices {
        devices: Vec<DeviceView>,
        max_devices: usize,
        /// False on a connection of a device over the limit: it may only
        /// `listDevices` and `unregisterDevice` until it reconnects.
        current_registered: bool,
    },
    HeartbeatAck {},
    PresenceList {
        users: Vec<PresenceView>,
    },
    Presence(PresenceView),
    PushRegistered {
        platform: String,
    },
    PushUnregistered {},
    ChatMuted {
        chat_id: String,
        muted: bool,
    },
    ChatAccepted {
        chat_id: String,
    },
    /// To the other members' connected devices: `userId` is typing in the
    /// chat (until `expiresInMs` from now, unless renewed) or stopped.
    Typing {
        chat_id: String,
        user_id: String,
        typing: bool,
        expires_in_ms: u64,
    },
    /// A group's name or description changed (to every member's devices,
    /// live or on `sync`; also the reply to `updateChat`).
    ChatInfo {
        event_id: String,
        chat_id: String,
        name: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        description: Option<String>,
        by: String,
    },
    /// A message was edited, deleted for everyone or reacted to (to every
    /// member's devices, live or on `sync`; also the reply to the change).
    MessageChanged(MessageChange),
    /// Reply to a change that is the message's state already (say, a
    /// retried `react` removing a reaction that is gone): the message as it is.
    MessageUnchanged {
        chat_id: String,
        message: Box<MessageView>,
    },
    /// The caller deleted a message for themself (to their other devices,
    /// live or on `sync`; also the reply to `deleteMessage`).
    MessageHidden {
        event_id: String,
        chat_id: String,
        seq: u64,
    },
    /// Reply to `updateProfile`: the caller's profile now.
    Profile {
        user_id: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        display_name: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        about: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        avatar: Option<AvatarView>,
    },
    /// Reply to `setPrivacy`: the caller's settings now.
    Privacy {
        presence: PresenceVisibility,
        read_receipts: bool,
    },
    /// Reply to `blockUser` and `listBlocked`: whom the caller blocks.
    BlockList {
        blocked: Vec<String>,
    },
    /// Reply to `typing` (sent only when asked for with a `requestId`).
    TypingSent {
        chat_id: String,
        /// Connected devices it was posted to.
        devices: usize,
    },
    MessageStatus {
        chat_id: String,
        seq: u64,
        recipients: Vec<RecipientStatus>,
    },
    Synced {
        delivered: usize,
        /// Present when more entries remain: send `sync` again with it.
        #[serde(skip_serializing_if = "Option::is_none")]
        cursor: Option<String>,
    },
    Acked {
        count: usize,
    },
    Error {
        code: &'static str,
        message: String,
        /// Seconds to wait before retrying (`rate_limited`).
        #[serde(skip_serializing_if = "Option::is_none")]
        retry_after: Option<u64>,
    },
}

impl ServerFrame {
    /// A success nobody needs to hear of unless they asked (with a
    /// `requestId`): every reply is a billed API Gateway message, and an ack
    /// or a heartbeat is sent often and waited on by no one — an ack that
    /// was lost only means the frame comes again, de-duplicated by id.
    pub fn is_quiet(&self) -> bool {
        matches!(self, Self::Acked { .. } | Self::HeartbeatAck {} | Self::TypingSent { .. })
    }

    pub fn error(err: &AppError) -> Self {
        ServerFrame::Error { code: err.code(), message: err.to_string(), retry_after: err.retry_after_secs() }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("server frames always serialise")
    }
}

/// A route's reply: its frame, echoing the request's `requestId` when it had
/// one. Frames pushed to a device (`newMessage`, `receipt`…) have none.
#[derive(Debug, Serialize)]
pub struct Reply {
    #[serde(rename = "requestId", skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    #[serde(flatten)]
    pub frame: ServerFrame,
}

impl Reply {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("server frames always serialise")
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ChatKind {
    Direct,
    Group,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn request_id_survives_a_bad_field() {
        let err = parse_request::<SendMessageRequest>(Some(r#"{"action":"sendMessage","requestId":"r1","chatId":5}"#)).err().unwrap();
        assert_eq!(err.0.code(), "invalid_request");
        assert_eq!(err.1.as_deref(), Some("r1"));
    }

    #[test]
    fn malformed_json_and_non_objects_are_typed_errors() {
        assert_eq!(parse_request::<SyncRequest>(Some("{nope")).err().unwrap().0.code(), "malformed_json");
        assert_eq!(parse_request::<SyncRequest>(Some("[1]")).err().unwrap().0.code(), "invalid_request");
        assert_eq!(parse_request::<SyncRequest>(None).err().unwrap().0.code(), "malformed_json");
    }

    #[test]
    fn ack_accepts_one_id_or_a_batch() {
        let one = parse_request::<AckRequest>(Some(r#"{"action":"ack","messageId":"a"}"#)).ok().unwrap();
        assert_eq!(one.body.into_ids(), vec!["a"]);
        let many = parse_request::<AckRequest>(Some(r#"{"action":"ack","messageIds":["a","b"]}"#)).ok().unwrap();
        assert_eq!(many.body.into_ids(), vec!["a", "b"]);
    }

    #[test]
    fn frames_serialise_with_type_tags_in_camel_case() {
        let frame = ServerFrame::SendResult {
            status: "SUCCESS",
            chat_id: "c".into(),
            client_message_id: "m".into(),
            message_id: "id".into(),
            seq: 3,
            duplicate: false,
        };
        let value: Value = serde_json::from_str(&Reply { request_id: Some("r".into()), frame }.to_json()).unwrap();
        assert_eq!(value["type"], "sendResult");
        assert_eq!(value["requestId"], "r");
        assert_eq!(value["clientMessageId"], "m");
        assert_eq!(value["seq"], 3);
        let err = Reply { request_id: None, frame: ServerFrame::error(&AppError::NotMember) };
        assert_eq!(
            serde_json::to_value(&err).unwrap(),
            json!({"type":"error","code":"not_member","message":"you are not a member of this chat"})
        );
        let pushed = ServerFrame::HeartbeatAck {};
        assert_eq!(
            serde_json::to_value(Reply { request_id: Some("h".into()), frame: pushed }).unwrap(),
            json!({"type":"heartbeatAck","requestId":"h"})
        );
    }
}
