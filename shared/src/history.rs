//! The HTTP API's reads: message history with cursor pagination by seq, the
//! chat list with previews, chat details and user profiles. Every read is
//! limited to what the caller may see: a member sees messages after they
//! joined, a removed member up to their removal.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::context::AppContext;
use crate::error::AppError;
use crate::messaging::chat_summaries;
use crate::messaging::presence::presence_of;
use crate::messaging::reads::current_chats;
use crate::protocol::{ChatDetails, ChatSummary, ChatsPage, MessagePreview, MessageView, MessagesPage, UserProfile};
use crate::store::{Chat, Membership};

pub const DEFAULT_MESSAGES_PAGE: usize = 50;
pub const MAX_MESSAGES_PAGE: usize = 100;
pub const DEFAULT_CHATS_PAGE: usize = 20;
pub const MAX_CHATS_PAGE: usize = 100;
const PREVIEW_CHARS: usize = 100;

/// `?before=&after=&limit=` of `GET /chats/{chatId}/messages`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HistoryQuery {
    /// Only messages with a smaller seq (paging back as the user scrolls up).
    pub before: Option<u64>,
    /// Only messages with a greater seq (catching up from a gap, oldest first).
    pub after: Option<u64>,
    pub limit: Option<usize>,
}

/// One page of history in ascending seq order. With `after`, the page starts
/// right after it; otherwise it ends right before `before` (or at the newest).
pub async fn messages_page(ctx: &AppContext, user_id: &str, chat_id: &str, query: HistoryQuery) -> Result<MessagesPage, AppError> {
    let limit = page_limit(query.limit, DEFAULT_MESSAGES_PAGE, MAX_MESSAGES_PAGE)?;
    let (membership, chat) = member_of(ctx, user_id, chat_id).await?;
    let low = query.after.map_or(0, |after| after.saturating_add(1));
    let high = query.before.map_or(u64::MAX, |before| before.saturating_sub(1));
    // What the caller may see, within the asked window: one range per
    // membership (a member removed and added back has several).
    let mut ranges: Vec<(u64, u64)> = membership
        .visible_ranges(chat.seq)
        .into_iter()
        .map(|(from, to)| (from.max(low), to.min(high)))
        .filter(|(from, to)| from <= to)
        .collect();
    let ascending = query.after.is_some();
    if !ascending {
        ranges.reverse();
    }
    let mut messages = Vec::new();
    for (from, to) in ranges {
        if messages.len() > limit {
            break;
        }
        messages.extend(ctx.store.messages_between(chat_id, from, to, ascending, limit + 1 - messages.len()).await?);
    }
    let has_more = messages.len() > limit;
    messages.truncate(limit);
    if !ascending {
        messages.reverse();
    }
    Ok(MessagesPage { chat_id: chat_id.to_owned(), messages, has_more })
}

pub fn page_limit(asked: Option<usize>, default: usize, max: usize) -> Result<usize, AppError> {
    match asked {
        None => Ok(default),
        Some(n) if (1..=max).contains(&n) => Ok(n),
        Some(_) => Err(AppError::invalid(format!("limit must be between 1 and {max}"))),
    }
}

/// The position after a chat in the list's order (activity, then id).
pub(crate) fn encode_cursor(summary: &ChatSummary) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}.{}", summary.last_active_at, summary.chat_id))
}

pub(crate) fn decode_cursor(cursor: &str) -> Result<(u64, String), AppError> {
    let bad = || AppError::invalid("cursor is not one this API returned");
    let text = String::from_utf8(URL_SAFE_NO_PAD.decode(cursor).map_err(|_| bad())?).map_err(|_| bad())?;
    let (at, chat_id) = text.split_once('.').ok_or_else(bad)?;
    Ok((at.parse().map_err(|_| bad())?, chat_id.to_owned()))
}

/// Whether a chat comes after the cursor's position in the list's order.
pub(crate) fn after(summary: &ChatSummary, position: Option<&(u64, String)>) -> bool {
    match position {
        None => true,
        Some((at, id)) => summary.last_active_at < *at || (summary.last_active_at == *at && summary.chat_id > *id),
    }
}

/// `GET /chats`: the caller's chats, most recently active first, with previews.
/// A chat whose activity changes between pages moves to the top, where a
/// refreshed first page finds it.
pub async fn chats_page(ctx: &AppContext, user_id: &str, cursor: Option<&str>, limit: Option<usize>) -> Result<ChatsPage, AppError> {
    let limit = page_limit(limit, DEFAULT_CHATS_PAGE, MAX_CHATS_PAGE)?;
    let position = cursor.map(decode_cursor).transpose()?;
    let all = chat_summaries(ctx, user_id).await?;
    let mut rest = all.into_iter().filter(|s| after(s, position.as_ref()));
    let mut chats: Vec<ChatSummary> = rest.by_ref().take(limit).collect();
    let next_cursor = match rest.next() {
        Some(_) => chats.last().map(encode_cursor),
        None => None,
    };
    add_previews(ctx, &mut chats).await?;
    crate::messaging::profile::add_peer_names(ctx, &mut chats).await?;
    Ok(ChatsPage { chats, next_cursor })
}

