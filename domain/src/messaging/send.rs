//! `sendMessage`: take the chat's next seq, store, fill inboxes, fan out —
//! idempotent per clientMessageId.

use crate::limits::Limit;
use std::collections::{BTreeSet, HashMap};

use tracing::{info, warn};

use super::delivery;
use super::encryption;
use super::{Audience, Outgoing, inbox_entries, live_targets, post_live};
use crate::auth::Identity;
use crate::context::AppContext;
use crate::error::AppError;
use crate::ids::{self, UserId};
use crate::media;
use crate::model::{Accepted, Attachment, Chat, ChatEntry, EntryKind, Taking, UserDevices, backoff};
use crate::ports::Target;
use crate::protocol::{MessageView, QUOTE_SNIPPET_CHARS, Quote, SendMessageRequest, ServerFrame};
use crate::time::now_millis;

pub const MAX_CLIENT_MESSAGE_ID_LEN: usize = 64;
/// Mentions recorded per message (each is one write with the send).
pub const MAX_MENTIONS: usize = 20;
/// Attempts at taking a chat's next seq before telling the client to retry:
/// a take fails only when the membership changed since it was read.
const MAX_APPEND_ATTEMPTS: usize = 12;

fn validate_send(ctx: &AppContext, request: &SendMessageRequest) -> Result<(), AppError> {
    let id = &request.client_message_id;
    if id.is_empty() || id.len() > MAX_CLIENT_MESSAGE_ID_LEN || !id.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(AppError::invalid(format!("clientMessageId must be 1-{MAX_CLIENT_MESSAGE_ID_LEN} printable ASCII characters")));
    }
    // (A plain chat's texts are held to the plain limit once the chat is read.)
    let max = encryption::max_envelope_bytes(ctx.config.max_message_bytes);
    if request.message.len() > max {
        return Err(AppError::MessageTooLong { max });
    }
    if request.mentions.len() > MAX_MENTIONS {
        return Err(AppError::invalid(format!("mentions: at most {MAX_MENTIONS}")));
    }
    if request.message.trim().is_empty() && request.attachments.is_empty() {
        return Err(AppError::invalid("a message needs text or an attachment"));
    }
    Ok(())
}

/// What an encrypted chat takes (an envelope, the mentions and the device
/// list named beside it) and a plain chat does not, and the reverse.
fn check_mode(ctx: &AppContext, chat: &Chat, request: &SendMessageRequest) -> Result<(), AppError> {
    if !request.message.is_empty() {
        encryption::check_text_mode(chat, &request.message, "message")?;
    }
    if chat.encrypted {
        if request.devices.is_none() {
            return Err(AppError::invalid("devices: an encrypted send names the getDeviceKeys digest it shared its session with"));
        }
    } else {
        if request.message.len() > ctx.config.max_message_bytes {
            return Err(AppError::MessageTooLong { max: ctx.config.max_message_bytes });
        }
        if !request.mentions.is_empty() || request.devices.is_some() {
            return Err(AppError::invalid("mentions and devices are for encrypted chats; here mentions are read from the text"));
        }
    }
    Ok(())
}

/// An encrypted send's members, named by the client: the chat's other members, once each.
fn named_mentions(named: &[UserId], chat: &Chat, sender: &str) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    for id in named {
        if id.as_str() != sender && chat.is_member(id) && !found.iter().any(|f| f == id.as_str()) {
            found.push(id.to_string());
        }
    }
    found
}

/// `@userId` mentions of the chat's other members, in order of first mention.
pub fn parse_mentions(text: &str, chat: &Chat, sender: &str) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    for (i, _) in text.match_indices('@') {
        let id: String = text[i + 1..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '.').collect();
        let id = id.trim_end_matches('.');
        if id != sender && chat.is_member(id) && !found.iter().any(|f| f == id) && found.len() < MAX_MENTIONS {
            found.push(id.to_owned());
        }
    }
    found
}

fn message_outgoing(message: &MessageView) -> Outgoing {
    Outgoing {
        entry_id: message.message_id.clone(),
        chat_id: message.chat_id.clone(),
        seq: message.seq,
        kind: EntryKind::NewMessage,
        sender_id: Some(message.sender_id.clone()),
        frame: ServerFrame::NewMessage(message.clone()).to_json(),
    }
}

