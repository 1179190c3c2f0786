//! The HTTP API's reads: message history with cursor pagination by seq, the
//! chat list with previews, chat details and user profiles. Every read is
//! limited to what the caller may see: a member sees messages after they
//! joined, a removed member up to their removal.

use crate::context::AppContext;
use crate::error::AppError;
use crate::messaging::chat_list::{after, decode_cursor, encode_cursor};
use crate::messaging::chat_summaries;
use crate::messaging::presence::presence_of;
use crate::messaging::reads::current_chats;

use crate::model::{Chat, ChatEntry, Membership};
use crate::protocol::{AvatarDownload, ChatDetails, ChatSummary, ChatsPage, MessagePreview, MessageView, MessagesPage, UserProfile};

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
/// A page holds up to `limit` seqs: messages (each as it is now, or, for a
/// removed member, as it was at their removal), the changes between them,
/// and the seqs of messages the caller deleted for themself.
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
    let mut entries = Vec::new();
    let now = crate::time::now_millis();
    for (from, to) in ranges {
        if entries.len() > limit {
            break;
        }
        let asked = limit + 1 - entries.len();
        let read = ctx.store.entries_between(chat_id, from, to, ascending, asked).await?;
        let covered = match (ascending, read.len() == asked) {
            (_, false) => (from, to),
            (true, true) => (from, read.last().map_or(to, ChatEntry::seq)),
            (false, true) => (read.last().map_or(from, ChatEntry::seq), to),
        };
        for hole in crate::messaging::holes::open_holes(&read, covered, &chat, now) {
            ctx.store.fill_hole(chat_id, hole.seq, hole.events, hole.message, now).await?;
        }
        entries.extend(read);
    }
    let has_more = entries.len() > limit;
    entries.truncate(limit);
    if !ascending {
        entries.reverse();
    }
    let until = membership.visible_until(u64::MAX);
    let mut page = MessagesPage { chat_id: chat_id.to_owned(), messages: Vec::new(), events: Vec::new(), hidden: Vec::new(), has_more };
    for entry in entries {
        match entry {
            ChatEntry::Message(message) if membership.has_hidden(message.view.seq) => page.hidden.push(message.view.seq),
            ChatEntry::Message(message) => page.messages.push(message.view_at(until)),
            // A change to a message from before the caller joined comes without its content.
            ChatEntry::Change { change, .. } if !membership.sees(change.target_seq) => {
                page.events.push(crate::messaging::changes::without_content(&change));
            }
            ChatEntry::Change { change, .. } => page.events.push(change),
            ChatEntry::Hole { .. } => {}
        }
    }
    // What was said of messages deleted since (edits, reactions, quotes) is not served.
    crate::messaging::deleted::redact_page(ctx, &mut page).await?;
    Ok(page)
}

