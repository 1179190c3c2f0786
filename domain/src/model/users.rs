//! Users table: one item per user holding a small map of that user's devices
//! (at most a few), so the devices of a whole chat are one BatchGetItem.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::config::MAX_CONNECTION_AGE;
use crate::protocol::PushPlatform;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Device {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connected_at: Option<u64>,
    pub registered_at: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub push: Option<PushEndpoint>,
    /// When the device was last sent a push (milliseconds), for collapsing bursts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_push_at: Option<u64>,
    /// Its end-to-end identity keys, set once (`uploadKeys`): read with the
    /// devices a send reads anyway, so checking an encrypted send's device
    /// list costs no extra call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keys: Option<StoredIdentityKeys>,
    /// The key handed out when its one-time keys ran out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback_key: Option<OneTimeKey>,
}

/// A device's identity keys as stored (apart from the wire's `IdentityKeys`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredIdentityKeys {
    pub curve25519: String,
    pub ed25519: String,
}

/// A one-time (or fallback) public key of a device, as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OneTimeKey {
    pub key_id: String,
    pub key: String,
}

/// The SNS platform endpoint a device's pushes go to.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PushEndpoint {
    pub platform: PushPlatform,
    pub endpoint_arn: String,
}

impl Device {
    /// The device's live connection, ignoring one API Gateway must have closed already.
    pub fn live_connection(&self, now_ms: u64) -> Option<&str> {
        let connected_at = self.connected_at?;
        let fresh = now_ms.saturating_sub(connected_at) < MAX_CONNECTION_AGE.as_millis() as u64;
        self.connection_id.as_deref().filter(|_| fresh)
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserDevices {
    pub user_id: String,
    #[serde(default)]
    pub devices: BTreeMap<String, Device>,
    /// When the user's last device went offline (milliseconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_seen: Option<u64>,
    /// `<deviceId>@<seconds>`: devices unregistered and when. Tokens a device
    /// was issued before then are refused (read by the authorizers only).
    #[serde(default, with = "serde_dynamo::string_set", skip_serializing_if = "Vec::is_empty")]
    pub revocations: Vec<String>,
    /// Who may see the user's presence and whether they send read receipts
    /// (`setPrivacy`); absent: the defaults.
    #[serde(default, skip_serializing_if = "Privacy::is_default")]
    pub privacy: Privacy,
}

/// A user's profile, as stored (on their user item, read apart from the
/// devices: sends read devices, not names).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub about: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar: Option<Avatar>,
}

/// The image a profile shows: a copy of its attachment's metadata, so a
/// profile read needs no second table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Avatar {
    pub attachment_id: String,
    pub content_type: String,
    pub size: u64,
    pub sha256: String,
}

/// A user's privacy settings, as stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Privacy {
    #[serde(default)]
    pub presence: PresenceAudience,
    /// Off: the user sends no read receipts and sees none (WhatsApp's rule).
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub read_receipts: bool,
}

fn yes() -> bool {
    true
}

fn is_true(value: &bool) -> bool {
    *value
}

impl Default for Privacy {
    fn default() -> Self {
        Self { presence: PresenceAudience::Everyone, read_receipts: true }
    }
}

impl Privacy {
    pub fn is_default(&self) -> bool {
        *self == Self::default()
    }
}

/// Who sees a user online and their last seen.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum PresenceAudience {
    /// Everyone they share an accepted chat with.
    #[default]
    Everyone,
    /// Only people they accepted (their contacts).
    Contacts,
    Nobody,
}

/// A device registration's revocation entry (`<deviceId>@<seconds>`; device
/// ids never contain `@`).
pub fn revocation(device_id: &str, at_secs: u64) -> String {
    format!("{device_id}@{at_secs}")
}

impl UserDevices {
    /// When the device was last unregistered (seconds), if ever.
    pub fn revoked_at(&self, device_id: &str) -> Option<u64> {
        self.revocations
            .iter()
            .filter_map(|r| r.rsplit_once('@'))
            .filter(|(device, _)| *device == device_id)
            .filter_map(|(_, at)| at.parse().ok())
            .max()
    }

    /// Online while any device holds a live connection.
    pub fn is_online(&self, now_ms: u64) -> bool {
        self.devices.values().any(|d| d.live_connection(now_ms).is_some())
    }

    /// Whether any device holds a connection, however old: what a change of
    /// the item (a stream record's two images) compares.
    pub fn connected(&self) -> bool {
        self.devices.values().any(|d| d.connection_id.is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_latest_revocation_of_a_device_counts() {
        let user = UserDevices {
            revocations: vec![revocation("phone", 10), revocation("phone", 30), revocation("tablet", 50)],
            ..Default::default()
        };
        assert_eq!(user.revoked_at("phone"), Some(30));
        assert_eq!(user.revoked_at("tablet"), Some(50));
        assert_eq!(user.revoked_at("laptop"), None);
    }

    #[test]
    fn connections_older_than_api_gateway_allows_are_not_live() {
        let now = 10 * 60 * 60 * 1000;
        let device = Device { connection_id: Some("c".into()), connected_at: Some(now - 1000), ..Default::default() };
        assert_eq!(device.live_connection(now), Some("c"));
        let stale = Device { connected_at: Some(now - MAX_CONNECTION_AGE.as_millis() as u64 - 1), ..device.clone() };
        assert_eq!(stale.live_connection(now), None);
        let offline = Device { connection_id: None, ..device };
        assert_eq!(offline.live_connection(now), None);
    }
}
