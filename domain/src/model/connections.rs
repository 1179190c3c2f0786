//! Connections table: connection id → user and device, with a TTL beyond API
//! Gateway's 2-hour connection limit so records of lost `$disconnect`s expire.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::config::CONNECTION_RECORD_TTL;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionRecord {
    pub connection_id: String,
    pub user_id: String,
    pub device_id: String,
    pub connected_at: u64,
    /// TTL attribute, seconds since the epoch.
    pub expires_at: u64,
    /// `<hour of connect>#<shard>`: partition of the `byConnectBucket` index
    /// the retention job reads to find connections past API Gateway's 2
    /// hours (sharded: one partition for a whole hour's connects would cap
    /// them at a partition's 1,000 writes a second).
    pub connect_bucket: String,
    /// The heartbeat that moved the connection into its current window
    /// (milliseconds; the connect counts as one).
    #[serde(default)]
    pub last_heartbeat_at: u64,
    /// `<minute of the last heartbeat>#<shard>`: partition of the
    /// `byHeartbeat` index the presence sweeper reads (sharded so one
    /// minute's heartbeats spread over several partitions).
    #[serde(default)]
    pub heartbeat_bucket: String,
}

/// A connection as the `byConnectBucket` index has it: what never changes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Connected {
    pub connection_id: String,
    pub user_id: String,
    pub device_id: String,
    pub connected_at: u64,
}

/// Shards per hour in the `byConnectBucket` index.
pub const CONNECT_SHARDS: u64 = 16;

/// Shards per minute in the `byHeartbeat` index.
pub const HEARTBEAT_SHARDS: u64 = 16;

/// `<window>#<shard>`: the heartbeat window (`width` long, since the epoch)
/// `at_ms` falls in. A heartbeat writes only when it moves its connection to
/// a new window, so with the presence timeout as the width and a beat every
/// 5 minutes, fewer than half of them write at all.
pub fn heartbeat_bucket(connection_id: &str, at_ms: u64, width: Duration) -> String {
    crate::ids::time_bucket(at_ms / (width.as_millis() as u64).max(1), connection_id, HEARTBEAT_SHARDS)
}

impl ConnectionRecord {
    /// A connection made at `connected_at_ms`; `heartbeat_width` is the
    /// presence timeout (see [`heartbeat_bucket`]).
    pub fn new(connection_id: &str, user_id: &str, device_id: &str, connected_at_ms: u64, heartbeat_width: Duration) -> Self {
        Self {
            connection_id: connection_id.into(),
            user_id: user_id.into(),
            device_id: device_id.into(),
            connected_at: connected_at_ms,
            expires_at: connected_at_ms / 1000 + CONNECTION_RECORD_TTL.as_secs(),
            connect_bucket: crate::ids::time_bucket(connected_at_ms / 3_600_000, connection_id, CONNECT_SHARDS),
            last_heartbeat_at: connected_at_ms,
            heartbeat_bucket: heartbeat_bucket(connection_id, connected_at_ms, heartbeat_width),
        }
    }
}
