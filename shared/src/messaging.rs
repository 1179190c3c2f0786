//! The operations behind the WebSocket routes. Handlers in `functions/` only
//! translate events to these calls and results to frames.

use std::collections::{BTreeSet, HashMap};

use tracing::{info, warn};

use crate::auth::Identity;
use crate::context::AppContext;
use crate::error::AppError;
use crate::fanout::{self, Target};
use crate::ids::{self, check_id, device_key};
use crate::protocol::{ChatKind, CreateChatRequest, MessageView, SendMessageRequest, ServerFrame, SyncRequest};
use crate::store::{AppendOutcome, Chat, ConnectionRecord, InboxEntry, MAX_TRANSACTION_ACTIONS, UserDevices, backoff};
use crate::time::{now_millis, now_secs};

pub const MAX_CHAT_NAME_CHARS: usize = 100;
pub const MAX_CLIENT_MESSAGE_ID_LEN: usize = 64;
pub const MAX_ACK_BATCH: usize = 100;
pub const DEFAULT_SYNC_LIMIT: usize = 500;
pub const MAX_SYNC_LIMIT: usize = 1000;
/// Inbox items read per Query while draining.
const INBOX_PAGE: usize = 100;
/// API Gateway accepts posts up to 128 KB; batches stay well below.
const MAX_SYNC_FRAME_BYTES: usize = 96 * 1024;
/// Optimistic attempts at taking a chat's next seq before telling the client to retry.
const MAX_APPEND_ATTEMPTS: usize = 12;

pub async fn connect(ctx: &AppContext, who: &Identity, connection_id: &str) -> Result<(), AppError> {
    let now = now_millis();
    ctx.store
        .register_device_connection(&who.user_id, &who.device_id, connection_id, now, ctx.config.max_devices_per_user)
        .await?;
    ctx.store.put_connection(&ConnectionRecord::new(connection_id, &who.user_id, &who.device_id, now)).await?;
    Ok(())
}

pub async fn disconnect(ctx: &AppContext, who: &Identity, connection_id: &str) -> Result<(), AppError> {
    ctx.store.clear_device_connection(&who.user_id, &who.device_id, connection_id).await?;
    ctx.store.delete_connection(connection_id).await?;
    Ok(())
}

pub async fn create_chat(ctx: &AppContext, who: &Identity, request: CreateChatRequest) -> Result<ServerFrame, AppError> {
    let mut others = BTreeSet::new();
    for participant in &request.participants {
        check_id("participant", participant)?;
        if *participant != who.user_id {
            others.insert(participant.clone());
        }
    }
    if others.is_empty() {
        return Err(AppError::invalid("a chat needs at least one participant besides you"));
    }
    let max = ctx.config.max_group_members;
    if others.len() + 1 > max {
        return Err(AppError::TooManyMembers { max });
    }
    let name = request.name.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty());
    if name.as_ref().is_some_and(|n| n.chars().count() > MAX_CHAT_NAME_CHARS) {
        return Err(AppError::invalid(format!("name is longer than {MAX_CHAT_NAME_CHARS} characters")));
    }
    let (kind, chat_id) = match (others.len(), &name) {
        (1, None) => (ChatKind::Direct, ids::direct_chat_id(&who.user_id, others.first().expect("one other"))),
        (_, None) => return Err(AppError::invalid("a group chat needs a name")),
        (_, Some(_)) => (ChatKind::Group, ids::new_group_id()),
    };
    let mut members: Vec<String> = others.into_iter().collect();
    members.push(who.user_id.clone());
    members.sort();
    let now = now_millis();
    let chat = Chat {
        chat_id,
        kind,
        name,
        members,
        created_by: who.user_id.clone(),
        created_at: now,
        seq: 0,
        version: 1,
        last_active_at: now,
    };
    let created = ctx.store.create_chat(&chat).await?;
    let chat = if created { chat } else { ctx.store.get_chat(&chat.chat_id).await?.ok_or(AppError::Contention)? };
    info!(chat_id = %chat.chat_id, members = chat.members.len(), created, "chat ready");
    Ok(ServerFrame::ChatCreated {
        request_id: None,
        chat_id: chat.chat_id,
        kind: chat.kind,
        name: chat.name,
        participants: chat.members,
        created,
    })
}

