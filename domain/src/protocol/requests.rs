//! Client → server: one type per WebSocket route (API Gateway picks the
//! route by `action`; docs/protocol.md).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::views::{IdentityKeys, OneTimeKeyView, PresenceVisibility};
use crate::ids::{AttachmentId, ChatId, DeviceId, UserId};

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateChatRequest {
    /// Other members (the caller is always a member). One other and no name: a 1-1 chat.
    pub participants: Vec<UserId>,
    #[serde(default)]
    pub name: Option<String>,
    /// End-to-end encrypted (docs/e2ee.md): every text in the chat is an
    /// envelope the server cannot read. Fixed at creation.
    #[serde(default)]
    pub encrypted: bool,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SendMessageRequest {
    pub chat_id: ChatId,
    /// Chosen by the client, unique per message; a retry reuses it.
    pub client_message_id: String,
    pub message: String,
    #[serde(default)]
    pub attachments: Vec<AttachmentId>,
    /// The `seq` of a message of the same chat this one replies to (quotes).
    #[serde(default)]
    pub reply_to: Option<u64>,
    /// Encrypted chats: the members this message mentions (the server cannot
    /// read `@userId` in the text there, so the client names them).
    #[serde(default)]
    pub mentions: Vec<UserId>,
    /// Encrypted chats: the `digest` of `getDeviceKeys` the sender shared its
    /// session with. A digest the chat's devices no longer have is refused
    /// (`devices_changed`), so no device is left out without the sender knowing.
    #[serde(default)]
    pub devices: Option<String>,
}

/// Acknowledges inbox entries: messages by `messageId`, other frames by `eventId`.
#[derive(Debug, Deserialize, JsonSchema)]
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

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum ParticipantOperation {
    Add,
    Remove,
    /// Makes a member an admin (admins only).
    Promote,
    /// Makes an admin a member again (admins only; a group keeps one admin).
    Demote,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ModifyChatParticipantsRequest {
    pub chat_id: ChatId,
    pub user_id: UserId,
    pub operation: ParticipantOperation,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MarkReadRequest {
    pub chat_id: ChatId,
    pub up_to_seq: u64,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ListChatsRequest {
    /// `nextCursor` from the previous `chats` reply, for the next page.
    #[serde(default)]
    pub cursor: Option<String>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UnregisterDeviceRequest {
    /// Another device of the caller (a lost phone); this device when absent.
    #[serde(default)]
    pub device_id: Option<DeviceId>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ListDevicesRequest {}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RegisterPushRequest {
    /// `APNS` or `GCM` (the platforms this deployment has an SNS platform application for).
    pub platform: String,
    pub token: String,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UnregisterPushRequest {}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AcceptChatRequest {
    pub chat_id: ChatId,
}

/// `deleteChat`: the chat goes from the caller's list and history (a 1-1
/// chat or request, or a group they left or were removed from).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DeleteChatRequest {
    pub chat_id: ChatId,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MuteChatRequest {
    pub chat_id: ChatId,
    pub muted: bool,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HeartbeatRequest {}

/// The caller is typing in a chat (`typing: true`, sent again every few
/// seconds while they type) or stopped (`false`). Never stored.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TypingRequest {
    pub chat_id: ChatId,
    pub typing: bool,
}

/// A group's name and/or description, set by an admin. An empty
/// `description` clears it.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateChatRequest {
    pub chat_id: ChatId,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
}

/// The caller's profile: a display name and an "about" line (fields left
/// out stay; an empty `about` clears it; none at all reads the profile).
#[derive(Debug, Default, Deserialize, JsonSchema)]
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

/// The sender replaces the text of one of their messages (within the edit window).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EditMessageRequest {
    pub chat_id: ChatId,
    pub seq: u64,
    pub message: String,
}

/// Deletes a message for everyone in the chat (`forEveryone: true`: its
/// sender, or a group admin, within the delete window) or only for the
/// caller's own devices.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DeleteMessageRequest {
    pub chat_id: ChatId,
    pub seq: u64,
    pub for_everyone: bool,
}

/// Sets (or, with `emoji` null or empty, removes) the caller's one reaction to a message.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReactRequest {
    pub chat_id: ChatId,
    pub seq: u64,
    #[serde(default)]
    pub emoji: Option<String>,
}

/// Block (`blocked: true`) or unblock a user; the reply is the caller's block list.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BlockUserRequest {
    pub user_id: UserId,
    pub blocked: bool,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ListBlockedRequest {}

/// Presence of these users now, and `presence` frames when it changes in the
/// next minutes (ask again to keep watching).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SubscribePresenceRequest {
    pub user_ids: Vec<UserId>,
}

/// Changes the caller's privacy settings (fields left out stay as they are;
/// none at all reads them).
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SetPrivacyRequest {
    #[serde(default)]
    pub presence: Option<PresenceVisibility>,
    #[serde(default)]
    pub read_receipts: Option<bool>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MessageStatusRequest {
    pub chat_id: ChatId,
    pub seq: u64,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SyncRequest {
    /// `cursor` from the previous `synced` reply, to continue a large inbox.
    #[serde(default)]
    pub cursor: Option<String>,
    #[serde(default)]
    pub limit: Option<usize>,
}

/// A device's end-to-end keys (docs/e2ee.md): its identity keys once, and
/// any number of one-time keys and a fallback key over time. None at all
/// reads how many one-time keys the server still holds for the device.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UploadKeysRequest {
    /// Set once per device: a device whose keys are lost registers anew.
    #[serde(default)]
    pub identity_keys: Option<IdentityKeys>,
    #[serde(default)]
    pub one_time_keys: Vec<OneTimeKeyView>,
    /// Handed out when the one-time keys run out; replaces the previous one.
    #[serde(default)]
    pub fallback_key: Option<OneTimeKeyView>,
}

/// The devices (with their identity keys) of a chat's members.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GetDeviceKeysRequest {
    pub chat_id: ChatId,
}

/// One one-time key (or, when they ran out, the fallback key) of each named
/// device, each key handed out once: the start of an Olm session with it.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClaimKeysRequest {
    /// A chat the caller and every named device's user are members of (the
    /// caller's own devices may be named with any chat of theirs).
    pub chat_id: ChatId,
    pub devices: Vec<DeviceRef>,
}

/// Encrypted messages to single devices (session keys, mostly), through each
/// device's inbox: live when connected, on `sync` otherwise.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SendToDeviceRequest {
    /// A chat the caller and every recipient's user are members of (or the
    /// caller's own other devices).
    pub chat_id: ChatId,
    pub messages: Vec<ToDeviceMessage>,
}

