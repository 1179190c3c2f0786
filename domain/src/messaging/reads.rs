//! Read state: `markRead` (synced to the reader's other devices, receipts to
//! senders), the chat list with unread and mention counts, per-message status,
//! and delivered receipts from acknowledgements.

use std::collections::{BTreeMap, BTreeSet};

use super::{Audience, Outgoing, new_event_id, publish};
use crate::auth::Identity;
use crate::context::AppContext;
use crate::error::AppError;
use crate::ids::ChatId;
use crate::model::{Chat, Membership};
use crate::ports::MAX_FRAME_BYTES;
use crate::protocol::{ChatSummary, DeleteChatRequest, ListChatsRequest, MarkReadRequest, ReceiptStatus, RecipientStatus, ServerFrame};

/// Messages scanned to find whose messages a `markRead` covers (groups only).
const MAX_SENDERS_SCAN: usize = 1000;

pub async fn mark_read(ctx: &AppContext, who: &Identity, request: MarkReadRequest) -> Result<ServerFrame, AppError> {
    let chat = ctx.store.get_chat(&request.chat_id).await?.ok_or(AppError::NotMember)?;
    let mut up_to = request.up_to_seq.min(chat.seq);
    // Unread counts skip changes: the read marker keeps how many it passed.
    let events = if up_to == chat.seq { chat.events } else { ctx.store.events_up_to(&chat.chat_id, up_to).await? };
    let before = match ctx.store.mark_read(&who.user_id, &chat.chat_id, up_to, events).await? {
        Some(before) => before,
        None => {
            // Nothing moved: already read that far, removed before `up_to`
            // (then read up to the removal: the badge clears), or no member.
            let membership = ctx.store.membership(&who.user_id, &chat.chat_id).await?.ok_or(AppError::NotMember)?;
            let moved = match membership.removed_at_seq {
                Some(removed) if removed < up_to && membership.last_read < removed => {
                    up_to = removed;
                    ctx.store.mark_read(&who.user_id, &chat.chat_id, up_to, membership.removed_events).await?
                }
                _ => None,
            };
            let Some(before) = moved else {
                return Ok(ServerFrame::MarkedRead { chat_id: chat.chat_id, last_read: membership.last_read });
            };
            before
        }
    };
    let read_mentions: Vec<u64> = before.mentions.iter().copied().filter(|m| *m <= up_to).collect();
    ctx.store.forget_mentions(&who.user_id, &chat.chat_id, &read_mentions).await?;

    let senders = senders_between(ctx, &chat, &who.user_id, before.last_read, up_to).await?;
    let read_sync = ServerFrame::ReadSync { event_id: new_event_id(), chat_id: chat.chat_id.clone(), up_to_seq: up_to };
    let receipt = ServerFrame::Receipt {
        event_id: new_event_id(),
        chat_id: chat.chat_id.clone(),
        user_id: who.user_id.to_string(),
        status: ReceiptStatus::Read,
        up_to_seq: up_to,
    };
    let own_devices = Audience { users: vec![who.user_id.to_string()], except: Some(who) };
    // Reading a request tells whoever sent it nothing; nor does a reader who
    // turned read receipts off, nor is a sender who did told (reciprocal).
    let senders = if before.request || senders.is_empty() { Vec::new() } else { with_read_receipts(ctx, &who.user_id, senders).await? };
    let to_senders = Audience { users: senders, except: None };
    let sync_out = Outgoing::event(&chat.chat_id, up_to, &read_sync);
    let receipt_out = Outgoing::event(&chat.chat_id, up_to, &receipt);
    publish(ctx, &[(&own_devices, &sync_out), (&to_senders, &receipt_out)]).await?;
    Ok(ServerFrame::MarkedRead { chat_id: chat.chat_id, last_read: up_to })
}

