//! `sendMessage`: store, fill inboxes, fan out — idempotent per clientMessageId.

use crate::limits::{self, Limit};
use std::collections::{BTreeSet, HashMap};

use tracing::{info, warn};

use super::delivery;
use super::{Audience, Outgoing, inbox_entries, live_targets, post_live};
use crate::auth::Identity;
use crate::context::AppContext;
use crate::error::AppError;
use crate::fanout::Target;
use crate::ids;
use crate::media;
use crate::protocol::{MessageView, QUOTE_SNIPPET_CHARS, Quote, SendMessageRequest, ServerFrame};
use crate::store::{AppendOutcome, Chat, EntryKind, InboxEntry, MAX_TRANSACTION_ACTIONS, Store, UserDevices, backoff};
use crate::time::now_millis;

pub const MAX_CLIENT_MESSAGE_ID_LEN: usize = 64;
/// Mentions recorded per message (each is one write in the send transaction).
pub const MAX_MENTIONS: usize = 20;
/// Optimistic attempts at taking a chat's next seq before telling the client to retry.
const MAX_APPEND_ATTEMPTS: usize = 12;

fn validate_send(ctx: &AppContext, request: &SendMessageRequest) -> Result<(), AppError> {
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
    Ok(())
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
    limits::charge(ctx, Limit::Sends, &who.user_id, 1).await?;
    let attachments = media::attachments_for_message(ctx, who, &request.chat_id, &request.attachments).await?;
    let reply_to = match request.reply_to {
        Some(seq) => Some(quote(ctx, who, &request.chat_id, seq).await?),
        None => None,
    };
    let mut cached_devices: Option<(Vec<String>, HashMap<String, UserDevices>)> = None;
    for attempt in 0..MAX_APPEND_ATTEMPTS {
        let chat = ctx.store.get_chat(&request.chat_id).await?;
        // A chat that does not exist and one the caller is not in look the same to them.
        let chat = chat.filter(|c| c.is_member(&who.user_id)).ok_or(AppError::NotMember)?;
        if chat.is_blocked() {
            return Err(AppError::Blocked("one of you has blocked the other: unblock to write here".into()));
        }
        if chat.is_requested(&who.user_id) {
            // Replying to a request accepts it.
            super::accept(ctx, &who.user_id, &chat.chat_id).await?;
        }
        let devices = match cached_devices.take() {
            Some((members, found)) if members == chat.members => found,
            _ => ctx.store.devices_of(&chat.members).await?,
        };
        let message = MessageView {
            chat_id: chat.chat_id.clone(),
            message_id: ids::new_message_id(),
            seq: chat.seq + 1,
            sender_id: who.user_id.to_string(),
            sender_device: who.device_id.to_string(),
            client_message_id: request.client_message_id.clone(),
            message: request.message.clone(),
            attachments: media::views(&attachments),
            mentions: parse_mentions(&request.message, &chat, &who.user_id),
            sent_at: now_millis(),
            reply_to: reply_to.clone(),
            edited_at: None,
            deleted: None,
            reactions: Vec::new(),
            updated_seq: None,
        };
        let out = message_outgoing(&message);
        let audience = Audience { users: chat.members.clone(), except: Some(who) };
        let entries = inbox_entries(ctx, &out, &audience, &devices);
        // Small chats get their inbox entries in the same transaction as the
        // message; larger ones right after (a retry with the same
        // clientMessageId completes them if this invocation dies in between).
        let inline = Store::append_actions(&message, &attachments) + entries.len() <= MAX_TRANSACTION_ACTIONS;
        let in_transaction: Option<&[InboxEntry]> = inline.then_some(&entries);
        let accepted_expires_at = message.sent_at / 1000 + ctx.config.inbox_retention.as_secs();
        match ctx.store.append_message(&chat, &message, &attachments, accepted_expires_at, in_transaction).await? {
            AppendOutcome::Appended => {
                if !inline {
                    ctx.store.put_inbox_entries(&entries).await?;
                    ctx.store.inbox_written(&chat.chat_id, &who.user_id, &request.client_message_id).await?;
                }
                post_live(ctx, &[(&audience, &out)]).await?;
                return Ok(send_result(&message, false));
            }
            AppendOutcome::Duplicate => return redeliver(ctx, who, &request).await,
            AppendOutcome::ChatChanged => {
                cached_devices = Some((chat.members, devices));
                backoff(attempt).await;
            }
        }
    }
    warn!(chat_id = %request.chat_id, "gave up taking the next seq");
    Err(AppError::Contention)
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
        snippet: quoted.message.chars().take(QUOTE_SNIPPET_CHARS).collect(),
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

/// A retry of an accepted message: finish only what the first attempt may not
/// have, and answer with the original id and seq. Inbox entries not yet
/// written are written; otherwise the live devices whose entry is still
/// unacknowledged get it posted again (the first attempt may have died before
/// posting), and a device that acknowledged it gets nothing — a late retry
/// never brings an acknowledged message back.
async fn redeliver(ctx: &AppContext, who: &Identity, request: &SendMessageRequest) -> Result<ServerFrame, AppError> {
    let accepted =
        ctx.store.find_accepted(&request.chat_id, &who.user_id, &request.client_message_id).await?.ok_or(AppError::Contention)?;
    let message = ctx.store.get_message(&accepted.chat_id, accepted.seq).await?.ok_or(AppError::Contention)?;
    let chat = ctx.store.get_chat(&message.chat_id).await?.ok_or(AppError::NotMember)?;
    // Whoever was a member when the message was accepted gets it, even if
    // removed since; whoever joined later does not.
    let recipients: BTreeSet<String> =
        ctx.store.memberships_of_chat(&chat.chat_id).await?.into_iter().filter(|m| m.sees(message.seq)).map(|m| m.user_id).collect();
    let audience = Audience { users: recipients.into_iter().collect(), except: Some(who) };
    let out = message_outgoing(&message);
    if !accepted.inbox_written {
        super::publish(ctx, &[(&audience, &out)]).await?;
        ctx.store.inbox_written(&message.chat_id, &who.user_id, &request.client_message_id).await?;
        info!(chat_id = %message.chat_id, seq = message.seq, "duplicate send completed its inbox entries");
        return Ok(send_result(&message, true));
    }
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
