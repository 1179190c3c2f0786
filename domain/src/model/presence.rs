//! PresenceSubscriptions table: who is watching whose presence right now.
//! Partition: the watched user; one item per watching device (sort key
//! `watcherKey`, `user#device`), naming the connection it watches from and
//! expiring (TTL, and filtered on read) a few minutes after the client last
//! asked. A device subscribing again, from a new connection or the same,
//! overwrites its item: reconnecting never piles up watches, and a watch whose
//! connection is gone ends at the first post to it (410).

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PresenceSubscription {
    /// The watched user.
    pub user_id: String,
    /// The watching device (`user#device`): the sort key.
    pub watcher_key: String,
    /// The connection it watches from (posts go straight to it).
    pub connection_id: String,
    pub subscriber_id: String,
    /// TTL attribute, seconds since the epoch.
    pub expires_at: u64,
}
