//! Mobile push through SNS for devices with no live connection.
//!
//! Devices register a platform token (`registerPush`), which becomes an SNS
//! platform endpoint stored on the device. The inbox stream's INSERT records
//! go to `push_offline`: per device, messages that arrived while it had no
//! connection become one push — with a count when several arrived in the batch,
//! and at most one per device per collapse window (a conditional write on the
//! device), so a burst is one notification. Muted chats get a neutral text.
//! Endpoints SNS reports disabled are deleted and forgotten.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::json;
use tracing::{info, warn};

use crate::auth::Identity;
use crate::context::AppContext;
use crate::error::AppError;
use crate::ids::{device_key, parse_device_key};
use crate::model::{EntryKind, InboxEntry, PushEndpoint};
use crate::ports::Published;
use crate::protocol::{Change, MessageChange, MessageView, MuteChatRequest, RegisterPushRequest, ServerFrame};
use crate::time::now_millis;

pub const MAX_PUSH_TOKEN_LEN: usize = 4096;
const PREVIEW_CHARS: usize = 100;

pub async fn register_push(ctx: &AppContext, who: &Identity, request: RegisterPushRequest) -> Result<ServerFrame, AppError> {
    let offered = || ctx.config.push_platforms.iter().map(|(p, _)| p.name()).collect::<Vec<_>>().join(", ");
    let (platform, application) = ctx
        .config
        .push_platforms
        .iter()
        .find(|(p, _)| p.name() == request.platform)
        .ok_or_else(|| AppError::PushUnavailable(request.platform.clone(), offered()))?;
    let token = request.token.trim();
    // APNs tokens are hex and FCM's letters, digits and `:_-`: printable
    // ASCII, so a NUL, a control or a bidi character is refused here rather
    // than stored or passed to SNS (which failed on a NUL).
    if token.is_empty() || token.len() > MAX_PUSH_TOKEN_LEN || !token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(AppError::invalid(format!("token must be 1-{MAX_PUSH_TOKEN_LEN} printable ASCII characters without spaces")));
    }
    let owner = device_key(&who.user_id, &who.device_id);
    let registered = ctx.notifier.endpoint_for(application, token, &owner).await?;
    // The token belonged to another device (the phone changed hands, or
    // another account signed in on it): that device no longer receives on
    // it, and must not delete it later.
    if let Some((user, device)) = registered.taken_from.as_deref().and_then(parse_device_key) {
        let forgotten = ctx.store.forget_push_endpoint(&user, &device, &registered.endpoint_arn).await?;
        info!(from_user = %user, from_device = %device, forgotten, "push token taken over by another device");
    }
    let push = PushEndpoint { platform: *platform, endpoint_arn: registered.endpoint_arn };
    let Some(previous) = ctx.store.set_device_push(&who.user_id, &who.device_id, Some(&push)).await? else {
        return Err(AppError::invalid("this device is not registered"));
    };
    // A new token (reinstall, token rotation) replaces the device's old
    // endpoint: delete it so SNS does not keep one per token for ever.
    if let Some(old) = previous.filter(|old| old.endpoint_arn != push.endpoint_arn) {
        delete_sns_endpoint(ctx, &who.user_id, &who.device_id, &old.endpoint_arn).await?;
    }
    Ok(ServerFrame::PushRegistered { platform: *platform })
}

pub async fn unregister_push(ctx: &AppContext, who: &Identity) -> Result<ServerFrame, AppError> {
    let devices = ctx.store.devices_of(&[who.user_id.to_string()]).await?;
    let push = devices.get(who.user_id.as_str()).and_then(|u| u.devices.get(who.device_id.as_str())).and_then(|d| d.push.clone());
    if let Some(push) = push {
        delete_endpoint(ctx, &who.user_id, &who.device_id, &push).await?;
    }
    Ok(ServerFrame::PushUnregistered {})
}

/// Deletes the device's SNS endpoint if the device still owns it (another
/// device that registered the same token since keeps it). Idempotent.
pub(crate) async fn delete_sns_endpoint(ctx: &AppContext, user_id: &str, device_id: &str, endpoint_arn: &str) -> Result<(), AppError> {
    ctx.notifier.delete_endpoint_of(endpoint_arn, &device_key(user_id, device_id)).await?;
    Ok(())
}

/// Deletes the device's endpoint and forgets it.
async fn delete_endpoint(ctx: &AppContext, user_id: &str, device_id: &str, push: &PushEndpoint) -> Result<(), AppError> {
    delete_sns_endpoint(ctx, user_id, device_id, &push.endpoint_arn).await?;
    ctx.store.set_device_push(user_id, device_id, None).await?;
    Ok(())
}

pub async fn mute_chat(ctx: &AppContext, who: &Identity, request: MuteChatRequest) -> Result<ServerFrame, AppError> {
    if !ctx.store.set_muted(&who.user_id, &request.chat_id, request.muted).await? {
        return Err(AppError::NotMember);
    }
    Ok(ServerFrame::ChatMuted { chat_id: request.chat_id.into(), muted: request.muted })
}

