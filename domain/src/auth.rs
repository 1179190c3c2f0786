//! JWT (HS256) verification for `$connect`, and issuing tokens for development.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::AppError;
use crate::ids::{DeviceId, UserId};

#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    /// User id.
    pub sub: String,
    /// Device id: each device of a user has its own inbox.
    pub device: String,
    /// Expiry, seconds since the epoch.
    pub exp: u64,
    /// Issued at, seconds since the epoch: a device unregistered at or after
    /// this moment no longer accepts the token (see `messaging::devices`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<u64>,
    /// Not before, seconds since the epoch: a token issued for later is refused until then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<u64>,
}

/// Who is asking: established once at `$connect` and carried by API Gateway in
/// every later event's `requestContext.authorizer`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    pub user_id: UserId,
    pub device_id: DeviceId,
}

/// Keys of the context both authorizers return, which API Gateway copies into
/// `requestContext.authorizer` of every later event (the WebSocket
/// connection's, or the HTTP request's).
pub const AUTH_USER_ID: &str = "userId";
pub const AUTH_DEVICE_ID: &str = "deviceId";
/// The token's `exp`: API Gateway caches an HTTP authorizer's yes for
/// `ReauthorizeEvery`, which may outlive the token, so handlers check it again.
pub const AUTH_EXPIRES_AT: &str = "expiresAt";
/// Present (`"unregistered"`) on the connection of a device over the user's
/// device limit: it may only list and unregister devices.
pub const AUTH_DEVICE_STATUS: &str = "deviceStatus";
pub const UNREGISTERED: &str = "unregistered";

/// The context both authorizers (`$connect` and the HTTP API's) return for a caller.
pub fn authorizer_context(token: &VerifiedToken) -> Value {
    let who = &token.identity;
    serde_json::json!({ AUTH_USER_ID: who.user_id, AUTH_DEVICE_ID: who.device_id, AUTH_EXPIRES_AT: token.expires_at })
}

/// The `$connect` authorizer's context for a device over the limit.
pub fn unregistered_device_context(token: &VerifiedToken) -> Value {
    let mut context = authorizer_context(token);
    context[AUTH_DEVICE_STATUS] = Value::from(UNREGISTERED);
    context
}

/// A token whose signature and expiry checked out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedToken {
    pub identity: Identity,
    /// `iat`, or 0 for a token without one (older than any revocation).
    pub issued_at: u64,
    /// `exp`.
    pub expires_at: u64,
}

/// Clock skew tolerated on `exp` and `nbf`, here and in [`still_valid`].
pub const LEEWAY_SECS: u64 = 5;

pub fn verify_token(secret: &str, token: &str) -> Result<VerifiedToken, AppError> {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.leeway = LEEWAY_SECS;
    validation.validate_nbf = true;
    validation.set_required_spec_claims(&["exp", "sub"]);
    let data = decode::<Claims>(token, &DecodingKey::from_secret(secret.as_bytes()), &validation).map_err(|_| AppError::Unauthorized)?;
    let Claims { sub, device, iat, exp, .. } = data.claims;
    // A token naming ids the rules refuse is no token of this service.
    let (Ok(user_id), Ok(device_id)) = (UserId::parse(sub), DeviceId::parse(device)) else { return Err(AppError::Unauthorized) };
    Ok(VerifiedToken { identity: Identity { user_id, device_id }, issued_at: iat.unwrap_or(0), expires_at: exp })
}

/// Whether a token that expires at `expires_at` is still good now (with the
/// same leeway as [`verify_token`]).
pub fn still_valid(expires_at: u64) -> bool {
    crate::time::now_secs() <= expires_at.saturating_add(LEEWAY_SECS)
}

/// The token of an `Authorization: Bearer <token>` header (RFC 6750; the
/// scheme is case-insensitive). Anything else is no token at all.
pub fn bearer_token(header: &str) -> Option<&str> {
    let (scheme, token) = header.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("Bearer") && !token.is_empty() && !token.contains(' ')).then_some(token)
}

/// Signs claims; used by the local runtime's `token` command and by tests.
pub fn sign(secret: &str, claims: &Claims) -> String {
    encode(&Header::new(Algorithm::HS256), claims, &EncodingKey::from_secret(secret.as_bytes())).expect("HS256 signing cannot fail")
}

/// Signs a token valid from now for `valid_for_secs`.
pub fn issue_token(secret: &str, user_id: &str, device_id: &str, valid_for_secs: i64) -> String {
    let now = crate::time::now_secs();
    let exp = (now as i64 + valid_for_secs).max(0) as u64;
    sign(secret, &Claims { sub: user_id.into(), device: device_id.into(), exp, iat: Some(now), nbf: None })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "test-secret-0123456789";

    #[test]
    fn a_valid_token_names_user_and_device() {
        let token = issue_token(SECRET, "alice", "phone", 60);
        let id = verify_token(SECRET, &token).unwrap().identity;
        assert_eq!((id.user_id.as_str(), id.device_id.as_str()), ("alice", "phone"));
    }

    #[test]
    fn expired_wrong_key_and_garbage_tokens_are_refused() {
        assert!(verify_token(SECRET, &issue_token(SECRET, "alice", "phone", -3600)).is_err());
        assert!(verify_token("another-secret-0123456", &issue_token(SECRET, "alice", "phone", 60)).is_err());
        assert!(verify_token(SECRET, "not.a.token").is_err());
        assert!(verify_token(SECRET, &issue_token(SECRET, "al#ice", "phone", 60)).is_err());
    }

    #[test]
    fn a_token_for_later_is_refused_until_then() {
        let now = crate::time::now_secs();
        let claims = |nbf| Claims { sub: "alice".into(), device: "phone".into(), exp: now + 3600, iat: Some(now), nbf: Some(nbf) };
        assert!(verify_token(SECRET, &sign(SECRET, &claims(now + 600))).is_err());
        assert!(verify_token(SECRET, &sign(SECRET, &claims(now))).is_ok());
    }

    #[test]
    fn only_the_bearer_scheme_carries_a_token() {
        assert_eq!(bearer_token("Bearer abc.def"), Some("abc.def"));
        assert_eq!(bearer_token("bearer abc.def"), Some("abc.def"));
        assert_eq!(bearer_token("abc.def"), None);
        assert_eq!(bearer_token("Basic abc.def"), None);
        assert_eq!(bearer_token("Bearer "), None);
    }
}