fn validate_send(ctx: &AppContext, request: &SendMessageRequest) -> Result<(), AppError> {
    if request.chat_id.is_empty() || request.chat_id.len() > 3 * ids::MAX_ID_LEN {
        return Err(AppError::invalid("chatId is missing or too long"));
    }
    let id = &request.client_message_id;
    if id.is_empty() || id.len() > MAX_CLIENT_MESSAGE_ID_LEN || !id.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(AppError::invalid(format!("clientMessageId must be 1-{MAX_CLIENT_MESSAGE_ID_LEN} printable ASCII characters")));
    }
    if request.message.len() > ctx.config.max_message_bytes {
        return Err(AppError::MessageTooLong { max: ctx.config.max_message_bytes });
    }
    if request.message.trim().is_empty() && request.attachments.is_empty() {
        return Err(AppError::invalid("a message needs text or an attachment"));
    }
    // Media uploads do not exist yet, so no attachment id can refer to an uploaded file.
    if let Some(unknown) = request.attachments.first() {
        return Err(AppError::invalid(format!("attachment {unknown:?} is not an uploaded attachment of this chat")));
    }
    Ok(())
}

/// Every registered device of the chat's members except the one sending.
fn recipient_devices(devices: &HashMap<String, UserDevices>, sender: &Identity) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for user in devices.values() {
        for device_id in user.devices.keys() {
            if user.user_id != sender.user_id || *device_id != sender.device_id {
                out.push((user.user_id.clone(), device_id.clone()));
            }
        }
    }
    out
}

fn live_targets(devices: &HashMap<String, UserDevices>, except: &Identity, now_ms: u64) -> Vec<Target> {
    let mut out = Vec::new();
    for user in devices.values() {
        for (device_id, device) in &user.devices {
            if user.user_id == except.user_id && *device_id == except.device_id {
                continue;
            }
            if let Some(connection_id) = device.live_connection(now_ms) {
                out.push(Target { user_id: user.user_id.clone(), device_id: device_id.clone(), connection_id: connection_id.into() });
            }
        }
    }
    out
}

fn inbox_entries(ctx: &AppContext, message: &MessageView, recipients: &[(String, String)]) -> Vec<InboxEntry> {
    let expires_at = message.sent_at / 1000 + ctx.config.inbox_retention.as_secs();
    recipients
        .iter()
        .map(|(user, device)| InboxEntry { device_key: device_key(user, device), message: message.clone(), expires_at })
        .collect()
}

pub async fn send_message(ctx: &AppContext, who: &Identity, request: SendMessageRequest) -> Result<ServerFrame, AppError> {
    validate_send(ctx, &request)?;
    let mut devices: Option<(Vec<String>, HashMap<String, UserDevices>)> = None;
    for attempt in 0..MAX_APPEND_ATTEMPTS {
        let chat = ctx.store.get_chat(&request.chat_id).await?;
        // A chat that does not exist and one the caller is not in look the same to them.
        let chat = chat.filter(|c| c.is_member(&who.user_id)).ok_or(AppError::NotMember)?;
        let member_devices = match devices.take() {
            Some((members, found)) if members == chat.members => found,
            _ => ctx.store.devices_of(&chat.members).await?,
        };
        let recipients = recipient_devices(&member_devices, who);
        let message = MessageView {
            chat_id: chat.chat_id.clone(),
            message_id: ids::new_message_id(),
            seq: chat.seq + 1,
            sender_id: who.user_id.clone(),
            sender_device: who.device_id.clone(),
            client_message_id: request.client_message_id.clone(),
            message: request.message.clone(),
            attachments: request.attachments.clone(),
            sent_at: now_millis(),
        };
        let entries = inbox_entries(ctx, &message, &recipients);
        // Small chats get their inbox entries in the same transaction as the
        // message; larger ones right after (a retry with the same
        // clientMessageId completes them if this invocation dies in between).
        let inline = entries.len() + 3 <= MAX_TRANSACTION_ACTIONS;
        let accepted_expires_at = message.sent_at / 1000 + ctx.config.inbox_retention.as_secs();
        let in_transaction: &[InboxEntry] = if inline { &entries } else { &[] };
        match ctx.store.append_message(&chat, &message, accepted_expires_at, in_transaction).await? {
            AppendOutcome::Appended => {
                if !inline {
                    ctx.store.put_inbox_entries(&entries).await?;
                }
                deliver(ctx, &chat.members, &message, who).await?;
                return Ok(send_result(&message, false));
            }
            AppendOutcome::Duplicate => return redeliver(ctx, who, &request).await,
            AppendOutcome::ChatChanged => {
                devices = Some((chat.members, member_devices));
                backoff(attempt).await;
            }
        }
    }
    warn!(chat_id = %request.chat_id, "gave up taking the next seq");
    Err(AppError::Contention)
}

