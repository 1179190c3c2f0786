//! A client that encrypts end to end, as docs/e2ee.md describes one: each
//! device an Olm account (vodozemac, the library the SDK's wasm build uses
//! too) whose public keys it uploads; per chat an outbound Megolm session it
//! shares with every device of the chat's members over Olm (`claimKeys`,
//! `sendToDevice`), rotated when a device leaves; messages are envelopes
//! `megolm.v1:<sessionId>:<ciphertext>` named with the digest of the device
//! list they were shared with. The tests drive it over the real WebSocket
//! API; the server only ever sees public keys and ciphertext.

use std::collections::{BTreeSet, HashMap, VecDeque};

use futures::SinkExt;
use serde_json::{Value, json};
use vodozemac::megolm::{self, GroupSession, InboundGroupSession, MegolmMessage, SessionKey};
use vodozemac::olm::{Account, OlmMessage, Session, SessionConfig};
use vodozemac::{Curve25519PublicKey, base64_decode, base64_encode};

use crate::{Client, System, text, unpack};

/// One-time keys a device keeps on the server.
const ONE_TIME_KEYS: usize = 20;
/// `sendToDevice` carries at most this many messages per request...
const TO_DEVICE_CHUNK: usize = 100;
/// ...in a frame under API Gateway's 32 KB (a session key's Olm message is
/// ~800 bytes: about 35 to a frame).
const TO_DEVICE_FRAME_BYTES: usize = 28 * 1024;

/// A device of a chat's member: (user, device).
pub type DeviceName = (String, String);

struct Outbound {
    session: GroupSession,
    /// The digest of the device list it was last shared with.
    digest: String,
    /// The devices that have this session's key.
    shared_with: BTreeSet<DeviceName>,
}

/// A message as the person reads it.
#[derive(Clone, Debug, PartialEq)]
pub struct Plain {
    pub seq: u64,
    pub sender_id: String,
    pub text: String,
    /// The whole decrypted body (`text`, and `files` with their keys).
    pub body: Value,
    /// The frame as delivered (its `attachments` are what the server holds).
    pub frame: Value,
}

pub struct SecureDevice {
    pub client: Client,
    pub user: String,
    pub device: String,
    account: Account,
    /// Olm sessions by the other device's Curve25519 key (the newest first).
    olm: HashMap<String, Vec<Session>>,
    outbound: HashMap<String, Outbound>,
    inbound: HashMap<String, InboundGroupSession>,
    /// Messages whose session key has not arrived yet.
    waiting: VecDeque<Value>,
    /// Session keys this device received, by session id: (chat, sender).
    pub keys_received: HashMap<String, (String, String)>,
    /// The one-time keys and the fallback key it uploaded (public halves).
    pub uploaded: BTreeSet<String>,
    pub fallback: String,
}

impl SecureDevice {
    /// Connects `user`/`device`, creates its account and uploads its keys.
    pub async fn connect(system: &System, user: &str, device: &str) -> Self {
        let client = system.connect(user, device).await;
        let mut me = Self {
            client,
            user: user.to_owned(),
            device: device.to_owned(),
            account: Account::new(),
            olm: HashMap::new(),
            outbound: HashMap::new(),
            inbound: HashMap::new(),
            waiting: VecDeque::new(),
            keys_received: HashMap::new(),
            uploaded: BTreeSet::new(),
            fallback: String::new(),
        };
        let frame = upload_frame(&mut me.account, ONE_TIME_KEYS);
        me.uploaded = frame["oneTimeKeys"].as_array().unwrap().iter().map(|k| text(k, "key").to_owned()).collect();
        me.fallback = text(&frame["fallbackKey"], "key").to_owned();
        let reply = me.client.request(frame).await;
        assert_eq!(reply["type"], "keysUploaded", "{user}/{device} uploading keys: {reply}");
        me
    }

    /// Closes the connection (the device goes offline; its keys stay).
    pub async fn go_offline(&mut self) {
        let _ = self.client.sink.send(tokio_tungstenite::tungstenite::Message::Close(None)).await;
        let _ = self.client.closed().await;
    }

