//! The store port: what the domain asks of its tables, one trait per table
//! (`store/` implements each on DynamoDB, `store/memory.rs` in memory for
//! the rules' unit tests). Every method is one access pattern by name, by
//! key or on one partition: nothing here can ask for a scan.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use async_trait::async_trait;

use crate::error::{AppError, StoreError};
use crate::ids::UserId;
use crate::model::{
    Accepted, AppendOutcome, Attachment, Chat, ChatEntry, Connected, ConnectionRecord, Device, InboxEntry, InboxPage, MemberChange,
    Membership, Message, OneTimeKey, PresenceSubscription, Privacy, Profile, PushEndpoint, StoredIdentityKeys, Taken, Taking, TargetChange,
    UserDevices,
};
use crate::protocol::{MessageChange, MessageView};

/// Every table together: what `AppContext::store` holds.
pub trait Store:
    AttachmentTable
    + ChatTable
    + ConnectionTable
    + ContactTable
    + InboxTable
    + MembershipTable
    + MessageTable
    + OneTimeKeyTable
    + PresenceTable
    + RateLimitTable
    + UserTable
{
}

impl<T> Store for T where
    T: AttachmentTable
        + ChatTable
        + ConnectionTable
        + ContactTable
        + InboxTable
        + MembershipTable
        + MessageTable
        + OneTimeKeyTable
        + PresenceTable
        + RateLimitTable
        + UserTable
{
}

/// The attachments table.
#[async_trait]
pub trait AttachmentTable: Send + Sync {
    /// Records a new attachment; false if the id is taken.
    async fn put_attachment(&self, attachment: &Attachment) -> Result<bool, StoreError>;

    async fn get_attachment(&self, attachment_id: &str) -> Result<Option<Attachment>, StoreError>;

    async fn attachments_by_id(&self, attachment_ids: &[String]) -> Result<Vec<Attachment>, StoreError>;

    /// Ids of unsent attachments in one `byExpiry` bucket that expired before `now_secs`.
    async fn abandoned_attachments(&self, bucket: &str, now_secs: u64) -> Result<Vec<String>, StoreError>;

    /// An upload is in use outside any message (an avatar): the cleanup leaves it.
    async fn keep_attachment(&self, attachment_id: &str) -> Result<(), StoreError>;

    /// An upload no longer in use (a replaced avatar): see [`discarded`].
    async fn discard_attachment(&self, attachment_id: &str, now_ms: u64) -> Result<(), StoreError>;

    /// Deletes an attachment record unless a message took it meanwhile.
    async fn delete_unsent_attachment(&self, attachment_id: &str) -> Result<bool, StoreError>;
}

/// The chats table.
#[async_trait]
pub trait ChatTable: Send + Sync {
    /// Creates the chat and its members' memberships in one transaction,
    /// unless a chat with this id exists; returns whether it did. A transaction
    /// takes 100 actions, so for a chat of 100 the creator's membership is
    /// written first: alone it is harmless (the chat list skips chats that do
    /// not exist), and the chat never exists without every membership.
    async fn create_chat(&self, chat: &Chat) -> Result<bool, StoreError>;

    /// Replaces the chat's members and admins, bumping its version, in one
    /// transaction with the affected membership — conditioned on the chat being
    /// unchanged (same version and seq) since `read`. Returns false when it
    /// changed: read again and retry. A send conditions on the version too, so
    /// no send accepted after this commits can still use the old members.
    async fn change_members(&self, read: &Chat, members: &[String], admins: &[String], change: MemberChange) -> Result<bool, StoreError>;

    /// The member accepts the chat: out of its `requested` set, and their
    /// membership no longer a request, in one transaction. Returns whether
    /// they had a request to accept.
    async fn accept_chat(&self, user_id: &str, chat_id: &str) -> Result<bool, StoreError>;

    /// Marks (or unmarks) `user_id` as blocking the other member of a 1-1
    /// chat, if the chat exists (a block before any chat needs no mark: the
    /// chat's creation checks the Contacts table).
    async fn set_blocked_by(&self, chat_id: &str, user_id: &str, blocked: bool) -> Result<(), StoreError>;

    /// Sets a group's name and/or description (`Some("")` removes the
    /// description). Not versioned: it changes no membership, so sends in
    /// flight are not made to retry; the last writer wins.
    async fn set_chat_info(&self, chat_id: &str, name: Option<&str>, description: Option<&str>) -> Result<(), StoreError>;