pub async fn send_message(ctx: &AppContext, who: &Identity, request: SendMessageRequest) -> Result<ServerFrame, AppError> {
    validate_send(ctx, &request)?;
    // Before any other read: a flood costs one write per request, then nothing.
    ctx.charge(Limit::Sends, &who.user_id, 1).await?;
    let attachments = media::attachments_for_message(ctx, who, &request.chat_id, &request.attachments).await?;
    let reply_to = match request.reply_to {
        Some(seq) => Some(quote(ctx, who, &request.chat_id, seq).await?),
        None => None,
    };
    send_counted(ctx, who, &Prepared { request, attachments, reply_to }).await
}

/// A send, checked and with what it refers to read: ready to take a seq.
struct Prepared {
    request: SendMessageRequest,
    attachments: Vec<Attachment>,
    reply_to: Option<Quote>,
}

impl Prepared {
    fn message(&self, who: &Identity, chat: &Chat, message_id: String, seq: u64, sent_at: u64) -> MessageView {
        MessageView {
            chat_id: chat.chat_id.clone(),
            message_id,
            seq,
            sender_id: who.user_id.to_string(),
            sender_device: who.device_id.to_string(),
            client_message_id: self.request.client_message_id.clone(),
            message: self.request.message.clone(),
            encrypted: chat.encrypted,
            attachments: media::views(&self.attachments),
            mentions: if chat.encrypted {
                named_mentions(&self.request.mentions, chat, &who.user_id)
            } else {
                parse_mentions(&self.request.message, chat, &who.user_id)
            },
            sent_at,
            reply_to: self.reply_to.clone(),
            edited_at: None,
            deleted: None,
            reactions: Vec::new(),
            updated_seq: None,
        }
    }
}

/// The send: read the chat's
/// members, take the next seq with one atomic update (conditioned on the
/// membership version read, so those members are the ones in force at the
/// seq), claim the `clientMessageId` for it, write the message there, then
/// its read marker, mentions, attachments and inbox entries, and post. No
/// step conflicts with another sender's. An invocation that dies after
/// taking the seq leaves it empty; readers fill it as a hole once
/// `HOLE_FILL_AFTER_MS` passed, and the client's retry takes a new seq.
async fn send_counted(ctx: &AppContext, who: &Identity, prepared: &Prepared) -> Result<ServerFrame, AppError> {
    let request = &prepared.request;
    // A retry takes no seq: it finishes what its first attempt left undone.
    // (Read beside the chat: both are needed before the seq.)
    let (accepted, mut chat) = futures::future::try_join(
        async { Ok(ctx.store.find_accepted(&request.chat_id, &who.user_id, &request.client_message_id).await?) },
        member_chat(ctx, who, &request.chat_id),
    )
    .await?;
    if let Some(accepted) = accepted {
        return resume(ctx, who, prepared, accepted).await;
    }
    check_mode(ctx, &chat, request)?;
    let mut cached_devices: Option<(Vec<String>, HashMap<String, UserDevices>)> = None;
    for attempt in 0..MAX_APPEND_ATTEMPTS {
        if attempt > 0 {
            chat = member_chat(ctx, who, &request.chat_id).await?;
        }
        let now = now_millis();
        // The members' devices and the seq do not depend on each other.
        let devices = async {
            Ok::<_, AppError>(match cached_devices.take() {
                Some((members, found)) if members == chat.members => found,
                _ => ctx.store.devices_of(&chat.members).await?,
            })
        };
        let take = async { Ok::<_, AppError>(ctx.store.take_seq(&chat, Taking::Message, now).await?) };
        let (devices, taken) = if chat.encrypted {
            // The device list the sender named is checked before a seq is
            // taken, so a refusal leaves no hole.
            let devices = devices.await?;
            let digest = encryption::devices_digest(&encryption::keyed_devices(&chat.members, &devices));
            if request.devices.as_deref() != Some(digest.as_str()) {
                return Err(AppError::DevicesChanged(request.devices.clone().unwrap_or_default()));
            }
            (devices, take.await?)
        } else {
            futures::future::try_join(devices, take).await?
        };
        let Some(taken) = taken else {
            // The membership changed since it was read: read it again.
            cached_devices = Some((chat.members.clone(), devices));
            backoff(attempt).await;
            continue;
        };
        let accepted = Accepted {
            chat_id: chat.chat_id.clone(),
            client_key: crate::model::client_key(&who.user_id, &request.client_message_id),
            message_id: ids::new_message_id(),
            seq: taken.seq,
            expires_at: now / 1000 + ctx.config.inbox_retention.as_secs(),
            inbox_written: false,
            events: Some(taken.events),
        };
        if !ctx.store.claim_client_message_id(&accepted).await? {
            // A racing retry of the same message claimed it first: this seq stays empty.
            ctx.store.fill_hole(&chat.chat_id, taken.seq, taken.events, true, now).await?;
            let accepted =
                ctx.store.find_accepted(&request.chat_id, &who.user_id, &request.client_message_id).await?.ok_or(AppError::Contention)?;
            return resume(ctx, who, prepared, accepted).await;
        }
        let message = prepared.message(who, &chat, accepted.message_id.clone(), taken.seq, now);
        return write_and_deliver(ctx, who, prepared, accepted, message, taken.events, chat.members, devices).await;
    }
    warn!(chat_id = %request.chat_id, "the membership kept changing while taking a seq");
    Err(AppError::Contention)
}

