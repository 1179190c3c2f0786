//! Memberships table: one item per (user, chat) holding that member's own
//! state — how far they have read and received, which messages mention them,
//! and, once removed, the last seq they may see. Partitioned by user for the
//! chat list; the `byChatKeys` index lists a chat's members (keys only, so
//! the markers that change with every message are written once).

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Membership {
    pub user_id: String,
    pub chat_id: String,
    /// The chat's seq when the member joined.
    #[serde(default)]
    pub joined_at_seq: u64,
    #[serde(default)]
    pub last_read: u64,
    /// Changes (not messages) with seq up to `last_read`: unread counts skip them.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub read_events: u64,
    /// Highest seq any of the member's devices acknowledged.
    #[serde(default)]
    pub last_delivered: u64,
    /// Seqs of messages that mention this member (pruned once read).
    #[serde(default, with = "serde_dynamo::number_set", skip_serializing_if = "Vec::is_empty")]
    pub mentions: Vec<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub removed_at_seq: Option<u64>,
    /// Changes with seq up to `removed_at_seq`.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub removed_events: u64,
    /// Seqs of messages the member deleted for themself.
    #[serde(default, with = "serde_dynamo::number_set", skip_serializing_if = "Vec::is_empty")]
    pub hidden: Vec<u64>,
    /// Pushes for this chat say only that something arrived.
    #[serde(default)]
    pub muted: bool,
    /// The member deleted the chat for themself (`deleteChat`) when its last
    /// seq was this: nothing up to it is theirs to see again, and their chat
    /// list leaves the chat out until a message comes after it.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub cleared_through: u64,
    /// Once removed: when (milliseconds), and the chat's members and admins
    /// right after — what the removed member's chat list keeps showing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub removed_at: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub members_at_removal: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admins_at_removal: Option<Vec<String>>,
    /// The group's name and description when the member was removed (absent
    /// on removals recorded before it was kept: then the chat's own show).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub info_at_removal: Option<ChatInfoAtRemoval>,
    /// Earlier memberships of a member removed and added again: what they
    /// could see then stays visible.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub earlier: Vec<EarlierMembership>,
    /// Not accepted yet (a message request or invitation): listed apart,
    /// pushed without a preview, and no read receipts go out.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub request: bool,
    /// Who created the chat or added the member, while it is a request:
    /// accepting makes them someone the member knows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invited_by: Option<String>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// A group's name and description as a removed member last saw them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChatInfoAtRemoval {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// A past membership: messages with seq in `(joined_at_seq, removed_at_seq]`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EarlierMembership {
    pub joined_at_seq: u64,
    pub removed_at_seq: u64,
}

impl Membership {
    /// A member joining when the chat's last seq is `joined_at_seq`, of
    /// which `events` were changes.
    pub fn new(user_id: &str, chat_id: &str, joined_at_seq: u64, events: u64) -> Self {
        Self {
            user_id: user_id.into(),
            chat_id: chat_id.into(),
            joined_at_seq,
            last_read: joined_at_seq,
            read_events: events,
            last_delivered: joined_at_seq,
            ..Default::default()
        }
    }

    /// The same membership, as a request from `inviter`.
    pub fn requested_by(self, inviter: &str) -> Self {
        Self { request: true, invited_by: Some(inviter.to_owned()), ..self }
    }

    /// The last seq this member may see.
    pub fn visible_until(&self, chat_seq: u64) -> u64 {
        self.removed_at_seq.map_or(chat_seq, |removed| removed.min(chat_seq))
    }

    /// Unread messages (changes are not counted) in a chat whose last seq is
    /// `chat_seq`, `chat_events` of them changes, `holes` of them seqs taken
    /// for messages that were never written.
    pub fn unread(&self, chat_seq: u64, chat_events: u64, holes: &[u64]) -> u64 {
        let (visible, events) = match self.removed_at_seq {
            Some(removed) if removed < chat_seq => (removed, self.removed_events),
            _ => (chat_seq, chat_events),
        };
        let messages_visible = visible.saturating_sub(events);
        let messages_read = self.last_read.saturating_sub(self.read_events);
        let never_written = holes.iter().filter(|&&h| h > self.last_read && h <= visible).count() as u64;
        messages_visible.saturating_sub(messages_read).saturating_sub(never_written)
    }