fn send_result(message: &MessageView, duplicate: bool) -> ServerFrame {
    ServerFrame::SendResult {
        request_id: None,
        status: "SUCCESS",
        chat_id: message.chat_id.clone(),
        client_message_id: message.client_message_id.clone(),
        message_id: message.message_id.clone(),
        seq: message.seq,
        duplicate,
    }
}

/// A retry of an accepted message: finish what the first attempt may not have
/// (inbox entries, delivery) and answer with the original id and seq.
async fn redeliver(ctx: &AppContext, who: &Identity, request: &SendMessageRequest) -> Result<ServerFrame, AppError> {
    let accepted = ctx
        .store
        .find_accepted(&request.chat_id, &who.user_id, &request.client_message_id)
        .await?
        .ok_or(AppError::Contention)?;
    let message = ctx.store.get_message(&accepted.chat_id, accepted.seq).await?.ok_or(AppError::Contention)?;
    let chat = ctx.store.get_chat(&message.chat_id).await?.ok_or(AppError::NotMember)?;
    let devices = ctx.store.devices_of(&chat.members).await?;
    ctx.store.put_inbox_entries(&inbox_entries(ctx, &message, &recipient_devices(&devices, who))).await?;
    deliver(ctx, &chat.members, &message, who).await?;
    info!(chat_id = %message.chat_id, seq = message.seq, "duplicate send completed");
    Ok(send_result(&message, true))
}

/// Posts a stored message to every live device. Connections are read after the
/// inbox entries were written, so a device that connected (and synced) in
/// between is still reached: every device gets the message live, from its
/// inbox, or both.
async fn deliver(ctx: &AppContext, members: &[String], message: &MessageView, sender: &Identity) -> Result<(), AppError> {
    let devices = ctx.store.devices_of(members).await?;
    let targets = live_targets(&devices, sender, now_millis());
    let payload = ServerFrame::NewMessage(message.clone()).to_json();
    let delivered = fanout::post_to_all(ctx, &targets, &payload).await;
    info!(chat_id = %message.chat_id, seq = message.seq, live = targets.len(), delivered, "message fanned out");
    Ok(())
}

pub async fn ack(ctx: &AppContext, who: &Identity, message_ids: Vec<String>) -> Result<ServerFrame, AppError> {
    if message_ids.is_empty() || message_ids.len() > MAX_ACK_BATCH {
        return Err(AppError::invalid(format!("ack 1 to {MAX_ACK_BATCH} message ids")));
    }
    if message_ids.iter().any(|id| id.is_empty() || id.len() > ids::MAX_ID_LEN) {
        return Err(AppError::invalid("message ids are 1-64 characters"));
    }
    let unique: BTreeSet<String> = message_ids.into_iter().collect();
    let unique: Vec<String> = unique.into_iter().collect();
    ctx.store.delete_inbox_entries(&device_key(&who.user_id, &who.device_id), &unique).await?;
    Ok(ServerFrame::Acked { request_id: None, count: unique.len() })
}