    /// Several chats by id (the chat list) with their counters, one
    /// BatchGetItem per 50 chats.
    async fn chats_by_id(&self, chat_ids: &[String]) -> Result<Vec<Chat>, StoreError>;

    /// The chat with its counter, strongly consistent: whoever reads it sees
    /// every membership change and seq acknowledged before.
    async fn get_chat(&self, chat_id: &str) -> Result<Option<Chat>, StoreError>;

    /// The chat item alone, strongly consistent: its members at its
    /// `version`, which is all a send needs before taking a seq (its `seq`
    /// and counts are the counter's, unless the chat has no counter yet).
    async fn get_chat_item(&self, chat_id: &str) -> Result<Option<Chat>, StoreError>;

    /// Takes the chat's next seq: one UpdateItem `ADD` on the counter,
    /// conditioned on the membership `version` that was read (`None`: the
    /// membership changed since; read the chat again). A chat without a
    /// counter gets one, continuing from the chat item's seq and counts.
    async fn take_seq(&self, read: &Chat, taking: Taking, now_ms: u64) -> Result<Option<Taken>, StoreError>;
}

/// The connections table.
#[async_trait]
pub trait ConnectionTable: Send + Sync {
    async fn put_connection(&self, record: &ConnectionRecord) -> Result<(), StoreError>;

    /// Records a heartbeat; false when the record is gone (swept or expired).
    /// It reads first (half a read unit) and writes only when the beat moves
    /// the connection to a new window: an update that changed nothing would
    /// still cost a write unit, and one that moves the index key three.
    async fn heartbeat(&self, connection_id: &str, now_ms: u64, width: Duration) -> Result<bool, StoreError>;

    /// Connections whose last heartbeat fell in `bucket` (see `heartbeat_bucket`).
    async fn connections_of_heartbeat_bucket(&self, bucket: &str) -> Result<Vec<ConnectionRecord>, StoreError>;

    /// Connections made during one shard of an hour (`<hour>#<shard>`), as
    /// the index projects them.
    async fn connections_of_connect_bucket(&self, bucket: &str) -> Result<Vec<Connected>, StoreError>;

    async fn delete_connection(&self, connection_id: &str) -> Result<(), StoreError>;
}

/// The contacts table.
#[async_trait]
pub trait ContactTable: Send + Sync {
    /// `user_id` accepts each of `contacts` (one BatchWriteItem per 25).
    async fn add_contacts(&self, user_id: &str, contacts: &[String], now_ms: u64) -> Result<(), StoreError>;

    /// Which of `users` have accepted `contact` (one BatchGetItem per 100).
    async fn who_accepted(&self, users: &[String], contact: &str) -> Result<BTreeSet<String>, StoreError>;

    /// `user_id` blocks `other`: the block, and `other` no longer accepted
    /// (after an unblock their next chat is a request again). One BatchWriteItem.
    async fn block(&self, user_id: &str, other: &str, now_ms: u64) -> Result<(), StoreError>;

    async fn unblock(&self, user_id: &str, other: &str) -> Result<(), StoreError>;

    /// Whom `user_id` blocks, in key order (one Query of the prefix, pages followed).
    async fn blocked_by(&self, user_id: &str) -> Result<Vec<String>, StoreError>;

    /// Which of the `(blocker, blocked)` pairs are blocks (one BatchGetItem per 100).
    async fn blocks_among(&self, pairs: &[(String, String)]) -> Result<BTreeSet<(String, String)>, StoreError>;

    /// Which of `candidates` `user_id` accepted (one BatchGetItem per 100).
    async fn contacts_among(&self, user_id: &str, candidates: &[String]) -> Result<BTreeSet<String>, StoreError>;
}

/// The inbox table.
#[async_trait]
pub trait InboxTable: Send + Sync {
    async fn put_inbox_entries(&self, entries: &[InboxEntry]) -> Result<(), StoreError>;

    /// Deletes acknowledged entries; acking an entry that is gone is not an error.
    async fn delete_inbox_entries(&self, device_key: &str, entry_ids: &[String]) -> Result<(), StoreError>;

    /// Empties a device's inbox (an unregistered device): each entry is first
    /// marked discarded, then deleted, so no receipt says it was delivered.
    /// Returns how many entries there were.
    async fn discard_inbox(&self, device_key: &str) -> Result<usize, StoreError>;

    /// Which of these (device, entry) keys are still in their inboxes (not acked).
    async fn inbox_keys_present(&self, keys: &[(String, String)]) -> Result<Vec<(String, String)>, StoreError>;

