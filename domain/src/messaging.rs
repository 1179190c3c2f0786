//! The operations behind the WebSocket routes. Handlers in `functions/` only
//! translate events to these calls and results to frames.

pub mod blocking;
pub mod changes;
pub(crate) mod chat_list;
pub(crate) mod deleted;
mod delivery;
pub mod devices;
pub mod encryption;
pub mod holes;
mod inbox;
mod membership;
pub mod presence;
pub mod privacy;
pub mod profile;
pub(crate) mod push;
pub(crate) mod reads;
mod send;
#[cfg(test)]
mod tests;
mod typing;

use std::collections::{BTreeSet, HashMap};

use tracing::info;

pub use blocking::{block_user, list_blocked};
pub use changes::{delete_message, edit_message, react};
pub use devices::{list_devices, unregister_device};
pub use encryption::{claim_keys, get_device_keys, send_to_device, upload_keys};
pub use inbox::{ack, sync};
pub use membership::{modify_participants, update_chat};
pub use privacy::set_privacy;
pub use profile::update_profile;
pub use push::{NewEntry, mute_chat, push_offline, push_text, register_push, unregister_push};
pub use reads::{DeliveredAck, chat_summaries, delete_chat, list_chats, mark_read, message_status, receipts_for_acks};
pub use send::send_message;
pub use typing::typing;

use crate::auth::Identity;
use crate::context::AppContext;
use crate::error::AppError;
use crate::ids::{self, device_key};
use crate::limits::Limit;
use crate::model::{Chat, ConnectionRecord, EntryKind, InboxEntry, UserDevices};
use crate::ports::Target;
use crate::protocol::{AcceptChatRequest, ChatKind, CreateChatRequest, ServerFrame};
use crate::time::now_millis;

pub const MAX_CHAT_NAME_CHARS: usize = 100;

/// Registers the connection as its device's one live socket. A device holds
/// one connection at a time, as a messenger app does: the one it replaces is
/// closed (its `$disconnect` leaves the new one in place), so one token
/// cannot hold hundreds of sockets — each able to watch presence — open.
/// Watchers hear the user came online from the users table's stream
/// (`presence::announce`), not from here.
pub async fn connect(ctx: &AppContext, who: &Identity, connection_id: &str) -> Result<(), AppError> {
    let now = now_millis();
    let replaced =
        ctx.store.register_device_connection(&who.user_id, &who.device_id, connection_id, now, ctx.config.max_devices_per_user).await?;
    ctx.store.put_connection(&ConnectionRecord::new(connection_id, &who.user_id, &who.device_id, now, ctx.config.presence_timeout)).await?;
    if let Some(replaced) = replaced {
        tracing::info!(replaced, "the device's earlier connection is closed");
        // Told first, so it stays closed rather than reconnecting and
        // closing this one in turn (a post to a gone connection is a no-op).
        ctx.connections.post(&replaced, &ServerFrame::ConnectionReplaced {}.to_json()).await;
        ctx.connections.close(&replaced).await;
    }
    Ok(())
}

/// `$disconnect` (watchers hear of it from the users table's stream, as of a connect).
pub async fn disconnect(ctx: &AppContext, who: &Identity, connection_id: &str) -> Result<(), AppError> {
    ctx.store.clear_device_connection(&who.user_id, &who.device_id, connection_id, now_millis()).await?;
    ctx.store.delete_connection(connection_id).await?;
    Ok(())
}

/// The member accepts a chat they were requested into (a no-op when it is
/// not a request): from now on its other members see their presence,
/// profile and receipts, and the one who asked becomes someone they know.
pub async fn accept(ctx: &AppContext, user_id: &str, chat_id: &str) -> Result<(), AppError> {
    let inviter = ctx.store.membership(user_id, chat_id).await?.and_then(|m| m.invited_by);
    if ctx.store.accept_chat(user_id, chat_id).await?
        && let Some(inviter) = inviter
    {
        ctx.store.add_contacts(user_id, &[inviter], now_millis()).await?;
    }
    Ok(())
}

/// `acceptChat`: a message request or group invitation accepted.
pub async fn accept_chat(ctx: &AppContext, who: &Identity, request: AcceptChatRequest) -> Result<ServerFrame, AppError> {
    let chat = ctx.store.get_chat_item(&request.chat_id).await?;
    let chat = chat.filter(|c| c.is_member(&who.user_id)).ok_or(AppError::NotMember)?;
    if chat.is_requested(&who.user_id) {
        accept(ctx, &who.user_id, &chat.chat_id).await?;
    }
    Ok(ServerFrame::ChatAccepted { chat_id: chat.chat_id })
}

