//! vodozemac for the JavaScript client: the Olm account and sessions and
//! the Megolm sessions of docs/e2ee.md, behind wasm-bindgen. Keys, messages
//! and pickles cross as strings (unpadded base64, as the wire has them);
//! errors as JavaScript exceptions with vodozemac's message. The Rust test
//! clients (`tests/src/e2ee.rs`) call the same library directly.

use vodozemac::megolm::{self, MegolmMessage, SessionKey};
use vodozemac::olm::{self, OlmMessage, SessionConfig};
use vodozemac::{Curve25519PublicKey, base64_decode, base64_encode};
use wasm_bindgen::prelude::*;

fn fail(error: impl std::fmt::Display) -> JsError {
    JsError::new(&error.to_string())
}

/// A pickle key: 32 bytes, from the app's key store.
fn pickle_key(key: &[u8]) -> Result<[u8; 32], JsError> {
    key.try_into().map_err(|_| JsError::new("a pickle key is 32 bytes"))
}

fn curve_key(key: &str) -> Result<Curve25519PublicKey, JsError> {
    Curve25519PublicKey::from_base64(key).map_err(fail)
}

/// `[{keyId, key}, ...]` as JSON.
fn keys_json(keys: std::collections::HashMap<vodozemac::KeyId, Curve25519PublicKey>) -> String {
    let mut listed: Vec<(String, String)> = keys.into_iter().map(|(id, key)| (id.to_base64(), key.to_base64())).collect();
    listed.sort();
    let items: Vec<String> = listed.into_iter().map(|(id, key)| format!(r#"{{"keyId":"{id}","key":"{key}"}}"#)).collect();
    format!("[{}]", items.join(","))
}

/// A device's Olm account: its identity keys and one-time keys.
#[wasm_bindgen]
pub struct Account(olm::Account);

/// An Olm message: its type (0 pre-key, 1 normal) and base64 ciphertext.
#[wasm_bindgen(getter_with_clone)]
pub struct OlmCiphertext {
    #[wasm_bindgen(js_name = olmType)]
    pub olm_type: u8,
    pub ciphertext: String,
}

/// A session created from a pre-key message, and that message's plaintext.
#[wasm_bindgen(getter_with_clone)]
pub struct InboundCreation {
    pub session: Session,
    pub plaintext: String,
}

impl Clone for Session {
    fn clone(&self) -> Self {
        Self(olm::Session::from_pickle(self.0.pickle()))
    }
}

#[wasm_bindgen]
impl Account {
    #[wasm_bindgen(constructor)]
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        Self(olm::Account::new())
    }

    #[wasm_bindgen(js_name = curve25519Key)]
    pub fn curve25519_key(&self) -> String {
        self.0.identity_keys().curve25519.to_base64()
    }

    #[wasm_bindgen(js_name = ed25519Key)]
    pub fn ed25519_key(&self) -> String {
        self.0.identity_keys().ed25519.to_base64()
    }

    #[wasm_bindgen(js_name = generateOneTimeKeys)]
    pub fn generate_one_time_keys(&mut self, count: usize) {
        self.0.generate_one_time_keys(count);
    }

    /// The unpublished one-time keys, `[{keyId, key}]` as JSON.
    #[wasm_bindgen(js_name = oneTimeKeys)]
    pub fn one_time_keys(&self) -> String {
        keys_json(self.0.one_time_keys())
    }

    #[wasm_bindgen(js_name = generateFallbackKey)]
    pub fn generate_fallback_key(&mut self) {
        self.0.generate_fallback_key();
    }

    /// The unpublished fallback key, `[{keyId, key}]` (empty or one) as JSON.
    #[wasm_bindgen(js_name = fallbackKey)]
    pub fn fallback_key(&self) -> String {
        keys_json(self.0.fallback_key())
    }

    #[wasm_bindgen(js_name = markKeysAsPublished)]
    pub fn mark_keys_as_published(&mut self) {
        self.0.mark_keys_as_published();
    }

    /// An Olm session with a device, from the key `claimKeys` handed out.
    #[wasm_bindgen(js_name = createOutboundSession)]
    pub fn create_outbound_session(&self, identity_key: &str, one_time_key: &str) -> Result<Session, JsError> {
        let session = self.0.create_outbound_session(SessionConfig::version_1(), curve_key(identity_key)?, curve_key(one_time_key)?);
        Ok(Session(session.map_err(fail)?))
    }

    /// The session a pre-key message (type 0) from `identity_key` starts.
    #[wasm_bindgen(js_name = createInboundSession)]
    pub fn create_inbound_session(&mut self, identity_key: &str, ciphertext: &str) -> Result<InboundCreation, JsError> {
        let OlmMessage::PreKey(message) = OlmMessage::from_parts(0, &base64_decode(ciphertext).map_err(fail)?).map_err(fail)? else {
            return Err(JsError::new("not a pre-key message"));
        };
        let created = self.0.create_inbound_session(SessionConfig::version_1(), curve_key(identity_key)?, &message).map_err(fail)?;
        Ok(InboundCreation { session: Session(created.session), plaintext: String::from_utf8(created.plaintext).map_err(fail)? })
    }

    /// The account, encrypted with the 32-byte `key` (to keep in IndexedDB).
    pub fn pickle(&self, key: &[u8]) -> Result<String, JsError> {
        Ok(self.0.pickle().encrypt(&pickle_key(key)?))
    }

    #[wasm_bindgen(js_name = fromPickle)]
    pub fn from_pickle(pickle: &str, key: &[u8]) -> Result<Account, JsError> {
        Ok(Self(olm::Account::from_pickle(olm::AccountPickle::from_encrypted(pickle, &pickle_key(key)?).map_err(fail)?)))
    }
}

/// An Olm session with one other device.
#[wasm_bindgen]
pub struct Session(olm::Session);

#[wasm_bindgen]
impl Session {
    #[wasm_bindgen(js_name = sessionId)]
    pub fn session_id(&self) -> String {
        self.0.session_id()
    }

    pub fn encrypt(&mut self, plaintext: &str) -> Result<OlmCiphertext, JsError> {
        let (olm_type, bytes) = self.0.encrypt(plaintext).map_err(fail)?.to_parts();
        Ok(OlmCiphertext { olm_type: u8::try_from(olm_type).map_err(fail)?, ciphertext: base64_encode(bytes) })
    }

    /// Whether a pre-key message belongs to this session (and not a new one).
    #[wasm_bindgen(js_name = matchesPreKey)]
    pub fn matches_pre_key(&self, ciphertext: &str) -> bool {
        let Ok(bytes) = base64_decode(ciphertext) else { return false };
        matches!(OlmMessage::from_parts(0, &bytes), Ok(OlmMessage::PreKey(m)) if m.session_id() == self.0.session_id())
    }

    pub fn decrypt(&mut self, olm_type: u8, ciphertext: &str) -> Result<String, JsError> {
        let message = OlmMessage::from_parts(usize::from(olm_type), &base64_decode(ciphertext).map_err(fail)?).map_err(fail)?;
        String::from_utf8(self.0.decrypt(&message).map_err(fail)?).map_err(fail)
    }

    pub fn pickle(&self, key: &[u8]) -> Result<String, JsError> {
        Ok(self.0.pickle().encrypt(&pickle_key(key)?))
    }

    #[wasm_bindgen(js_name = fromPickle)]
    pub fn from_pickle(pickle: &str, key: &[u8]) -> Result<Session, JsError> {
        Ok(Self(olm::Session::from_pickle(olm::SessionPickle::from_encrypted(pickle, &pickle_key(key)?).map_err(fail)?)))
    }
}

/// This device's Megolm session for a chat: what it encrypts with.
#[wasm_bindgen]
pub struct GroupSession(megolm::GroupSession);

#[wasm_bindgen]
impl GroupSession {
    #[wasm_bindgen(constructor)]
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        Self(megolm::GroupSession::new(megolm::SessionConfig::version_1()))
    }

    #[wasm_bindgen(js_name = sessionId)]
    pub fn session_id(&self) -> String {
        self.0.session_id()
    }

    /// The key at the current index (a device given it reads from here on).
    #[wasm_bindgen(js_name = sessionKey)]
    pub fn session_key(&self) -> String {
        self.0.session_key().to_base64()
    }

    /// The Megolm message (base64) of `plaintext`.
    pub fn encrypt(&mut self, plaintext: &str) -> String {
        self.0.encrypt(plaintext).to_base64()
    }

    pub fn pickle(&self, key: &[u8]) -> Result<String, JsError> {
        Ok(self.0.pickle().encrypt(&pickle_key(key)?))
    }

    #[wasm_bindgen(js_name = fromPickle)]
    pub fn from_pickle(pickle: &str, key: &[u8]) -> Result<GroupSession, JsError> {
        let pickle = megolm::GroupSessionPickle::from_encrypted(pickle, &pickle_key(key)?).map_err(fail)?;
        Ok(Self(megolm::GroupSession::from_pickle(pickle)))
    }
}