    /// A new connection for the same device (its keys and sessions kept, as
    /// an app keeps them on disk), the old one closed.
    pub async fn reconnect(&mut self, system: &System) {
        let fresh = system.connect(&self.user, &self.device).await;
        std::mem::replace(&mut self.client, fresh).close().await;
    }

    pub fn curve_key(&self) -> String {
        self.account.identity_keys().curve25519.to_base64()
    }

    /// The chat's devices with keys (other than this one) and their digest.
    pub async fn device_keys(&mut self, chat: &str) -> (Vec<(DeviceName, String)>, String) {
        let reply = self.retrying(json!({ "action": "getDeviceKeys", "chatId": chat })).await;
        assert_eq!(reply["type"], "deviceKeys", "{reply}");
        let devices = reply["devices"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| ((text(d, "userId").to_owned(), text(d, "deviceId").to_owned()), text(&d["identityKeys"], "curve25519").to_owned()))
            .filter(|((u, d), _)| !(*u == self.user && *d == self.device))
            .collect();
        (devices, text(&reply, "digest").to_owned())
    }

    /// Makes sure the chat's outbound session is shared with exactly the
    /// devices listed now (a new session when any device left); returns the
    /// digest to send with.
    pub async fn share_session(&mut self, chat: &str) -> String {
        let (devices, digest) = self.device_keys(chat).await;
        let listed: BTreeSet<DeviceName> = devices.iter().map(|(d, _)| d.clone()).collect();
        let rotate = self.outbound.get(chat).is_none_or(|o| !o.shared_with.is_subset(&listed));
        if rotate {
            let session = GroupSession::new(megolm::SessionConfig::version_1());
            // This device reads its own messages (history) with the same key.
            let own = InboundGroupSession::new(&session.session_key(), megolm::SessionConfig::version_1());
            self.inbound.insert(session.session_id(), own);
            self.outbound.insert(chat.to_owned(), Outbound { session, digest: String::new(), shared_with: BTreeSet::new() });
        }
        let outbound = &self.outbound[chat];
        let missing: Vec<&(DeviceName, String)> = devices.iter().filter(|(d, _)| !outbound.shared_with.contains(d)).collect();
        if missing.is_empty() {
            self.outbound.get_mut(chat).unwrap().digest.clone_from(&digest);
            return digest;
        }
        let room_key = room_key(chat, &outbound.session);
        // Olm sessions with the devices this one has none with yet.
        let without: Vec<Value> = missing
            .iter()
            .filter(|(_, key)| !self.olm.contains_key(key))
            .map(|((user, device), _)| json!({ "userId": user, "deviceId": device }))
            .collect();
        if !without.is_empty() {
            for chunk in without.chunks(300) {
                let reply = self.retrying(json!({ "action": "claimKeys", "chatId": chat, "devices": chunk })).await;
                assert_eq!(reply["type"], "claimedKeys", "{reply}");
                for claimed in reply["keys"].as_array().unwrap() {
                    let session = outbound_session(&self.account, claimed);
                    self.olm.entry(text(&claimed["identityKeys"], "curve25519").to_owned()).or_default().insert(0, session);
                }
            }
        }
        let mut messages = Vec::new();
        let mut shared = Vec::new();
        for ((user, device), key) in missing {
            let Some(session) = self.olm.get_mut(key).and_then(|s| s.first_mut()) else { continue };
            messages.push(to_device(session, user, device, &room_key));
            shared.push((user.clone(), device.clone()));
        }
        for frame in to_device_frames(chat, messages) {
            let reply = self.retrying(frame).await;
            assert_eq!(reply["type"], "toDeviceSent", "{reply}");
        }
        let outbound = self.outbound.get_mut(chat).unwrap();
        outbound.shared_with.extend(shared);
        outbound.digest.clone_from(&digest);
        digest
    }