/// The chat, if the caller is a member who may write in it (a reply to a
/// message request accepts it).
async fn member_chat(ctx: &AppContext, who: &Identity, chat_id: &str) -> Result<Chat, AppError> {
    let chat = ctx.store.get_chat_item(chat_id).await?;
    // A chat that does not exist and one the caller is not in look the same to them.
    let chat = chat.filter(|c| c.is_member(&who.user_id)).ok_or(AppError::NotMember)?;
    if chat.is_blocked() {
        return Err(AppError::Blocked("one of you has blocked the other: unblock to write here".into()));
    }
    if chat.is_requested(&who.user_id) {
        super::accept(ctx, &who.user_id, &chat.chat_id).await?;
    }
    Ok(chat)
}

/// Writes a claimed message at its seq and everything it brings, then posts
/// it. If a reader filled the seq as a hole first (this invocation was
/// slower than the bound), the message takes the chat's next seq instead.
#[allow(clippy::too_many_arguments)]
async fn write_and_deliver(
    ctx: &AppContext,
    who: &Identity,
    prepared: &Prepared,
    mut accepted: Accepted,
    mut message: MessageView,
    mut events: u64,
    mut recipients: Vec<String>,
    mut devices: HashMap<String, UserDevices>,
) -> Result<ServerFrame, AppError> {
    let mut attempt = 0;
    while !ctx.store.put_message(&message, events).await? {
        attempt += 1;
        if attempt == MAX_APPEND_ATTEMPTS {
            return Err(AppError::Contention);
        }
        let chat = member_chat(ctx, who, &message.chat_id).await?;
        let now = now_millis();
        let Some(taken) = ctx.store.take_seq(&chat, Taking::Message, now).await? else {
            backoff(attempt).await;
            continue;
        };
        if !ctx.store.move_claim(&accepted, taken.seq).await? {
            // A retry moved it first and writes it there.
            ctx.store.fill_hole(&chat.chat_id, taken.seq, taken.events, true, now).await?;
            let moved = ctx.store.find_accepted(&message.chat_id, &who.user_id, &message.client_message_id).await?;
            return Box::pin(resume(ctx, who, prepared, moved.ok_or(AppError::Contention)?)).await;
        }
        info!(chat_id = %chat.chat_id, from = accepted.seq, to = taken.seq, "seq was filled before the message: moved");
        accepted.seq = taken.seq;
        message = prepared.message(who, &chat, accepted.message_id.clone(), taken.seq, now);
        events = taken.events;
        if recipients != chat.members {
            devices = ctx.store.devices_of(&chat.members).await?;
            recipients = chat.members;
        }
    }
    let audience = Audience { users: recipients, except: Some(who) };
    let out = message_outgoing(&message);
    let entries = inbox_entries(ctx, &out, &audience, &devices);
    ctx.store.message_written(&message, events, &prepared.attachments, &entries).await?;
    // Marked and posted at once: the mark only tells a retry the entries are written.
    let mark = async { Ok::<_, AppError>(ctx.store.inbox_written(&message.chat_id, &who.user_id, &message.client_message_id).await?) };
    futures::future::try_join(mark, post_live(ctx, &[(&audience, &out)])).await?;
    Ok(send_result(&message, false))
}

