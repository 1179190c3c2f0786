//! Chats table: one item per chat holding its members (a string set, at most
//! 100) and a membership `version`, and beside it the chat's small counter
//! item (`<chatId>#seq`) that hands out its seqs.
//!
//! A send reads the chat item (its members at `version`), then takes the next
//! seq with one `UpdateItem ADD` on the counter conditioned on the counter
//! still holding that `version`. A membership change writes the chat item
//! and the counter's `version` in one transaction conditioned on the
//! counter's `seq` being the one it read. So every seq taken with version V
//! was taken while the members were V's: the membership in force at a seq is
//! the one its sender read. Sends never conflict with each other (DynamoDB
//! serialises `ADD` on one item), and what each rewrites is well under 1 KB
//! — the member list is not rewritten by sends.
//!
//! Chats from before the counter keep their seq on the chat item; the first
//! take creates the counter from it (`if_not_exists`).

use serde::{Deserialize, Serialize};

use super::MAX_TRANSACTION_ACTIONS;
use super::memberships::Membership;
use crate::protocol::ChatKind;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Chat {
    pub chat_id: String,
    #[serde(with = "stored_kind")]
    pub kind: ChatKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// A group's description, set by its admins.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(with = "serde_dynamo::string_set")]
    pub members: Vec<String>,
    /// Members who may add and remove others (groups; the creator first).
    #[serde(default, with = "serde_dynamo::string_set", skip_serializing_if = "Vec::is_empty")]
    pub admins: Vec<String>,
    pub created_by: String,
    pub created_at: u64,
    /// Sequence number of the chat's last message (0: none yet).
    pub seq: u64,
    /// Bumped by every membership change; a send conditions on it.
    pub version: u64,
    pub last_active_at: u64,
    /// Members who have not accepted the chat: a message request, or a group
    /// invitation from someone they never accepted. No one sees their
    /// presence, last seen, profile or read receipts through this chat until
    /// they accept.
    #[serde(default, with = "serde_dynamo::string_set", skip_serializing_if = "Vec::is_empty")]
    pub requested: Vec<String>,
    /// (1-1 chats) The members who blocked the other: while anyone is here,
    /// neither may send in it. Kept on the chat so a send checks it for free.
    #[serde(default, with = "serde_dynamo::string_set", skip_serializing_if = "Vec::is_empty")]
    pub blocked_by: Vec<String>,
    /// Seqs taken by changes (edits, deletions, reactions) rather than
    /// messages: unread counts are messages only.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub events: u64,
    /// The seq of the last message (a change is not one); absent on chats
    /// from before changes existed, whose last seq is a message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_message_seq: Option<u64>,
    /// The seq at which the latest current member joined: every member sees a
    /// message after it. Absent on chats from before it was kept (then ask
    /// the memberships).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_join_seq: Option<u64>,
    /// End-to-end encrypted (docs/e2ee.md): its texts are envelopes the
    /// server only stores and delivers. Fixed at creation.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub encrypted: bool,
    /// Seqs of messages that were never written (their sender died after
    /// taking the seq), filled with a hole: unread counts skip them. From the
    /// counter item.
    #[serde(skip)]
    pub holes: Vec<u64>,
    /// When the last seq was taken (ms; `None`: the chat has no counter item
    /// yet, and `seq` is the chat item's).
    #[serde(skip)]
    pub taken_at: Option<u64>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// The chat kind as stored, named here rather than by the wire's `ChatKind`
/// serialisation, so renaming the wire value leaves stored chats readable.
mod stored_kind {
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::protocol::ChatKind;

    const DIRECT: &str = "direct";
    const GROUP: &str = "group";

    pub fn serialize<S: Serializer>(kind: &ChatKind, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(match kind {
            ChatKind::Direct => DIRECT,
            ChatKind::Group => GROUP,
        })
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<ChatKind, D::Error> {
        match String::deserialize(deserializer)?.as_str() {
            DIRECT => Ok(ChatKind::Direct),
            GROUP => Ok(ChatKind::Group),
            other => Err(serde::de::Error::unknown_variant(other, &[DIRECT, GROUP])),
        }
    }
}

impl Chat {
    pub fn is_member(&self, user_id: &str) -> bool {
        self.members.iter().any(|m| m == user_id)
    }

    pub fn is_admin(&self, user_id: &str) -> bool {
        self.admins.iter().any(|m| m == user_id)
    }

    /// Whether the member has not accepted the chat yet.
    pub fn is_requested(&self, user_id: &str) -> bool {
        self.requested.iter().any(|m| m == user_id)
    }

    /// Whether one of a 1-1 chat's two members blocked the other.
    pub fn is_blocked(&self) -> bool {
        !self.blocked_by.is_empty()
    }

    pub fn last_message_seq(&self) -> u64 {
        self.last_message_seq.unwrap_or(self.seq)
    }

    /// Whether every current member sees the message at `seq` (all joined
    /// before it), known without reading the memberships.
    pub fn all_members_see(&self, seq: u64) -> bool {
        self.kind == ChatKind::Direct || self.last_join_seq.is_some_and(|joined| seq > joined)
    }

    /// The members who accepted the chat: the ones others may see through it.
    pub fn accepted_members(&self) -> impl Iterator<Item = &String> {
        self.members.iter().filter(|m| !self.is_requested(m))
    }

    /// The memberships a new chat is created with (a request for those who
    /// have not accepted its creator), and the creator's apart when they do
    /// not all fit one transaction with the chat (100 actions): that one is
    /// written first, alone harmless (the chat list skips chats that do not
    /// exist), so the chat never exists without every membership.
    pub fn first_memberships(&self) -> (Option<Membership>, Vec<Membership>) {
        let mut memberships: Vec<Membership> = self
            .members
            .iter()
            .map(|m| {
                let membership = Membership::new(m, &self.chat_id, 0, 0);
                if self.is_requested(m) { membership.requested_by(&self.created_by) } else { membership }
            })
            .collect();
        if memberships.len() < MAX_TRANSACTION_ACTIONS {
            return (None, memberships);
        }
        let creator = memberships.iter().position(|m| m.user_id == self.created_by).unwrap_or(0);
        (Some(memberships.remove(creator)), memberships)
    }
}

/// The chat's counter item (same table, its own key): the last seq, the
/// membership version sends condition on, and what the chat list needs from
/// each send. Small on purpose: every send rewrites it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CounterItem {
    /// `<chatId>#seq` (chat ids never hold `#`).
    pub chat_id: String,
    pub seq: u64,
    pub version: u64,
    #[serde(default)]
    pub events: u64,
    #[serde(default)]
    pub last_message_seq: u64,
    #[serde(default)]
    pub last_active_at: u64,
    #[serde(default)]
    pub taken_at: u64,
    #[serde(default, with = "serde_dynamo::number_set", skip_serializing_if = "Vec::is_empty")]
    pub holes: Vec<u64>,
}

pub const COUNTER_SUFFIX: &str = "#seq";

pub fn counter_key(chat_id: &str) -> String {
    format!("{chat_id}{COUNTER_SUFFIX}")
}

impl Chat {
    /// The chat as its counter has it now.
    pub fn counted(mut self, counter: &CounterItem) -> Self {
        self.seq = counter.seq;
        self.version = counter.version.max(self.version);
        self.events = counter.events;
        self.last_message_seq = Some(counter.last_message_seq);
        self.last_active_at = counter.last_active_at.max(self.last_active_at);
        self.holes = counter.holes.clone();
        self.taken_at = Some(counter.taken_at);
        self
    }
}

/// What a seq is taken for: a message is the chat's last message and
/// activity; a change (edit, deletion, reaction) is neither, and counts in
/// `events`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Taking {
    Message,
    Change,
}