    /// A request, sent again (same frame) while it fails in a way a retry
    /// may fix (`unavailable`, `internal`: under injected faults), as the
    /// SDK does.
    pub async fn retrying(&mut self, frame: Value) -> Value {
        for attempt in 0..100_u64 {
            let reply = self.client.request(frame.clone()).await;
            if !matches!(reply["code"].as_str(), Some("unavailable" | "internal")) {
                return reply;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20 * (attempt + 1).min(10))).await;
        }
        panic!("{} kept failing", frame["action"]);
    }

    /// The envelope of a message body under the chat's current outbound session.
    pub fn seal_body(&mut self, chat: &str, body: &Value) -> String {
        envelope_of(&mut self.outbound.get_mut(chat).expect("share_session first").session, body)
    }

    /// The envelope of `text` under the chat's current outbound session.
    pub fn seal(&mut self, chat: &str, text: &str) -> String {
        envelope(&mut self.outbound.get_mut(chat).expect("share_session first").session, text)
    }

    /// Sends `text` encrypted with the chat's session as last shared (shared
    /// first if it never was), sharing it again when the server answers
    /// `devices_changed`; the reply.
    pub async fn send(&mut self, chat: &str, client_message_id: &str, text: &str) -> Value {
        self.send_body(chat, client_message_id, &json!({ "text": text }), &[]).await
    }

    /// [`send`](Self::send) of a whole body, carrying `attachments` (uploads of encrypted files).
    pub async fn send_body(&mut self, chat: &str, client_message_id: &str, body: &Value, attachments: &[&str]) -> Value {
        for _ in 0..5 {
            let digest = match self.outbound.get(chat) {
                Some(outbound) if !outbound.digest.is_empty() => outbound.digest.clone(),
                _ => self.share_session(chat).await,
            };
            let envelope = self.seal_body(chat, body);
            let reply = self
                .client
                .request(json!({
                    "action": "sendMessage", "chatId": chat, "clientMessageId": client_message_id,
                    "message": envelope, "devices": digest, "attachments": attachments,
                }))
                .await;
            if reply["code"] != "devices_changed" {
                return reply;
            }
            self.share_session(chat).await;
        }
        panic!("the devices of {chat} kept changing");
    }

    /// Decrypts an Olm message from `sender_key`: with a session that has
    /// it, or (a pre-key message) a new inbound session.
    fn olm_decrypt(&mut self, sender_key: &str, olm_type: usize, ciphertext: &str) -> Option<Vec<u8>> {
        let message = OlmMessage::from_parts(olm_type, &base64_decode(ciphertext).ok()?).ok()?;
        if let Some(sessions) = self.olm.get_mut(sender_key) {
            for session in sessions.iter_mut() {
                if let OlmMessage::PreKey(pre_key) = &message
                    && pre_key.session_id() != session.session_id()
                {
                    continue;
                }
                if let Ok(plaintext) = session.decrypt(&message) {
                    return Some(plaintext);
                }
            }
        }
        let OlmMessage::PreKey(pre_key) = &message else { return None };
        let identity = Curve25519PublicKey::from_base64(sender_key).ok()?;
        let created = self.account.create_inbound_session(SessionConfig::version_1(), identity, pre_key).ok()?;
        self.olm.entry(sender_key.to_owned()).or_default().insert(0, created.session);
        Some(created.plaintext)
    }

    /// Takes in a `toDevice` frame: the session key it carries.
    pub fn take_to_device(&mut self, frame: &Value) {
        let olm_type = frame["olmType"].as_u64().unwrap() as usize;
        let plaintext = self.olm_decrypt(text(frame, "senderKey"), olm_type, text(frame, "ciphertext"));
        let Some(room_key) = plaintext.and_then(|p| serde_json::from_slice::<Value>(&p).ok()) else { return };
        let session_id = text(&room_key, "sessionId").to_owned();
        if let Ok(key) = SessionKey::from_base64(text(&room_key, "sessionKey")) {
            self.inbound.entry(session_id.clone()).or_insert_with(|| InboundGroupSession::new(&key, megolm::SessionConfig::version_1()));
            self.keys_received.insert(session_id, (text(&room_key, "chatId").to_owned(), text(frame, "senderId").to_owned()));
        }
    }

    /// The text of an envelope, if this device has its session's key.
    pub fn open(&mut self, envelope: &str) -> Option<String> {
        self.open_body(envelope)?["text"].as_str().map(str::to_owned)
    }

    /// The decrypted body of an envelope, if this device has its session's key.
    pub fn open_body(&mut self, envelope: &str) -> Option<Value> {
        let mut parts = envelope.splitn(3, ':');
        let (Some("megolm.v1"), Some(session_id), Some(ciphertext)) = (parts.next(), parts.next(), parts.next()) else {
            return None;
        };
        let message = MegolmMessage::from_base64(ciphertext).ok()?;
        let decrypted = self.inbound.get_mut(session_id)?.decrypt(&message).ok()?;
        serde_json::from_slice(&decrypted.plaintext).ok()
    }

    /// The text of an envelope, waiting for its session key to arrive (in a
    /// `toDevice` frame, taken in and acknowledged) up to the client's patience.
    pub async fn open_when_keyed(&mut self, envelope: &str) -> String {
        loop {
            if let Some(text) = self.open(envelope) {
                return text;
            }
            let frame = self.client.wait_for(|f| f["type"] == "toDevice").await;
            self.take_to_device(&frame);
            let reply = self.retrying(json!({ "action": "ack", "eventIds": [text(&frame, "eventId")] })).await;
            assert_eq!(reply["type"], "acked", "{reply}");
        }
    }

    fn try_open(&mut self, message: &Value) -> Option<Plain> {
        let body = self.open_body(text(message, "message"))?;
        Some(Plain {
            seq: message["seq"].as_u64().unwrap(),
            sender_id: message["senderId"].as_str().unwrap().to_owned(),
            text: body["text"].as_str()?.to_owned(),
            body,
            frame: message.clone(),
        })
    }

    /// The next `count` messages, decrypted, as they arrive live or by sync
    /// (each acknowledged, as are the session keys); panics when a key never
    /// comes. Other frames stay for the client's `wait_for`.
    pub async fn read(&mut self, count: usize) -> Vec<Plain> {
        let mut out = Vec::new();
        loop {
            let mut still = VecDeque::new();
            while let Some(message) = self.waiting.pop_front() {
                match self.try_open(&message) {
                    Some(plain) => out.push(plain),
                    None => still.push_back(message),
                }
            }
            self.waiting = still;
            if out.len() >= count {
                return out;
            }
            let frame = self.client.wait_for(|f| matches!(f["type"].as_str(), Some("newMessage" | "toDevice" | "syncBatch"))).await;
            let (mut messages, mut events) = (Vec::new(), Vec::new());
            for inner in unpack(frame) {
                match inner["type"].as_str() {
                    Some("toDevice") => {
                        self.take_to_device(&inner);
                        events.push(text(&inner, "eventId").to_owned());
                    }
                    Some("newMessage") => {
                        messages.push(text(&inner, "messageId").to_owned());
                        self.waiting.push_back(inner);
                    }
                    _ => self.client.pending.push_back(inner),
                }
            }
            for (field, ids) in [("messageIds", messages), ("eventIds", events)] {
                for chunk in ids.chunks(100) {
                    let reply = self.retrying(json!({ "action": "ack", field: chunk })).await;
                    assert_eq!(reply["type"], "acked", "{reply}");
                }
            }
        }
    }

    /// Asks for what this device's inbox holds (`sync`); `read` takes it in.
    pub async fn sync(&mut self) {
        let reply = self.client.sync().await;
        assert_eq!(reply["type"], "synced", "{reply}");
    }
}
/// An `uploadKeys` frame with the account's identity keys, `one_time` new
/// one-time keys and a fallback key; marks them published.
pub fn upload_frame(account: &mut Account, one_time: usize) -> Value {
    let identity = account.identity_keys();
    account.generate_one_time_keys(one_time);
    account.generate_fallback_key();
    let frame = json!({
        "action": "uploadKeys",
        "identityKeys": { "curve25519": identity.curve25519.to_base64(), "ed25519": identity.ed25519.to_base64() },
        "oneTimeKeys": keys_json(&account.one_time_keys()),
        "fallbackKey": keys_json(&account.fallback_key()).pop(),
    });
    account.mark_keys_as_published();
    frame
}