/// A send whose `clientMessageId` was claimed already (a retry, or a race
/// with one): whatever its first attempt did not finish is finished, and
/// the answer is the message's id and seq.
async fn resume(ctx: &AppContext, who: &Identity, prepared: &Prepared, accepted: Accepted) -> Result<ServerFrame, AppError> {
    if accepted.inbox_written {
        return repost_unacked(ctx, who, &accepted).await;
    }
    let chat_id = &accepted.chat_id.clone();
    // Whoever the membership says sees the seq gets it: those who were
    // members when it was taken (even if removed since), not later joiners.
    let recipients = |seq: u64| async move {
        let members = ctx.store.memberships_of_chat(chat_id).await?;
        let users: BTreeSet<String> = members.into_iter().filter(|m| m.sees(seq)).map(|m| m.user_id).collect();
        Ok::<_, AppError>(users.into_iter().collect::<Vec<_>>())
    };
    match ctx.store.get_entry(chat_id, accepted.seq).await? {
        Some(ChatEntry::Message(stored)) => {
            // Written; what follows it may not be.
            let message = stored.view_at(u64::MAX);
            let audience = Audience { users: recipients(message.seq).await?, except: Some(who) };
            let devices = ctx.store.devices_of(&audience.users).await?;
            let out = message_outgoing(&message);
            let entries = inbox_entries(ctx, &out, &audience, &devices);
            ctx.store.message_written(&message, stored.events, &prepared.attachments, &entries).await?;
            ctx.store.inbox_written(chat_id, &who.user_id, &message.client_message_id).await?;
            post_live(ctx, &[(&audience, &out)]).await?;
            info!(chat_id = %chat_id, seq = message.seq, "duplicate send completed its writes");
            Ok(send_result(&message, true))
        }
        Some(ChatEntry::Change { .. }) => Err(AppError::Contention),
        // Claimed, never written (its first attempt died): written now, at
        // its seq or, if that was filled as a hole, at a new one.
        found => {
            let chat = member_chat(ctx, who, chat_id).await?;
            let events = match (&found, accepted.events) {
                (None, Some(events)) => events,
                _ => ctx.store.events_up_to(chat_id, accepted.seq).await?,
            };
            let message = prepared.message(who, &chat, accepted.message_id.clone(), accepted.seq, now_millis());
            let users = recipients(accepted.seq).await?;
            let devices = ctx.store.devices_of(&users).await?;
            let seq = accepted.seq;
            let result = write_and_deliver(ctx, who, prepared, accepted, message, events, users, devices).await?;
            info!(chat_id = %chat_id, seq, "duplicate send wrote the message its first attempt claimed");
            Ok(match result {
                ServerFrame::SendResult { status, chat_id, client_message_id, message_id, seq, .. } => {
                    ServerFrame::SendResult { status, chat_id, client_message_id, message_id, seq, duplicate: true }
                }
                other => other,
            })
        }
    }
}

/// The message `seq` of the chat as a reply quotes it, if the sender may see
/// it (a member who joined later cannot quote what came before).
async fn quote(ctx: &AppContext, who: &Identity, chat_id: &str, seq: u64) -> Result<Quote, AppError> {
    let membership = ctx.store.membership(&who.user_id, chat_id).await?.ok_or(AppError::NotMember)?;
    let missing = || AppError::invalid(format!("replyTo: no message {seq} you can see in this chat"));
    if !membership.sees(seq) {
        return Err(missing());
    }
    // (A seq holding a change, or a message deleted for everyone, is nothing to quote.)
    let quoted = ctx.store.get_message(chat_id, seq).await?.filter(|m| m.deleted.is_none()).ok_or_else(missing)?;
    Ok(Quote {
        seq,
        message_id: quoted.message_id,
        sender_id: quoted.sender_id,
        // (An encrypted message's snippet is the client's to show, from its own copy.)
        snippet: if quoted.encrypted { String::new() } else { quoted.message.chars().take(QUOTE_SNIPPET_CHARS).collect() },
        attachment_count: quoted.attachments.len(),
        deleted: false,
    })
}

