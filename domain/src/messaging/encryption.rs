//! End-to-end encryption's server side (docs/e2ee.md): the server keeps
//! each device's public keys and relays what devices encrypt for each
//! other, and never holds anything it could decrypt.
//!
//! - `uploadKeys`: a device's identity keys (once), one-time keys and a
//!   fallback key.
//! - `getDeviceKeys`: the devices of a chat's members with their identity
//!   keys, and a digest of that list, which an encrypted `sendMessage` names.
//! - `claimKeys`: one one-time key per device, each handed out once (or the
//!   fallback key once they ran out): the start of an Olm session.
//! - `sendToDevice`: Olm messages (session keys) to single devices, through
//!   their inboxes.
//!
//! An encrypted chat's texts — messages, edits, reactions — are envelopes
//! (`megolm.v1:<sessionId>:<ciphertext>`): the server checks their shape,
//! stores and delivers them, and builds nothing from their content (no
//! mentions parsed, no quote snippets, no push previews).

use std::collections::{BTreeSet, HashMap};

use base64::Engine;
use futures::{StreamExt, TryStreamExt};
use sha2::{Digest, Sha256};
use tracing::info;

use super::delivery;
use super::new_event_id;
use crate::auth::Identity;
use crate::context::AppContext;
use crate::error::AppError;
use crate::ids::device_key;
use crate::limits::Limit;
use crate::model::one_time_keys::MAX_ONE_TIME_KEYS;
use crate::model::{Chat, EntryKind, InboxEntry, OneTimeKey, StoredIdentityKeys, UserDevices};
use crate::ports::Target;
use crate::protocol::{
    ClaimKeysRequest, ClaimedKeyView, DeviceKeysView, DeviceRef, GetDeviceKeysRequest, IdentityKeys, OneTimeKeyView, SendToDeviceRequest,
    ServerFrame, UploadKeysRequest,
};
use crate::time::now_millis;

/// The envelope's algorithm: Megolm (vodozemac), one session per sending device.
pub const MEGOLM_V1: &str = "megolm.v1";
/// One-time keys a device may upload in one request.
pub const MAX_KEYS_PER_UPLOAD: usize = 50;
/// Devices `claimKeys` names at once (100 members × 3 devices).
pub const MAX_CLAIMS: usize = 300;
/// Messages one `sendToDevice` carries (a client sends a large group's in a few requests).
pub const MAX_TO_DEVICE_MESSAGES: usize = 100;
/// An Olm message carrying a session key is ~600 bytes of base64.
pub const MAX_TO_DEVICE_BYTES: usize = 4096;
/// Claims run against DynamoDB at once.
const CLAIM_CONCURRENCY: usize = 16;

/// How long an envelope may be: what a plain text of the plain limit
/// becomes. The client wraps the text (JSON, with room for escapes: 1 KiB),
/// Megolm adds ~100 bytes (version, index, a block of padding, MAC,
/// signature), base64 makes 4 of every 3, and the prefix and session id
/// take ~60. For the 16 KiB default that is 23 338 bytes: a frame that
/// carries it stays under API Gateway's 32 KB.
pub fn max_envelope_bytes(max_message_bytes: usize) -> usize {
    (max_message_bytes + 1024) * 4 / 3 + 128
}

fn base64ish(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'-' | b'_'))
}

/// Whether `text` has the shape of an envelope (its content is never looked at).
pub fn is_envelope(text: &str) -> bool {
    let mut parts = text.splitn(3, ':');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(MEGOLM_V1), Some(session), Some(ciphertext)) => base64ish(session) && session.len() <= 128 && base64ish(ciphertext),
        _ => false,
    }
}

/// An encrypted chat takes envelopes only, and a plain one no envelope-shaped text
/// (`what`: the field, for the message).
pub fn check_text_mode(chat: &Chat, text: &str, what: &str) -> Result<(), AppError> {
    match (chat.encrypted, is_envelope(text)) {
        (true, false) => Err(AppError::invalid(format!("{what}: this chat is end-to-end encrypted; send a {MEGOLM_V1} envelope"))),
        (false, true) => Err(AppError::invalid(format!("{what}: this chat is not encrypted; an envelope would show as gibberish"))),
        _ => Ok(()),
    }
}

fn check_key(what: &str, key: &str) -> Result<(), AppError> {
    // Curve25519 and Ed25519 public keys: 32 bytes, 43 characters of unpadded base64.
    let ok = key.len() == 43 && base64::engine::general_purpose::STANDARD_NO_PAD.decode(key).is_ok_and(|b| b.len() == 32);
    if ok { Ok(()) } else { Err(AppError::invalid(format!("{what} must be a 32-byte key in unpadded base64"))) }
}