/// An Olm session with the device whose key `claimKeys` handed out (one of its `keys`).
pub fn outbound_session(account: &Account, claimed: &Value) -> Session {
    let identity = Curve25519PublicKey::from_base64(text(&claimed["identityKeys"], "curve25519")).unwrap();
    let one_time = Curve25519PublicKey::from_base64(text(claimed, "key")).unwrap();
    account.create_outbound_session(SessionConfig::version_1(), identity, one_time).unwrap()
}

/// What a Megolm session's key travels as, inside Olm.
pub fn room_key(chat: &str, session: &GroupSession) -> String {
    json!({ "chatId": chat, "sessionId": session.session_id(), "sessionKey": session.session_key().to_base64() }).to_string()
}

/// One message of a `sendToDevice`: `plaintext` encrypted for one device.
pub fn to_device(session: &mut Session, user: &str, device: &str, plaintext: &str) -> Value {
    let (olm_type, bytes) = session.encrypt(plaintext).unwrap().to_parts();
    json!({ "userId": user, "deviceId": device, "olmType": olm_type, "ciphertext": base64_encode(bytes) })
}

/// `sendToDevice` frames carrying `messages`: each at most 100 messages
/// and under the WebSocket frame limit.
pub fn to_device_frames(chat: &str, messages: Vec<Value>) -> Vec<Value> {
    let mut frames = Vec::new();
    let (mut batch, mut bytes) = (Vec::new(), 0);
    for message in messages {
        let size = message.to_string().len() + 1;
        if !batch.is_empty() && (batch.len() == TO_DEVICE_CHUNK || bytes + size > TO_DEVICE_FRAME_BYTES) {
            frames.push(json!({ "action": "sendToDevice", "chatId": chat, "messages": std::mem::take(&mut batch) }));
            bytes = 0;
        }
        bytes += size;
        batch.push(message);
    }
    if !batch.is_empty() {
        frames.push(json!({ "action": "sendToDevice", "chatId": chat, "messages": batch }));
    }
    frames
}

