//! Changes to sent messages: `editMessage`, `deleteMessage` (for everyone, or
//! for me) and `react`.
//!
//! A change for everyone goes through the pipeline messages go through: it
//! takes the chat's next seq in one transaction with the changed message's
//! new state (conditioned on the chat and on the message as read), lands in
//! every member device's inbox and is posted live. So `sync` and history
//! replay the same changes in the same order on every device: a client
//! applies a change to its copy of a message when the change's seq is past
//! the copy's `updatedSeq`.
//!
//! A change to a message sent before some member joined reaches that member
//! without its content (`hidden`), keeping their seqs gapless without showing
//! them what they may not see. A retried change that was applied already
//! (same text, already deleted, same emoji) takes no new seq: it answers the
//! change that did it, delivered once more to every device (inboxes
//! included, in case the first attempt stopped before them).

use std::collections::{BTreeSet, HashMap};

use tracing::info;

use super::{Audience, Outgoing, inbox_entries, new_event_id, post_live, publish};
use crate::auth::Identity;
use crate::context::AppContext;
use crate::error::AppError;
use crate::ids;
use crate::limits::Limit;
use crate::model::{
    AppendOutcome, Attachment, Chat, ChatEntry, EntryKind, InboxEntry, MAX_TRANSACTION_ACTIONS, Message, Taking, TargetChange, UserDevices,
    backoff,
};
use crate::protocol::{Change, ChatKind, DeleteMessageRequest, EditMessageRequest, MessageChange, ReactRequest, ServerFrame};
use crate::time::now_millis;

/// Edits of one message (each keeps the text it replaced, for history as it was).
pub const MAX_EDITS_PER_MESSAGE: usize = 10;
/// Messages one member may delete for themself in one chat.
pub const MAX_HIDDEN_PER_CHAT: usize = 1_000;
/// A reaction is one emoji: a family with skin tones takes ~35 bytes.
pub const MAX_EMOJI_BYTES: usize = 64;
const MAX_ATTEMPTS: usize = 12;

/// What the caller asks of a message.
enum Wanted {
    Edit(String),
    Delete,
    React(Option<String>),
}

pub async fn edit_message(ctx: &AppContext, who: &Identity, request: EditMessageRequest) -> Result<ServerFrame, AppError> {
    // (The plain limit is checked once the chat is known to be plain.)
    let max = super::encryption::max_envelope_bytes(ctx.config.max_message_bytes);
    if request.message.len() > max {
        return Err(AppError::MessageTooLong { max });
    }
    if request.message.trim().is_empty() {
        return Err(AppError::invalid("an edit needs text (delete the message instead)"));
    }
    ctx.charge(Limit::Changes, &who.user_id, 1).await?;
    apply(ctx, who, &request.chat_id, request.seq, Wanted::Edit(request.message)).await
}

pub async fn delete_message(ctx: &AppContext, who: &Identity, request: DeleteMessageRequest) -> Result<ServerFrame, AppError> {
    ctx.charge(Limit::Changes, &who.user_id, 1).await?;
    if request.for_everyone { apply(ctx, who, &request.chat_id, request.seq, Wanted::Delete).await } else { hide(ctx, who, &request).await }
}

pub async fn react(ctx: &AppContext, who: &Identity, request: ReactRequest) -> Result<ServerFrame, AppError> {
    let emoji = request.emoji.filter(|e| !e.is_empty());
    if let Some(emoji) = &emoji {
        // An encrypted chat's reaction is an envelope (checked with the chat).
        if !super::encryption::is_envelope(emoji) {
            check_emoji(emoji)?;
        } else if emoji.len() > 1024 {
            return Err(AppError::invalid("an encrypted reaction is at most 1024 bytes"));
        }
    }
    ctx.charge(Limit::Changes, &who.user_id, 1).await?;
    apply(ctx, who, &request.chat_id, request.seq, Wanted::React(emoji)).await
}