#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DeviceRef {
    pub user_id: UserId,
    pub device_id: DeviceId,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ToDeviceMessage {
    pub user_id: UserId,
    pub device_id: DeviceId,
    /// Olm message type: 0 (pre-key, the first of a session) or 1.
    pub olm_type: u8,
    /// The Olm ciphertext (base64).
    pub ciphertext: String,
}

/// Every request frame, by the `action` API Gateway routes it on. The server
/// never parses this (each route's function parses its own type); it is the
/// contract's view of the client's side: the JSON Schema, the TypeScript
/// declarations and the docs' examples are checked against it, and the
/// template-consistency test holds its actions to the WebSocket routes.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(tag = "action", rename_all = "camelCase")]
pub enum ClientRequest {
    CreateChat(CreateChatRequest),
    SendMessage(SendMessageRequest),
    Ack(AckRequest),
    Sync(SyncRequest),
    ModifyChatParticipants(ModifyChatParticipantsRequest),
    MarkRead(MarkReadRequest),
    ListChats(ListChatsRequest),
    UnregisterDevice(UnregisterDeviceRequest),
    ListDevices(ListDevicesRequest),
    MessageStatus(MessageStatusRequest),
    RegisterPush(RegisterPushRequest),
    UnregisterPush(UnregisterPushRequest),
    MuteChat(MuteChatRequest),
    DeleteChat(DeleteChatRequest),
    Typing(TypingRequest),
    BlockUser(BlockUserRequest),
    ListBlocked(ListBlockedRequest),
    EditMessage(EditMessageRequest),
    DeleteMessage(DeleteMessageRequest),
    React(ReactRequest),
    UpdateChat(UpdateChatRequest),
    SetPrivacy(SetPrivacyRequest),
    UpdateProfile(UpdateProfileRequest),
    AcceptChat(AcceptChatRequest),
    Heartbeat(HeartbeatRequest),
    SubscribePresence(SubscribePresenceRequest),
    UploadKeys(UploadKeysRequest),
    GetDeviceKeys(GetDeviceKeysRequest),
    ClaimKeys(ClaimKeysRequest),
    SendToDevice(SendToDeviceRequest),
}
