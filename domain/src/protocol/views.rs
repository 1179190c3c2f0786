//! What frames and HTTP bodies show of chats, messages, devices and people:
//! the wire's views, apart from the stored items (`store/`).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The message a reply quotes, as it was when quoted.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
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

/// One of the caller's registered devices (`listDevices`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
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
    pub push_platform: Option<PushPlatform>,
    /// The device asking.
    pub current: bool,
}

/// A device's long-term keys (Olm's identity keys, unpadded base64).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IdentityKeys {
    /// For key agreement (Olm sessions).
    pub curve25519: String,
    /// For signatures.
    pub ed25519: String,
}

/// A one-time or fallback key as a device uploads it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OneTimeKeyView {
    /// The device's name for it (unique per device).
    pub key_id: String,
    /// Curve25519 public key, unpadded base64.
    pub key: String,
}

/// A member's device as `getDeviceKeys` lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeviceKeysView {
    pub user_id: String,
    pub device_id: String,
    pub identity_keys: IdentityKeys,
}

/// A key `claimKeys` handed out, for one device.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClaimedKeyView {
    pub user_id: String,
    pub device_id: String,
    pub identity_keys: IdentityKeys,
    pub key_id: String,
    pub key: String,
    /// The device's one-time keys ran out: this is its fallback key (handed
    /// out again until the device replaces it).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub fallback: bool,
}

/// A user's profile picture: an image uploaded through `POST /users/me/avatar`,
/// downloaded through `GET /users/{userId}/avatar`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AvatarView {
    pub attachment_id: String,
    pub content_type: String,
    pub size: u64,
    pub sha256: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
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
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum PresenceVisibility {
    Everyone,
    /// People the user accepted (created a chat with, accepted or replied to).
    Contacts,
    Nobody,
}

/// A stored message as every device sees it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MessageView {
    pub chat_id: String,
    pub message_id: String,
    pub seq: u64,
    pub sender_id: String,
    pub sender_device: String,
    pub client_message_id: String,
    /// The text; in an encrypted chat an envelope (`megolm.v1:<sessionId>:<ciphertext>`, docs/e2ee.md).
    pub message: String,
    /// Sent in an end-to-end encrypted chat: `message` (and an edit's text) is an envelope.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub encrypted: bool,
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
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Deletion {
    pub by: String,
    pub at: u64,
}

/// One emoji's reactions to a message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
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
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
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
    /// joined, or it was deleted for everyone since): the change comes
    /// without its content, to keep `seq` gapless.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub hidden: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
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
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
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
    /// End-to-end encrypted (`createChat` with `encrypted`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub encrypted: bool,
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
    /// The caller muted the chat (`muteChat`): its pushes say only that
    /// something arrived.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub muted: bool,
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
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MessagePreview {
    pub seq: u64,
    pub sender_id: String,
    /// The start of the text; an encrypted message's whole envelope, for the client to decrypt.
    pub text: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub encrypted: bool,
    pub attachment_count: usize,
    pub sent_at: u64,
    /// The last message was deleted for everyone.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deleted: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub edited: bool,
}

/// A file a message carries, as recipients see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AttachmentView {
    pub attachment_id: String,
    pub file_name: String,
    pub content_type: String,
    pub size: u64,
    pub sha256: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RecipientStatus {
    pub user_id: String,
    pub delivered: bool,
    pub read: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum ReceiptStatus {
    Delivered,
    Read,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum ChatKind {
    Direct,
    Group,
}

/// A mobile push service, as SNS names its platform applications.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum PushPlatform {
    /// Apple Push Notification service.
    Apns,
    /// Firebase Cloud Messaging (SNS still calls it GCM).
    Gcm,
}

impl PushPlatform {
    pub const ALL: [PushPlatform; 2] = [PushPlatform::Apns, PushPlatform::Gcm];

    /// The name clients send and SNS uses (`APNS`, `GCM`).
    pub fn name(self) -> &'static str {
        match self {
            PushPlatform::Apns => "APNS",
            PushPlatform::Gcm => "GCM",
        }
    }
}
