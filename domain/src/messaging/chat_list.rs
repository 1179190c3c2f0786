//! The chat list's order and its paging cursor, for `listChats` and `GET /chats`
//! alike: most recently active first, then by id.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::error::AppError;
use crate::protocol::ChatSummary;

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
            encrypted: false,
            joined_at_seq: 0,
            last_seq: 0,
            last_active_at: 1_700_000_000_123,
            last_read: 0,
            unread_count: 0,
            mention_count: 0,
            removed_at_seq: None,
            request: false,
            muted: false,
            last_message: None,
            peer_name: None,
            peer_avatar: None,
            peer: None,
            preview_seq: None,
        };
        assert_eq!(decode_cursor(&encode_cursor(&summary)).unwrap(), (1_700_000_000_123, "dm-a-b".to_owned()));
        assert!(decode_cursor("!!!").is_err());
        assert!(decode_cursor(&URL_SAFE_NO_PAD.encode("no-dot")).is_err());
    }
}