pub async fn create_chat(ctx: &AppContext, who: &Identity, request: CreateChatRequest) -> Result<ServerFrame, AppError> {
    let mut others = BTreeSet::new();
    for participant in &request.participants {
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
    if let Some(name) = &name {
        crate::text::check_name("name", name, MAX_CHAT_NAME_CHARS)?;
    }
    let (kind, chat_id) = match (others.len(), &name) {
        (1, None) => (ChatKind::Direct, ids::direct_chat_id(&who.user_id, others.first().expect("one other"))),
        (_, None) => return Err(AppError::invalid("a group chat needs a name")),
        (_, Some(_)) => (ChatKind::Group, ids::new_group_id()),
    };
    ctx.charge(Limit::ChatsCreated, &who.user_id, 1).await?;
    let others: Vec<String> = others.into_iter().map(String::from).collect();
    require_registered(ctx, &others).await?;
    if kind == ChatKind::Direct && blocking::either_blocked(ctx, &who.user_id, &others[0]).await? {
        return Err(AppError::Blocked(format!("you and {} cannot chat: one of you has blocked the other", others[0])));
    }
    // Blocks both ways, in one read: who blocks the creator (they cannot be
    // added) and whom the creator blocks (in the group, but not accepted again).
    let mut blocked_by_creator = BTreeSet::new();
    if kind == ChatKind::Group {
        let blockers;
        (blockers, blocked_by_creator) = blocking::blocks_with(ctx, &others, &who.user_id).await?;
        if !blockers.is_empty() {
            let names: Vec<&str> = blockers.iter().map(String::as_str).collect();
            return Err(AppError::Blocked(format!("{} cannot be added by you", names.join(", "))));
        }
    }
    // Whoever never accepted the creator gets the chat as a request; the
    // creator accepts everyone they chose (before the chat exists, so it
    // never exists without that) but those they block: blocking ended that.
    let accepted = ctx.store.who_accepted(&others, &who.user_id).await?;
    let requested: Vec<String> = others.iter().filter(|o| !accepted.contains(*o)).cloned().collect();
    let accepting: Vec<String> = others.iter().filter(|o| !blocked_by_creator.contains(*o)).cloned().collect();
    ctx.store.add_contacts(&who.user_id, &accepting, now_millis()).await?;
    let mut members = others;
    members.push(who.user_id.to_string());
    members.sort();
    let admins = if kind == ChatKind::Group { vec![who.user_id.to_string()] } else { Vec::new() };
    let now = now_millis();
    let chat = Chat {
        chat_id,
        kind,
        name,
        description: None,
        members,
        admins,
        created_by: who.user_id.to_string(),
        created_at: now,
        seq: 0,
        version: 1,
        last_active_at: now,
        requested,
        blocked_by: Vec::new(),
        events: 0,
        last_message_seq: Some(0),
        holes: Vec::new(),
        taken_at: None,
        last_join_seq: Some(0),
        encrypted: request.encrypted,
    };
    let created = ctx.store.create_chat(&chat).await?;
    let chat = if created { chat } else { ctx.store.get_chat_item(&chat.chat_id).await?.ok_or(AppError::Contention)? };
    if !created && chat.is_requested(&who.user_id) {
        // Asking for a chat someone already requested with you accepts it.
        accept(ctx, &who.user_id, &chat.chat_id).await?;
    }
    info!(chat_id = %chat.chat_id, members = chat.members.len(), created, "chat ready");
    if created {
        // Every member learns of the chat now (live, or from the inbox on
        // sync), not at its first message; the creator's other devices too.
        let notice = ServerFrame::NewChat {
            event_id: new_event_id(),
            chat_id: chat.chat_id.clone(),
            kind: chat.kind,
            name: chat.name.clone(),
            participants: chat.members.clone(),
            admins: chat.admins.clone(),
            created_by: chat.created_by.clone(),
            created_at: chat.created_at,
            encrypted: chat.encrypted,
        };
        let out = Outgoing::event(&chat.chat_id, chat.seq, &notice);
        publish(ctx, &[(&Audience { users: chat.members.clone(), except: Some(who) }, &out)]).await?;
    }
    Ok(ServerFrame::ChatCreated {
        chat_id: chat.chat_id,
        kind: chat.kind,
        name: chat.name,
        participants: chat.members,
        created,
        encrypted: chat.encrypted,
    })
}

/// Refuses users who have never signed in (a mistyped id, or someone not on
/// the service yet): a chat with them would wait for no one, without a word.
pub(crate) async fn require_registered(ctx: &AppContext, users: &[String]) -> Result<(), AppError> {
    let registered = ctx.store.registered_users(users).await?;
    let unknown: Vec<String> = users.iter().filter(|u| !registered.contains(*u)).cloned().collect();
    if unknown.is_empty() { Ok(()) } else { Err(AppError::UnknownUsers(unknown)) }
}

/// A frame on its way to devices: through their inboxes and, when connected, live.
pub(crate) struct Outgoing {
    pub entry_id: String,
    pub chat_id: String,
    pub seq: u64,
    pub kind: EntryKind,
    pub sender_id: Option<String>,
    pub frame: String,
}

impl Outgoing {
    /// An event frame; its inbox entry is keyed by the frame's own `eventId`.
    pub fn event(chat_id: &str, seq: u64, frame: &ServerFrame) -> Self {
        let (kind, event_id) = match frame {
            ServerFrame::NewChat { event_id, .. } => (EntryKind::NewChat, event_id.clone()),
            ServerFrame::ChatUpdate { event_id, .. } => (EntryKind::ChatUpdate, event_id.clone()),
            ServerFrame::ReadSync { event_id, .. } => (EntryKind::ReadSync, event_id.clone()),
            ServerFrame::Receipt { event_id, .. } => (EntryKind::Receipt, event_id.clone()),
            // Keyed by the id the frame carries, so acking it removes it.
            ServerFrame::ChatInfo { event_id, .. } | ServerFrame::MessageHidden { event_id, .. } => (EntryKind::Event, event_id.clone()),
            ServerFrame::MessageChanged(change) => (EntryKind::MessageChange, change.event_id.clone()),
            _ => (EntryKind::Event, new_event_id()),
        };
        Self { entry_id: event_id, chat_id: chat_id.into(), seq, kind, sender_id: None, frame: frame.to_json() }
    }

    fn entry(&self, ctx: &AppContext, user: &str, device: &str) -> InboxEntry {
        let device_key = device_key(user, device);
        let expires_at = now_millis() / 1000 + ctx.config.inbox_retention.as_secs();
        InboxEntry {
            device_key,
            entry_id: self.entry_id.clone(),
            chat_id: self.chat_id.clone(),
            seq: self.seq,
            kind: self.kind,
            sender_id: self.sender_id.clone(),
            frame: self.frame.clone(),
            expires_at,
            discarded: false,
        }
    }
}

/// Who gets an outgoing frame: every device of `users` but `except`.
pub(crate) struct Audience<'a> {
    pub users: Vec<String>,
    pub except: Option<&'a Identity>,
}