/// The senders who may learn that `reader` read their messages: none when
/// the reader turned read receipts off, and only senders who have them on.
async fn with_read_receipts(ctx: &AppContext, reader: &str, senders: Vec<String>) -> Result<Vec<String>, AppError> {
    let mut users = senders.clone();
    users.push(reader.to_owned());
    let privacy = ctx.store.privacy_of(&users).await?;
    let on = |user: &str| super::privacy::read_receipts_on(&privacy, user);
    Ok(if on(reader) { senders.into_iter().filter(|s| on(s)).collect() } else { Vec::new() })
}

/// Who sent the messages in `(after, up_to]`, other than `reader`. In a 1-1
/// chat that is the other member; a group asks the Messages table.
async fn senders_between(ctx: &AppContext, chat: &Chat, reader: &str, after: u64, up_to: u64) -> Result<Vec<String>, AppError> {
    if up_to <= after {
        return Ok(Vec::new());
    }
    if chat.kind == crate::protocol::ChatKind::Direct {
        return Ok(chat.members.iter().filter(|m| *m != reader).cloned().collect());
    }
    let from = after + 1 + (up_to - after).saturating_sub(MAX_SENDERS_SCAN as u64);
    let senders = ctx.store.senders_between(&chat.chat_id, from, up_to).await?;
    Ok(senders.into_iter().filter(|s| s != reader).collect())
}

/// `deleteChat`: the chat leaves the caller's list, and what it held up to now
/// their history, for good (read, nothing unread); the other members keep
/// theirs and are not told. A 1-1 chat (a request too: deleting it is how a
/// request is declined without blocking) or a group the caller left or was
/// removed from; a group one is still in is left first. A message after it
/// brings the chat back, with only what came after (as a request still, if
/// it was one). The caller's other devices drop it too (`chatDeleted`).
pub async fn delete_chat(ctx: &AppContext, who: &Identity, request: DeleteChatRequest) -> Result<ServerFrame, AppError> {
    for _ in 0..3 {
        let membership = ctx.store.membership(&who.user_id, &request.chat_id).await?.ok_or(AppError::NotMember)?;
        let chat = ctx.store.get_chat(&request.chat_id).await?.ok_or(AppError::NotMember)?;
        if chat.kind == crate::protocol::ChatKind::Group && membership.removed_at_seq.is_none() {
            return Err(AppError::invalid("leave the group before deleting it"));
        }
        let (through, events) = match membership.removed_at_seq {
            Some(removed) if removed < chat.seq => (removed, membership.removed_events),
            _ => (chat.seq, chat.events),
        };
        // (False: a read or a deletion of a later seq came first; read again.)
        if ctx.store.clear_chat(&who.user_id, &chat.chat_id, through, events).await? {
            let frame = ServerFrame::ChatDeleted { event_id: new_event_id(), chat_id: chat.chat_id.clone(), through_seq: through };
            let out = Outgoing::event(&chat.chat_id, through, &frame);
            publish(ctx, &[(&Audience { users: vec![who.user_id.to_string()], except: Some(who) }, &out)]).await?;
            return Ok(frame);
        }
    }
    Err(AppError::Contention)
}

/// The caller's chats, most recently active first, with unread and mention
/// counts, in pages that fit one WebSocket message: API Gateway delivers at
/// most 128 KB, and a chat of 100 members with long ids takes ~7 KB.
pub async fn list_chats(ctx: &AppContext, who: &Identity, request: ListChatsRequest) -> Result<ServerFrame, AppError> {
    let position = request.cursor.as_deref().map(super::chat_list::decode_cursor).transpose()?;
    let rest = chat_summaries(ctx, &who.user_id).await?.into_iter().filter(|s| super::chat_list::after(s, position.as_ref()));
    let mut chats = Vec::new();
    let mut bytes = 0;
    for summary in rest {
        let size = serde_json::to_vec(&summary).map_or(0, |json| json.len() + 1);
        if !chats.is_empty() && bytes + size > MAX_FRAME_BYTES {
            let next_cursor = chats.last().map(super::chat_list::encode_cursor);
            super::profile::add_peer_names(ctx, &mut chats).await?;
            return Ok(ServerFrame::Chats { chats, next_cursor });
        }
        bytes += size;
        chats.push(summary);
    }
    super::profile::add_peer_names(ctx, &mut chats).await?;
    Ok(ServerFrame::Chats { chats, next_cursor: None })
}

