//! Per-user and per-device rate limits, enforced across Lambda instances by
//! counters in DynamoDB (`store/rate_limits.rs`): what one account may cost
//! everyone else. A request over a limit is refused with `rate_limited` and
//! the seconds until its window ends, and changes nothing else.
//!
//! Windows are fixed (aligned to the epoch): simple and one write per charge,
//! at the price of allowing up to twice a limit across a window boundary.
//! Defaults and reasons: docs/security.md. This module is the rules alone
//! (configuration reads it); charging against them is
//! `AppContext::charge`.

use std::time::Duration;

/// What is limited, and whose it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Limit {
    /// `sendMessage` requests, per user (every device together).
    Sends,
    /// `createChat` requests, per user.
    ChatsCreated,
    /// Bytes of uploads requested (declared sizes), per user.
    UploadBytes,
    /// `subscribePresence` requests, per device.
    PresenceSubscriptions,
    /// `typing` frames, per device (a client renews every few seconds while typing).
    Typing,
    /// Edits, deletions and reactions, per user (each takes a seq of its chat).
    Changes,
    /// A group's name, description and members changed (`updateChat`,
    /// `modifyChatParticipants`), per user: each is posted to every member.
    ChatUpdates,
    /// Blocks and unblocks, per user.
    Blocks,
    /// Devices whose one-time keys a user claims (`claimKeys`): each claim
    /// uses up a key of someone else's device.
    KeyClaims,
    /// Messages to single devices (`sendToDevice`), per user: session keys,
    /// one per device of a chat when a session starts.
    ToDeviceMessages,
}

impl Limit {
    pub const ALL: [Limit; 10] = [
        Limit::Sends,
        Limit::ChatsCreated,
        Limit::UploadBytes,
        Limit::PresenceSubscriptions,
        Limit::Typing,
        Limit::Changes,
        Limit::ChatUpdates,
        Limit::Blocks,
        Limit::KeyClaims,
        Limit::ToDeviceMessages,
    ];

    /// The name in the `RateLimits` parameter and in `rate_limited` errors.
    pub fn name(self) -> &'static str {
        match self {
            Limit::Sends => "sendMessage",
            Limit::ChatsCreated => "createChat",
            Limit::UploadBytes => "uploadMegabytes",
            Limit::PresenceSubscriptions => "subscribePresence",
            Limit::Typing => "typing",
            Limit::Changes => "messageChanges",
            Limit::ChatUpdates => "chatUpdates",
            Limit::Blocks => "blockUser",
            Limit::KeyClaims => "claimKeys",
            Limit::ToDeviceMessages => "sendToDevice",
        }
    }

    /// How much one unit in the parameter is worth in charges.
    fn unit(self) -> u64 {
        match self {
            Limit::UploadBytes => 1024 * 1024,
            _ => 1,
        }
    }
}

/// One limit: at most `max` per `per`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rate {
    pub max: u64,
    pub per: Duration,
}

/// Every limit's rate (the `RateLimits` parameter: `name=max/seconds,…`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RateLimits(Vec<(Limit, Rate)>);

/// The defaults, argued in docs/security.md: far above what a person does,
/// far below what a script does.
pub const DEFAULT_RATE_LIMITS: &str = concat!(
    "sendMessage=60/60,createChat=30/3600,uploadMegabytes=2048/3600,subscribePresence=60/60,typing=30/60,",
    "messageChanges=60/60,chatUpdates=30/60,blockUser=20/60,claimKeys=1000/3600,sendToDevice=3000/3600"
);

impl RateLimits {
    /// Parses `name=max/seconds` entries; names not given keep their default.
    pub fn parse(text: &str) -> Option<Self> {
        let mut limits = Self::parse_entries(DEFAULT_RATE_LIMITS).expect("the defaults parse");
        for (limit, rate) in Self::parse_entries(text)?.0 {
            limits.0.retain(|(l, _)| *l != limit);
            limits.0.push((limit, rate));
        }
        Some(limits)
    }

    fn parse_entries(text: &str) -> Option<Self> {
        let mut out = Vec::new();
        for entry in text.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (name, rate) = entry.split_once('=')?;
            let limit = Limit::ALL.into_iter().find(|l| l.name() == name.trim())?;
            let (max, seconds) = rate.split_once('/')?;
            let (max, seconds): (u64, u64) = (max.trim().parse().ok()?, seconds.trim().parse().ok()?);
            if max == 0 || seconds == 0 {
                return None;
            }
            out.push((limit, Rate { max: max.checked_mul(limit.unit())?, per: Duration::from_secs(seconds) }));
        }
        Some(Self(out))
    }

    pub fn rate(&self, limit: Limit) -> Rate {
        self.0.iter().find(|(l, _)| *l == limit).map(|(_, rate)| *rate).expect("every limit has a rate (defaults fill in)")
    }
}

impl Default for RateLimits {
    fn default() -> Self {
        Self::parse(DEFAULT_RATE_LIMITS).expect("the defaults parse")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_parse_with_defaults_for_names_not_given() {
        let limits = RateLimits::parse("sendMessage=5/10, uploadMegabytes=1/60").unwrap();
        assert_eq!(limits.rate(Limit::Sends), Rate { max: 5, per: Duration::from_secs(10) });
        assert_eq!(limits.rate(Limit::UploadBytes), Rate { max: 1024 * 1024, per: Duration::from_secs(60) });
        assert_eq!(limits.rate(Limit::ChatsCreated), Rate { max: 30, per: Duration::from_secs(3600) });
        for bad in ["sendMessage=5", "nope=1/1", "sendMessage=0/10", "sendMessage=5/0", "sendMessage=x/10"] {
            assert!(RateLimits::parse(bad).is_none(), "{bad}");
        }
    }
}