    /// Deletes entries of any devices by key.
    async fn delete_inbox_keys(&self, keys: &[(String, String)]) -> Result<(), StoreError>;

    /// One page of a device's unexpired inbox, oldest entry first.
    async fn inbox_page(&self, device_key: &str, cursor: Option<&str>, limit: usize, now_secs: u64) -> Result<InboxPage, StoreError>;
}

/// The memberships table.
#[async_trait]
pub trait MembershipTable: Send + Sync {
    async fn membership(&self, user_id: &str, chat_id: &str) -> Result<Option<Membership>, StoreError>;

    /// Every chat the user is or was in (one partition; grows with that user's chats only).
    async fn memberships_of_user(&self, user_id: &str) -> Result<Vec<Membership>, StoreError>;

    /// Members (present and former) of one chat: their keys from the
    /// `byChatKeys` index, then the memberships themselves.
    async fn memberships_of_chat(&self, chat_id: &str) -> Result<Vec<Membership>, StoreError>;

    /// Moves `lastRead` forward (never back). Returns the membership as it was
    /// before the change, or `None` when it did not move (already read that
    /// far, or the caller is no member of that chat — the caller tells them apart).
    /// `events`: the changes with seq up to `up_to_seq`.
    async fn mark_read(&self, user_id: &str, chat_id: &str, up_to_seq: u64, events: u64) -> Result<Option<Membership>, StoreError>;

    /// Deletes the chat for its member up to `through_seq` (the last seq they
    /// see; `events` of them changes): hidden from them for good, and read.
    /// False when they have no membership, or a later read or deletion came
    /// first (then nothing changed).
    async fn clear_chat(&self, user_id: &str, chat_id: &str, through_seq: u64, events: u64) -> Result<bool, StoreError>;

    /// Returns false when the caller has no membership in the chat.
    async fn set_muted(&self, user_id: &str, chat_id: &str, muted: bool) -> Result<bool, StoreError>;

    /// Memberships by (user, chat) keys, one BatchGetItem per 100.
    async fn memberships_by_key(&self, keys: &[(String, String)]) -> Result<Vec<Membership>, StoreError>;

    /// Hides a message from the member's own view (delete for me), unless
    /// they hide `max` already; false when at the limit or no member.
    async fn hide_message(&self, user_id: &str, chat_id: &str, seq: u64, max: usize) -> Result<bool, StoreError>;

    async fn forget_mentions(&self, user_id: &str, chat_id: &str, seqs: &[u64]) -> Result<(), StoreError>;

    /// Moves `lastDelivered` forward to `seq`, recording which device's ack
    /// did; true when it moved. True also when the same device already moved
    /// it to `seq`, so a retried stream batch sends its receipt again
    /// (receipts carry deterministic ids); another device's ack of the same
    /// messages is false: the sender was told already.
    async fn advance_delivered(&self, user_id: &str, chat_id: &str, seq: u64, device_id: &str) -> Result<bool, StoreError>;
}

/// The messages table.
#[async_trait]
pub trait MessageTable: Send + Sync {
    /// Stores a change to `target` at the seq `taken` from the chat's
    /// counter, in one transaction with the target's new state (conditioned
    /// on the state that was read: not deleted, no change since), what it
    /// does to the target's attachments, and the inbox entries (`None`: too
    /// many for one transaction; the caller writes them after). No item every
    /// send writes is in it.
    async fn append_change(
        &self,
        change: &MessageChange,
        target: &Message,
        how: TargetChange<'_>,
        inbox: Option<&[InboxEntry]>,
        taken: Taken,
    ) -> Result<AppendOutcome, StoreError>;

    /// Marks a message's inbox entries written (after a separate write).
    async fn inbox_written(&self, chat_id: &str, sender_id: &UserId, client_message_id: &str) -> Result<(), StoreError>;

    async fn find_accepted(&self, chat_id: &str, sender_id: &UserId, client_message_id: &str) -> Result<Option<Accepted>, StoreError>;

    /// Distinct senders of a chat's messages with seq in `[from, to]`.
    async fn senders_between(&self, chat_id: &str, from: u64, to: u64) -> Result<Vec<String>, StoreError>;

    /// The message at `seq` as it is now (none when the seq holds a change).
    async fn get_message(&self, chat_id: &str, seq: u64) -> Result<Option<MessageView>, StoreError>;

    /// What the chat holds at `seq`: a message or a change.
    async fn get_entry(&self, chat_id: &str, seq: u64) -> Result<Option<ChatEntry>, StoreError>;

