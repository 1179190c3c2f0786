//! The device lifecycle.
//!
//! - A device registers itself on its first connection, while the user has
//!   fewer than the allowed devices (3 by default).
//! - `listDevices` shows the user's devices; `unregisterDevice` removes one
//!   (a lost phone) or the asking device itself. Unregistering revokes every
//!   token the device was issued until then (both authorizers refuse them),
//!   closes its socket, deletes its push endpoint and discards its inbox
//!   without `delivered` receipts. A fresh token, issued later by the
//!   identity service, may register the device id again.
//! - A device over the limit still connects, as *unregistered*: it may only
//!   `listDevices` and `unregisterDevice` (every other route answers
//!   `device_not_registered`), so a user who lost all their devices frees a
//!   slot from the new one and reconnects — no operator needed. Its HTTP
//!   requests are refused (403) until it is registered.

use tracing::info;

use crate::auth::{Identity, VerifiedToken};
use crate::context::AppContext;
use crate::error::AppError;
use crate::ids::{DeviceId, device_key};
use crate::messaging::push::delete_sns_endpoint;
use crate::protocol::{DeviceView, Reply, ServerFrame};
use crate::time::{now_millis, now_secs};

/// What the authorizers make of a token's device.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admission {
    /// Registered already.
    Registered,
    /// Not registered, and there is room: `$connect` registers it.
    New,
    /// Not registered and the user is at the limit: list and unregister only.
    OverLimit,
}

/// Checks a verified token against the user's device registry: a token the
/// device was issued before it was unregistered is refused (`Unauthorized`).
pub async fn admit(ctx: &AppContext, token: &VerifiedToken) -> Result<Admission, AppError> {
    let who = &token.identity;
    let registry = ctx.store.device_registry(&who.user_id).await?;
    if registry.revoked_at(&who.device_id).is_some_and(|revoked| token.issued_at <= revoked) {
        info!(user = %who.user_id, device = %who.device_id, "token of an unregistered device refused");
        return Err(AppError::Unauthorized);
    }
    Ok(if registry.devices.contains_key(who.device_id.as_str()) {
        Admission::Registered
    } else if registry.devices.len() < ctx.config.max_devices_per_user {
        Admission::New
    } else {
        Admission::OverLimit
    })
}

/// `listDevices`.
pub async fn list_devices(ctx: &AppContext, who: &Identity) -> Result<ServerFrame, AppError> {
    let registry = ctx.store.device_registry(&who.user_id).await?;
    let now = now_millis();
    let devices = registry
        .devices
        .iter()
        .map(|(device_id, device)| DeviceView {
            device_id: device_id.clone(),
            registered_at: device.registered_at,
            online: device.live_connection(now).is_some(),
            connected_at: device.connected_at,
            push_platform: device.push.as_ref().map(|p| p.platform),
            current: *device_id == who.device_id,
        })
        .collect();
    Ok(ServerFrame::Devices {
        current_registered: registry.devices.contains_key(who.device_id.as_str()),
        devices,
        max_devices: ctx.config.max_devices_per_user,
    })
}

/// `unregisterDevice`: `device_id` (another of the caller's devices) or the
/// asking device itself. `connection_id` is the asking connection: when it is
/// the one being closed, the reply (with `request_id`) is posted before the
/// socket closes.
pub async fn unregister_device(
    ctx: &AppContext,
    who: &Identity,
    connection_id: &str,
    request_id: Option<String>,
    device_id: Option<DeviceId>,
) -> Result<ServerFrame, AppError> {
    let device_id = device_id.map_or_else(|| who.device_id.to_string(), String::from);
    let Some(device) = ctx.store.revoke_device(&who.user_id, &device_id, now_secs()).await? else {
        return Err(AppError::invalid(format!("no device {device_id} is registered")));
    };
    if let Some(push) = &device.push {
        delete_sns_endpoint(ctx, &who.user_id, &device_id, &push.endpoint_arn).await?;
    }
    let discarded = ctx.store.discard_inbox(&device_key(&who.user_id, &device_id)).await?;
    // Its unclaimed one-time keys would start sessions with no one.
    ctx.store.delete_one_time_keys(&device_key(&who.user_id, &device_id)).await?;
    info!(user = %who.user_id, device = %device_id, discarded, "device unregistered");
    if let Some(open) = device.connection_id.as_deref() {
        if open == connection_id {
            // API Gateway could not deliver the route's reply on a closed socket.
            let reply = Reply { request_id, frame: ServerFrame::DeviceUnregistered { device_id: device_id.clone(), discarded } };
            ctx.connections.post(open, &reply.to_json()).await;
        }
        ctx.connections.close(open).await;
    }
    Ok(ServerFrame::DeviceUnregistered { device_id, discarded })
}