pub fn page_limit(asked: Option<usize>, default: usize, max: usize) -> Result<usize, AppError> {
    match asked {
        None => Ok(default),
        Some(n) if (1..=max).contains(&n) => Ok(n),
        Some(_) => Err(AppError::invalid(format!("limit must be between 1 and {max}"))),
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

/// Fills in each chat's last visible message, as it is now (one
/// BatchGetItem per 100 chats; one more for removed members' chats whose
/// last seq is a change).
async fn add_previews(ctx: &AppContext, chats: &mut [ChatSummary]) -> Result<(), AppError> {
    let mut wanted: Vec<(String, u64)> =
        chats.iter().filter(|c| c.last_seq > c.joined_at_seq).map(|c| (c.chat_id.clone(), c.preview_seq.unwrap_or(c.last_seq))).collect();
    let mut found: Vec<ChatEntry> = Vec::new();
    for _ in 0..2 {
        let entries = ctx.store.entries_by_key(&wanted).await?;
        wanted = entries
            .iter()
            .filter_map(|e| match e {
                ChatEntry::Change { change, last_message_seq, .. } if *last_message_seq > 0 => {
                    Some((change.chat_id.clone(), *last_message_seq))
                }
                _ => None,
            })
            .collect();
        found.extend(entries);
        if wanted.is_empty() {
            break;
        }
    }
    for chat in chats.iter_mut() {
        let joined = chat.joined_at_seq;
        chat.last_message = found
            .iter()
            .filter_map(|e| match e {
                ChatEntry::Message(m) if m.view.chat_id == chat.chat_id && m.view.seq > joined && m.view.seq <= chat.last_seq => Some(m),
                _ => None,
            })
            .max_by_key(|m| m.view.seq)
            .map(|m| preview(&m.view_at(chat.removed_at_seq.unwrap_or(u64::MAX))));
    }
    Ok(())
}

fn preview(message: &MessageView) -> MessagePreview {
    MessagePreview {
        seq: message.seq,
        sender_id: message.sender_id.clone(),
        // An envelope cut short could not be decrypted: the whole of it, for the client.
        text: if message.encrypted { message.message.clone() } else { message.message.chars().take(PREVIEW_CHARS).collect() },
        encrypted: message.encrypted,
        attachment_count: message.attachments.len(),
        sent_at: message.sent_at,
        deleted: message.deleted.is_some(),
        edited: message.edited_at.is_some(),
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

/// How many chats the caller shares with `user_id`, when the caller may see
/// their profile: themself, or someone they share a chat with who accepted
/// it and does not block them; anyone else is indistinguishable from a user
/// that does not exist.
async fn profile_visible(ctx: &AppContext, caller: &str, user_id: &str) -> Result<usize, AppError> {
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
    Ok(chats_in_common)
}

/// `GET /users/{userId}`: presence, chats in common and the profile.
pub async fn user_profile(ctx: &AppContext, caller: &str, user_id: &str) -> Result<UserProfile, AppError> {
    let chats_in_common = profile_visible(ctx, caller, user_id).await?;
    let presence = presence_of(ctx, caller, &[user_id.to_owned()]).await?.remove(0);
    let profile = ctx.store.profiles_of(&[user_id.to_owned()]).await?.remove(user_id).unwrap_or_default();
    Ok(UserProfile {
        presence,
        chats_in_common,
        display_name: profile.display_name,
        about: profile.about,
        avatar: profile.avatar.as_ref().map(crate::messaging::profile::avatar_view),
    })
}

/// `GET /users/{userId}/avatar`: a presigned download of the user's avatar,
/// for whoever may see their profile.
pub async fn avatar_download(ctx: &AppContext, caller: &str, user_id: &str) -> Result<AvatarDownload, AppError> {
    profile_visible(ctx, caller, user_id).await?;
    let profile = ctx.store.profiles_of(&[user_id.to_owned()]).await?.remove(user_id).unwrap_or_default();
    let avatar = profile.avatar.ok_or_else(|| AppError::NotFound(format!("{user_id} has no avatar")))?;
    let ttl = ctx.config.download_url_ttl;
    let file_name = format!("{user_id}.{}", avatar.content_type.rsplit('/').next().unwrap_or("img"));
    let download = ctx
        .media
        .presign_get(
            crate::ports::MediaKind::Avatar,
            &avatar.attachment_id,
            &avatar.content_type,
            crate::media::content_disposition(&file_name),
            ttl,
        )
        .await?;
    Ok(AvatarDownload {
        avatar: crate::messaging::profile::avatar_view(&avatar),
        url: download.url,
        expires_at: crate::time::now_millis() + ttl.as_millis() as u64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_default_and_are_bounded() {
        assert_eq!(page_limit(None, 50, 100).unwrap(), 50);
        assert_eq!(page_limit(Some(100), 50, 100).unwrap(), 100);
        assert!(page_limit(Some(0), 50, 100).is_err());
        assert!(page_limit(Some(101), 50, 100).is_err());
    }
}