    /// The changes (not messages) with seq up to `seq`, read from the item
    /// there or, when the seq holds nothing yet, the nearest one before it
    /// (0 when there is none, or it predates changes). One item read.
    async fn events_up_to(&self, chat_id: &str, seq: u64) -> Result<u64, StoreError>;

    /// Up to `limit` messages and changes of a chat with seq in `[from, to]`,
    /// ascending or descending by seq (one Query, more pages only past
    /// DynamoDB's 1 MB).
    async fn entries_between(&self, chat_id: &str, from: u64, to: u64, ascending: bool, limit: usize)
    -> Result<Vec<ChatEntry>, StoreError>;

    /// Messages and changes by (chat, seq), one BatchGetItem per 100.
    async fn entries_by_key(&self, keys: &[(String, u64)]) -> Result<Vec<ChatEntry>, StoreError>;

    /// Claims the sender's `clientMessageId` for a message (the idempotency
    /// record): false when it was claimed already.
    async fn claim_client_message_id(&self, accepted: &Accepted) -> Result<bool, StoreError>;

    /// Moves an accepted `clientMessageId` to another seq: its first was
    /// filled as a hole before the message was written there.
    async fn move_claim(&self, accepted: &Accepted, to: u64) -> Result<bool, StoreError>;

    /// Writes the message at its seq, unless the seq holds something already
    /// (a reader filled it as a hole: the caller takes another seq).
    /// `events`: the changes before it.
    async fn put_message(&self, message: &MessageView, events: u64) -> Result<bool, StoreError>;

    /// What a written message changes besides itself, each write idempotent
    /// so a retry may redo them: the sender's read marker (forward only),
    /// the mentions, the attachments it carries, and the inbox entries.
    async fn message_written(
        &self,
        message: &MessageView,
        events: u64,
        attachments: &[Attachment],
        inbox: &[InboxEntry],
    ) -> Result<(), StoreError>;

    /// Fills a seq that was taken and never written with a hole, unless
    /// something was written there meanwhile; returns whether it did. A seq
    /// taken for a message is counted on the chat's counter first, so
    /// unread counts skip it (and uncounted if the message won the race).
    async fn fill_hole(&self, chat_id: &str, seq: u64, events: u64, message: bool, now_ms: u64) -> Result<bool, StoreError>;
}

/// The presence table.
#[async_trait]
pub trait PresenceTable: Send + Sync {
    async fn put_presence_subscriptions(&self, subscriptions: &[PresenceSubscription]) -> Result<(), StoreError>;

    /// Up to `limit` unexpired subscriptions to `user_id`'s presence.
    async fn presence_subscribers(&self, user_id: &str, now_secs: u64, limit: usize) -> Result<Vec<PresenceSubscription>, StoreError>;

    /// Ends these watching devices' subscriptions to `user_id`.
    async fn drop_presence_subscriptions(&self, user_id: &str, watcher_keys: &[String]) -> Result<(), StoreError>;

    /// Ends a watch whose connection is gone, unless its device has
    /// subscribed again since (from another connection).
    async fn end_presence_watch(&self, watch: &PresenceSubscription) -> Result<(), StoreError>;
}

/// The rate_limits table.
#[async_trait]
pub trait RateLimitTable: Send + Sync {
    /// Adds `amount` to the counter unless it would pass `max`. Returns whether it did.
    async fn charge_counter(&self, counter: &str, amount: u64, max: u64, expires_at_secs: u64) -> Result<bool, StoreError>;
}

/// The users table.
#[async_trait]
pub trait UserTable: Send + Sync {
    /// Records `connection_id` as the device's live connection, registering the
    /// device if it is new. A new device is refused when the user already has
    /// `max_devices`; the check and the write are one conditional update.
    async fn register_device_connection(
        &self,
        user_id: &str,
        device_id: &str,
        connection_id: &str,
        now_ms: u64,
        max_devices: usize,
    ) -> Result<Option<String>, AppError>;

    /// Forgets the device's connection, unless a newer connection replaced
    /// it, and notes `now_ms` as the user's last seen (shown once no device is
    /// left). Returns whether it did.
    async fn clear_device_connection(&self, user_id: &str, device_id: &str, connection_id: &str, now_ms: u64) -> Result<bool, StoreError>;