/// One emoji (a sequence of them joined, with modifiers, as one): one
/// grapheme cluster (Unicode's extended ones: what a reader sees as one
/// character), with no letters, digits alone, spaces, control or
/// bidirectional control characters.
pub fn check_emoji(emoji: &str) -> Result<(), AppError> {
    use unicode_segmentation::UnicodeSegmentation;
    let bad = || AppError::invalid(format!("emoji must be one emoji (at most {MAX_EMOJI_BYTES} bytes)"));
    let chars = emoji.chars().count();
    if emoji.len() > MAX_EMOJI_BYTES || chars > 12 || emoji.is_ascii() || emoji.graphemes(true).count() != 1 {
        return Err(bad());
    }
    // No control or bidirectional control character, as in names.
    if !emoji.chars().all(crate::text::allowed_in_name) {
        return Err(bad());
    }
    // Keycaps (1️⃣, #️⃣) start with an ASCII digit, # or *; nothing else ASCII belongs in one.
    let ascii_allowed = |c: char| c.is_ascii_digit() || c == '#' || c == '*';
    if emoji.chars().any(|c| c.is_whitespace() || (c.is_ascii() && !ascii_allowed(c)) || c.is_alphabetic()) {
        return Err(bad());
    }
    Ok(())
}

fn no_such(seq: u64) -> AppError {
    AppError::invalid(format!("no message {seq} you can see in this chat"))
}

/// What a request does to the message, once checked.
enum Plan {
    Apply(Change),
    /// Already so: the change that made it so (at this seq), if it is the caller's.
    Done(Option<u64>),
}

fn plan(ctx: &AppContext, who: &Identity, chat: &Chat, target: &Message, wanted: &Wanted, now: u64) -> Result<Plan, AppError> {
    let view = &target.view;
    let sent_ago = now.saturating_sub(view.sent_at);
    match wanted {
        Wanted::Edit(text) => {
            super::encryption::check_text_mode(chat, text, "message")?;
            if !chat.encrypted && text.len() > ctx.config.max_message_bytes {
                return Err(AppError::MessageTooLong { max: ctx.config.max_message_bytes });
            }
            if view.sender_id != who.user_id {
                return Err(AppError::Forbidden("only its sender can edit a message".into()));
            }
            if target.is_deleted() {
                return Err(AppError::invalid("the message was deleted"));
            }
            if chat.is_blocked() {
                return Err(AppError::Blocked("one of you has blocked the other: unblock to write here".into()));
            }
            if *text == view.message {
                // The edit that made it so, even if other changes came since.
                return Ok(Plan::Done(target.last_edit_seq()));
            }
            if view.message.trim().is_empty() {
                return Err(AppError::invalid("a message without text has nothing to edit"));
            }
            let window = ctx.config.edit_window;
            if sent_ago > window.as_millis() as u64 {
                return Err(AppError::TooLate(format!("a message can be edited for {} s after it was sent", window.as_secs())));
            }
            if target.edits() >= MAX_EDITS_PER_MESSAGE {
                return Err(AppError::invalid(format!("a message can be edited at most {MAX_EDITS_PER_MESSAGE} times")));
            }
            Ok(Plan::Apply(Change::Edited { message: Some(text.clone()) }))
        }
        Wanted::Delete => {
            let admin_of_group = chat.kind == ChatKind::Group && chat.is_admin(&who.user_id);
            if view.sender_id != who.user_id && !admin_of_group {
                return Err(AppError::Forbidden("only its sender, or a group admin, can delete a message for everyone".into()));
            }
            if target.is_deleted() {
                return Ok(Plan::Done(view.updated_seq));
            }
            let window = ctx.config.delete_window;
            if sent_ago > window.as_millis() as u64 {
                return Err(AppError::TooLate(format!(
                    "a message can be deleted for everyone for {} s after it was sent; delete it for yourself instead",
                    window.as_secs()
                )));
            }
            Ok(Plan::Apply(Change::Deleted))
        }
        Wanted::React(emoji) => {
            if let Some(emoji) = emoji {
                super::encryption::check_text_mode(chat, emoji, "emoji")?;
            }
            if target.is_deleted() {
                return Err(AppError::invalid("the message was deleted"));
            }
            if chat.is_blocked() {
                return Err(AppError::Blocked("one of you has blocked the other: unblock to write here".into()));
            }
            if target.reaction_of(&who.user_id) == emoji.as_deref() {
                return Ok(Plan::Done(target.reaction_seq(&who.user_id)));
            }
            Ok(Plan::Apply(Change::Reacted { emoji: emoji.clone() }))
        }
    }
}