/// Another device's Megolm session for a chat: what this one decrypts with.
#[wasm_bindgen]
pub struct InboundGroupSession(megolm::InboundGroupSession);

#[wasm_bindgen(getter_with_clone)]
pub struct Decrypted {
    pub plaintext: String,
    #[wasm_bindgen(js_name = messageIndex)]
    pub message_index: u32,
}

#[wasm_bindgen]
impl InboundGroupSession {
    #[wasm_bindgen(constructor)]
    pub fn new(session_key: &str) -> Result<InboundGroupSession, JsError> {
        let key = SessionKey::from_base64(session_key).map_err(fail)?;
        Ok(Self(megolm::InboundGroupSession::new(&key, megolm::SessionConfig::version_1())))
    }

    #[wasm_bindgen(js_name = sessionId)]
    pub fn session_id(&self) -> String {
        self.0.session_id()
    }

    pub fn decrypt(&mut self, ciphertext: &str) -> Result<Decrypted, JsError> {
        let message = MegolmMessage::from_base64(ciphertext).map_err(fail)?;
        let decrypted = self.0.decrypt(&message).map_err(fail)?;
        Ok(Decrypted { plaintext: String::from_utf8(decrypted.plaintext).map_err(fail)?, message_index: decrypted.message_index })
    }

    pub fn pickle(&self, key: &[u8]) -> Result<String, JsError> {
        Ok(self.0.pickle().encrypt(&pickle_key(key)?))
    }

    #[wasm_bindgen(js_name = fromPickle)]
    pub fn from_pickle(pickle: &str, key: &[u8]) -> Result<InboundGroupSession, JsError> {
        let pickle = megolm::InboundGroupSessionPickle::from_encrypted(pickle, &pickle_key(key)?).map_err(fail)?;
        Ok(Self(megolm::InboundGroupSession::from_pickle(pickle)))
    }
}