/// A seq handed out by the counter, with the changes up to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Taken {
    pub seq: u64,
    /// Changes (not messages) with seq up to and including this one.
    pub events: u64,
    /// The chat's last message seq once this one was taken.
    pub last_message_seq: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(members: usize) -> Chat {
        let mut members: Vec<String> = (0..members - 1).map(|n| format!("m{n:03}")).collect();
        members.push("zed".into());
        Chat {
            chat_id: "g".into(),
            kind: ChatKind::Group,
            name: Some("g".into()),
            description: None,
            requested: vec!["m000".into()],
            members,
            admins: vec!["zed".into()],
            created_by: "zed".into(),
            created_at: 0,
            seq: 0,
            version: 1,
            last_active_at: 0,
            blocked_by: Vec::new(),
            events: 0,
            last_message_seq: Some(0),
            last_join_seq: Some(0),
            encrypted: false,
            holes: Vec::new(),
            taken_at: None,
        }
    }

    #[test]
    fn a_chat_of_100_writes_its_creators_membership_apart() {
        let (first, rest) = group(100).first_memberships();
        assert_eq!(first.map(|m| m.user_id).as_deref(), Some("zed"), "the creator's, written first");
        assert_eq!(rest.len(), 99, "the others fit one transaction with the chat");
        assert!(rest.iter().any(|m| m.user_id == "m000" && m.request), "whoever never accepted the creator is asked");
        let (first, rest) = group(99).first_memberships();
        assert!(first.is_none() && rest.len() == 99, "99 and the chat fit one transaction");
    }
}