fn check_one_time_key(key: &OneTimeKeyView) -> Result<OneTimeKey, AppError> {
    let id_ok = !key.key_id.is_empty()
        && key.key_id.len() <= 64
        && key.key_id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'-' | b'_' | b'.' | b':'));
    if !id_ok {
        return Err(AppError::invalid("keyId must be 1-64 characters of A-Z a-z 0-9 + / = - _ . :"));
    }
    check_key("a one-time key", &key.key)?;
    Ok(OneTimeKey { key_id: key.key_id.clone(), key: key.key.clone() })
}

fn wire_keys(keys: &StoredIdentityKeys) -> IdentityKeys {
    IdentityKeys { curve25519: keys.curve25519.clone(), ed25519: keys.ed25519.clone() }
}

/// `uploadKeys`.
pub async fn upload_keys(ctx: &AppContext, who: &Identity, request: UploadKeysRequest) -> Result<ServerFrame, AppError> {
    if request.one_time_keys.len() > MAX_KEYS_PER_UPLOAD {
        return Err(AppError::invalid(format!("upload at most {MAX_KEYS_PER_UPLOAD} one-time keys at once")));
    }
    let identity = match &request.identity_keys {
        Some(keys) => {
            check_key("identityKeys.curve25519", &keys.curve25519)?;
            check_key("identityKeys.ed25519", &keys.ed25519)?;
            Some(StoredIdentityKeys { curve25519: keys.curve25519.clone(), ed25519: keys.ed25519.clone() })
        }
        None => None,
    };
    let one_time: Vec<OneTimeKey> = request.one_time_keys.iter().map(check_one_time_key).collect::<Result<_, _>>()?;
    let fallback = request.fallback_key.as_ref().map(check_one_time_key).transpose()?;
    let inbox = device_key(&who.user_id, &who.device_id);
    let held = ctx.store.count_one_time_keys(&inbox).await?;
    if held + one_time.len() > MAX_ONE_TIME_KEYS {
        return Err(AppError::invalid(format!("a device holds at most {MAX_ONE_TIME_KEYS} one-time keys; it has {held}")));
    }
    let Some(current) = ctx.store.set_device_keys(&who.user_id, &who.device_id, identity.as_ref(), fallback.as_ref()).await? else {
        return Err(AppError::DeviceNotRegistered);
    };
    if let (Some(given), Some(current)) = (&identity, &current)
        && given != current
    {
        return Err(AppError::invalid(
            "this device's identity keys are set already and never change: a device that lost them signs in as a new device",
        ));
    }
    if !one_time.is_empty() {
        if current.is_none() {
            return Err(AppError::invalid("upload the device's identity keys first (or with its one-time keys)"));
        }
        ctx.store.put_one_time_keys(&inbox, &one_time).await?;
    }
    Ok(ServerFrame::KeysUploaded { one_time_key_count: held + one_time.len() })
}

/// The chat, if the caller is one of its members now (removed members take no part in its keys).
async fn member_chat(ctx: &AppContext, who: &Identity, chat_id: &str) -> Result<Chat, AppError> {
    let chat = ctx.store.get_chat_item(chat_id).await?.filter(|c| c.is_member(&who.user_id)).ok_or(AppError::NotMember)?;
    if chat.is_blocked() {
        return Err(AppError::Blocked("one of you has blocked the other: unblock to write here".into()));
    }
    Ok(chat)
}

/// The devices with identity keys of `members`, ordered by user, then device.
pub fn keyed_devices(members: &[String], devices: &HashMap<String, UserDevices>) -> Vec<DeviceKeysView> {
    let mut out: Vec<DeviceKeysView> = members
        .iter()
        .filter_map(|m| devices.get(m))
        .flat_map(|user| {
            user.devices.iter().filter_map(|(device_id, device)| {
                Some(DeviceKeysView {
                    user_id: user.user_id.clone(),
                    device_id: device_id.clone(),
                    identity_keys: wire_keys(device.keys.as_ref()?),
                })
            })
        })
        .collect();
    out.sort_by(|a, b| (&a.user_id, &a.device_id).cmp(&(&b.user_id, &b.device_id)));
    out
}

/// A digest of a device list: SHA-256 over each device's user, id and
/// Curve25519 key, in order; unpadded base64url. Any device added, removed
/// or re-keyed changes it.
pub fn devices_digest(devices: &[DeviceKeysView]) -> String {
    let mut hash = Sha256::new();
    for d in devices {
        for part in [&d.user_id, &d.device_id, &d.identity_keys.curve25519] {
            hash.update(part.as_bytes());
            hash.update([0]);
        }
    }
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(hash.finalize())
}