/// Posts the device's inbox to its connection, ordered by chat then seq,
/// in frames below API Gateway's post limit.
pub async fn sync(ctx: &AppContext, who: &Identity, connection_id: &str, request: SyncRequest) -> Result<ServerFrame, AppError> {
    let limit = request.limit.unwrap_or(DEFAULT_SYNC_LIMIT);
    if limit == 0 || limit > MAX_SYNC_LIMIT {
        return Err(AppError::invalid(format!("limit must be 1-{MAX_SYNC_LIMIT}")));
    }
    let inbox = device_key(&who.user_id, &who.device_id);
    let now = now_secs();
    let mut cursor = request.cursor;
    let mut entries = Vec::new();
    loop {
        let page = ctx.store.inbox_page(&inbox, cursor.as_deref(), INBOX_PAGE.min(limit - entries.len()), now).await?;
        entries.extend(page.entries);
        cursor = page.cursor;
        if cursor.is_none() || entries.len() >= limit {
            break;
        }
    }
    let mut messages: Vec<MessageView> = entries.into_iter().map(|e| e.message).collect();
    messages.sort_by(|a, b| (&a.chat_id, a.seq).cmp(&(&b.chat_id, b.seq)));
    let delivered = messages.len();
    for batch in frames_within(messages, MAX_SYNC_FRAME_BYTES) {
        let payload = ServerFrame::SyncBatch { messages: batch }.to_json();
        if fanout::post(ctx, connection_id, &payload).await != fanout::PostOutcome::Delivered {
            return Err(AppError::invalid("this connection is closed"));
        }
    }
    Ok(ServerFrame::Synced { request_id: None, delivered, cursor })
}

/// Splits messages into consecutive batches whose JSON stays under `max_bytes`.
fn frames_within(messages: Vec<MessageView>, max_bytes: usize) -> Vec<Vec<MessageView>> {
    let mut batches = Vec::new();
    let mut current = Vec::new();
    let mut size = 0;
    for message in messages {
        let bytes = serde_json::to_string(&message).map(|s| s.len() + 1).unwrap_or(max_bytes);
        if !current.is_empty() && size + bytes > max_bytes {
            batches.push(std::mem::take(&mut current));
            size = 0;
        }
        size += bytes;
        current.push(message);
    }
    if !current.is_empty() {
        batches.push(current);
    }
    batches
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(seq: u64, text_len: usize) -> MessageView {
        MessageView {
            chat_id: "c".into(),
            message_id: format!("m{seq}"),
            seq,
            sender_id: "a".into(),
            sender_device: "d".into(),
            client_message_id: format!("x{seq}"),
            message: "x".repeat(text_len),
            attachments: vec![],
            sent_at: 0,
        }
    }

    #[test]
    fn sync_batches_keep_order_and_stay_under_the_limit() {
        let messages: Vec<_> = (1..=40).map(|seq| message(seq, 10_000)).collect();
        let batches = frames_within(messages, MAX_SYNC_FRAME_BYTES);
        assert!(batches.len() > 1);
        for batch in &batches {
            let frame = ServerFrame::SyncBatch { messages: batch.clone() }.to_json();
            assert!(frame.len() < 128 * 1024, "frame of {} bytes", frame.len());
        }
        let seqs: Vec<u64> = batches.iter().flatten().map(|m| m.seq).collect();
        assert_eq!(seqs, (1..=40).collect::<Vec<_>>());
    }

    #[test]
    fn the_sending_device_is_not_a_recipient_but_the_senders_other_devices_are() {
        let mut users = HashMap::new();
        for (user, devices) in [("a", vec!["phone", "laptop"]), ("b", vec!["phone"])] {
            let mut entry = UserDevices { user_id: user.into(), devices: Default::default() };
            for d in devices {
                entry.devices.insert(d.into(), Default::default());
            }
            users.insert(user.to_string(), entry);
        }
        let sender = Identity { user_id: "a".into(), device_id: "phone".into() };
        let mut got = recipient_devices(&users, &sender);
        got.sort();
        assert_eq!(got, vec![("a".into(), "laptop".into()), ("b".into(), "phone".into())]);
    }
}