/// A new inbox entry from the stream, with the record's id for failure reports.
pub struct NewEntry {
    pub record_id: String,
    pub entry: InboxEntry,
}

/// Something a push tells of: a message, or a reaction to the device's user's message.
#[derive(Clone, Debug, PartialEq)]
pub struct Notice {
    pub chat_id: String,
    pub from: String,
    /// The message's text, or what the reaction was.
    pub body: String,
    /// The seq of the message it tells of (the reacted one, for a reaction).
    pub about: u64,
}

impl Notice {
    /// What an inbox entry's frame is worth a push for on `user`'s device:
    /// another's message (not one deleted since), or a reaction set on one
    /// of `user`'s own messages.
    pub(crate) fn of(entry: &InboxEntry, user: &str) -> Option<Self> {
        match entry.kind {
            EntryKind::NewMessage if entry.sender_id.as_deref() != Some(user) => {
                let message: MessageView = serde_json::from_str(&entry.frame).ok()?;
                if message.deleted.is_some() {
                    return None;
                }
                if message.encrypted {
                    // The server cannot read it, and would not say if it could.
                    return Some(Notice {
                        chat_id: message.chat_id,
                        from: message.sender_id,
                        body: "sent a message".into(),
                        about: message.seq,
                    });
                }
                let mut body: String = message.message.chars().take(PREVIEW_CHARS).collect();
                if message.message.chars().count() > PREVIEW_CHARS {
                    body.push('…');
                }
                if body.is_empty() {
                    body = "sent an attachment".to_owned();
                }
                Some(Notice { chat_id: message.chat_id, from: message.sender_id, body, about: message.seq })
            }
            EntryKind::MessageChange => {
                let change: MessageChange = serde_json::from_str(&entry.frame).ok()?;
                match &change.change {
                    Change::Reacted { emoji: Some(emoji) } if change.target_sender_id == user && change.user_id != user => {
                        let body = if super::encryption::is_envelope(emoji) {
                            "reacted to your message".to_owned()
                        } else {
                            format!("reacted {emoji} to your message")
                        };
                        Some(Notice { chat_id: change.chat_id, from: change.user_id, body, about: change.target_seq })
                    }
                    _ => None,
                }
            }
            _ => None,
        }
    }
}

/// The text of one push for `notices` (oldest first) on one device.
pub fn push_text(notices: &[Notice], muted_chats: &BTreeSet<String>) -> String {
    let count = notices.len();
    let latest = notices.iter().rev().find(|m| !muted_chats.contains(&m.chat_id));
    match latest {
        None if count == 1 => "New message".to_owned(),
        None => format!("{count} new messages"),
        Some(notice) => {
            let more = if count > 1 { format!(" (+{} more)", count - 1) } else { String::new() };
            format!("{}: {}{more}", notice.from, notice.body)
        }
    }
}

fn payload(text: &str, count: usize, chat_id: &str) -> String {
    let apns = json!({ "aps": { "alert": text, "badge": count, "thread-id": chat_id, "sound": "default" } }).to_string();
    let gcm = json!({ "notification": { "body": text }, "data": { "chatId": chat_id, "count": count } }).to_string();
    json!({ "default": text, "APNS": apns, "APNS_SANDBOX": apns, "GCM": gcm }).to_string()
}