/// `getDeviceKeys`.
pub async fn get_device_keys(ctx: &AppContext, who: &Identity, request: GetDeviceKeysRequest) -> Result<ServerFrame, AppError> {
    let chat = member_chat(ctx, who, &request.chat_id).await?;
    let devices = ctx.store.devices_of(&chat.members).await?;
    let listed = keyed_devices(&chat.members, &devices);
    let digest = devices_digest(&listed);
    Ok(ServerFrame::DeviceKeys { chat_id: chat.chat_id, devices: listed, digest })
}

/// Checks that every named device's user is in the chat (or is the caller).
fn check_recipients<'a>(chat: &Chat, who: &Identity, users: impl Iterator<Item = &'a str>) -> Result<Vec<String>, AppError> {
    let mut distinct = BTreeSet::new();
    for user in users {
        if user != who.user_id.as_str() && !chat.is_member(user) {
            return Err(AppError::invalid(format!("{user} is not a member of this chat")));
        }
        distinct.insert(user.to_owned());
    }
    Ok(distinct.into_iter().collect())
}

/// `claimKeys`.
pub async fn claim_keys(ctx: &AppContext, who: &Identity, request: ClaimKeysRequest) -> Result<ServerFrame, AppError> {
    if request.devices.is_empty() || request.devices.len() > MAX_CLAIMS {
        return Err(AppError::invalid(format!("claim keys of 1 to {MAX_CLAIMS} devices")));
    }
    let wanted: Vec<DeviceRef> = {
        let mut seen = BTreeSet::new();
        request.devices.into_iter().filter(|d| seen.insert((d.user_id.clone(), d.device_id.clone()))).collect()
    };
    ctx.charge(Limit::KeyClaims, &who.user_id, wanted.len() as u64).await?;
    let chat = member_chat(ctx, who, &request.chat_id).await?;
    let users = check_recipients(&chat, who, wanted.iter().map(|d| d.user_id.as_str()))?;
    let devices = ctx.store.devices_of(&users).await?;
    let claims = futures::stream::iter(wanted.into_iter().map(|wanted| {
        let device = devices.get(wanted.user_id.as_str()).and_then(|u| u.devices.get(wanted.device_id.as_str())).cloned();
        async move {
            let Some(device) = device else { return Ok::<_, AppError>(Err(wanted)) };
            let Some(keys) = device.keys.as_ref() else { return Ok(Err(wanted)) };
            let claimed = ctx.store.claim_one_time_key(&device_key(&wanted.user_id, &wanted.device_id)).await?;
            let (key, fallback) = match claimed {
                Some(key) => (key, false),
                None => match device.fallback_key.clone() {
                    Some(key) => (key, true),
                    None => return Ok(Err(wanted)),
                },
            };
            Ok(Ok(ClaimedKeyView {
                user_id: wanted.user_id.to_string(),
                device_id: wanted.device_id.to_string(),
                identity_keys: wire_keys(keys),
                key_id: key.key_id,
                key: key.key,
                fallback,
            }))
        }
    }))
    .buffered(CLAIM_CONCURRENCY)
    .try_collect::<Vec<_>>()
    .await?;
    let (mut keys, mut missing) = (Vec::new(), Vec::new());
    for claim in claims {
        match claim {
            Ok(key) => keys.push(key),
            Err(device) => missing.push(device),
        }
    }
    info!(chat_id = %chat.chat_id, claimed = keys.len(), missing = missing.len(), "one-time keys claimed");
    Ok(ServerFrame::ClaimedKeys { keys, missing })
}