/// The members who see the message at `seq` (all of them, unless some joined after it).
async fn members_seeing(ctx: &AppContext, chat: &Chat, seq: u64) -> Result<BTreeSet<String>, AppError> {
    if chat.all_members_see(seq) {
        return Ok(chat.members.iter().cloned().collect());
    }
    let memberships = ctx.store.memberships_of_chat(&chat.chat_id).await?;
    Ok(memberships
        .into_iter()
        .filter(|m| m.removed_at_seq.is_none() && chat.is_member(&m.user_id) && m.sees(seq))
        .map(|m| m.user_id)
        .collect())
}

/// The change as those who may not see its message get it.
pub(crate) fn without_content(change: &MessageChange) -> MessageChange {
    let content = match &change.change {
        Change::Edited { .. } => Change::Edited { message: None },
        Change::Deleted => Change::Deleted,
        Change::Reacted { .. } => Change::Reacted { emoji: None },
    };
    MessageChange { change: content, hidden: true, ..change.clone() }
}

async fn apply(ctx: &AppContext, who: &Identity, chat_id: &str, target_seq: u64, wanted: Wanted) -> Result<ServerFrame, AppError> {
    let mut cached_devices: Option<(Vec<String>, HashMap<String, UserDevices>)> = None;
    let mut cached_seeing: Option<(u64, BTreeSet<String>)> = None;
    for attempt in 0..MAX_ATTEMPTS {
        // The chat item's members are what a change needs (with the counter,
        // its seq comes from the take below; a seq with no message is refused
        // when its entry is read).
        let chat = ctx.store.get_chat_item(chat_id).await?;
        let chat = chat.filter(|c| c.is_member(&who.user_id)).ok_or(AppError::NotMember)?;
        if target_seq == 0 {
            return Err(no_such(target_seq));
        }
        let seeing = match cached_seeing.take() {
            Some((version, seeing)) if version == chat.version => seeing,
            _ => members_seeing(ctx, &chat, target_seq).await?,
        };
        if !seeing.contains(who.user_id.as_str()) {
            return Err(no_such(target_seq));
        }
        let Some(ChatEntry::Message(target)) = ctx.store.get_entry(&chat.chat_id, target_seq).await? else {
            return Err(no_such(target_seq));
        };
        let now = now_millis();
        let change = match plan(ctx, who, &chat, &target, &wanted, now)? {
            Plan::Apply(change) => change,
            Plan::Done(seq) => return done(ctx, who, &chat, &seeing, &target, seq).await,
        };
        if chat.is_requested(&who.user_id) {
            // Reacting to a request accepts it, as replying does.
            super::accept(ctx, &who.user_id, &chat.chat_id).await?;
        }
        // With the counter the seq is taken first, by one atomic update; a
        // change that then cannot apply (its target changed) leaves a hole.
        let Some(taken) = ctx.store.take_seq(&chat, Taking::Change, now).await? else {
            backoff(attempt).await;
            continue;
        };
        let change = MessageChange {
            event_id: new_event_id(),
            chat_id: chat.chat_id.clone(),
            seq: taken.seq,
            target_seq,
            message_id: target.view.message_id.clone(),
            target_sender_id: target.view.sender_id.clone(),
            user_id: who.user_id.to_string(),
            at: now,
            change,
            hidden: false,
        };
        let devices = match cached_devices.take() {
            Some((members, found)) if members == chat.members => found,
            _ => ctx.store.devices_of(&chat.members).await?,
        };
        let attachments: Vec<Attachment> = match (&change.change, target.view.attachments.is_empty()) {
            (Change::Deleted, false) => {
                let ids: Vec<String> = target.view.attachments.iter().map(|a| a.attachment_id.clone()).collect();
                ctx.store.attachments_by_id(&ids).await?
            }
            _ => Vec::new(),
        };
        let how = match &change.change {
            Change::Edited { message } => TargetChange::Edit { text: message.as_deref().unwrap_or_default() },
            Change::Deleted => TargetChange::Delete { attachments: &attachments },
            Change::Reacted { emoji } => TargetChange::React { emoji: emoji.as_deref() },
        };
        let (full, hidden) = outgoing(&change);
        let (see, not_see) = audiences(&chat, &seeing, who);
        let mut entries: Vec<InboxEntry> = inbox_entries(ctx, &full, &see, &devices);
        entries.extend(inbox_entries(ctx, &hidden, &not_see, &devices));
        let inline = crate::model::change_actions(&how) + entries.len() <= MAX_TRANSACTION_ACTIONS;
        match ctx.store.append_change(&change, &target, how, inline.then_some(&entries), taken).await? {
            AppendOutcome::Appended => {
                if !inline {
                    // A retry finds the change applied and delivers it again (`done`).
                    ctx.store.put_inbox_entries(&entries).await?;
                }
                post_live(ctx, &[(&see, &full), (&not_see, &hidden)]).await?;
                if change.change == Change::Deleted {
                    after_deletion(ctx, &chat, &target, &attachments, &devices).await?;
                }
                info!(chat_id = %chat.chat_id, seq = change.seq, target_seq, "message changed");
                return Ok(ServerFrame::MessageChanged(change));
            }
            AppendOutcome::ChatChanged => {
                ctx.store.fill_hole(&chat.chat_id, taken.seq, taken.events, false, now).await?;
                cached_devices = Some((chat.members, devices));
                cached_seeing = Some((chat.version, seeing));
                backoff(attempt).await;
            }
        }
    }
    Err(AppError::Contention)
}

