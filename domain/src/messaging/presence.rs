//! Presence: a user is online while any of their devices holds a connection.
//!
//! Clients send `heartbeat` every 5 minutes (it also keeps API Gateway's
//! 10-minute idle timeout away). A connection whose heartbeats stop is swept
//! (`sweep`, every minute, through the `byHeartbeat` index) as if `$disconnect`
//! had come — a backstop: API Gateway itself closes a silent socket after
//! 10 minutes and sends `$disconnect`. `lastSeen` is kept when the last
//! device goes. Heartbeats are what an idle connected device costs, so they
//! are rare (5 minutes) and mostly write nothing (see `Store::heartbeat`):
//! issue 14 measured a minute's beat with its reply at ~$0.19 a device-month.
//!
//! Cost is bounded by interest, not by contacts: a change is posted only to
//! connections that subscribed to that user in the last few minutes
//! (`subscribePresence`, for users the caller shares a chat with) — one Query
//! and one post per watcher — never to every member of every chat.

use std::collections::BTreeSet;
use std::time::Duration;

use futures::{StreamExt, TryStreamExt, stream};
use tracing::info;

use super::connect as register_connection;
use crate::auth::Identity;
use crate::context::AppContext;
use crate::error::AppError;
use crate::ids;
use crate::ids::{UserId, time_buckets};
use crate::limits::Limit;
use crate::model::{HEARTBEAT_SHARDS, PresenceAudience, PresenceSubscription, Privacy, UserDevices};
use crate::protocol::{PresenceView, ServerFrame};
use crate::time::now_millis;

/// How long a `subscribePresence` keeps delivering changes.
pub const SUBSCRIPTION_TTL: Duration = Duration::from_secs(5 * 60);
pub const MAX_PRESENCE_USERS: usize = 100;
/// Heartbeat windows each sweep looks back over, before the timeout (it runs
/// every minute; 3 windows of the default 11 minutes cover half an hour).
pub const SWEEP_LOOKBACK_WINDOWS: u64 = 3;

/// The presence of `user_ids` as `viewer` may see it (their privacy settings applied).
pub async fn presence_of(ctx: &AppContext, viewer: &str, user_ids: &[String]) -> Result<Vec<PresenceView>, AppError> {
    let devices = ctx.store.devices_of(user_ids).await?;
    let settings = devices.iter().map(|(id, user)| (id.clone(), user.privacy)).collect();
    let hidden = super::privacy::hiding_presence_from(ctx, viewer, &settings).await?;
    let now = now_millis();
    Ok(user_ids
        .iter()
        .map(|user| {
            if hidden.contains(user) {
                return PresenceView { user_id: user.clone(), online: false, last_seen: None, hidden: true };
            }
            let found = devices.get(user);
            let online = found.is_some_and(|u| u.is_online(now));
            let last_seen = if online { None } else { found.and_then(|u| u.last_seen) };
            PresenceView { user_id: user.clone(), online, last_seen, hidden: false }
        })
        .collect())
}

/// What a change of a user's item (a users-table stream record) means for
/// their presence: `Some` when they came online (a first device connected) or
/// went offline (the last one left), `None` for any other change.
pub fn presence_change(old: Option<&UserDevices>, new: Option<&UserDevices>, changed_at_ms: u64) -> Option<PresenceView> {
    let was = old.is_some_and(UserDevices::connected);
    let is = new.is_some_and(UserDevices::connected);
    if was == is {
        return None;
    }
    let user_id = new.or(old)?.user_id.clone();
    let last_seen = (!is).then(|| new.and_then(|n| n.last_seen).unwrap_or(changed_at_ms));
    Some(PresenceView { user_id, online: is, last_seen, hidden: false })
}

/// Tells the user's current watchers a change of their presence: at most
/// `max_presence_watchers` of them, so a user watched by thousands (or by
/// someone farming subscriptions) costs a bounded announcement. Watchers past
/// it learn the state when they next subscribe, which clients do every few
/// minutes and on opening a chat. Runs off the users table's stream, never inside
/// `$connect`, `$disconnect` or a sweep: how many watch a user cannot slow
/// their connecting down.
pub async fn announce(ctx: &AppContext, view: &PresenceView, privacy: Privacy) -> Result<usize, AppError> {
    if privacy.presence == PresenceAudience::Nobody {
        return Ok(0);
    }
    // One subscription per watching device (the table's key).
    let mut watchers = ctx.store.presence_subscribers(&view.user_id, now_millis() / 1000, ctx.config.max_presence_watchers).await?;
    if privacy.presence == PresenceAudience::Contacts {
        let subscribers: Vec<String> = watchers.iter().map(|w| w.subscriber_id.clone()).collect::<BTreeSet<_>>().into_iter().collect();
        let contacts = ctx.store.contacts_among(&view.user_id, &subscribers).await?;
        watchers.retain(|w| contacts.contains(&w.subscriber_id));
    }
    let watching = watchers.len();
    let frame = ServerFrame::Presence(view.clone()).to_json();
    // Presence is a live signal: a gone watcher misses it, and its watch
    // ended with its connection (as many at a time as posts go).
    let outcomes = super::delivery::post_each(ctx, watchers, |watcher| &watcher.connection_id, &frame).await;
    let gone: Vec<PresenceSubscription> =
        outcomes.into_iter().filter(|(outcome, _)| *outcome == crate::ports::PostOutcome::Gone).map(|(_, watch)| watch).collect();
    // Owned watches: borrowing them into the stream trips the compiler's
    // higher-ranked lifetime check when the future must be Send.
    stream::iter(gone)
        .map(|watch| async move { ctx.store.end_presence_watch(&watch).await })
        .buffer_unordered(ctx.config.fanout_concurrency)
        .try_collect::<Vec<()>>()
        .await?;
    info!(user_id = view.user_id, online = view.online, watchers = watching, "presence announced");
    Ok(watching)
}

