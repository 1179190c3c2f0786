//! A message deleted for everyone is gone from every path that serves what
//! was said about it.
//!
//! Deleting blanks the message's own item (text, attachments, reactions,
//! versions: `Store::append_change`) and turns the inbox entries of devices
//! that have not received it into tombstones (`changes::after_deletion`).
//! What was written elsewhere before the deletion — the chat's change items
//! (an edit's text, a reaction's emoji), replies' quotes, the frames waiting
//! in offline devices' inboxes, pushes not sent yet — is redacted where it is
//! served, by looking its target up: one BatchGetItem per page served, and
//! none for a page that names no other message. Every path that serves such
//! content goes through here: history (`history::messages_page`), `sync`
//! (`inbox::sync`) and pushes (`push::push_offline`).

use std::collections::BTreeSet;

use crate::context::AppContext;
use crate::error::AppError;
use crate::model::{ChatEntry, EntryKind, InboxEntry};
use crate::protocol::{Change, MessageChange, MessageView, MessagesPage, Quote, ServerFrame};

/// A message of a chat: its chat and seq.
pub(crate) type MessageKey = (String, u64);

/// Which of the messages at `keys` are deleted for everyone.
pub(crate) async fn deleted_among(ctx: &AppContext, keys: BTreeSet<MessageKey>) -> Result<BTreeSet<MessageKey>, AppError> {
    if keys.is_empty() {
        return Ok(BTreeSet::new());
    }
    let keys: Vec<MessageKey> = keys.into_iter().collect();
    Ok(ctx
        .store
        .entries_by_key(&keys)
        .await?
        .into_iter()
        .filter_map(|entry| match entry {
            ChatEntry::Message(m) if m.is_deleted() => Some((m.view.chat_id.clone(), m.view.seq)),
            _ => None,
        })
        .collect())
}

/// The message a change is about, when the change carries content of it
/// (an edit's text, a reaction's emoji).
fn content_target(change: &MessageChange) -> Option<MessageKey> {
    let carries = match &change.change {
        Change::Edited { message } => message.is_some(),
        Change::Reacted { emoji } => emoji.is_some(),
        Change::Deleted => false,
    };
    carries.then(|| (change.chat_id.clone(), change.target_seq))
}

/// A change to a message deleted since, as everyone gets it: its seq (so
/// seqs stay gapless), not its content — the shape a member who may not see
/// the message gets (`hidden`).
fn redact_change(change: &mut MessageChange) {
    *change = super::changes::without_content(change);
}

fn redact_quote(quote: &mut Quote) {
    quote.deleted = true;
    quote.snippet.clear();
    quote.attachment_count = 0;
}

/// History: the page's changes to, and quotes of, messages deleted since.
pub(crate) async fn redact_page(ctx: &AppContext, page: &mut MessagesPage) -> Result<(), AppError> {
    let chat_id = &page.chat_id;
    // The page's own messages are as they are now; only others are looked up.
    let in_page: BTreeSet<u64> = page.messages.iter().map(|m| m.seq).collect();
    let mut deleted: BTreeSet<MessageKey> =
        page.messages.iter().filter(|m| m.deleted.is_some()).map(|m| (chat_id.clone(), m.seq)).collect();
    let named = page
        .events
        .iter()
        .filter_map(content_target)
        .chain(page.messages.iter().filter_map(|m| m.reply_to.as_ref()).map(|q| (chat_id.clone(), q.seq)))
        .filter(|(_, seq)| !in_page.contains(seq))
        .collect();
    deleted.extend(deleted_among(ctx, named).await?);
    for change in page.events.iter_mut().filter(|c| content_target(c).is_some_and(|key| deleted.contains(&key))) {
        redact_change(change);
    }
    for quote in page.messages.iter_mut().filter_map(|m| m.reply_to.as_mut()) {
        if deleted.contains(&(chat_id.clone(), quote.seq)) {
            redact_quote(quote);
        }
    }
    Ok(())
}

/// What an inbox entry's frame says about another message.
enum Mention {
    Change(MessageChange),
    Reply(Box<MessageView>),
}

impl Mention {
    fn of(entry: &InboxEntry) -> Option<(MessageKey, Self)> {
        match entry.kind {
            EntryKind::MessageChange => {
                let change: MessageChange = serde_json::from_str(&entry.frame).ok()?;
                Some((content_target(&change)?, Mention::Change(change)))
            }
            // Most messages quote nothing: only those that may are parsed.
            EntryKind::NewMessage if entry.frame.contains("\"replyTo\"") => {
                let message: MessageView = serde_json::from_str(&entry.frame).ok()?;
                let quote = message.reply_to.as_ref()?;
                Some(((message.chat_id.clone(), quote.seq), Mention::Reply(Box::new(message))))
            }
            _ => None,
        }
    }

    fn redacted_frame(self) -> String {
        match self {
            Mention::Change(mut change) => {
                redact_change(&mut change);
                ServerFrame::MessageChanged(change).to_json()
            }
            Mention::Reply(mut message) => {
                if let Some(quote) = message.reply_to.as_mut() {
                    redact_quote(quote);
                }
                ServerFrame::NewMessage(*message).to_json()
            }
        }
    }
}

/// `sync`: the frames of changes to, and replies quoting, messages deleted
/// since they were written to the inbox.
pub(crate) async fn redact_entries(ctx: &AppContext, entries: &mut [InboxEntry]) -> Result<(), AppError> {
    let mut mentions: Vec<(usize, MessageKey, Mention)> = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        if let Some((key, mention)) = Mention::of(entry) {
            mentions.push((i, key, mention));
        }
    }
    let deleted = deleted_among(ctx, mentions.iter().map(|(_, key, _)| key.clone()).collect()).await?;
    for (i, key, mention) in mentions {
        if deleted.contains(&key) {
            entries[i].frame = mention.redacted_frame();
        }
    }
    Ok(())
}