/// Every chat the user is or was in, most recently active first (ties by id).
/// One Query on the user's memberships and one BatchGetItem per 100 chats.
pub async fn chat_summaries(ctx: &AppContext, user_id: &str) -> Result<Vec<ChatSummary>, AppError> {
    let memberships = ctx.store.memberships_of_user(user_id).await?;
    let ids: Vec<String> = memberships.iter().map(|m| m.chat_id.clone()).collect();
    let chats: BTreeMap<String, Chat> = ctx.store.chats_by_id(&ids).await?.into_iter().map(|c| (c.chat_id.clone(), c)).collect();
    let mut summaries: Vec<ChatSummary> = memberships
        .iter()
        .filter_map(|m| chats.get(&m.chat_id).map(|c| (c, m)))
        // A chat deleted by the member is left out until a message after it.
        .filter(|(chat, m)| m.cleared_through == 0 || chat.last_message_seq().min(m.visible_until(chat.seq)) > m.cleared_through)
        .map(|(chat, m)| summary(chat, m))
        .collect();
    summaries.sort_by(|a, b| b.last_active_at.cmp(&a.last_active_at).then_with(|| a.chat_id.cmp(&b.chat_id)));
    Ok(summaries)
}

/// The chats the user is a member of now (not those they were removed from).
pub(crate) async fn current_chats(ctx: &AppContext, user_id: &str) -> Result<Vec<Chat>, AppError> {
    let chat_ids: Vec<String> =
        ctx.store.memberships_of_user(user_id).await?.into_iter().filter(|m| m.removed_at_seq.is_none()).map(|m| m.chat_id).collect();
    Ok(ctx.store.chats_by_id(&chat_ids).await?)
}

/// One member's view of a chat. A removed member sees it as it was when they
/// were removed: its name, description, members, admins and activity then.
pub fn summary(chat: &Chat, membership: &Membership) -> ChatSummary {
    let visible = membership.visible_until(chat.seq);
    ChatSummary {
        chat_id: chat.chat_id.clone(),
        kind: chat.kind,
        // A group renamed after their removal keeps the name they knew.
        name: membership.info_at_removal.as_ref().map_or_else(|| chat.name.clone(), |info| info.name.clone()),
        description: membership.info_at_removal.as_ref().map_or_else(|| chat.description.clone(), |info| info.description.clone()),
        // (Set only by a removal: a member added back gets a fresh membership.)
        participants: membership.members_at_removal.clone().unwrap_or_else(|| chat.members.clone()),
        encrypted: chat.encrypted,
        // (What they deleted for themself has no preview either.)
        joined_at_seq: membership.joined_at_seq.max(membership.cleared_through),
        last_seq: visible,
        // Their removal is the last thing that happened there, for them.
        last_active_at: membership.removed_at.unwrap_or(chat.last_active_at),
        last_read: membership.last_read,
        unread_count: membership.unread(chat.seq, chat.events, &chat.holes),
        mention_count: membership.mentions.iter().filter(|m| **m > membership.last_read && **m <= visible).count() as u64,
        removed_at_seq: membership.removed_at_seq,
        request: membership.request,
        muted: membership.muted,
        last_message: None,
        // While a member, the chat knows its last message; a removed member's
        // last seq may hold a change, which knows it.
        preview_seq: (visible == chat.seq).then(|| chat.last_message_seq()),
        peer_name: None,
        peer_avatar: None,
        // A request's recipient shows nothing of themself, nor does a blocked chat.
        peer: (chat.kind == crate::protocol::ChatKind::Direct && !chat.is_blocked())
            .then(|| chat.accepted_members().find(|m| **m != membership.user_id).cloned())
            .flatten(),
    }
}