    pub fn has_hidden(&self, seq: u64) -> bool {
        self.hidden.contains(&seq)
    }

    /// Whether the message at `seq` was meant for this member: sent after they
    /// joined and not after they were removed (in this or an earlier membership).
    pub fn sees(&self, seq: u64) -> bool {
        self.visible_ranges(u64::MAX).iter().any(|(from, to)| (*from..=*to).contains(&seq))
    }

    /// The seq ranges (inclusive, ascending, non-empty) of messages this member
    /// may see in a chat whose last seq is `chat_seq`.
    pub fn visible_ranges(&self, chat_seq: u64) -> Vec<(u64, u64)> {
        let mut ranges: Vec<(u64, u64)> = self.earlier.iter().map(|e| (e.joined_at_seq + 1, e.removed_at_seq)).collect();
        ranges.push((self.joined_at_seq + 1, self.visible_until(chat_seq)));
        // What they deleted for themself stays deleted.
        for range in &mut ranges {
            range.0 = range.0.max(self.cleared_through + 1);
        }
        ranges.retain(|(from, to)| from <= to);
        ranges.sort_unstable();
        ranges
    }

    /// A new membership for someone added (back) to a chat at `seq`; what a
    /// former membership let them see stays visible.
    pub fn rejoined(previous: Option<Membership>, user_id: &str, chat_id: &str, seq: u64, events: u64) -> Self {
        let mut membership = Self::new(user_id, chat_id, seq, events);
        if let Some(previous) = previous {
            membership.earlier = previous.earlier;
            if let Some(removed_at_seq) = previous.removed_at_seq {
                membership.earlier.push(EarlierMembership { joined_at_seq: previous.joined_at_seq, removed_at_seq });
            }
            membership.muted = previous.muted;
        }
        membership
    }
}

/// How one membership changes together with the chat's member list.
// (One per membership change, on the stack for its transaction: no need to box.)
#[expect(clippy::large_enum_variant)]
pub enum MemberChange {
    /// The user joins (or rejoins) with this membership.
    Join(Membership),
    /// The user leaves or is removed, at the chat's current seq.
    Leave { user_id: String, at_ms: u64 },
    /// Only the chat's admins change (promote, demote): no membership is written.
    Admins,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_member_added_back_sees_both_memberships_and_not_the_gap() {
        let first = Membership { removed_at_seq: Some(4), ..Membership::new("bob", "g", 1, 0) };
        let back = Membership::rejoined(Some(first), "bob", "g", 9, 0);
        assert_eq!(back.visible_ranges(12), [(2, 4), (10, 12)]);
        let seen: Vec<u64> = (0..=13).filter(|seq| back.sees(*seq)).collect();
        assert_eq!(seen, [2, 3, 4, 10, 11, 12, 13], "later messages too, while a member");
        let removed = Membership { removed_at_seq: Some(11), ..back };
        assert!(removed.sees(11) && !removed.sees(12));
    }
}

#[cfg(test)]
mod unread_tests {
    use super::*;

    #[test]
    fn changes_are_not_unread_messages() {
        // Joined at 2 (1 change before), read up to 5 (2 changes by then).
        let member = Membership { last_read: 5, read_events: 2, ..Membership::new("bob", "g", 2, 1) };
        // The chat at 9 with 4 changes: messages 9-4 = 5, read 5-2 = 3.
        assert_eq!(member.unread(9, 4, &[]), 2);
        // Only changes since: nothing unread.
        assert_eq!(member.unread(7, 4, &[]), 0);
        let removed = Membership { removed_at_seq: Some(6), removed_events: 2, ..member };
        assert_eq!(removed.unread(20, 10, &[]), 1, "counted up to the removal only");
    }

    #[test]
    fn a_message_that_was_never_written_is_not_unread() {
        let member = Membership { last_read: 5, read_events: 2, ..Membership::new("bob", "g", 2, 1) };
        // Seqs 3 (read already), 7 (unread) and 12 (after the chat's end) were holes.
        assert_eq!(member.unread(9, 4, &[3, 7, 12]), 1);
        let removed = Membership { removed_at_seq: Some(6), removed_events: 2, ..member };
        assert_eq!(removed.unread(20, 10, &[6, 7]), 0, "a hole at the removal seq is not unread either");
    }
}
