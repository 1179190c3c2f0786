//! Configuration, read once per process from environment variables.
//!
//! Every variable name appears here and nowhere else; the SAM template and the
//! local runtime set the same names.

use std::time::Duration;

use crate::error::ConfigError;
use crate::limits::RateLimits;
use crate::protocol::PushPlatform;

/// The Secrets Manager secret (ARN) holding the token signing key; only the
/// authorizers have it.
pub const JWT_SECRET_ARN: &str = "JWT_SECRET_ARN";
pub const USERS_TABLE: &str = "USERS_TABLE";
pub const CONNECTIONS_TABLE: &str = "CONNECTIONS_TABLE";
pub const CHATS_TABLE: &str = "CHATS_TABLE";
pub const MESSAGES_TABLE: &str = "MESSAGES_TABLE";
pub const INBOX_TABLE: &str = "INBOX_TABLE";
pub const CLIENT_MESSAGE_IDS_TABLE: &str = "CLIENT_MESSAGE_IDS_TABLE";
pub const MEMBERSHIPS_TABLE: &str = "MEMBERSHIPS_TABLE";
pub const PRESENCE_SUBSCRIPTIONS_TABLE: &str = "PRESENCE_SUBSCRIPTIONS_TABLE";
pub const ATTACHMENTS_TABLE: &str = "ATTACHMENTS_TABLE";
pub const RATE_LIMITS_TABLE: &str = "RATE_LIMITS_TABLE";
pub const CONTACTS_TABLE: &str = "CONTACTS_TABLE";
pub const ONE_TIME_KEYS_TABLE: &str = "ONE_TIME_KEYS_TABLE";
/// `name=max/seconds,…` (see `limits`).
pub const RATE_LIMITS: &str = "RATE_LIMITS";
/// The S3 bucket media is uploaded to and downloaded from (presigned URLs only).
pub const MEDIA_BUCKET: &str = "MEDIA_BUCKET";
/// Allowed media types and their maximum sizes: `image/*=16,video/mp4=100,...`
/// (megabytes; `type/*` matches every subtype).
pub const MEDIA_LIMITS: &str = "MEDIA_LIMITS";
/// How long a presigned upload URL and a presigned download URL stay valid.
pub const UPLOAD_URL_SECS: &str = "UPLOAD_URL_SECS";
pub const DOWNLOAD_URL_SECS: &str = "DOWNLOAD_URL_SECS";
/// A device without a heartbeat for this long counts as gone.
pub const PRESENCE_TIMEOUT_SECS: &str = "PRESENCE_TIMEOUT_SECS";
/// How many watching connections one change of presence is posted to.
pub const MAX_PRESENCE_WATCHERS: &str = "MAX_PRESENCE_WATCHERS";
/// Base URL of the API Gateway Management API (`https://{api}.execute-api.{region}.amazonaws.com/{stage}`).
pub const CONNECTIONS_API_URL: &str = "CONNECTIONS_API_URL";
pub const MAX_GROUP_MEMBERS: &str = "MAX_GROUP_MEMBERS";
pub const MAX_DEVICES_PER_USER: &str = "MAX_DEVICES_PER_USER";
pub const MAX_BLOCKED_USERS: &str = "MAX_BLOCKED_USERS";
pub const MAX_MESSAGE_BYTES: &str = "MAX_MESSAGE_BYTES";
/// How long after sending its sender may edit a message (seconds).
pub const EDIT_WINDOW_SECS: &str = "EDIT_WINDOW_SECS";
/// How long after sending a message may be deleted for everyone (seconds).
pub const DELETE_WINDOW_SECS: &str = "DELETE_WINDOW_SECS";
pub const INBOX_RETENTION_DAYS: &str = "INBOX_RETENTION_DAYS";
pub const FANOUT_CONCURRENCY: &str = "FANOUT_CONCURRENCY";
/// SNS platform applications (push credentials live there); empty: platform not offered.
/// `arn:<partition>:sns:<region>:<account>`: platform applications are named,
/// and their ARNs built from this, as the functions' IAM policies build theirs.
pub const SNS_ARN_PREFIX: &str = "SNS_ARN_PREFIX";
pub const APNS_PLATFORM_APPLICATION: &str = "APNS_PLATFORM_APPLICATION";
pub const GCM_PLATFORM_APPLICATION: &str = "GCM_PLATFORM_APPLICATION";
/// A device gets at most one push per this many seconds; a burst becomes one push with a count.
pub const PUSH_COLLAPSE_SECS: &str = "PUSH_COLLAPSE_SECS";

/// Names of the DynamoDB tables, as CloudFormation (or the local runtime) named them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tables {
    pub users: String,
    pub connections: String,
    pub chats: String,
    pub messages: String,
    pub inbox: String,
    pub client_message_ids: String,
    pub memberships: String,
    pub presence_subscriptions: String,
    pub attachments: String,
    pub rate_limits: String,
    pub contacts: String,
    pub one_time_keys: String,
}

/// What may be uploaded: media types (exact, or `type/*`) with their size caps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MediaLimits(pub Vec<(String, u64)>);

