//! Every frame of the WebSocket protocol, both directions, and the HTTP API's
//! bodies: the one wire contract. `docs/protocol.md` and `docs/http-api.md`
//! describe the same for client authors.

mod envelope;
#[cfg(test)]
mod examples;
mod frames;
mod http;
mod requests;
pub mod schema;
mod views;

pub use envelope::{Envelope, Request, parse_request, request_id_of};
pub use frames::{Reply, SendStatus, ServerFrame, TYPING_SHOWS_FOR_MS};
pub use http::{
    AttachmentDownload, AttachmentUpload, AvatarDownload, ChatDetails, ChatsPage, CreateAttachmentRequest, CreateAvatarRequest, HttpError,
    MessagesPage, UserProfile,
};
pub use requests::{
    AcceptChatRequest, AckRequest, BlockUserRequest, ClaimKeysRequest, ClientRequest, CreateChatRequest, DeleteChatRequest,
    DeleteMessageRequest, DeviceRef, EditMessageRequest, GetDeviceKeysRequest, HeartbeatRequest, ListBlockedRequest, ListChatsRequest,
    ListDevicesRequest, MarkReadRequest, MessageStatusRequest, ModifyChatParticipantsRequest, MuteChatRequest, ParticipantOperation,
    ReactRequest, RegisterPushRequest, SendMessageRequest, SendToDeviceRequest, SetPrivacyRequest, SubscribePresenceRequest, SyncRequest,
    ToDeviceMessage, TypingRequest, UnregisterDeviceRequest, UnregisterPushRequest, UpdateChatRequest, UpdateProfileRequest,
    UploadKeysRequest,
};
pub use views::{
    AttachmentView, AvatarView, Change, ChatKind, ChatSummary, ClaimedKeyView, Deletion, DeviceKeysView, DeviceView, IdentityKeys,
    MessageChange, MessagePreview, MessageView, OneTimeKeyView, PresenceView, PresenceVisibility, PushPlatform, QUOTE_SNIPPET_CHARS, Quote,
    ReactionCount, ReceiptStatus, RecipientStatus,
};

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    use crate::error::AppError;

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
            status: SendStatus::Success,
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
