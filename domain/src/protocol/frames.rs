//! Server → client: every frame a device receives, replies and pushes alike.

use std::borrow::Cow;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::requests::{DeviceRef, ParticipantOperation};
use super::views::{
    AvatarView, ChatKind, ChatSummary, ClaimedKeyView, DeviceKeysView, DeviceView, MessageChange, MessageView, PresenceView,
    PresenceVisibility, PushPlatform, ReceiptStatus, RecipientStatus,
};
use crate::error::AppError;

/// A `sendResult`'s status: the message is stored (a refusal is an `error` frame).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum SendStatus {
    Success,
}

/// How long a `typing: true` shows without being renewed: a client that
/// stops sending (closed, offline) needs no `false` for its indicator to go.
pub const TYPING_SHOWS_FOR_MS: u64 = 6_000;

// A frame is built once per reply or post and serialised at once: boxing the
// larger variants would only add an allocation.
#[expect(clippy::large_enum_variant)]
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
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
        /// End-to-end encrypted (an existing 1-1 chat keeps its mode).
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        encrypted: bool,
    },
    /// Reply to `sendMessage`: the message is stored and in every recipient's inbox.
    SendResult {
        status: SendStatus,
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
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        encrypted: bool,
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
    /// Posted to a device's connection just before the server closes it
    /// because the same device connected again (another tab or window with
    /// its id): a client that gets it does not reconnect by itself, or two
    /// windows of one device would close each other for ever.
    ConnectionReplaced {},
    PresenceList {
        users: Vec<PresenceView>,
    },
    Presence(PresenceView),
    PushRegistered {
        platform: PushPlatform,
    },
    PushUnregistered {},
    ChatMuted {
        chat_id: String,
        muted: bool,
    },
    /// The caller deleted the chat for themself, through `throughSeq` (the
    /// reply to `deleteChat`, and to their other devices, live or on `sync`):
    /// drop it and what it showed up to there. A message after it brings the
    /// chat back, holding only what came after.
    ChatDeleted {
        event_id: String,
        chat_id: String,
        through_seq: u64,
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
    /// Reply to `uploadKeys`: the device's one-time keys the server holds
    /// now (upload more when they run low).
    KeysUploaded {
        one_time_key_count: usize,
    },
    /// Reply to `getDeviceKeys`: every device of the chat's members that
    /// uploaded identity keys, and their `digest` (what `sendMessage` names).
    DeviceKeys {
        chat_id: String,
        devices: Vec<DeviceKeysView>,
        digest: String,
    },
    /// Reply to `claimKeys`: a key for each named device that has keys;
    /// `missing` lists the others (no such device, or no keys uploaded).
    ClaimedKeys {
        keys: Vec<ClaimedKeyView>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        missing: Vec<DeviceRef>,
    },
    /// Reply to `sendToDevice`: the messages are in their devices' inboxes.
    ToDeviceSent {
        count: usize,
        /// Devices skipped: no longer registered, or without keys.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        missing: Vec<DeviceRef>,
    },
    /// An encrypted message for this device alone (`sendToDevice`); acknowledge it by `eventId`.
    ToDevice {
        event_id: String,
        chat_id: String,
        sender_id: String,
        sender_device: String,
        /// The sending device's Curve25519 identity key, as the server has it registered.
        sender_key: String,
        olm_type: u8,
        ciphertext: String,
    },
    Error {
        /// What went wrong, for programs (`not_member`, `rate_limited`, …:
        /// docs/protocol.md lists them); `message` is for people.
        code: Cow<'static, str>,
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
        ServerFrame::Error { code: Cow::Borrowed(err.code()), message: err.to_string(), retry_after: err.retry_after_secs() }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("server frames always serialise")
    }
}

/// A route's reply: its frame, echoing the request's `requestId` when it had
/// one. Frames pushed to a device (`newMessage`, `receipt`…) have none.
#[derive(Debug, Serialize, JsonSchema)]
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