pub async fn heartbeat(ctx: &AppContext, who: &Identity, connection_id: &str) -> Result<ServerFrame, AppError> {
    if !ctx.store.heartbeat(connection_id, now_millis(), ctx.config.presence_timeout).await? {
        // Swept while the socket lived on (heartbeats were late): register
        // again (the users table's stream announces it).
        register_connection(ctx, who, connection_id).await?;
    }
    Ok(ServerFrame::HeartbeatAck {})
}

/// Users whose presence `user_id` may see: members of a chat with them who
/// accepted it (a message request's recipient stays hidden from its sender).
async fn contacts_of(ctx: &AppContext, user_id: &str) -> Result<BTreeSet<String>, AppError> {
    let chats = super::reads::current_chats(ctx, user_id).await?;
    Ok(chats.iter().flat_map(|c| c.accepted_members().cloned()).collect())
}

pub async fn subscribe_presence(
    ctx: &AppContext,
    who: &Identity,
    connection_id: &str,
    user_ids: Vec<UserId>,
) -> Result<ServerFrame, AppError> {
    let users: Vec<String> = user_ids.into_iter().map(String::from).collect::<BTreeSet<_>>().into_iter().collect();
    if users.is_empty() || users.len() > MAX_PRESENCE_USERS {
        return Err(AppError::invalid(format!("ask for 1 to {MAX_PRESENCE_USERS} users")));
    }
    ctx.charge(Limit::PresenceSubscriptions, &ids::device_key(&who.user_id, &who.device_id), 1).await?;
    let contacts = contacts_of(ctx, &who.user_id).await?;
    if let Some(stranger) = users.iter().find(|u| !contacts.contains(*u)) {
        return Err(AppError::Forbidden(format!("you share no chat with {stranger}")));
    }
    if let Some(blocker) = super::blocking::blockers_of(ctx, &users, &who.user_id).await?.first() {
        return Err(AppError::Forbidden(format!("{blocker} does not share their presence with you")));
    }
    let expires_at = (now_millis() + SUBSCRIPTION_TTL.as_millis() as u64) / 1000;
    let subscriptions: Vec<PresenceSubscription> = users
        .iter()
        .map(|user| PresenceSubscription {
            user_id: user.clone(),
            watcher_key: ids::device_key(&who.user_id, &who.device_id),
            connection_id: connection_id.to_owned(),
            subscriber_id: who.user_id.to_string(),
            expires_at,
        })
        .collect();
    ctx.store.put_presence_subscriptions(&subscriptions).await?;
    Ok(ServerFrame::PresenceList { users: presence_of(ctx, &who.user_id, &users).await? })
}

/// Connections whose heartbeats stopped: cleared and closed (the users
/// table's stream tells watchers). Returns how many were swept.
pub async fn sweep(ctx: &AppContext, now_ms: u64) -> Result<usize, AppError> {
    let width = (ctx.config.presence_timeout.as_millis() as u64).max(1);
    let cutoff = now_ms.saturating_sub(width);
    // Windows that ended by the cutoff: whoever is still in one has not
    // beaten for the timeout (a beat moves its connection to the current window).
    let Some(last_window) = (cutoff / width).checked_sub(1) else { return Ok(0) };
    let mut swept = 0;
    let windows = last_window.saturating_sub(SWEEP_LOOKBACK_WINDOWS - 1)..=last_window;
    for bucket in time_buckets(windows, HEARTBEAT_SHARDS) {
        for record in ctx.store.connections_of_heartbeat_bucket(&bucket).await? {
            if record.last_heartbeat_at >= cutoff {
                continue;
            }
            ctx.store.clear_device_connection(&record.user_id, &record.device_id, &record.connection_id, now_ms).await?;
            ctx.store.delete_connection(&record.connection_id).await?;
            // API Gateway may still hold the socket: close it, so the client reconnects.
            ctx.connections.close(&record.connection_id).await;
            swept += 1;
        }
    }
    Ok(swept)
}
