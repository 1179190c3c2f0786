//! A device's inbox: `sync` replays it, `ack` empties it.

use std::collections::BTreeSet;

use crate::auth::Identity;
use crate::context::AppContext;
use crate::error::AppError;
use crate::ids::{self, device_key};
use crate::model::InboxEntry;
use crate::ports::{MAX_FRAME_BYTES, PostOutcome};
use crate::protocol::{ServerFrame, SyncRequest};
use crate::time::now_secs;

pub const MAX_ACK_BATCH: usize = 100;
pub const DEFAULT_SYNC_LIMIT: usize = 500;
pub const MAX_SYNC_LIMIT: usize = 1000;
/// Inbox items read per Query while draining.
const INBOX_PAGE: usize = 100;

pub async fn ack(ctx: &AppContext, who: &Identity, entry_ids: Vec<String>) -> Result<ServerFrame, AppError> {
    if entry_ids.is_empty() || entry_ids.len() > MAX_ACK_BATCH {
        return Err(AppError::invalid(format!("ack 1 to {MAX_ACK_BATCH} ids")));
    }
    for id in &entry_ids {
        ids::check_id("an acknowledged id", id)?;
    }
    let unique: Vec<String> = entry_ids.into_iter().collect::<BTreeSet<_>>().into_iter().collect();
    ctx.store.delete_inbox_entries(&device_key(&who.user_id, &who.device_id), &unique).await?;
    Ok(ServerFrame::Acked { count: unique.len() })
}

/// Posts the device's inbox to its connection, ordered by chat, then seq
/// (messages before the events that follow them), in frames below API
/// Gateway's post limit.
pub async fn sync(ctx: &AppContext, who: &Identity, connection_id: &str, request: SyncRequest) -> Result<ServerFrame, AppError> {
    let limit = request.limit.unwrap_or(DEFAULT_SYNC_LIMIT);
    if limit == 0 || limit > MAX_SYNC_LIMIT {
        return Err(AppError::invalid(format!("limit must be 1-{MAX_SYNC_LIMIT}")));
    }
    if let Some(cursor) = &request.cursor {
        ids::check_id("cursor", cursor).map_err(|_| AppError::invalid("cursor is not one a synced reply returned"))?;
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
    // What was said of messages deleted since the entries were written is not served.
    super::deleted::redact_entries(ctx, &mut entries).await?;
    entries.sort_by(|a, b| (&a.chat_id, a.seq, !a.is_message(), &a.entry_id).cmp(&(&b.chat_id, b.seq, !b.is_message(), &b.entry_id)));
    let delivered = entries.len();
    for batch in sync_batches(&entries, MAX_FRAME_BYTES) {
        if ctx.connections.post(connection_id, &batch).await != PostOutcome::Delivered {
            return Err(AppError::invalid("this connection is closed"));
        }
    }
    Ok(ServerFrame::Synced { delivered, cursor })
}

/// `{"type":"syncBatch","frames":[...]}` frames of consecutive entries, each
/// under `max_bytes`. Entries hold their frames as JSON already.
fn sync_batches(entries: &[InboxEntry], max_bytes: usize) -> Vec<String> {
    const OPEN: &str = r#"{"type":"syncBatch","frames":["#;
    let mut batches = Vec::new();
    let mut current = String::from(OPEN);
    for entry in entries {
        if current.len() > OPEN.len() && current.len() + entry.frame.len() + 3 > max_bytes {
            current.push_str("]}");
            batches.push(std::mem::replace(&mut current, String::from(OPEN)));
        }
        if current.len() > OPEN.len() {
            current.push(',');
        }
        current.push_str(&entry.frame);
    }
    if current.len() > OPEN.len() {
        current.push_str("]}");
        batches.push(current);
    }
    batches
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::EntryKind;
    use serde_json::Value;

    fn entry(seq: u64, text_len: usize) -> InboxEntry {
        InboxEntry {
            device_key: "u#d".into(),
            entry_id: format!("m{seq:04}"),
            chat_id: "c".into(),
            seq,
            kind: EntryKind::NewMessage,
            sender_id: Some("a".into()),
            frame: serde_json::json!({"type": "newMessage", "seq": seq, "message": "x".repeat(text_len)}).to_string(),
            expires_at: 0,
            discarded: false,
        }
    }

    #[test]
    fn sync_batches_are_valid_json_in_order_and_under_the_limit() {
        let entries: Vec<_> = (1..=40).map(|seq| entry(seq, 10_000)).collect();
        let batches = sync_batches(&entries, MAX_FRAME_BYTES);
        assert!(batches.len() > 1);
        let mut seqs = Vec::new();
        for batch in &batches {
            assert!(batch.len() <= MAX_FRAME_BYTES, "batch of {} bytes", batch.len());
            let value: Value = serde_json::from_str(batch).unwrap();
            assert_eq!(value["type"], "syncBatch");
            seqs.extend(value["frames"].as_array().unwrap().iter().map(|f| f["seq"].as_u64().unwrap()));
        }
        assert_eq!(seqs, (1..=40).collect::<Vec<_>>());
        assert!(sync_batches(&[], MAX_FRAME_BYTES).is_empty());
    }
}
