//! The tables in memory: the store port's fake, for the domain rules' unit
//! tests (as the serverless Rust demo's `store/memory.rs`). Each method does
//! what its DynamoDB twin does, conditions included — a conditional write
//! that DynamoDB refuses is refused here, an update that would create an item
//! creates it here — with one lock held per call, so every call is atomic as
//! a DynamoDB item write or transaction is. Messages are kept in their stored
//! format (the items the store crate's `item_formats` pins) and read back
//! through the same conversions the DynamoDB store uses.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;

use crate::error::{AppError, CallFailure, StoreError};
use crate::ids::UserId;
use crate::model::chats::CounterItem;
use crate::model::connections::heartbeat_bucket;
use crate::model::contacts::BLOCK;
use crate::model::memberships::ChatInfoAtRemoval;
use crate::model::messages::{ChangeItem, DeletionItem, HOLE, HoleItem, MessageItem, ReactionItem, StoredEntry, VersionItem};
use crate::model::{
    Accepted, AppendOutcome, Attachment, Chat, ChatEntry, Connected, ConnectionRecord, Device, InboxEntry, InboxPage, MemberChange,
    Membership, Message, OneTimeKey, PresenceSubscription, Privacy, Profile, PushEndpoint, StoredIdentityKeys, Taken, Taking, TargetChange,
    UserDevices, attachment_expiry_bucket, client_key,
};
use crate::ports::{
    AttachmentTable, ChatTable, ConnectionTable, ContactTable, InboxTable, MembershipTable, MessageTable, OneTimeKeyTable, PresenceTable,
    RateLimitTable, UserTable,
};
use crate::protocol::{MessageChange, MessageView};

/// A user's item: `devices` absent until the first device connects (a
/// profile or privacy setting alone makes the item without it).
#[derive(Clone, Debug, Default)]
struct UserRow {
    devices: Option<BTreeMap<String, Device>>,
    last_seen: Option<u64>,
    revocations: BTreeSet<String>,
    privacy: Option<Privacy>,
    profile: Option<Profile>,
}

impl UserRow {
    fn devices(&self, user_id: &str, with_revocations: bool) -> UserDevices {
        UserDevices {
            user_id: user_id.to_owned(),
            devices: self.devices.clone().unwrap_or_default(),
            last_seen: self.last_seen,
            revocations: if with_revocations { self.revocations.iter().cloned().collect() } else { Vec::new() },
            privacy: self.privacy.unwrap_or_default(),
        }
    }

    fn device(&mut self, device_id: &str) -> Option<&mut Device> {
        self.devices.as_mut()?.get_mut(device_id)
    }
}

#[derive(Default)]
struct Tables {
    attachments: BTreeMap<String, Attachment>,
    chats: BTreeMap<String, Chat>,
    counters: BTreeMap<String, CounterItem>,
    connections: BTreeMap<String, ConnectionRecord>,
    /// (user, contact id or `block#<user>`) → since.
    contacts: BTreeMap<(String, String), u64>,
    inbox: BTreeMap<(String, String), InboxEntry>,
    memberships: BTreeMap<(String, String), Membership>,
    /// `deliveredBy` of a membership: an attribute the `Membership` item type
    /// does not carry (written and compared by `advance_delivered` only).
    delivered_by: BTreeMap<(String, String), String>,
    /// (chat, seq) → the stored item: a message, a change or a hole.
    messages: BTreeMap<(String, u64), StoredEntry>,
    client_message_ids: BTreeMap<(String, String), Accepted>,
    presence: BTreeMap<(String, String), PresenceSubscription>,
    rate_limits: BTreeMap<String, u64>,
    users: BTreeMap<String, UserRow>,
    /// (device key, key id) → public key.
    one_time_keys: BTreeMap<(String, String), String>,
}

#[derive(Default)]
pub struct MemoryStore {
    tables: Mutex<Tables>,
}

/// What DynamoDB answers a conditional write whose condition failed, where
/// the DynamoDB store lets that answer through as an error.
fn condition_refused(what: &str) -> StoreError {
    StoreError::Call(CallFailure {
        code: Some("ConditionalCheckFailedException".into()),
        message: format!("the conditional request failed: {what}"),
        retryable: false,
    })
}