impl Audience<'_> {
    fn includes(&self, user: &str, device: &str) -> bool {
        self.users.iter().any(|u| u == user) && self.except.is_none_or(|e| e.user_id != user || e.device_id != device)
    }
}

pub(crate) fn inbox_entries(
    ctx: &AppContext,
    out: &Outgoing,
    audience: &Audience<'_>,
    devices: &HashMap<String, UserDevices>,
) -> Vec<InboxEntry> {
    let mut entries = Vec::new();
    for user in devices.values() {
        for device_id in user.devices.keys() {
            if audience.includes(&user.user_id, device_id) {
                entries.push(out.entry(ctx, &user.user_id, device_id));
            }
        }
    }
    entries
}

/// The live connections of an audience's devices.
pub(crate) fn live_targets(audience: &Audience<'_>, devices: &HashMap<String, UserDevices>, now_ms: u64) -> Vec<Target> {
    let mut targets = Vec::new();
    for user in devices.values() {
        for (device_id, device) in &user.devices {
            if let (true, Some(connection_id)) = (audience.includes(&user.user_id, device_id), device.live_connection(now_ms)) {
                targets.push(Target { user_id: user.user_id.clone(), device_id: device_id.clone(), connection_id: connection_id.into() });
            }
        }
    }
    targets
}

/// Posts frames to every live device of their audiences. Connections are read
/// after the inbox entries were written, so a device that connected (and
/// synced) in between is still reached: every device gets the frame live,
/// from its inbox, or both.
pub(crate) async fn post_live(ctx: &AppContext, deliveries: &[(&Audience<'_>, &Outgoing)]) -> Result<(), AppError> {
    let users: BTreeSet<String> = deliveries.iter().flat_map(|(a, _)| a.users.iter().cloned()).collect();
    let devices = ctx.store.devices_of(&users.into_iter().collect::<Vec<_>>()).await?;
    let now = now_millis();
    for (audience, out) in deliveries {
        let targets = live_targets(audience, &devices, now);
        let delivered = delivery::post_to_all(ctx, &targets, &out.frame).await;
        info!(chat_id = %out.chat_id, kind = ?out.kind, live = targets.len(), delivered, "fanned out");
    }
    Ok(())
}

/// Sends frames to their audiences through inboxes and live connections, with
/// one device read, one batch of inbox writes and one connection read for all.
pub(crate) async fn publish(ctx: &AppContext, deliveries: &[(&Audience<'_>, &Outgoing)]) -> Result<(), AppError> {
    let users: BTreeSet<String> = deliveries.iter().flat_map(|(a, _)| a.users.iter().cloned()).collect();
    if users.is_empty() {
        return Ok(());
    }
    let devices = ctx.store.devices_of(&users.into_iter().collect::<Vec<_>>()).await?;
    let entries: Vec<InboxEntry> = deliveries.iter().flat_map(|(a, out)| inbox_entries(ctx, out, a, &devices)).collect();
    ctx.store.put_inbox_entries(&entries).await?;
    post_live(ctx, deliveries).await
}

pub(crate) fn new_event_id() -> String {
    ids::new_message_id()
}