/// Images, voice notes and documents up to 16 MB; video up to 100 MB.
pub const DEFAULT_MEDIA_LIMITS: &str =
    "image/jpeg=16,image/png=16,image/gif=16,image/webp=16,image/heic=16,audio/*=16,video/mp4=100,video/quicktime=100,application/pdf=100";

impl MediaLimits {
    pub fn parse(text: &str) -> Option<Self> {
        let mut limits = Vec::new();
        for entry in text.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (media_type, megabytes) = entry.split_once('=')?;
            let media_type = media_type.trim().to_ascii_lowercase();
            let (kind, subtype) = media_type.split_once('/')?;
            if kind.is_empty() || subtype.is_empty() {
                return None;
            }
            let megabytes: u64 = megabytes.trim().parse().ok().filter(|mb| *mb > 0)?;
            limits.push((media_type, megabytes * 1024 * 1024));
        }
        (!limits.is_empty()).then_some(Self(limits))
    }

    /// The maximum size for `content_type`, or `None` when it may not be uploaded.
    /// An exact entry wins over a `type/*` one.
    pub fn max_bytes(&self, content_type: &str) -> Option<u64> {
        let content_type = content_type.to_ascii_lowercase();
        let exact = self.0.iter().find(|(t, _)| *t == content_type);
        let wildcard = || {
            let kind = content_type.split_once('/')?.0;
            self.0.iter().find(|(t, _)| t.strip_suffix("/*") == Some(kind))
        };
        exact.or_else(wildcard).map(|(_, max)| *max)
    }

    pub fn allowed_types(&self) -> String {
        self.0.iter().map(|(t, _)| t.as_str()).collect::<Vec<_>>().join(", ")
    }
}

#[derive(Clone, Debug)]
pub struct Config {
    /// Where the token signing key is kept (see `secrets`); authorizers only.
    pub jwt_secret_arn: Option<String>,
    pub tables: Tables,
    pub connections_api_url: String,
    pub max_group_members: usize,
    pub max_devices_per_user: usize,
    /// How many users one user may block.
    pub max_blocked_users: usize,
    pub max_message_bytes: usize,
    pub edit_window: Duration,
    pub delete_window: Duration,
    pub inbox_retention: Duration,
    pub fanout_concurrency: usize,
    /// Platform (`APNS`, `GCM`) → SNS platform application ARN.
    pub push_platforms: Vec<(PushPlatform, String)>,
    pub push_collapse: Duration,
    pub presence_timeout: Duration,
    pub max_presence_watchers: usize,
    pub media_bucket: String,
    pub media_limits: MediaLimits,
    pub rate_limits: RateLimits,
    pub upload_url_ttl: Duration,
    pub download_url_ttl: Duration,
}