/// Delivery and read state of one of the caller's messages, per recipient.
pub async fn message_status(ctx: &AppContext, who: &Identity, chat_id: &ChatId, seq: u64) -> Result<ServerFrame, AppError> {
    let membership = ctx.store.membership(&who.user_id, chat_id).await?.ok_or(AppError::NotMember)?;
    if seq > membership.visible_until(u64::MAX) {
        return Err(AppError::NotMember);
    }
    let message = ctx.store.get_message(chat_id, seq).await?.ok_or_else(|| AppError::invalid(format!("no message {seq} in this chat")))?;
    if message.sender_id != who.user_id {
        return Err(AppError::Forbidden("only the sender sees a message's status".into()));
    }
    let memberships: Vec<_> =
        ctx.store.memberships_of_chat(chat_id).await?.into_iter().filter(|m| m.user_id != who.user_id && m.sees(seq)).collect();
    // Read receipts are reciprocal: a sender who turned them off sees none,
    // and a recipient who did shows none.
    let mut users: Vec<String> = memberships.iter().map(|m| m.user_id.clone()).collect();
    users.push(who.user_id.to_string());
    let privacy = ctx.store.privacy_of(&users).await?;
    let receipts_on = |user: &str| super::privacy::read_receipts_on(&privacy, user);
    let sender_sees_reads = receipts_on(&who.user_id);
    let recipients = memberships
        .into_iter()
        // Delivery is the server's to report; reading a request is the recipient's secret.
        .map(|m| {
            let read = !m.request && m.last_read >= seq;
            RecipientStatus {
                delivered: m.last_delivered >= seq || read,
                read: read && sender_sees_reads && receipts_on(&m.user_id),
                user_id: m.user_id,
            }
        })
        .collect();
    Ok(ServerFrame::MessageStatus { chat_id: chat_id.to_string(), seq, recipients })
}

/// A message a recipient's device acknowledged (from the inbox stream).
#[derive(Clone, Debug)]
pub struct DeliveredAck {
    pub recipient: String,
    /// The recipient's device that acknowledged.
    pub device: String,
    pub chat_id: String,
    pub seq: u64,
    pub sender: String,
}

/// Turns acknowledgements into `delivered` receipts: per recipient and chat,
/// the first device to acknowledge up to a seq moves `lastDelivered`, and the
/// senders of those messages are told once (the recipient's other devices
/// acking the same messages later tell no one again).
pub async fn receipts_for_acks(ctx: &AppContext, acks: &[DeliveredAck]) -> Result<(), AppError> {
    let mut groups: BTreeMap<(String, String), (u64, String, BTreeSet<String>)> = BTreeMap::new();
    for ack in acks.iter().filter(|a| a.sender != a.recipient) {
        let group = groups.entry((ack.recipient.clone(), ack.chat_id.clone())).or_default();
        if ack.seq > group.0 {
            (group.0, group.1) = (ack.seq, ack.device.clone());
        }
        group.2.insert(ack.sender.clone());
    }
    // One conditional write per recipient and chat, several at once: a
    // batch after a burst into a big group holds a hundred recipients, and
    // one after another they held up every other chat's receipts behind it.
    use futures::StreamExt;
    let advanced: Vec<Result<Option<_>, AppError>> = futures::stream::iter(groups)
        .map(|((recipient, chat_id), (seq, device, senders))| async move {
            let moved = ctx.store.advance_delivered(&recipient, &chat_id, seq, &device).await?;
            Ok(moved.then_some((recipient, chat_id, seq, senders)))
        })
        .buffer_unordered(ctx.config.fanout_concurrency)
        .collect()
        .await;
    let mut receipts = Vec::new();
    for advanced in advanced {
        let Some((recipient, chat_id, seq, senders)) = advanced? else { continue };
        let frame = ServerFrame::Receipt {
            event_id: crate::ids::receipt_id(&recipient, &chat_id, seq),
            chat_id: chat_id.clone(),
            user_id: recipient,
            status: ReceiptStatus::Delivered,
            up_to_seq: seq,
        };
        receipts.push((Audience { users: senders.into_iter().collect(), except: None }, Outgoing::event(&chat_id, seq, &frame)));
    }
    let deliveries: Vec<(&Audience<'_>, &Outgoing)> = receipts.iter().map(|(a, o)| (a, o)).collect();
    publish(ctx, &deliveries).await
}