fn outgoing(change: &MessageChange) -> (Outgoing, Outgoing) {
    let full = ServerFrame::MessageChanged(change.clone());
    let hidden = ServerFrame::MessageChanged(without_content(change));
    (Outgoing::event(&change.chat_id, change.seq, &full), Outgoing::event(&change.chat_id, change.seq, &hidden))
}

/// Every device of the members but the caller's own: those who see the
/// message, and those who do not.
fn audiences<'a>(chat: &Chat, seeing: &BTreeSet<String>, who: &'a Identity) -> (Audience<'a>, Audience<'a>) {
    let (see, not_see): (Vec<String>, Vec<String>) = chat.members.iter().cloned().partition(|m| seeing.contains(m));
    (Audience { users: see, except: Some(who) }, Audience { users: not_see, except: Some(who) })
}

/// A change asked for again: it is the state already. When the caller's
/// change made it so, that change goes to every device once more and is
/// the answer; otherwise the message as it is.
async fn done(
    ctx: &AppContext,
    who: &Identity,
    chat: &Chat,
    seeing: &BTreeSet<String>,
    target: &Message,
    seq: Option<u64>,
) -> Result<ServerFrame, AppError> {
    let found = match seq {
        Some(seq) => ctx.store.get_entry(&chat.chat_id, seq).await?,
        None => None,
    };
    match found {
        Some(ChatEntry::Change { change, .. }) if change.user_id == who.user_id && change.target_seq == target.view.seq => {
            let (full, hidden) = outgoing(&change);
            let (see, not_see) = audiences(chat, seeing, who);
            publish(ctx, &[(&see, &full), (&not_see, &hidden)]).await?;
            Ok(ServerFrame::MessageChanged(change))
        }
        _ => Ok(ServerFrame::MessageUnchanged { chat_id: chat.chat_id.clone(), message: Box::new(target.view_at(u64::MAX)) }),
    }
}