fn send_result(message: &MessageView, duplicate: bool) -> ServerFrame {
    ServerFrame::SendResult {
        status: crate::protocol::SendStatus::Success,
        chat_id: message.chat_id.clone(),
        client_message_id: message.client_message_id.clone(),
        message_id: message.message_id.clone(),
        seq: message.seq,
        duplicate,
    }
}

/// A retry of a message whose writes are all done: the live devices whose
/// entry is still unacknowledged get it posted again (the first attempt may
/// have died before posting), and a device that acknowledged it gets
/// nothing — a late retry never brings an acknowledged message back.
async fn repost_unacked(ctx: &AppContext, who: &Identity, accepted: &Accepted) -> Result<ServerFrame, AppError> {
    let message = ctx.store.get_message(&accepted.chat_id, accepted.seq).await?.ok_or(AppError::Contention)?;
    // Whoever was a member when the message was accepted gets it, even if
    // removed since; whoever joined later does not.
    let recipients: BTreeSet<String> =
        ctx.store.memberships_of_chat(&message.chat_id).await?.into_iter().filter(|m| m.sees(message.seq)).map(|m| m.user_id).collect();
    let audience = Audience { users: recipients.into_iter().collect(), except: Some(who) };
    let out = message_outgoing(&message);
    let devices = ctx.store.devices_of(&audience.users).await?;
    let live = live_targets(&audience, &devices, now_millis());
    let keys: Vec<(String, String)> =
        live.iter().map(|t| (ids::device_key(&t.user_id, &t.device_id), message.message_id.clone())).collect();
    let unacked = if keys.is_empty() { Vec::new() } else { ctx.store.inbox_keys_present(&keys).await? };
    let targets: Vec<Target> = live.into_iter().zip(keys).filter(|(_, key)| unacked.contains(key)).map(|(t, _)| t).collect();
    let posted = delivery::post_to_all(ctx, &targets, &out.frame).await;
    info!(chat_id = %message.chat_id, seq = message.seq, posted, "duplicate send: unacknowledged live devices reposted");
    Ok(send_result(&message, true))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::ChatKind;

    fn chat(members: &[&str]) -> Chat {
        Chat {
            chat_id: "g".into(),
            kind: ChatKind::Group,
            name: Some("n".into()),
            description: None,
            members: members.iter().map(|m| m.to_string()).collect(),
            admins: vec![],
            created_by: "a".into(),
            created_at: 0,
            seq: 0,
            version: 1,
            last_active_at: 0,
            requested: vec![],
            blocked_by: vec![],
            events: 0,
            last_message_seq: None,
            last_join_seq: None,
            encrypted: false,
            holes: vec![],
            taken_at: None,
        }
    }

    #[test]
    fn mentions_are_members_other_than_the_sender_each_once() {
        let chat = chat(&["alice", "bob", "carol.x"]);
        let text = "hi @bob and @carol.x, @bob again; @alice is me, @mallory is not here. @bob.";
        assert_eq!(parse_mentions(text, &chat, "alice"), vec!["bob", "carol.x"]);
        assert!(parse_mentions("mail me at bob@example", &chat, "alice").is_empty());
    }

    #[test]
    fn at_most_twenty_mentions_are_recorded() {
        let names: Vec<String> = (0..30).map(|i| format!("u{i}")).collect();
        let chat = chat(&names.iter().map(String::as_str).collect::<Vec<_>>());
        let text: String = names.iter().map(|n| format!("@{n} ")).collect();
        let found = parse_mentions(&text, &chat, "nobody");
        assert_eq!(found.len(), MAX_MENTIONS);
        assert_eq!(found[..2], ["u0", "u1"]);
    }
}