/// API Gateway closes every WebSocket after 2 hours; a connection record outlives
/// that by a margin so a late `$disconnect` still finds it, then TTL removes it.
pub const CONNECTION_RECORD_TTL: Duration = Duration::from_secs(3 * 60 * 60);
/// API Gateway's hard limit on a WebSocket connection's lifetime.
pub const MAX_CONNECTION_AGE: Duration = Duration::from_secs(2 * 60 * 60);

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Builds the configuration from any source of variables (the process
    /// environment in Lambda, the template's resolved variables locally).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let required = |name: &'static str| lookup(name).filter(|v| !v.is_empty()).ok_or(ConfigError::Missing(name));
        let number = |name: &'static str, default: usize| -> Result<usize, ConfigError> {
            match lookup(name).filter(|v| !v.is_empty()) {
                None => Ok(default),
                Some(v) => v.parse().map_err(|_| ConfigError::Invalid { name, value: v }),
            }
        };
        Ok(Self {
            jwt_secret_arn: lookup(JWT_SECRET_ARN).filter(|v| !v.is_empty()),
            tables: Tables {
                users: required(USERS_TABLE)?,
                connections: required(CONNECTIONS_TABLE)?,
                chats: required(CHATS_TABLE)?,
                messages: required(MESSAGES_TABLE)?,
                inbox: required(INBOX_TABLE)?,
                client_message_ids: required(CLIENT_MESSAGE_IDS_TABLE)?,
                memberships: required(MEMBERSHIPS_TABLE)?,
                presence_subscriptions: required(PRESENCE_SUBSCRIPTIONS_TABLE)?,
                attachments: required(ATTACHMENTS_TABLE)?,
                rate_limits: required(RATE_LIMITS_TABLE)?,
                contacts: required(CONTACTS_TABLE)?,
                one_time_keys: required(ONE_TIME_KEYS_TABLE)?,
            },
            connections_api_url: required(CONNECTIONS_API_URL)?,
            max_group_members: number(MAX_GROUP_MEMBERS, 100)?,
            max_devices_per_user: number(MAX_DEVICES_PER_USER, 3)?,
            max_blocked_users: number(MAX_BLOCKED_USERS, 1000)?,
            max_message_bytes: number(MAX_MESSAGE_BYTES, 16 * 1024)?,
            edit_window: Duration::from_secs(number(EDIT_WINDOW_SECS, 15 * 60)? as u64),
            // About two days, as WhatsApp's "delete for everyone".
            delete_window: Duration::from_secs(number(DELETE_WINDOW_SECS, 2 * 86_400)? as u64),
            inbox_retention: Duration::from_secs(number(INBOX_RETENTION_DAYS, 30)? as u64 * 24 * 60 * 60),
            fanout_concurrency: number(FANOUT_CONCURRENCY, 32)?.max(1),
            push_platforms: [(PushPlatform::Apns, APNS_PLATFORM_APPLICATION), (PushPlatform::Gcm, GCM_PLATFORM_APPLICATION)]
                .into_iter()
                .filter_map(|(platform, variable)| {
                    let name = lookup(variable).filter(|name| !name.is_empty())?;
                    Some((platform, format!("{}:app/{}/{name}", lookup(SNS_ARN_PREFIX)?, platform.name())))
                })
                .collect(),
            push_collapse: Duration::from_secs(number(PUSH_COLLAPSE_SECS, 30)? as u64),
            presence_timeout: Duration::from_secs(number(PRESENCE_TIMEOUT_SECS, 660)? as u64),
            max_presence_watchers: number(MAX_PRESENCE_WATCHERS, 1_000)?,
            media_bucket: required(MEDIA_BUCKET)?,
            media_limits: {
                let text = lookup(MEDIA_LIMITS).filter(|v| !v.is_empty()).unwrap_or_else(|| DEFAULT_MEDIA_LIMITS.to_owned());
                MediaLimits::parse(&text).ok_or(ConfigError::Invalid { name: MEDIA_LIMITS, value: text })?
            },
            rate_limits: {
                let text = lookup(RATE_LIMITS).unwrap_or_default();
                RateLimits::parse(&text).ok_or(ConfigError::Invalid { name: RATE_LIMITS, value: text })?
            },
            // S3 refuses presigned URLs valid for more than 7 days.
            upload_url_ttl: Duration::from_secs(number(UPLOAD_URL_SECS, 15 * 60)?.clamp(1, 7 * 86_400) as u64),
            download_url_ttl: Duration::from_secs(number(DOWNLOAD_URL_SECS, 5 * 60)?.clamp(1, 7 * 86_400) as u64),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn base() -> HashMap<&'static str, String> {
        [
            (USERS_TABLE, "u"),
            (CONNECTIONS_TABLE, "c"),
            (CHATS_TABLE, "ch"),
            (MESSAGES_TABLE, "m"),
            (INBOX_TABLE, "i"),
            (CLIENT_MESSAGE_IDS_TABLE, "d"),
            (MEMBERSHIPS_TABLE, "ms"),
            (PRESENCE_SUBSCRIPTIONS_TABLE, "ps"),
            (ATTACHMENTS_TABLE, "a"),
            (RATE_LIMITS_TABLE, "r"),
            (CONTACTS_TABLE, "co"),
            (ONE_TIME_KEYS_TABLE, "k"),
            (MEDIA_BUCKET, "media"),
            (CONNECTIONS_API_URL, "http://127.0.0.1:1"),
        ]
        .into_iter()
        .map(|(k, v)| (k, v.to_owned()))
        .collect()
    }

    #[test]
    fn defaults_apply_and_missing_names_are_reported() {
        let vars = base();
        let config = Config::from_lookup(|k| vars.get(k).cloned()).unwrap();
        assert_eq!(config.max_group_members, 100);
        assert_eq!(config.max_devices_per_user, 3);
        assert_eq!(config.inbox_retention, Duration::from_secs(30 * 86400));

        let mut vars = base();
        vars.remove(INBOX_TABLE);
        let err = Config::from_lookup(|k| vars.get(k).cloned()).unwrap_err();
        assert!(matches!(err, ConfigError::Missing(INBOX_TABLE)));

        let mut vars = base();
        vars.insert(MAX_GROUP_MEMBERS, "lots".into());
        assert!(matches!(Config::from_lookup(|k| vars.get(k).cloned()), Err(ConfigError::Invalid { .. })));
    }

    #[test]
    fn media_limits_match_exact_types_before_wildcards() {
        let limits = MediaLimits::parse("image/*=16, image/gif=2,video/mp4=100").unwrap();
        assert_eq!(limits.max_bytes("image/png"), Some(16 * 1024 * 1024));
        assert_eq!(limits.max_bytes("IMAGE/GIF"), Some(2 * 1024 * 1024));
        assert_eq!(limits.max_bytes("video/mp4"), Some(100 * 1024 * 1024));
        assert_eq!(limits.max_bytes("video/webm"), None);
        assert_eq!(limits.max_bytes("application/x-sh"), None);
        assert!(MediaLimits::parse("image/png").is_none());
        assert!(MediaLimits::parse("image/png=0").is_none());
        assert!(MediaLimits::parse("png=3").is_none());
        let mut vars = base();
        vars.insert(MEDIA_LIMITS, "nonsense".into());
        assert!(matches!(Config::from_lookup(|k| vars.get(k).cloned()), Err(ConfigError::Invalid { name: MEDIA_LIMITS, .. })));
    }
}
