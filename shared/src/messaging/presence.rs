//! Presence: a user is online while any of their devices holds a connection.
//!
//! Clients send `heartbeat` (every minute; it also keeps API Gateway's
//! 10-minute idle timeout away). A connection whose heartbeats stop is swept
//! (`sweep`, every minute, through the `byHeartbeat` index) as if `$disconnect`
//! had come. `lastSeen` is kept when the last device goes.
//!
//! Cost is bounded by interest, not by contacts: a change is posted only to
//! connections that subscribed to that user in the last few minutes
//! (`subscribePresence`, for users the caller shares a chat with) — one Query
//! and one post per watcher — never to every member of every chat.

use std::collections::BTreeSet;
use std::time::Duration;

use tracing::info;

use super::connect as register_connection;
use crate::auth::Identity;
use crate::context::AppContext;
use crate::error::AppError;
use crate::fanout;
use crate::ids::{check_id, time_buckets};
use crate::protocol::{PresenceView, ServerFrame};
use crate::store::{HEARTBEAT_SHARDS, PresenceSubscription};
use crate::time::now_millis;

/// How long a `subscribePresence` keeps delivering changes.
pub const SUBSCRIPTION_TTL: Duration = Duration::from_secs(5 * 60);
pub const MAX_PRESENCE_USERS: usize = 100;
/// Minutes of heartbeat buckets each sweep looks back over (it runs every minute).
pub const SWEEP_LOOKBACK_MINUTES: u64 = 10;

pub async fn presence_of(ctx: &AppContext, user_ids: &[String]) -> Result<Vec<PresenceView>, AppError> {
    let devices = ctx.store.devices_of(user_ids).await?;
    let now = now_millis();
    Ok(user_ids
        .iter()
        .map(|user| {
            let found = devices.get(user);
            let online = found.is_some_and(|u| u.is_online(now));
            PresenceView { user_id: user.clone(), online, last_seen: if online { None } else { found.and_then(|u| u.last_seen) } }
        })
        .collect())
}

/// Tells the user's current watchers their presence (after it may have changed).
pub async fn announce(ctx: &AppContext, user_id: &str) -> Result<PresenceView, AppError> {
    let now = now_millis();
    let mut view = presence_of(ctx, &[user_id.to_owned()]).await?.remove(0);
    if !view.online {
        ctx.store.set_last_seen(user_id, now).await?;
        view.last_seen = Some(now);
    }
    // One subscription per watching connection (the table's key).
    let watchers = ctx.store.presence_subscribers(user_id, now / 1000).await?;
    let watching = watchers.len();
    let frame = ServerFrame::Presence(view.clone()).to_json();
    // Concurrently, as messages fan out (one post after another made
    // `$connect` grow with the watchers). Presence is a live signal: a gone
    // watcher simply misses it.
    fanout::post_each(ctx, watchers, |watcher| &watcher.connection_id, &frame).await;
    info!(user_id, online = view.online, watchers = watching, "presence announced");
    Ok(view)
}

/// After `$connect`: the user comes online with their first live device.
pub async fn after_connect(ctx: &AppContext, who: &Identity, connection_id: &str) -> Result<(), AppError> {
    let devices = ctx.store.devices_of(std::slice::from_ref(&who.user_id)).await?;
    let now = now_millis();
    let others_live =
        devices.get(&who.user_id).is_some_and(|u| u.devices.values().filter_map(|d| d.live_connection(now)).any(|c| c != connection_id));
    if !others_live {
        announce(ctx, &who.user_id).await?;
    }
    Ok(())
}

/// After `$disconnect` or a sweep: offline when no device is left.
pub async fn after_disconnect(ctx: &AppContext, user_id: &str) -> Result<(), AppError> {
    let devices = ctx.store.devices_of(&[user_id.to_owned()]).await?;
    if !devices.get(user_id).is_some_and(|u| u.is_online(now_millis())) {
        announce(ctx, user_id).await?;
    }
    Ok(())
}

pub async fn heartbeat(ctx: &AppContext, who: &Identity, connection_id: &str) -> Result<ServerFrame, AppError> {
    if !ctx.store.heartbeat(connection_id, now_millis()).await? {
        // Swept while the socket lived on (heartbeats were late): register again.
        register_connection(ctx, who, connection_id).await?;
        after_connect(ctx, who, connection_id).await?;
    }
    Ok(ServerFrame::HeartbeatAck {})
}

/// Users who share a chat with `user_id` (whose presence they may see).
async fn contacts_of(ctx: &AppContext, user_id: &str) -> Result<BTreeSet<String>, AppError> {
    Ok(super::reads::current_chats(ctx, user_id).await?.into_iter().flat_map(|c| c.members).collect())
}

pub async fn subscribe_presence(
    ctx: &AppContext,
    who: &Identity,
    connection_id: &str,
    user_ids: Vec<String>,
) -> Result<ServerFrame, AppError> {
    let users: Vec<String> = user_ids.into_iter().collect::<BTreeSet<_>>().into_iter().collect();
    if users.is_empty() || users.len() > MAX_PRESENCE_USERS {
        return Err(AppError::invalid(format!("ask for 1 to {MAX_PRESENCE_USERS} users")));
    }
    for user in &users {
        check_id("userId", user)?;
    }
    let contacts = contacts_of(ctx, &who.user_id).await?;
    if let Some(stranger) = users.iter().find(|u| !contacts.contains(*u)) {
        return Err(AppError::Forbidden(format!("you share no chat with {stranger}")));
    }
    let expires_at = (now_millis() + SUBSCRIPTION_TTL.as_millis() as u64) / 1000;
    let subscriptions: Vec<PresenceSubscription> = users
        .iter()
        .map(|user| PresenceSubscription {
            user_id: user.clone(),
            connection_id: connection_id.to_owned(),
            subscriber_id: who.user_id.clone(),
            expires_at,
        })
        .collect();
    ctx.store.put_presence_subscriptions(&subscriptions).await?;
    Ok(ServerFrame::PresenceList { users: presence_of(ctx, &users).await? })
}

/// Connections whose heartbeats stopped: cleared, closed, and their users'
/// watchers told. Returns how many were swept.
pub async fn sweep(ctx: &AppContext, now_ms: u64) -> Result<usize, AppError> {
    let cutoff = now_ms.saturating_sub(ctx.config.presence_timeout.as_millis() as u64);
    let last_minute = cutoff / 60_000;
    let mut affected = BTreeSet::new();
    let mut swept = 0;
    for bucket in time_buckets(last_minute.saturating_sub(SWEEP_LOOKBACK_MINUTES)..=last_minute, HEARTBEAT_SHARDS) {
        for record in ctx.store.connections_of_heartbeat_bucket(&bucket).await? {
            if record.last_heartbeat_at >= cutoff {
                continue;
            }
            ctx.store.clear_device_connection(&record.user_id, &record.device_id, &record.connection_id, u64::MAX).await?;
            ctx.store.delete_connection(&record.connection_id).await?;
            // API Gateway may still hold the socket: close it, so the client reconnects.
            ctx.connections.close(&record.connection_id).await;
            affected.insert(record.user_id);
            swept += 1;
        }
    }
    for user in &affected {
        after_disconnect(ctx, user).await?;
    }
    Ok(swept)
}
