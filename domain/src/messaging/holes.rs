//! Seqs that were taken and never written. With the chat's counter a send
//! takes its seq before it writes the message; one that dies in between (or
//! loses the race for its `clientMessageId`) leaves the seq empty. Whoever
//! reads past an empty seq after `HOLE_FILL_AFTER_MS` fills it with a hole,
//! which every path shows as nothing; a hole where a message was meant is
//! counted on the chat's counter so unread counts skip it.
//!
//! Which kind of take left a seq empty is read from its neighbours: every
//! entry records the changes up to its seq (`events`), so the changes among
//! the empty seqs between two entries is the difference of theirs. In a run
//! of several empty seqs the count is exact and the order is not known (it
//! never matters: unread counts need how many, not which).

use crate::model::{Chat, ChatEntry, HOLE_FILL_AFTER_MS};

/// An empty seq to fill, and what its hole records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HoleFill {
    pub seq: u64,
    /// Changes up to and including this seq.
    pub events: u64,
    /// Taken for a message (unread counts skip it).
    pub message: bool,
}

/// A known position in the chat's sequence: an entry, the chat's start, or its counter.
#[derive(Clone, Copy)]
struct Anchor {
    seq: u64,
    events: u64,
    /// Whether the seq itself holds a change (its `events` counts it).
    change: bool,
    /// When it was written (0: long ago, or a hole).
    at: u64,
}

/// The empty seqs of `read` — entries of `chat` (read with its counter)
/// that are every entry with seq in `covered`, in any order — past the
/// bound at `now_ms`. Empty seqs below the first entry are left to a read
/// that reaches the one before them.
pub fn open_holes(read: &[ChatEntry], covered: (u64, u64), chat: &Chat, now_ms: u64) -> Vec<HoleFill> {
    // Without a counter, seqs were taken in the send's transaction: no gaps.
    let Some(taken_at) = chat.taken_at else { return Vec::new() };
    let (from, to) = (covered.0, covered.1.min(chat.seq));
    if from > to {
        return Vec::new();
    }
    let mut anchors: Vec<Anchor> = read
        .iter()
        .filter(|e| (from..=to).contains(&e.seq()))
        .map(|e| Anchor { seq: e.seq(), events: e.events(), change: e.is_change(), at: e.at() })
        .collect();
    anchors.sort_by_key(|a| a.seq);
    if from <= 1 {
        anchors.insert(0, Anchor { seq: 0, events: 0, change: false, at: 0 });
    }
    let mut holes = Vec::new();
    for pair in anchors.windows(2) {
        let (low, high) = (pair[0], pair[1]);
        if high.seq > low.seq + 1 {
            let changes = high.events.saturating_sub(low.events + u64::from(high.change));
            holes.extend(run(low, high.seq - 1, changes, high.at, now_ms));
        }
    }
    // Up to the counter: the last seqs taken, not yet written.
    if to == chat.seq
        && let Some(&last) = anchors.last()
        && last.seq < chat.seq
    {
        holes.extend(run(last, chat.seq, chat.events.saturating_sub(last.events), taken_at, now_ms));
    }
    holes
}

