//! Typed identifiers: a `UserId` is not a `ChatId`, so swapped arguments do
//! not compile, and an id is checked once, when it is made — from a client's
//! frame (serde's `try_from`), a token or the authorizer's context — instead of by calls
//! scattered over the handlers. Model: ruma's `identifiers/`, with owned
//! strings (ids here are short and cloned into keys anyway).
//!
//! Each derefs to `str`, so it reads where a `&str` is wanted.

use std::borrow::Borrow;
use std::fmt;
use std::ops::Deref;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Serialize};

use super::{MAX_CHAT_ID_LEN, MAX_ID_LEN, is_valid_id};

/// An id a client sent that breaks its rule: the message says the rule.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidId(String);

impl From<InvalidId> for crate::error::AppError {
    fn from(e: InvalidId) -> Self {
        crate::error::AppError::invalid(e.0)
    }
}

/// User and device ids: 1-64 characters of `A-Z a-z 0-9 _ .` (they travel in
/// keys such as `user#device`, so no separator is allowed).
pub(super) fn check_plain(what: &str, id: &str) -> Result<(), InvalidId> {
    if is_valid_id(id) { Ok(()) } else { Err(InvalidId(format!("{what} must be 1-{MAX_ID_LEN} characters of A-Z a-z 0-9 _ ."))) }
}

/// Chat ids (`dm-<user>-<user>`, `g-<ulid>`): keys, so anything else is
/// refused before DynamoDB sees it.
pub(super) fn check_chat(what: &str, id: &str) -> Result<(), InvalidId> {
    let valid = !id.is_empty()
        && id.len() <= MAX_CHAT_ID_LEN
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b'-');
    if valid { Ok(()) } else { Err(InvalidId(format!("{what} must be 1-{MAX_CHAT_ID_LEN} characters of A-Z a-z 0-9 _ . -"))) }
}

macro_rules! id {
    ($(#[$doc:meta])* $name:ident, $what:literal, $check:ident, $pattern:expr) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Checks `id` against the rule of this kind of id.
            pub fn parse(id: impl Into<String>) -> Result<Self, InvalidId> {
                let id = id.into();
                $check($what, &id)?;
                Ok(Self(id))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = InvalidId;
            fn try_from(id: String) -> Result<Self, InvalidId> {
                Self::parse(id)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<String> for $name {
            fn eq(&self, other: &String) -> bool {
                self.0 == *other
            }
        }

        impl PartialEq<$name> for String {
            fn eq(&self, other: &$name) -> bool {
                *self == other.0
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl JsonSchema for $name {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                stringify!($name).into()
            }
            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                json_schema!({ "type": "string", "pattern": $pattern })
            }
        }
    };
}

id!(
    /// A user, as the identity service names them (a token's `sub`).
    UserId, "a user id", check_plain, "^[A-Za-z0-9_.]{1,64}$"
);
id!(
    /// One of a user's devices (a token's `device`), unique per user.
    DeviceId, "a device id", check_plain, "^[A-Za-z0-9_.]{1,64}$"
);
id!(
    /// A chat: `dm-<user>-<user>` for a 1-1 chat, `g-<ULID>` for a group.
    ChatId, "chatId", check_chat, "^[A-Za-z0-9_.-]{1,192}$"
);
id!(
    /// An uploaded file (a ULID; the S3 key is `media/<id>`).
    AttachmentId, "an attachment id", check_plain, "^[A-Za-z0-9_.]{1,64}$"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_checked_when_made_and_read_as_strings() {
        let user = UserId::parse("alice_01.x").unwrap();
        assert_eq!(user.as_str(), "alice_01.x");
        assert_eq!(&*user, "alice_01.x");
        assert!(UserId::parse("alice#phone").is_err(), "a key separator");
        assert!(UserId::parse("").is_err());
        assert!(UserId::parse("a".repeat(65)).is_err());
        assert!(ChatId::parse("dm-alice-bob").is_ok());
        assert!(ChatId::parse("g-01JD x").is_err());
    }

    #[test]
    fn a_frame_with_a_bad_id_does_not_deserialise_and_says_the_rule() {
        let err = serde_json::from_str::<ChatId>("\"no spaces\"").unwrap_err().to_string();
        assert!(err.starts_with("chatId must be 1-192 characters"), "{err}");
        let ok: Vec<UserId> = serde_json::from_str(r#"["bob", "carol"]"#).unwrap();
        assert_eq!(serde_json::to_string(&ok).unwrap(), r#"["bob","carol"]"#);
    }
}