/// The envelope of `text` under an outbound Megolm session.
pub fn envelope(session: &mut GroupSession, text: &str) -> String {
    envelope_of(session, &json!({ "text": text }))
}

/// The envelope of a message body (`{"text", "files"?}`).
pub fn envelope_of(session: &mut GroupSession, body: &Value) -> String {
    let ciphertext = session.encrypt(body.to_string()).to_base64();
    format!("megolm.v1:{}:{}", session.session_id(), ciphertext)
}

type Aes256Ctr = ctr::Ctr128BE<aes::Aes256>;

/// A file as an encrypted chat sends it: AES-256-CTR under a fresh key and
/// counter block; returns the ciphertext and what the message's body says
/// of it (`key`, `iv`, `sha256` of the ciphertext; name and type).
pub fn encrypt_file(bytes: &[u8], name: &str, content_type: &str) -> (Vec<u8>, Value) {
    use aes::cipher::{KeyIvInit, StreamCipher};
    use rand::RngCore;
    let (mut key, mut iv) = ([0_u8; 32], [0_u8; 16]);
    rand::rng().fill_bytes(&mut key);
    rand::rng().fill_bytes(&mut iv[..8]);
    let mut sealed = bytes.to_vec();
    Aes256Ctr::new_from_slices(&key, &iv).unwrap().apply_keystream(&mut sealed);
    let described = json!({
        "name": name, "type": content_type, "size": bytes.len(),
        "key": base64_encode(key), "iv": base64_encode(iv), "sha256": crate::sha256_base64(&sealed),
    });
    (sealed, described)
}

/// The bytes of a downloaded encrypted file, once its digest is the one the
/// (authenticated) message named; `None` if it is not.
pub fn decrypt_file(downloaded: &[u8], described: &Value) -> Option<Vec<u8>> {
    use aes::cipher::{KeyIvInit, StreamCipher};
    if crate::sha256_base64(downloaded) != described["sha256"].as_str()? {
        return None;
    }
    let (key, iv) = (base64_decode(described["key"].as_str()?).ok()?, base64_decode(described["iv"].as_str()?).ok()?);
    let mut bytes = downloaded.to_vec();
    Aes256Ctr::new_from_slices(&key, &iv).ok()?.apply_keystream(&mut bytes);
    Some(bytes)
}

fn keys_json(keys: &HashMap<vodozemac::KeyId, Curve25519PublicKey>) -> Vec<Value> {
    keys.iter().map(|(id, key)| json!({ "keyId": id.to_base64(), "key": key.to_base64() })).collect()
}