fn key(a: &str, b: &str) -> (String, String) {
    (a.to_owned(), b.to_owned())
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn tables(&self) -> std::sync::MutexGuard<'_, Tables> {
        self.tables.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Every membership item of a chat, present and former members (what
    /// the tests look at).
    pub fn memberships_in(&self, chat_id: &str) -> Vec<Membership> {
        self.tables().memberships.values().filter(|m| m.chat_id == chat_id).cloned().collect()
    }

    /// A device's inbox as it stands, oldest entry first.
    pub fn inbox_of(&self, device_key: &str) -> Vec<InboxEntry> {
        self.tables().inbox.values().filter(|e| e.device_key == device_key).cloned().collect()
    }
}

impl Tables {
    fn counted(&self, chat: &Chat) -> Chat {
        match self.counters.get(&chat.chat_id) {
            Some(counter) => chat.clone().counted(counter),
            None => chat.clone(),
        }
    }

    fn put_membership(&mut self, membership: &Membership) {
        let k = key(&membership.user_id, &membership.chat_id);
        // A put replaces the whole item, `deliveredBy` with it.
        self.delivered_by.remove(&k);
        self.memberships.insert(k, membership.clone());
    }

    /// An UpdateItem without a condition on a membership: DynamoDB creates
    /// the item (keys only) when there is none.
    fn membership_upsert(&mut self, user_id: &str, chat_id: &str) -> &mut Membership {
        self.memberships.entry(key(user_id, chat_id)).or_insert_with(|| Membership {
            user_id: user_id.to_owned(),
            chat_id: chat_id.to_owned(),
            ..Default::default()
        })
    }

    fn put_inbox(&mut self, entries: &[InboxEntry]) {
        for entry in entries {
            self.inbox.insert(key(&entry.device_key, &entry.entry_id), entry.clone());
        }
    }

    fn count_hole(&mut self, chat_id: &str, seq: u64, counted: bool) {
        if let Some(counter) = self.counters.get_mut(chat_id) {
            counter.holes.retain(|h| *h != seq);
            if counted {
                counter.holes.push(seq);
                counter.holes.sort_unstable();
            }
        }
    }

    fn mark_sent(&mut self, attachment: &Attachment, seq: u64) -> bool {
        match self.attachments.get_mut(&attachment.attachment_id) {
            Some(a) if a.chat_id == attachment.chat_id && a.uploader_id == attachment.uploader_id => {
                a.sent_seq.get_or_insert(seq);
                if !a.sent_seqs.contains(&seq) {
                    a.sent_seqs.push(seq);
                    a.sent_seqs.sort_unstable();
                }
                a.expires_at = None;
                a.expiry_bucket = None;
                true
            }
            _ => false,
        }
    }
}

/// Marks an attachment deleted and makes it an expired upload (the
/// DynamoDB store's `discarded`).
fn discard(a: &mut Attachment, now_ms: u64) {
    let expires_at = now_ms / 1000;
    a.deleted_at = Some(now_ms);
    a.expires_at = Some(expires_at);
    a.expiry_bucket = Some(attachment_expiry_bucket(&a.attachment_id, expires_at));
    a.sent_seq = None;
    a.sent_seqs.clear();
}

/// The counter a chat without one gets, continuing from the chat item as
/// read (the DynamoDB store's `if_not_exists` on each attribute).
fn continuing(read: &Chat, taken_at: u64) -> CounterItem {
    CounterItem {
        chat_id: read.chat_id.clone(),
        seq: read.seq,
        version: read.version,
        events: read.events,
        last_message_seq: read.last_message_seq(),
        last_active_at: read.last_active_at,
        taken_at,
        holes: Vec::new(),
    }
}

fn insert_sorted(set: &mut Vec<String>, value: &str) {
    if !set.iter().any(|v| v == value) {
        set.push(value.to_owned());
        set.sort();
    }
}

#[async_trait]
impl AttachmentTable for MemoryStore {
    async fn put_attachment(&self, attachment: &Attachment) -> Result<bool, StoreError> {
        let mut t = self.tables();
        if t.attachments.contains_key(&attachment.attachment_id) {
            return Ok(false);
        }
        t.attachments.insert(attachment.attachment_id.clone(), attachment.clone());
        Ok(true)
    }

    async fn get_attachment(&self, attachment_id: &str) -> Result<Option<Attachment>, StoreError> {
        Ok(self.tables().attachments.get(attachment_id).cloned())
    }

    async fn attachments_by_id(&self, attachment_ids: &[String]) -> Result<Vec<Attachment>, StoreError> {
        let t = self.tables();
        Ok(attachment_ids.iter().filter_map(|id| t.attachments.get(id).cloned()).collect())
    }

    async fn abandoned_attachments(&self, bucket: &str, now_secs: u64) -> Result<Vec<String>, StoreError> {
        let t = self.tables();
        Ok(t.attachments
            .values()
            .filter(|a| a.expiry_bucket.as_deref() == Some(bucket) && a.expires_at.is_some_and(|e| e < now_secs))
            .map(|a| a.attachment_id.clone())
            .collect())
    }

    async fn keep_attachment(&self, attachment_id: &str) -> Result<(), StoreError> {
        let mut t = self.tables();
        let a = t.attachments.get_mut(attachment_id).ok_or_else(|| condition_refused("attribute_exists(attachmentId)"))?;
        a.sent_seq = Some(0);
        a.expires_at = None;
        a.expiry_bucket = None;
        Ok(())
    }

    async fn discard_attachment(&self, attachment_id: &str, now_ms: u64) -> Result<(), StoreError> {
        let mut t = self.tables();
        let a = t.attachments.get_mut(attachment_id).ok_or_else(|| condition_refused("attribute_exists(attachmentId)"))?;
        discard(a, now_ms);
        Ok(())
    }

    async fn delete_unsent_attachment(&self, attachment_id: &str) -> Result<bool, StoreError> {
        let mut t = self.tables();
        match t.attachments.get(attachment_id) {
            Some(a) if a.sent_seq.is_none() => {
                t.attachments.remove(attachment_id);
                Ok(true)
            }
            _ => Ok(false),
        }
    }
}

#[async_trait]
impl ChatTable for MemoryStore {
    async fn create_chat(&self, chat: &Chat) -> Result<bool, StoreError> {
        let mut t = self.tables();
        let (first, memberships) = chat.first_memberships();
        if let Some(first) = first {
            t.put_membership(&first);
        }
        if t.chats.contains_key(&chat.chat_id) {
            return Ok(false);
        }
        t.chats.insert(chat.chat_id.clone(), chat.clone());
        for membership in &memberships {
            t.put_membership(membership);
        }
        Ok(true)
    }

    async fn change_members(&self, read: &Chat, members: &[String], admins: &[String], change: MemberChange) -> Result<bool, StoreError> {
        let mut t = self.tables();
        let chat_unchanged = t.chats.get(&read.chat_id).is_some_and(|c| c.version == read.version);
        let counter_unchanged = match t.counters.get(&read.chat_id) {
            Some(counter) => counter.seq == read.seq && counter.version == read.version,
            None => read.taken_at.is_none(),
        };
        if !chat_unchanged || !counter_unchanged {
            return Ok(false);
        }
        let next = read.version + 1;
        let chat = t.chats.get_mut(&read.chat_id).expect("checked above");
        chat.version = next;
        chat.members = members.to_vec();
        chat.admins = admins.to_vec();
        match &change {
            MemberChange::Join(membership) => {
                chat.last_join_seq = Some(read.seq);
                if membership.request {
                    insert_sorted(&mut chat.requested, &membership.user_id);
                }
            }
            MemberChange::Leave { user_id, .. } if read.is_requested(user_id) => chat.requested.retain(|r| r != user_id),
            _ => {}
        }
        let counter = t.counters.entry(read.chat_id.clone()).or_insert_with(|| continuing(read, read.last_active_at));
        counter.version = next;
        match change {
            MemberChange::Join(membership) => t.put_membership(&membership),
            MemberChange::Leave { user_id, at_ms } => {
                let m = t.membership_upsert(&user_id, &read.chat_id);
                m.removed_at_seq = Some(read.seq);
                m.removed_events = read.events;
                m.removed_at = Some(at_ms);
                m.members_at_removal = Some(members.to_vec());
                m.admins_at_removal = Some(admins.to_vec());
                m.info_at_removal = Some(ChatInfoAtRemoval { name: read.name.clone(), description: read.description.clone() });
            }
            MemberChange::Admins => {}
        }
        Ok(true)
    }

    async fn accept_chat(&self, user_id: &str, chat_id: &str) -> Result<bool, StoreError> {
        let mut t = self.tables();
        if !t.chats.get(chat_id).is_some_and(|c| c.is_requested(user_id)) {
            return Ok(false);
        }
        if !t.memberships.contains_key(&key(user_id, chat_id)) {
            return Err(condition_refused("the membership to accept does not exist"));
        }
        t.chats.get_mut(chat_id).expect("checked above").requested.retain(|r| r != user_id);
        t.memberships.get_mut(&key(user_id, chat_id)).expect("checked above").request = false;
        Ok(true)
    }

    async fn set_blocked_by(&self, chat_id: &str, user_id: &str, blocked: bool) -> Result<(), StoreError> {
        if let Some(chat) = self.tables().chats.get_mut(chat_id) {
            if blocked {
                insert_sorted(&mut chat.blocked_by, user_id);
            } else {
                chat.blocked_by.retain(|b| b != user_id);
            }
        }
        Ok(())
    }

    async fn set_chat_info(&self, chat_id: &str, name: Option<&str>, description: Option<&str>) -> Result<(), StoreError> {
        if name.is_none() && description.is_none() {
            return Err(StoreError::Build("an update expression needs at least one action".into()));
        }
        let mut t = self.tables();
        let chat = t.chats.get_mut(chat_id).ok_or_else(|| condition_refused("attribute_exists(chatId)"))?;
        if let Some(name) = name {
            chat.name = Some(name.to_owned());
        }
        match description {
            Some("") => chat.description = None,
            Some(description) => chat.description = Some(description.to_owned()),
            None => {}
        }
        Ok(())
    }

    async fn chats_by_id(&self, chat_ids: &[String]) -> Result<Vec<Chat>, StoreError> {
        let t = self.tables();
        Ok(chat_ids.iter().filter_map(|id| t.chats.get(id)).map(|chat| t.counted(chat)).collect())
    }

    async fn get_chat(&self, chat_id: &str) -> Result<Option<Chat>, StoreError> {
        let t = self.tables();
        Ok(t.chats.get(chat_id).map(|chat| t.counted(chat)))
    }

    async fn get_chat_item(&self, chat_id: &str) -> Result<Option<Chat>, StoreError> {
        Ok(self.tables().chats.get(chat_id).cloned())
    }

    async fn take_seq(&self, read: &Chat, taking: Taking, now_ms: u64) -> Result<Option<Taken>, StoreError> {
        let mut t = self.tables();
        if t.counters.get(&read.chat_id).is_some_and(|c| c.version != read.version) {
            return Ok(None);
        }
        let counter = t.counters.entry(read.chat_id.clone()).or_insert_with(|| continuing(read, 0));
        counter.seq += 1;
        counter.taken_at = now_ms;
        match taking {
            Taking::Message => {
                counter.last_message_seq = counter.seq;
                counter.last_active_at = now_ms;
            }
            Taking::Change => counter.events += 1,
        }
        Ok(Some(Taken { seq: counter.seq, events: counter.events, last_message_seq: counter.last_message_seq }))
    }
}

#[async_trait]
impl ConnectionTable for MemoryStore {
    async fn put_connection(&self, record: &ConnectionRecord) -> Result<(), StoreError> {
        self.tables().connections.insert(record.connection_id.clone(), record.clone());
        Ok(())
    }

    async fn heartbeat(&self, connection_id: &str, now_ms: u64, width: Duration) -> Result<bool, StoreError> {
        let bucket = heartbeat_bucket(connection_id, now_ms, width);
        let mut t = self.tables();
        let Some(record) = t.connections.get_mut(connection_id) else { return Ok(false) };
        if record.heartbeat_bucket != bucket {
            record.last_heartbeat_at = now_ms;
            record.heartbeat_bucket = bucket;
        }
        Ok(true)
    }

    async fn connections_of_heartbeat_bucket(&self, bucket: &str) -> Result<Vec<ConnectionRecord>, StoreError> {
        Ok(self.tables().connections.values().filter(|c| c.heartbeat_bucket == bucket).cloned().collect())
    }

    async fn connections_of_connect_bucket(&self, bucket: &str) -> Result<Vec<Connected>, StoreError> {
        Ok(self
            .tables()
            .connections
            .values()
            .filter(|c| c.connect_bucket == bucket)
            .map(|c| Connected {
                connection_id: c.connection_id.clone(),
                user_id: c.user_id.clone(),
                device_id: c.device_id.clone(),
                connected_at: c.connected_at,
            })
            .collect())
    }

    async fn delete_connection(&self, connection_id: &str) -> Result<(), StoreError> {
        self.tables().connections.remove(connection_id);
        Ok(())
    }
}

#[async_trait]
impl ContactTable for MemoryStore {
    async fn add_contacts(&self, user_id: &str, contacts: &[String], now_ms: u64) -> Result<(), StoreError> {
        let mut t = self.tables();
        for contact in contacts.iter().filter(|c| *c != user_id) {
            t.contacts.insert(key(user_id, contact), now_ms);
        }
        Ok(())
    }

    async fn who_accepted(&self, users: &[String], contact: &str) -> Result<BTreeSet<String>, StoreError> {
        let t = self.tables();
        Ok(users.iter().filter(|u| t.contacts.contains_key(&key(u, contact))).cloned().collect())
    }

    async fn block(&self, user_id: &str, other: &str, now_ms: u64) -> Result<(), StoreError> {
        let mut t = self.tables();
        t.contacts.insert(key(user_id, &format!("{BLOCK}{other}")), now_ms);
        t.contacts.remove(&key(user_id, other));
        Ok(())
    }

    async fn unblock(&self, user_id: &str, other: &str) -> Result<(), StoreError> {
        self.tables().contacts.remove(&key(user_id, &format!("{BLOCK}{other}")));
        Ok(())
    }

    async fn blocked_by(&self, user_id: &str) -> Result<Vec<String>, StoreError> {
        let t = self.tables();
        Ok(t.contacts.keys().filter(|(u, _)| u == user_id).filter_map(|(_, c)| c.strip_prefix(BLOCK)).map(str::to_owned).collect())
    }

    async fn blocks_among(&self, pairs: &[(String, String)]) -> Result<BTreeSet<(String, String)>, StoreError> {
        let t = self.tables();
        Ok(pairs
            .iter()
            .filter(|(blocker, blocked)| t.contacts.contains_key(&key(blocker, &format!("{BLOCK}{blocked}"))))
            .cloned()
            .collect())
    }

    async fn contacts_among(&self, user_id: &str, candidates: &[String]) -> Result<BTreeSet<String>, StoreError> {
        let t = self.tables();
        Ok(candidates.iter().filter(|c| t.contacts.contains_key(&key(user_id, c))).cloned().collect())
    }
}

#[async_trait]
impl InboxTable for MemoryStore {
    async fn put_inbox_entries(&self, entries: &[InboxEntry]) -> Result<(), StoreError> {
        self.tables().put_inbox(entries);
        Ok(())
    }

    async fn delete_inbox_entries(&self, device_key: &str, entry_ids: &[String]) -> Result<(), StoreError> {
        let mut t = self.tables();
        for id in entry_ids {
            t.inbox.remove(&key(device_key, id));
        }
        Ok(())
    }

    async fn discard_inbox(&self, device_key: &str) -> Result<usize, StoreError> {
        let mut t = self.tables();
        let before = t.inbox.len();
        t.inbox.retain(|(device, _), _| device != device_key);
        Ok(before - t.inbox.len())
    }

    async fn inbox_keys_present(&self, keys: &[(String, String)]) -> Result<Vec<(String, String)>, StoreError> {
        let t = self.tables();
        Ok(keys.iter().filter(|k| t.inbox.contains_key(*k)).cloned().collect())
    }

    async fn delete_inbox_keys(&self, keys: &[(String, String)]) -> Result<(), StoreError> {
        let mut t = self.tables();
        for k in keys {
            t.inbox.remove(k);
        }
        Ok(())
    }

    async fn inbox_page(&self, device_key: &str, cursor: Option<&str>, limit: usize, now_secs: u64) -> Result<InboxPage, StoreError> {
        let t = self.tables();
        // DynamoDB's `Limit` counts the items it reads, before the filter:
        // a page may hold fewer unexpired entries than the limit, and it says
        // where to go on whenever it stopped at the limit.
        let read: Vec<&InboxEntry> =
            t.inbox.values().filter(|e| e.device_key == device_key && cursor.is_none_or(|c| e.entry_id.as_str() > c)).take(limit).collect();
        let cursor = if read.len() == limit { read.last().map(|e| e.entry_id.clone()) } else { None };
        Ok(InboxPage { entries: read.into_iter().filter(|e| e.expires_at > now_secs).cloned().collect(), cursor })
    }
}

#[async_trait]
impl MembershipTable for MemoryStore {
    async fn membership(&self, user_id: &str, chat_id: &str) -> Result<Option<Membership>, StoreError> {
        Ok(self.tables().memberships.get(&key(user_id, chat_id)).cloned())
    }

    async fn memberships_of_user(&self, user_id: &str) -> Result<Vec<Membership>, StoreError> {
        Ok(self.tables().memberships.values().filter(|m| m.user_id == user_id).cloned().collect())
    }

    async fn memberships_of_chat(&self, chat_id: &str) -> Result<Vec<Membership>, StoreError> {
        Ok(self.memberships_in(chat_id))
    }

    async fn mark_read(&self, user_id: &str, chat_id: &str, up_to_seq: u64, events: u64) -> Result<Option<Membership>, StoreError> {
        let mut t = self.tables();
        match t.memberships.get_mut(&key(user_id, chat_id)) {
            Some(m) if m.last_read < up_to_seq && m.removed_at_seq.is_none_or(|removed| removed >= up_to_seq) => {
                let before = m.clone();
                m.last_read = up_to_seq;
                m.read_events = events;
                Ok(Some(before))
            }
            _ => Ok(None),
        }
    }

    async fn clear_chat(&self, user_id: &str, chat_id: &str, through_seq: u64, events: u64) -> Result<bool, StoreError> {
        match self.tables().memberships.get_mut(&key(user_id, chat_id)) {
            Some(m) if m.last_read <= through_seq && m.cleared_through <= through_seq => {
                m.cleared_through = through_seq;
                m.last_read = through_seq;
                m.read_events = events;
                m.mentions.clear();
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn set_muted(&self, user_id: &str, chat_id: &str, muted: bool) -> Result<bool, StoreError> {
        match self.tables().memberships.get_mut(&key(user_id, chat_id)) {
            Some(m) if m.removed_at_seq.is_none() => {
                m.muted = muted;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn memberships_by_key(&self, keys: &[(String, String)]) -> Result<Vec<Membership>, StoreError> {
        let t = self.tables();
        Ok(keys.iter().filter_map(|k| t.memberships.get(k).cloned()).collect())
    }

    async fn hide_message(&self, user_id: &str, chat_id: &str, seq: u64, max: usize) -> Result<bool, StoreError> {
        match self.tables().memberships.get_mut(&key(user_id, chat_id)) {
            Some(m) if m.hidden.len() < max || m.hidden.contains(&seq) => {
                if !m.hidden.contains(&seq) {
                    m.hidden.push(seq);
                    m.hidden.sort_unstable();
                }
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn forget_mentions(&self, user_id: &str, chat_id: &str, seqs: &[u64]) -> Result<(), StoreError> {
        if seqs.is_empty() {
            return Ok(());
        }
        self.tables().membership_upsert(user_id, chat_id).mentions.retain(|s| !seqs.contains(s));
        Ok(())
    }

    async fn advance_delivered(&self, user_id: &str, chat_id: &str, seq: u64, device_id: &str) -> Result<bool, StoreError> {
        let mut t = self.tables();
        let k = key(user_id, chat_id);
        let by_same = t.delivered_by.get(&k).is_some_and(|by| by == device_id);
        match t.memberships.get_mut(&k) {
            Some(m) if m.last_delivered < seq || (m.last_delivered == seq && by_same) => {
                m.last_delivered = seq;
                t.delivered_by.insert(k, device_id.to_owned());
                Ok(true)
            }
            _ => Ok(false),
        }
    }
}

#[async_trait]
impl MessageTable for MemoryStore {
    async fn append_change(
        &self,
        change: &MessageChange,
        target: &Message,
        how: TargetChange<'_>,
        inbox: Option<&[InboxEntry]>,
        taken: Taken,
    ) -> Result<AppendOutcome, StoreError> {
        let mut t = self.tables();
        let chat = &change.chat_id;
        if t.messages.contains_key(&(chat.clone(), change.seq)) {
            return Ok(AppendOutcome::ChatChanged);
        }
        // The target as read: a message, not deleted, no change since.
        let Some(StoredEntry::Message(message)) = t.messages.get(&(chat.clone(), target.view.seq)) else {
            return Ok(AppendOutcome::ChatChanged);
        };
        let mut message = message.clone();
        if message.deleted.is_some() || message.updated_seq != target.updated_seq() {
            return Ok(AppendOutcome::ChatChanged);
        }
        message.updated_seq = Some(change.seq);
        match how {
            TargetChange::Edit { text } => {
                message.versions.push(VersionItem {
                    message: target.view.message.clone(),
                    edited_at: target.view.edited_at,
                    replaced_at_seq: change.seq,
                });
                message.message = text.to_owned();
                message.edited_at = Some(change.at);
            }
            TargetChange::Delete { attachments } => {
                if attachments.iter().any(|a| !t.attachments.contains_key(&a.attachment_id)) {
                    return Ok(AppendOutcome::ChatChanged);
                }
                for attachment in attachments {
                    let remaining = attachment.carried_by_all_but(target.view.seq);
                    let a = t.attachments.get_mut(&attachment.attachment_id).expect("checked above");
                    match remaining.iter().min() {
                        Some(first) => {
                            a.sent_seq = Some(*first);
                            a.sent_seqs = remaining.clone();
                        }
                        None => discard(a, change.at),
                    }
                }
                message.message = String::new();
                message.deleted = Some(DeletionItem { by: change.user_id.clone(), at: change.at, seq: change.seq });
                message.attachments.clear();
                message.versions.clear();
                message.reactions.clear();
                message.reply_to = None;
                message.mentions.clear();
                message.edited_at = None;
            }
            TargetChange::React { emoji } => match emoji {
                Some(emoji) => {
                    message
                        .reactions
                        .insert(change.user_id.clone(), ReactionItem { emoji: emoji.to_owned(), seq: change.seq, at: change.at });
                }
                None => {
                    message.reactions.remove(&change.user_id);
                }
            },
        }
        let item = ChangeItem { events: taken.events, last_message_seq: taken.last_message_seq, ..ChangeItem::from(change) };
        t.messages.insert((chat.clone(), change.seq), StoredEntry::Change(item));
        t.messages.insert((chat.clone(), target.view.seq), StoredEntry::Message(message));
        t.put_inbox(inbox.unwrap_or_default());
        Ok(AppendOutcome::Appended)
    }

    async fn inbox_written(&self, chat_id: &str, sender_id: &UserId, client_message_id: &str) -> Result<(), StoreError> {
        let mut t = self.tables();
        let accepted = t
            .client_message_ids
            .get_mut(&key(chat_id, &client_key(sender_id, client_message_id)))
            .ok_or_else(|| condition_refused("attribute_exists(chatId)"))?;
        accepted.inbox_written = true;
        Ok(())
    }

    async fn find_accepted(&self, chat_id: &str, sender_id: &UserId, client_message_id: &str) -> Result<Option<Accepted>, StoreError> {
        Ok(self.tables().client_message_ids.get(&key(chat_id, &client_key(sender_id, client_message_id))).cloned())
    }

    async fn senders_between(&self, chat_id: &str, from: u64, to: u64) -> Result<Vec<String>, StoreError> {
        let t = self.tables();
        let senders: BTreeSet<String> = t
            .messages
            .range((chat_id.to_owned(), from)..=(chat_id.to_owned(), to))
            .filter_map(|(_, stored)| match stored {
                StoredEntry::Message(m) => Some(m.sender_id.clone()),
                _ => None,
            })
            .collect();
        Ok(senders.into_iter().collect())
    }

    async fn get_message(&self, chat_id: &str, seq: u64) -> Result<Option<MessageView>, StoreError> {
        Ok(match self.get_entry(chat_id, seq).await? {
            Some(ChatEntry::Message(message)) => Some(message.view_at(u64::MAX)),
            _ => None,
        })
    }

    async fn get_entry(&self, chat_id: &str, seq: u64) -> Result<Option<ChatEntry>, StoreError> {
        self.tables().messages.get(&(chat_id.to_owned(), seq)).cloned().map(ChatEntry::try_from).transpose()
    }

    async fn events_up_to(&self, chat_id: &str, seq: u64) -> Result<u64, StoreError> {
        let t = self.tables();
        let nearest = t.messages.range((chat_id.to_owned(), 0)..=(chat_id.to_owned(), seq)).next_back();
        Ok(nearest.map_or(0, |(_, stored)| stored.events()))
    }

    async fn entries_between(
        &self,
        chat_id: &str,
        from: u64,
        to: u64,
        ascending: bool,
        limit: usize,
    ) -> Result<Vec<ChatEntry>, StoreError> {
        if from > to {
            return Ok(Vec::new());
        }
        let t = self.tables();
        let range = t.messages.range((chat_id.to_owned(), from)..=(chat_id.to_owned(), to)).map(|(_, item)| item.clone());
        let items: Vec<StoredEntry> = if ascending { range.take(limit).collect() } else { range.rev().take(limit).collect() };
        items.into_iter().map(ChatEntry::try_from).collect()
    }

    async fn entries_by_key(&self, keys: &[(String, u64)]) -> Result<Vec<ChatEntry>, StoreError> {
        let t = self.tables();
        keys.iter().filter_map(|k| t.messages.get(k).cloned()).map(ChatEntry::try_from).collect()
    }

    async fn claim_client_message_id(&self, accepted: &Accepted) -> Result<bool, StoreError> {
        let mut t = self.tables();
        let k = key(&accepted.chat_id, &accepted.client_key);
        if t.client_message_ids.contains_key(&k) {
            return Ok(false);
        }
        t.client_message_ids.insert(k, accepted.clone());
        Ok(true)
    }

    async fn move_claim(&self, accepted: &Accepted, to: u64) -> Result<bool, StoreError> {
        match self.tables().client_message_ids.get_mut(&key(&accepted.chat_id, &accepted.client_key)) {
            Some(stored) if stored.seq == accepted.seq => {
                stored.seq = to;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn put_message(&self, message: &MessageView, events: u64) -> Result<bool, StoreError> {
        let mut t = self.tables();
        let k = (message.chat_id.clone(), message.seq);
        if t.messages.contains_key(&k) {
            return Ok(false);
        }
        t.messages.insert(k, StoredEntry::Message(MessageItem { events, ..MessageItem::from(message) }));
        Ok(true)
    }

    async fn message_written(
        &self,
        message: &MessageView,
        events: u64,
        attachments: &[Attachment],
        inbox: &[InboxEntry],
    ) -> Result<(), StoreError> {
        let mut t = self.tables();
        if let Some(sender) = t.memberships.get_mut(&key(&message.sender_id, &message.chat_id))
            && sender.last_read < message.seq
        {
            sender.last_read = message.seq;
            sender.read_events = events;
        }
        for mentioned in &message.mentions {
            let m = t.membership_upsert(mentioned, &message.chat_id);
            if !m.mentions.contains(&message.seq) {
                m.mentions.push(message.seq);
                m.mentions.sort_unstable();
            }
        }
        for attachment in attachments {
            t.mark_sent(attachment, message.seq);
        }
        t.put_inbox(inbox);
        Ok(())
    }

    async fn fill_hole(&self, chat_id: &str, seq: u64, events: u64, message: bool, now_ms: u64) -> Result<bool, StoreError> {
        let mut t = self.tables();
        let k = (chat_id.to_owned(), seq);
        if let Some(there) = t.messages.get(&k) {
            let counted_hole = matches!(there, StoredEntry::Hole(HoleItem { message: true, .. }));
            if message && !counted_hole {
                // (The DynamoDB store counts first, then takes it back: the same end.)
                t.count_hole(chat_id, seq, false);
            }
            return Ok(false);
        }
        if message {
            t.count_hole(chat_id, seq, true);
        }
        let hole = HoleItem { chat_id: chat_id.to_owned(), seq, kind: HOLE.to_owned(), events, message, filled_at: now_ms };
        t.messages.insert(k, StoredEntry::Hole(hole));
        Ok(true)
    }
}

#[async_trait]
impl PresenceTable for MemoryStore {
    async fn put_presence_subscriptions(&self, subscriptions: &[PresenceSubscription]) -> Result<(), StoreError> {
        let mut t = self.tables();
        for sub in subscriptions {
            t.presence.insert(key(&sub.user_id, &sub.watcher_key), sub.clone());
        }
        Ok(())
    }

    async fn presence_subscribers(&self, user_id: &str, now_secs: u64, limit: usize) -> Result<Vec<PresenceSubscription>, StoreError> {
        let t = self.tables();
        Ok(t.presence.values().filter(|s| s.user_id == user_id && s.expires_at > now_secs).take(limit).cloned().collect())
    }

    async fn drop_presence_subscriptions(&self, user_id: &str, watcher_keys: &[String]) -> Result<(), StoreError> {
        let mut t = self.tables();
        for watcher in watcher_keys {
            t.presence.remove(&key(user_id, watcher));
        }
        Ok(())
    }

    async fn end_presence_watch(&self, watch: &PresenceSubscription) -> Result<(), StoreError> {
        let mut t = self.tables();
        let k = key(&watch.user_id, &watch.watcher_key);
        if t.presence.get(&k).is_some_and(|s| s.connection_id == watch.connection_id) {
            t.presence.remove(&k);
        }
        Ok(())
    }
}

#[async_trait]
impl RateLimitTable for MemoryStore {
    async fn charge_counter(&self, counter: &str, amount: u64, max: u64, _expires_at_secs: u64) -> Result<bool, StoreError> {
        if amount > max {
            return Ok(false);
        }
        let mut t = self.tables();
        let used = t.rate_limits.entry(counter.to_owned()).or_default();
        if *used > max - amount {
            return Ok(false);
        }
        *used += amount;
        Ok(true)
    }
}

#[async_trait]
impl UserTable for MemoryStore {
    async fn register_device_connection(
        &self,
        user_id: &str,
        device_id: &str,
        connection_id: &str,
        now_ms: u64,
        max_devices: usize,
    ) -> Result<Option<String>, AppError> {
        let mut t = self.tables();
        let user = t.users.entry(user_id.to_owned()).or_default();
        let devices = user.devices.get_or_insert_with(BTreeMap::new);
        if let Some(device) = devices.get_mut(device_id) {
            let previous = device.connection_id.replace(connection_id.to_owned());
            device.connected_at = Some(now_ms);
            return Ok(previous.filter(|p| p != connection_id));
        }
        if devices.len() >= max_devices {
            return Err(AppError::TooManyDevices { max: max_devices });
        }
        devices.insert(
            device_id.to_owned(),
            Device { connection_id: Some(connection_id.into()), connected_at: Some(now_ms), registered_at: now_ms, ..Default::default() },
        );
        Ok(None)
    }

    async fn clear_device_connection(&self, user_id: &str, device_id: &str, connection_id: &str, now_ms: u64) -> Result<bool, StoreError> {
        Ok(self.clear_connection_made_before(user_id, device_id, connection_id, None, now_ms))
    }

    async fn clear_stale_device_connection(
        &self,
        user_id: &str,
        device_id: &str,
        connection_id: &str,
        connected_before: u64,
        now_ms: u64,
    ) -> Result<bool, StoreError> {
        Ok(self.clear_connection_made_before(user_id, device_id, connection_id, Some(connected_before), now_ms))
    }

    async fn set_privacy(&self, user_id: &str, privacy: Privacy) -> Result<(), StoreError> {
        self.tables().users.entry(user_id.to_owned()).or_default().privacy = Some(privacy);
        Ok(())
    }

    async fn set_profile(&self, user_id: &str, profile: &Profile) -> Result<(), StoreError> {
        self.tables().users.entry(user_id.to_owned()).or_default().profile = Some(profile.clone());
        Ok(())
    }

    async fn registered_users(&self, user_ids: &[String]) -> Result<BTreeSet<String>, StoreError> {
        let t = self.tables();
        Ok(user_ids.iter().filter(|u| t.users.contains_key(*u)).cloned().collect())
    }

    async fn profiles_of(&self, user_ids: &[String]) -> Result<HashMap<String, Profile>, StoreError> {
        let t = self.tables();
        Ok(user_ids.iter().filter_map(|u| Some((u.clone(), t.users.get(u)?.profile.clone().unwrap_or_default()))).collect())
    }

    async fn privacy_of(&self, user_ids: &[String]) -> Result<HashMap<String, Privacy>, StoreError> {
        let t = self.tables();
        Ok(user_ids.iter().filter_map(|u| Some((u.clone(), t.users.get(u)?.privacy.unwrap_or_default()))).collect())
    }

    async fn revoke_device(&self, user_id: &str, device_id: &str, now_secs: u64) -> Result<Option<Device>, StoreError> {
        let mut t = self.tables();
        let Some(user) = t.users.get_mut(user_id) else { return Ok(None) };
        let Some(device) = user.devices.as_mut().and_then(|d| d.remove(device_id)) else { return Ok(None) };
        user.revocations.insert(crate::model::users::revocation(device_id, now_secs));
        user.last_seen = Some(now_secs * 1000);
        Ok(Some(device))
    }

    async fn device_registry(&self, user_id: &str) -> Result<UserDevices, StoreError> {
        let t = self.tables();
        Ok(match t.users.get(user_id) {
            // (The authorizers' projection: no last seen, no privacy.)
            Some(user) => UserDevices { last_seen: None, privacy: Privacy::default(), ..user.devices(user_id, true) },
            None => UserDevices { user_id: user_id.to_owned(), ..Default::default() },
        })
    }

    async fn forget_push_endpoint(&self, user_id: &str, device_id: &str, endpoint_arn: &str) -> Result<bool, StoreError> {
        let mut t = self.tables();
        match t.users.get_mut(user_id).and_then(|u| u.device(device_id)) {
            Some(device) if device.push.as_ref().is_some_and(|p| p.endpoint_arn == endpoint_arn) => {
                device.push = None;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn set_device_push(
        &self,
        user_id: &str,
        device_id: &str,
        push: Option<&PushEndpoint>,
    ) -> Result<Option<Option<PushEndpoint>>, StoreError> {
        let mut t = self.tables();
        let Some(device) = t.users.get_mut(user_id).and_then(|u| u.device(device_id)) else { return Ok(None) };
        Ok(Some(std::mem::replace(&mut device.push, push.cloned())))
    }

    async fn claim_push_slot(&self, user_id: &str, device_id: &str, now_ms: u64, window_ms: u64) -> Result<bool, StoreError> {
        let mut t = self.tables();
        match t.users.get_mut(user_id).and_then(|u| u.device(device_id)) {
            Some(device) if device.last_push_at.is_none_or(|at| at < now_ms.saturating_sub(window_ms)) => {
                device.last_push_at = Some(now_ms);
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn release_push_slot(&self, user_id: &str, device_id: &str, claimed_at: u64) -> Result<(), StoreError> {
        let mut t = self.tables();
        if let Some(device) = t.users.get_mut(user_id).and_then(|u| u.device(device_id))
            && device.last_push_at == Some(claimed_at)
        {
            device.last_push_at = None;
        }
        Ok(())
    }

    async fn devices_of(&self, user_ids: &[String]) -> Result<HashMap<String, UserDevices>, StoreError> {
        let t = self.tables();
        Ok(user_ids.iter().filter_map(|u| Some((u.clone(), t.users.get(u)?.devices(u, false)))).collect())
    }

    async fn set_device_keys(
        &self,
        user_id: &str,
        device_id: &str,
        keys: Option<&StoredIdentityKeys>,
        fallback: Option<&OneTimeKey>,
    ) -> Result<Option<Option<StoredIdentityKeys>>, StoreError> {
        let mut t = self.tables();
        let Some(device) = t.users.get_mut(user_id).and_then(|u| u.device(device_id)) else { return Ok(None) };
        if device.keys.is_none() {
            device.keys = keys.cloned();
        }
        if let Some(fallback) = fallback {
            device.fallback_key = Some(fallback.clone());
        }
        Ok(Some(device.keys.clone()))
    }
}

#[async_trait]
impl OneTimeKeyTable for MemoryStore {
    async fn put_one_time_keys(&self, device_key: &str, keys: &[OneTimeKey]) -> Result<(), StoreError> {
        let mut t = self.tables();
        for k in keys {
            t.one_time_keys.insert(key(device_key, &k.key_id), k.key.clone());
        }
        Ok(())
    }

    async fn count_one_time_keys(&self, device_key: &str) -> Result<usize, StoreError> {
        Ok(self.tables().one_time_keys.keys().filter(|(d, _)| d == device_key).count())
    }

    async fn claim_one_time_key(&self, device_key: &str) -> Result<Option<OneTimeKey>, StoreError> {
        let mut t = self.tables();
        let found = t.one_time_keys.keys().find(|(d, _)| d == device_key).cloned();
        Ok(found.and_then(|k| t.one_time_keys.remove(&k).map(|key| OneTimeKey { key_id: k.1, key })))
    }

    async fn delete_one_time_keys(&self, device_key: &str) -> Result<usize, StoreError> {
        let mut t = self.tables();
        let before = t.one_time_keys.len();
        t.one_time_keys.retain(|(d, _), _| d != device_key);
        Ok(before - t.one_time_keys.len())
    }
}

impl MemoryStore {
    fn clear_connection_made_before(
        &self,
        user_id: &str,
        device_id: &str,
        connection_id: &str,
        connected_before: Option<u64>,
        now_ms: u64,
    ) -> bool {
        let mut t = self.tables();
        let Some(user) = t.users.get_mut(user_id) else { return false };
        let Some(device) = user.device(device_id) else { return false };
        let made_before = connected_before.is_none_or(|before| device.connected_at.is_some_and(|at| at < before));
        if device.connection_id.as_deref() != Some(connection_id) || !made_before {
            return false;
        }
        device.connection_id = None;
        device.connected_at = None;
        user.last_seen = Some(now_ms);
        true
    }
}