/// After a deletion for everyone: files no other message carries are
/// deleted (S3 object and record), and devices that have not acknowledged
/// the message get it as deleted on their next `sync`, not its text.
async fn after_deletion(
    ctx: &AppContext,
    chat: &Chat,
    target: &Message,
    attachments: &[Attachment],
    devices: &HashMap<String, UserDevices>,
) -> Result<(), AppError> {
    let orphans: Vec<String> =
        attachments.iter().filter(|a| a.carried_by_all_but(target.view.seq).is_empty()).map(|a| a.attachment_id.clone()).collect();
    if let Err(e) = crate::media::purge_deleted(ctx, crate::ports::MediaKind::Attachment, &orphans).await {
        // Marked deleted already (no one can download them); the hourly cleanup finishes.
        tracing::warn!(error = %e, "deleted message's files left for the cleanup");
    }
    let keys: Vec<(String, String)> =
        devices.values().flat_map(|u| u.devices.keys().map(|d| (ids::device_key(&u.user_id, d), target.view.message_id.clone()))).collect();
    let unacked = if keys.is_empty() { Vec::new() } else { ctx.store.inbox_keys_present(&keys).await? };
    if unacked.is_empty() {
        return Ok(());
    }
    let Some(tombstone) = ctx.store.get_message(&chat.chat_id, target.view.seq).await? else { return Ok(()) };
    let out = Outgoing {
        entry_id: tombstone.message_id.clone(),
        chat_id: chat.chat_id.clone(),
        seq: tombstone.seq,
        kind: EntryKind::NewMessage,
        sender_id: Some(tombstone.sender_id.clone()),
        frame: ServerFrame::NewMessage(tombstone).to_json(),
    };
    let entries: Vec<InboxEntry> = unacked
        .iter()
        .filter_map(|(device_key, _)| ids::parse_device_key(device_key))
        .map(|(user, device)| out.entry(ctx, &user, &device))
        .collect();
    ctx.store.put_inbox_entries(&entries).await?;
    Ok(())
}

/// Delete for me: the message is hidden from the caller's own devices (in
/// history, and on their other devices live or on `sync`); nobody else's.
async fn hide(ctx: &AppContext, who: &Identity, request: &DeleteMessageRequest) -> Result<ServerFrame, AppError> {
    let membership = ctx.store.membership(&who.user_id, &request.chat_id).await?.ok_or(AppError::NotMember)?;
    if !membership.sees(request.seq) {
        return Err(no_such(request.seq));
    }
    let Some(ChatEntry::Message(_)) = ctx.store.get_entry(&request.chat_id, request.seq).await? else {
        return Err(no_such(request.seq));
    };
    if !ctx.store.hide_message(&who.user_id, &request.chat_id, request.seq, MAX_HIDDEN_PER_CHAT).await? {
        return Err(AppError::TooManyHidden { max: MAX_HIDDEN_PER_CHAT });
    }
    let frame = ServerFrame::MessageHidden { event_id: new_event_id(), chat_id: request.chat_id.to_string(), seq: request.seq };
    let out = Outgoing::event(&request.chat_id, request.seq, &frame);
    publish(ctx, &[(&Audience { users: vec![who.user_id.to_string()], except: Some(who) }, &out)]).await?;
    Ok(frame)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reaction_is_one_emoji() {
        for ok in ["👍", "❤️", "👍🏽", "👨‍👩‍👧‍👦", "1️⃣", "🇫🇷"] {
            assert!(check_emoji(ok).is_ok(), "{ok}");
        }
        for bad in ["", "a", "ok", "👍 👍", "1", "\u{7}", "x👍", "é", &"👍".repeat(20), "👍👎", "\u{202e}👍", "👍\u{200f}"]
        {
            assert!(check_emoji(bad).is_err(), "{bad:?}");
        }
    }
}