/// `sendToDevice`: each message into its device's inbox, and posted when the
/// device is connected. Devices that are gone (or have no keys) are skipped
/// and named in the reply.
pub async fn send_to_device(ctx: &AppContext, who: &Identity, request: SendToDeviceRequest) -> Result<ServerFrame, AppError> {
    if request.messages.is_empty() || request.messages.len() > MAX_TO_DEVICE_MESSAGES {
        return Err(AppError::invalid(format!("send 1 to {MAX_TO_DEVICE_MESSAGES} messages at once")));
    }
    for m in &request.messages {
        if m.olm_type > 1 {
            return Err(AppError::invalid("olmType is 0 (pre-key) or 1"));
        }
        if m.ciphertext.len() > MAX_TO_DEVICE_BYTES || !base64ish(&m.ciphertext) {
            return Err(AppError::invalid(format!("ciphertext must be base64 of at most {MAX_TO_DEVICE_BYTES} bytes")));
        }
    }
    ctx.charge(Limit::ToDeviceMessages, &who.user_id, request.messages.len() as u64).await?;
    let chat = member_chat(ctx, who, &request.chat_id).await?;
    let mut users = check_recipients(&chat, who, request.messages.iter().map(|m| m.user_id.as_str()))?;
    if !users.iter().any(|u| *u == who.user_id.as_str()) {
        users.push(who.user_id.to_string());
    }
    let devices = ctx.store.devices_of(&users).await?;
    let own = devices.get(who.user_id.as_str()).and_then(|u| u.devices.get(who.device_id.as_str()));
    let Some(sender_key) = own.and_then(|d| d.keys.as_ref()).map(|k| k.curve25519.clone()) else {
        return Err(AppError::invalid("upload this device's identity keys first: recipients authenticate messages by them"));
    };
    let now = now_millis();
    let expires_at = now / 1000 + ctx.config.inbox_retention.as_secs();
    let (mut entries, mut targets, mut missing) = (Vec::new(), Vec::new(), Vec::new());
    for m in request.messages {
        let device = devices.get(m.user_id.as_str()).and_then(|u| u.devices.get(m.device_id.as_str()));
        let Some(device) = device.filter(|d| d.keys.is_some()) else {
            missing.push(DeviceRef { user_id: m.user_id, device_id: m.device_id });
            continue;
        };
        let event_id = new_event_id();
        let frame = ServerFrame::ToDevice {
            event_id: event_id.clone(),
            chat_id: chat.chat_id.clone(),
            sender_id: who.user_id.to_string(),
            sender_device: who.device_id.to_string(),
            sender_key: sender_key.clone(),
            olm_type: m.olm_type,
            ciphertext: m.ciphertext,
        }
        .to_json();
        if let Some(connection_id) = device.live_connection(now) {
            targets.push((
                Target { user_id: m.user_id.to_string(), device_id: m.device_id.to_string(), connection_id: connection_id.into() },
                frame.clone(),
            ));
        }
        entries.push(InboxEntry {
            device_key: device_key(&m.user_id, &m.device_id),
            entry_id: event_id,
            chat_id: chat.chat_id.clone(),
            // Before every message of the chat in a device's sync: keys first.
            seq: 0,
            kind: EntryKind::Event,
            sender_id: None,
            frame,
            expires_at,
            discarded: false,
        });
    }
    ctx.store.put_inbox_entries(&entries).await?;
    // Owned items: borrowed ones trip the compiler's higher-ranked lifetime
    // check when the future must be Send (as in `delivery::post_each`).
    let posted: usize = futures::stream::iter(targets)
        .map(|(target, frame)| async move { delivery::post_to_all(ctx, &[target], &frame).await })
        .buffer_unordered(ctx.config.fanout_concurrency)
        .collect::<Vec<usize>>()
        .await
        .into_iter()
        .sum();
    info!(chat_id = %chat.chat_id, count = entries.len(), posted, missing = missing.len(), "to-device messages sent");
    Ok(ServerFrame::ToDeviceSent { count: entries.len(), missing })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelopes_are_told_by_shape() {
        assert!(is_envelope("megolm.v1:AbC+/d:QmFzZTY0"));
        for text in ["hello", "megolm.v1:", "megolm.v1:abc", "megolm.v1::abc", "megolm.v1:abc:", "megolm.v1:a b:c", "megolm.v2:a:b"] {
            assert!(!is_envelope(text), "{text}");
        }
    }

    #[test]
    fn the_digest_changes_with_any_device() {
        let device = |user: &str, id: &str, key: &str| DeviceKeysView {
            user_id: user.into(),
            device_id: id.into(),
            identity_keys: IdentityKeys { curve25519: key.into(), ed25519: "e".into() },
        };
        let base = vec![device("a", "1", "k1"), device("b", "1", "k2")];
        let digest = devices_digest(&base);
        assert_eq!(digest, devices_digest(&base.clone()));
        assert_ne!(digest, devices_digest(&base[..1]), "a device gone");
        assert_ne!(digest, devices_digest(&[base[0].clone(), device("b", "1", "k3")]), "a device re-keyed");
        assert_ne!(digest, devices_digest(&[base[0].clone(), base[1].clone(), device("b", "2", "k4")]), "a device added");
        // (No separator ambiguity: "a"+"b1" is not "ab"+"1".)
        assert_ne!(devices_digest(&[device("a", "b1", "k")]), devices_digest(&[device("ab", "1", "k")]));
    }
}