    /// Like `clear_device_connection`, but only for a connection made before
    /// `connected_before` (a 410 from API Gateway for a younger one may mean
    /// its `$connect` has not finished, not that it is gone).
    async fn clear_stale_device_connection(
        &self,
        user_id: &str,
        device_id: &str,
        connection_id: &str,
        connected_before: u64,
        now_ms: u64,
    ) -> Result<bool, StoreError>;

    /// Sets the user's privacy settings (creating the user item if need be).
    async fn set_privacy(&self, user_id: &str, privacy: Privacy) -> Result<(), StoreError>;

    async fn set_profile(&self, user_id: &str, profile: &Profile) -> Result<(), StoreError>;

    /// Which of `user_ids` have ever registered a device (signed in once):
    /// the others do not exist here. One BatchGetItem per 100.
    async fn registered_users(&self, user_ids: &[String]) -> Result<BTreeSet<String>, StoreError>;

    /// Profiles of many users (empty for users who set none; unknown users are left out): one
    /// BatchGetItem per 100.
    async fn profiles_of(&self, user_ids: &[String]) -> Result<HashMap<String, Profile>, StoreError>;

    /// Privacy settings of many users (the defaults for users without any):
    /// one BatchGetItem per 100.
    async fn privacy_of(&self, user_ids: &[String]) -> Result<HashMap<String, Privacy>, StoreError>;

    /// Forgets a device and revokes the tokens it holds (issued up to
    /// `now_secs`): no new inbox entries are written for it and both
    /// authorizers refuse it. Returns the device as it was, or `None` when it
    /// was not registered.
    async fn revoke_device(&self, user_id: &str, device_id: &str, now_secs: u64) -> Result<Option<Device>, StoreError>;

    /// The user's devices and revocations, strongly consistent (for the
    /// authorizers: one GetItem per connection or uncached HTTP token).
    async fn device_registry(&self, user_id: &str) -> Result<UserDevices, StoreError>;

    /// Forgets a device's push endpoint if it still is `endpoint_arn` (another
    /// device took the token over). Returns whether it was forgotten.
    async fn forget_push_endpoint(&self, user_id: &str, device_id: &str, endpoint_arn: &str) -> Result<bool, StoreError>;

    /// Sets (or removes) a device's push endpoint. `None` when the device is
    /// not registered; otherwise the endpoint it had before, if any.
    async fn set_device_push(
        &self,
        user_id: &str,
        device_id: &str,
        push: Option<&PushEndpoint>,
    ) -> Result<Option<Option<PushEndpoint>>, StoreError>;

    /// Takes the device's push slot: true unless it had a push within `window_ms`.
    async fn claim_push_slot(&self, user_id: &str, device_id: &str, now_ms: u64, window_ms: u64) -> Result<bool, StoreError>;

    /// Gives back a push slot whose push failed, so a retry can send it.
    async fn release_push_slot(&self, user_id: &str, device_id: &str, claimed_at: u64) -> Result<(), StoreError>;

    /// Devices (and live connections) of many users: one strongly consistent
    /// BatchGetItem per 100 users.
    async fn devices_of(&self, user_ids: &[String]) -> Result<HashMap<String, UserDevices>, StoreError>;

    /// Sets a registered device's identity keys unless it has some already,
    /// and replaces its fallback key when one is given: one conditional
    /// update. Returns the identity keys the device has now (another upload's
    /// when it had keys already), or `None` when the device is not registered.
    async fn set_device_keys(
        &self,
        user_id: &str,
        device_id: &str,
        keys: Option<&StoredIdentityKeys>,
        fallback: Option<&OneTimeKey>,
    ) -> Result<Option<Option<StoredIdentityKeys>>, StoreError>;
}

/// The one-time keys table: a device's unclaimed one-time public keys
/// (partition: the device, `user#device`; sort: the device's key id).
#[async_trait]
pub trait OneTimeKeyTable: Send + Sync {
    /// Stores keys the device uploaded (a key id it uploaded before is overwritten).
    async fn put_one_time_keys(&self, device_key: &str, keys: &[OneTimeKey]) -> Result<(), StoreError>;

    /// How many unclaimed keys the device has.
    async fn count_one_time_keys(&self, device_key: &str) -> Result<usize, StoreError>;

    /// Takes one of the device's keys for good: a conditional delete, so of
    /// racing claims exactly one gets each key. `None` when none is left.
    async fn claim_one_time_key(&self, device_key: &str) -> Result<Option<OneTimeKey>, StoreError>;

    /// Deletes every unclaimed key of a device (it was unregistered).
    async fn delete_one_time_keys(&self, device_key: &str) -> Result<usize, StoreError>;
}