/// The empty seqs after `low` up to `high_seq`, `changes` of them changes,
/// if the entry after them was written long enough ago (its seq was taken
/// after theirs).
fn run(low: Anchor, high_seq: u64, changes: u64, after_at: u64, now_ms: u64) -> Vec<HoleFill> {
    if after_at != 0 && now_ms.saturating_sub(after_at) < HOLE_FILL_AFTER_MS {
        return Vec::new();
    }
    let len = high_seq - low.seq;
    let messages = len - changes.min(len);
    (1..=len)
        .map(|i| {
            let message = i <= messages;
            HoleFill { seq: low.seq + i, events: low.events + if message { 0 } else { i - messages }, message }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Message;
    use crate::protocol::{Change, ChatKind, MessageChange, MessageView};

    const NOW: u64 = 1_800_000_000_000;
    const OLD: u64 = NOW - HOLE_FILL_AFTER_MS - 1;

    fn chat(seq: u64, events: u64, taken_at: Option<u64>) -> Chat {
        Chat {
            chat_id: "c".into(),
            kind: ChatKind::Group,
            name: None,
            description: None,
            members: vec!["a".into()],
            admins: vec![],
            created_by: "a".into(),
            created_at: 0,
            seq,
            version: 1,
            last_active_at: 0,
            requested: vec![],
            blocked_by: vec![],
            events,
            last_message_seq: None,
            last_join_seq: None,
            encrypted: false,
            holes: vec![],
            taken_at,
        }
    }

    fn message(seq: u64, events: u64, at: u64) -> ChatEntry {
        let view = MessageView {
            chat_id: "c".into(),
            message_id: format!("m{seq}"),
            seq,
            sender_id: "a".into(),
            sender_device: "d".into(),
            client_message_id: format!("x{seq}"),
            message: "hi".into(),
            encrypted: false,
            attachments: vec![],
            mentions: vec![],
            sent_at: at,
            reply_to: None,
            edited_at: None,
            deleted: None,
            reactions: vec![],
            updated_seq: None,
        };
        ChatEntry::Message(Box::new(Message::for_test(view, events)))
    }

    fn change(seq: u64, events: u64, at: u64) -> ChatEntry {
        let change = MessageChange {
            event_id: format!("e{seq}"),
            chat_id: "c".into(),
            seq,
            target_seq: 1,
            message_id: "m1".into(),
            target_sender_id: "a".into(),
            user_id: "a".into(),
            at,
            change: Change::Reacted { emoji: Some("👍".into()) },
            hidden: false,
        };
        ChatEntry::Change { change, last_message_seq: 1, events }
    }

    fn fill(seq: u64, events: u64, message: bool) -> HoleFill {
        HoleFill { seq, events, message }
    }

    #[test]
    fn a_message_that_was_never_written_is_a_message_hole_once_the_next_is_old() {
        let read = [message(1, 0, OLD), message(3, 0, OLD)];
        assert_eq!(open_holes(&read, (1, 3), &chat(3, 0, Some(OLD)), NOW), vec![fill(2, 0, true)]);
        // The message after it was written just now: the sender of 2 may still be writing it.
        let read = [message(1, 0, OLD), message(3, 0, NOW - 5)];
        assert!(open_holes(&read, (1, 3), &chat(3, 0, Some(NOW - 5)), NOW).is_empty());
    }

    #[test]
    fn a_change_that_was_never_written_is_told_by_the_events_around_it() {
        // 3 is a message after one change: the empty 2 was a change.
        let read = [message(1, 0, OLD), message(3, 1, OLD)];
        assert_eq!(open_holes(&read, (1, 3), &chat(3, 1, Some(OLD)), NOW), vec![fill(2, 1, false)]);
        // 3 is a change itself (its events count it): 2 was a message.
        let read = [message(1, 0, OLD), change(3, 1, OLD)];
        assert_eq!(open_holes(&read, (1, 3), &chat(3, 1, Some(OLD)), NOW), vec![fill(2, 0, true)]);
    }

    #[test]
    fn the_last_seqs_are_measured_against_the_counter() {
        let read = [message(1, 0, OLD)];
        assert_eq!(open_holes(&read, (1, 3), &chat(3, 1, Some(OLD)), NOW), vec![fill(2, 0, true), fill(3, 1, false)]);
        assert!(open_holes(&read, (1, 3), &chat(3, 1, Some(NOW - 1)), NOW).is_empty());
        // A page that stops below the counter says nothing of the seqs above it.
        assert!(open_holes(&read, (1, 2), &chat(3, 1, Some(OLD)), NOW).is_empty());
    }

    #[test]
    fn a_run_counts_its_changes_exactly_and_seqs_below_the_page_wait_for_their_neighbour() {
        // 2..=5 empty, 6 a message after two changes: two message holes, two change holes.
        let read = [message(1, 0, OLD), message(6, 2, OLD)];
        let holes = open_holes(&read, (1, 6), &chat(6, 2, Some(OLD)), NOW);
        assert_eq!(holes, vec![fill(2, 0, true), fill(3, 0, true), fill(4, 1, false), fill(5, 2, false)]);
        // From 3 on, nothing is known of what comes before 4.
        let read = [message(4, 0, OLD)];
        assert!(open_holes(&read, (3, 4), &chat(4, 0, Some(OLD)), NOW).is_empty());
        // From the chat's start it is: seq 0 has no changes.
        let read = [message(3, 0, OLD)];
        assert_eq!(open_holes(&read, (1, 3), &chat(3, 0, Some(OLD)), NOW), vec![fill(1, 0, true), fill(2, 0, true)]);
    }

    #[test]
    fn a_chat_without_a_counter_has_no_holes_and_filled_ones_are_not_refilled() {
        let read = [message(1, 0, OLD), message(3, 0, OLD)];
        assert!(open_holes(&read, (1, 3), &chat(3, 0, None), NOW).is_empty());
        let read = [message(1, 0, OLD), ChatEntry::Hole { seq: 2, events: 0, message: true }, message(3, 0, OLD)];
        assert!(open_holes(&read, (1, 3), &chat(3, 0, Some(OLD)), NOW).is_empty());
    }
}