/// Sends pushes for new inbox messages of offline devices. Returns the record
/// ids to retry (their device's push failed for a reason other than a disabled
/// endpoint).
pub async fn push_offline(ctx: &AppContext, new_entries: &[NewEntry]) -> Result<Vec<String>, AppError> {
    let mut by_device: BTreeMap<(String, String), Vec<(&NewEntry, Notice)>> = BTreeMap::new();
    for new in new_entries {
        // The sender's other devices keep their own messages in their inboxes
        // (for sync) but are never notified of them.
        if let Some((user, device)) = parse_device_key(&new.entry.device_key)
            && let Some(notice) = Notice::of(&new.entry, &user)
        {
            by_device.entry((user, device)).or_default().push((new, notice));
        }
    }
    if by_device.is_empty() {
        return Ok(Vec::new());
    }
    let users: Vec<String> = by_device.keys().map(|(u, _)| u.clone()).collect::<BTreeSet<_>>().into_iter().collect();
    let devices = ctx.store.devices_of(&users).await?;
    let now = now_millis();
    let mut failed = Vec::new();
    let mut pending = Vec::new();
    for ((user, device_id), entries) in &by_device {
        let Some(device) = devices.get(user).and_then(|u| u.devices.get(device_id)) else { continue };
        if device.live_connection(now).is_some() {
            continue;
        }
        let Some(push) = device.push.clone() else { continue };
        pending.push((user, device_id, push, entries));
    }
    if pending.is_empty() {
        return Ok(failed);
    }
    // A message deleted for everyone since it was written is not pushed, nor
    // a reaction to it (one BatchGetItem for the batch).
    let told_of = pending.iter().flat_map(|(_, _, _, entries)| entries.iter().map(|(_, n)| (n.chat_id.clone(), n.about))).collect();
    let deleted = super::deleted::deleted_among(ctx, told_of).await?;
    let keys: Vec<(String, String)> = pending
        .iter()
        .flat_map(|(user, _, _, entries)| entries.iter().map(|(e, _)| ((*user).clone(), e.entry.chat_id.clone())))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    // Muted chats and requests (not accepted yet) are pushed without a preview.
    let muted: HashMap<(String, String), bool> =
        ctx.store.memberships_by_key(&keys).await?.into_iter().map(|m| ((m.user_id, m.chat_id), m.muted || m.request)).collect();
    for (user, device_id, push, entries) in pending {
        let entries: Vec<&(&NewEntry, Notice)> = entries.iter().filter(|(_, n)| !deleted.contains(&(n.chat_id.clone(), n.about))).collect();
        if entries.is_empty() {
            continue;
        }
        if !ctx.store.claim_push_slot(user, device_id, now, ctx.config.push_collapse.as_millis() as u64).await? {
            info!(user, device_id, "push collapsed into a recent one");
            continue;
        }
        let messages: Vec<Notice> = entries.iter().map(|(_, notice)| notice.clone()).collect();
        let muted_chats: BTreeSet<String> = messages
            .iter()
            .filter(|m| muted.get(&((*user).clone(), m.chat_id.clone())).copied().unwrap_or(false))
            .map(|m| m.chat_id.clone())
            .collect();
        let text = push_text(&messages, &muted_chats);
        let chat_id = messages.last().map(|m| m.chat_id.as_str()).unwrap_or_default();
        match ctx.notifier.publish(&push.endpoint_arn, payload(&text, messages.len(), chat_id)).await {
            Ok(Published::Sent) => info!(user, device_id, count = messages.len(), "push sent"),
            Ok(Published::EndpointDisabled) => {
                info!(user, device_id, "push endpoint disabled: removing it");
                delete_endpoint(ctx, user, device_id, &push).await?;
            }
            Err(e) => {
                warn!(user, device_id, error = %e, "push failed");
                ctx.store.release_push_slot(user, device_id, now).await?;
                failed.extend(entries.iter().map(|(e, _)| e.record_id.clone()));
            }
        }
    }
    Ok(failed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(kind: EntryKind, sender: Option<&str>, frame: serde_json::Value) -> InboxEntry {
        InboxEntry {
            device_key: "bob#phone".into(),
            entry_id: "e".into(),
            chat_id: "c".into(),
            seq: 1,
            kind,
            sender_id: sender.map(str::to_owned),
            frame: frame.to_string(),
            expires_at: 0,
            discarded: false,
        }
    }

    fn message(chat: &str, text: &str) -> Notice {
        let frame = json!({"chatId": chat, "messageId": "m", "seq": 1, "senderId": "alice", "senderDevice": "phone",
            "clientMessageId": "c", "message": text, "sentAt": 0});
        Notice::of(&entry(EntryKind::NewMessage, Some("alice"), frame), "bob").expect("another's message is worth a push")
    }

    #[test]
    fn a_burst_is_one_text_with_a_count_and_muted_chats_stay_neutral() {
        let none = BTreeSet::new();
        assert_eq!(push_text(&[message("c", "hi")], &none), "alice: hi");
        assert_eq!(push_text(&[message("c", "one"), message("c", "two"), message("c", "three")], &none), "alice: three (+2 more)");
        assert_eq!(push_text(&[message("c", "")], &none), "alice: sent an attachment");
        let muted = BTreeSet::from(["c".to_owned()]);
        assert_eq!(push_text(&[message("c", "secret")], &muted), "New message");
        assert_eq!(push_text(&[message("c", "a"), message("c", "b")], &muted), "2 new messages");
        assert!(push_text(&[message("c", &"x".repeat(500))], &none).chars().count() < 120);
    }

    #[test]
    fn reactions_are_pushed_to_the_reacted_messages_sender_only() {
        let reaction = |emoji: Option<&str>, target_sender: &str| {
            let frame = json!({"type": "messageChanged", "eventId": "e", "chatId": "c", "seq": 2, "targetSeq": 1, "messageId": "m",
                "targetSenderId": target_sender, "userId": "carol", "at": 0, "change": "reacted", "emoji": emoji});
            entry(EntryKind::MessageChange, None, frame)
        };
        let notice = Notice::of(&reaction(Some("👍"), "bob"), "bob").expect("bob's message was reacted to");
        assert_eq!(push_text(&[notice], &BTreeSet::new()), "carol: reacted 👍 to your message");
        assert_eq!(Notice::of(&reaction(Some("👍"), "alice"), "bob"), None, "someone else's message");
        assert_eq!(Notice::of(&reaction(None, "bob"), "bob"), None, "a removed reaction");
        let own = json!({"chatId": "c", "messageId": "m", "seq": 1, "senderId": "bob", "senderDevice": "laptop",
            "clientMessageId": "c", "message": "mine", "sentAt": 0});
        assert_eq!(Notice::of(&entry(EntryKind::NewMessage, Some("bob"), own), "bob"), None, "one's own message");
    }
}