/// Fills in each chat's last visible message (one BatchGetItem per 100 chats).
async fn add_previews(ctx: &AppContext, chats: &mut [ChatSummary]) -> Result<(), AppError> {
    let keys: Vec<(String, u64)> = chats.iter().filter(|c| c.last_seq > c.joined_at_seq).map(|c| (c.chat_id.clone(), c.last_seq)).collect();
    let messages = ctx.store.messages_by_key(&keys).await?;
    for chat in chats.iter_mut() {
        chat.last_message = messages.iter().find(|m| m.chat_id == chat.chat_id && m.seq == chat.last_seq).map(preview);
    }
    Ok(())
}

fn preview(message: &MessageView) -> MessagePreview {
    MessagePreview {
        seq: message.seq,
        sender_id: message.sender_id.clone(),
        text: message.message.chars().take(PREVIEW_CHARS).collect(),
        attachment_count: message.attachments.len(),
        sent_at: message.sent_at,
    }
}

/// The caller's membership (present or former) and the chat; a chat that does
/// not exist and one the caller was never in look the same.
async fn member_of(ctx: &AppContext, user_id: &str, chat_id: &str) -> Result<(Membership, Chat), AppError> {
    let membership = ctx.store.membership(user_id, chat_id).await?.ok_or(AppError::NotMember)?;
    let chat = ctx.store.get_chat(chat_id).await?.ok_or(AppError::NotMember)?;
    Ok((membership, chat))
}

/// `GET /chats/{chatId}`: for anyone who is or was a member.
pub async fn chat_details(ctx: &AppContext, user_id: &str, chat_id: &str) -> Result<ChatDetails, AppError> {
    let (membership, chat) = member_of(ctx, user_id, chat_id).await?;
    let mut summary = crate::messaging::reads::summary(&chat, &membership);
    add_previews(ctx, std::slice::from_mut(&mut summary)).await?;
    crate::messaging::profile::add_peer_names(ctx, std::slice::from_mut(&mut summary)).await?;
    let admins = membership.admins_at_removal.unwrap_or(chat.admins);
    Ok(ChatDetails { summary, admins, created_by: chat.created_by, created_at: chat.created_at })
}

/// `GET /users/{userId}`: the caller themself, or someone they share a chat
/// with; anyone else is indistinguishable from a user that does not exist.
pub async fn user_profile(ctx: &AppContext, caller: &str, user_id: &str) -> Result<UserProfile, AppError> {
    crate::ids::check_id("userId", user_id)?;
    // Seen only through chats they accepted (a request shows nothing of its recipient).
    let chats_in_common = current_chats(ctx, caller).await?.iter().filter(|c| c.accepted_members().any(|m| m == user_id)).count();
    // Someone who blocked the caller looks like a stranger to them.
    let blocked = caller != user_id
        && chats_in_common > 0
        && !crate::messaging::blocking::blockers_of(ctx, &[user_id.to_owned()], caller).await?.is_empty();
    if (chats_in_common == 0 || blocked) && caller != user_id {
        return Err(AppError::NotFound(format!("no user {user_id} among the people you share a chat with")));
    }
    let presence = presence_of(ctx, caller, &[user_id.to_owned()]).await?.remove(0);
    let profile = ctx.store.profiles_of(&[user_id.to_owned()]).await?.remove(user_id).unwrap_or_default();
    Ok(UserProfile { presence, chats_in_common, display_name: profile.display_name, about: profile.about })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let summary = ChatSummary {
            chat_id: "dm-a-b".into(),
            kind: crate::protocol::ChatKind::Direct,
            name: None,
            description: None,
            participants: vec![],
            joined_at_seq: 0,
            last_seq: 0,
            last_active_at: 1_700_000_000_123,
            last_read: 0,
            unread_count: 0,
            mention_count: 0,
            removed_at_seq: None,
            request: false,
            last_message: None,
            peer_name: None,
            peer: None,
        };
        assert_eq!(decode_cursor(&encode_cursor(&summary)).unwrap(), (1_700_000_000_123, "dm-a-b".to_owned()));
        assert!(decode_cursor("!!!").is_err());
        assert!(decode_cursor(&URL_SAFE_NO_PAD.encode("no-dot")).is_err());
    }

    #[test]
    fn limits_default_and_are_bounded() {
        assert_eq!(page_limit(None, 50, 100).unwrap(), 50);
        assert_eq!(page_limit(Some(100), 50, 100).unwrap(), 100);
        assert!(page_limit(Some(0), 50, 100).is_err());
        assert!(page_limit(Some(101), 50, 100).is_err());
    }
}
