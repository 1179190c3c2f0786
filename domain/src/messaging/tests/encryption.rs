//! End-to-end encryption's server rules: keys kept as uploaded and handed
//! out once, encrypted chats taking envelopes only and refusing a stale
//! device list, nothing built from what the server cannot read.

use serde_json::{Value, json};

use super::super::{claim_keys, get_device_keys, send_to_device, upload_keys};
use super::*;
use crate::ids::device_key;
use crate::model::one_time_keys::MAX_ONE_TIME_KEYS;
use crate::ports::OneTimeKeyTable;

/// A 32-byte key in unpadded base64, different for each `n`.
fn key(n: u32) -> String {
    use base64::Engine;
    let mut bytes = [0_u8; 32];
    bytes[..4].copy_from_slice(&n.to_be_bytes());
    base64::engine::general_purpose::STANDARD_NO_PAD.encode(bytes)
}

fn envelope(n: u32) -> String {
    format!("megolm.v1:{}:{}", key(1000), key(n))
}

async fn upload(world: &World, who: &Identity, frame: Value) -> Result<ServerFrame, AppError> {
    upload_keys(world.ctx(), who, request(frame)).await
}

/// Uploads the device's identity keys (from `n`) and `otks` one-time keys.
async fn keyed(world: &World, who: &Identity, n: u32, otks: u32) {
    let one_time: Vec<Value> = (0..otks).map(|i| json!({ "keyId": format!("k{i}"), "key": key(n * 100 + i) })).collect();
    let frame = json!({
        "identityKeys": { "curve25519": key(n), "ed25519": key(n + 50) },
        "oneTimeKeys": one_time,
        "fallbackKey": { "keyId": "fb", "key": key(n * 100 + 99) },
    });
    upload(world, who, frame).await.expect("keys uploaded");
}

async fn encrypted_chat(world: &World, by: &Identity, others: &[&str]) -> String {
    world.signed_up(others).await;
    let mut frame = json!({ "participants": others, "encrypted": true });
    if others.len() > 1 {
        frame["name"] = json!("Secret");
    }
    match super::super::create_chat(world.ctx(), by, request(frame)).await.expect("created") {
        ServerFrame::ChatCreated { chat_id, encrypted, .. } => {
            assert!(encrypted);
            chat_id
        }
        other => panic!("{other:?}"),
    }
}

async fn digest(world: &World, who: &Identity, chat: &str) -> String {
    match get_device_keys(world.ctx(), who, request(json!({ "chatId": chat }))).await.expect("device keys") {
        ServerFrame::DeviceKeys { digest, .. } => digest,
        other => panic!("{other:?}"),
    }
}

async fn send_encrypted(world: &World, who: &Identity, chat: &str, n: u32, devices: &str) -> Result<ServerFrame, AppError> {
    let frame = json!({ "chatId": chat, "clientMessageId": format!("e{n}"), "message": envelope(n), "devices": devices });
    super::super::send_message(world.ctx(), who, request(frame)).await
}

#[tokio::test]
async fn identity_keys_are_set_once_and_the_count_of_one_time_keys_is_kept() {
    let world = World::new();
    let alice = world.person("alice").await;
    keyed(&world, &alice, 1, 5).await;
    match upload(&world, &alice, json!({})).await.unwrap() {
        ServerFrame::KeysUploaded { one_time_key_count } => assert_eq!(one_time_key_count, 5),
        other => panic!("{other:?}"),
    }
    // The same keys again: fine. Others: refused, and the first stay.
    upload(&world, &alice, json!({ "identityKeys": { "curve25519": key(1), "ed25519": key(51) } })).await.expect("the same keys");
    let other = json!({ "identityKeys": { "curve25519": key(2), "ed25519": key(52) } });
    assert_eq!(code(upload(&world, &alice, other).await), "invalid_request");
    let bob = world.person("bob").await;
    let chat = world.direct(&alice, "bob").await;
    let keys = get_device_keys(world.ctx(), &bob, request(json!({ "chatId": chat }))).await.unwrap();
    let ServerFrame::DeviceKeys { devices, .. } = keys else { panic!() };
    assert_eq!(devices.len(), 1, "bob's phone has no keys yet");
    assert_eq!(devices[0].identity_keys.curve25519, key(1));
    // Bad keys change nothing.
    for bad in [
        json!({ "oneTimeKeys": [{ "keyId": "x", "key": "short" }] }),
        json!({ "oneTimeKeys": [{ "keyId": "has space", "key": key(9) }] }),
        json!({ "identityKeys": { "curve25519": "not base64!", "ed25519": key(3) } }),
    ] {
        assert_eq!(code(upload(&world, &alice, bad.clone()).await), "invalid_request", "{bad}");
    }
    assert_eq!(world.fakes.store.count_one_time_keys(&device_key("alice", "phone")).await.unwrap(), 5);
    // One-time keys before identity keys: refused.
    assert_eq!(code(upload(&world, &bob, json!({ "oneTimeKeys": [{ "keyId": "a", "key": key(7) }] })).await), "invalid_request");
}

#[tokio::test]
async fn a_device_holds_at_most_its_share_of_one_time_keys() {
    let world = World::new();
    let alice = world.person("alice").await;
    keyed(&world, &alice, 1, 50).await;
    let more: Vec<Value> = (0..50).map(|i| json!({ "keyId": format!("m{i}"), "key": key(5000 + i) })).collect();
    upload(&world, &alice, json!({ "oneTimeKeys": more })).await.expect("100 in all");
    let over = json!({ "oneTimeKeys": [{ "keyId": "over", "key": key(9999) }] });
    assert_eq!(code(upload(&world, &alice, over).await), "invalid_request");
    assert_eq!(world.fakes.store.count_one_time_keys(&device_key("alice", "phone")).await.unwrap(), MAX_ONE_TIME_KEYS);
}

#[tokio::test]
async fn each_one_time_key_is_handed_out_once_then_the_fallback() {
    let world = World::new();
    let alice = world.person("alice").await;
    let bob = world.person("bob").await;
    keyed(&world, &bob, 2, 2).await;
    let chat = world.direct(&alice, "bob").await;
    let claim = || async {
        match claim_keys(world.ctx(), &alice, request(json!({ "chatId": chat, "devices": [{ "userId": "bob", "deviceId": "phone" }] })))
            .await
            .unwrap()
        {
            ServerFrame::ClaimedKeys { keys, missing } => {
                assert!(missing.is_empty());
                (keys[0].key_id.clone(), keys[0].fallback)
            }
            other => panic!("{other:?}"),
        }
    };
    let (first, second, third, fourth) = (claim().await, claim().await, claim().await, claim().await);
    assert_ne!(first.0, second.0, "two claims, two keys");
    assert!(!first.1 && !second.1);
    assert_eq!(third, ("fb".to_owned(), true), "then the fallback key");
    assert_eq!(fourth, ("fb".to_owned(), true), "and again, until the device replaces it");
}

#[tokio::test]
async fn keys_are_claimed_and_sent_only_within_a_chat_one_shares() {
    let world = World::new();
    let alice = world.person("alice").await;
    let carol = world.person("carol").await;
    keyed(&world, &alice, 1, 3).await;
    keyed(&world, &carol, 3, 3).await;
    let chat = world.direct(&alice, "bob").await;
    // Carol is in no chat with alice: the chat's id gets her nothing.
    let claim = json!({ "chatId": chat, "devices": [{ "userId": "alice", "deviceId": "phone" }] });
    assert_eq!(code(claim_keys(world.ctx(), &carol, request(claim)).await), "not_member");
    // Alice cannot reach carol through her chat with bob.
    let claim = json!({ "chatId": chat, "devices": [{ "userId": "carol", "deviceId": "phone" }] });
    assert_eq!(code(claim_keys(world.ctx(), &alice, request(claim)).await), "invalid_request");
    let send = json!({ "chatId": chat, "messages": [{ "userId": "carol", "deviceId": "phone", "olmType": 0, "ciphertext": "AAAA" }] });
    assert_eq!(code(send_to_device(world.ctx(), &alice, request(send)).await), "invalid_request");
    assert_eq!(world.fakes.store.count_one_time_keys(&device_key("carol", "phone")).await.unwrap(), 3, "nothing claimed");
    assert!(world.received(&carol).is_empty());
}

#[tokio::test]
async fn a_to_device_message_reaches_only_its_device_with_the_senders_registered_key() {
    let world = World::new();
    let alice = world.person("alice").await;
    let phone = world.person("bob").await;
    let laptop = world.device("bob", "laptop").await;
    keyed(&world, &alice, 1, 0).await;
    keyed(&world, &phone, 2, 0).await;
    keyed(&world, &laptop, 4, 0).await;
    let chat = world.direct(&alice, "bob").await;
    let send = json!({ "chatId": chat, "messages": [
        { "userId": "bob", "deviceId": "laptop", "olmType": 0, "ciphertext": "Q2lwaGVy" },
        { "userId": "bob", "deviceId": "tablet", "olmType": 0, "ciphertext": "Q2lwaGVy" },
    ] });
    match send_to_device(world.ctx(), &alice, request(send)).await.unwrap() {
        ServerFrame::ToDeviceSent { count, missing } => {
            assert_eq!(count, 1);
            assert_eq!(missing.iter().map(|d| d.device_id.as_str()).collect::<Vec<_>>(), ["tablet"]);
        }
        other => panic!("{other:?}"),
    }
    let got: Vec<Value> = world.received(&laptop).into_iter().filter(|f| f["type"] == "toDevice").collect();
    assert_eq!(got.len(), 1);
    assert_eq!((got[0]["senderId"].as_str(), got[0]["senderKey"].as_str()), (Some("alice"), Some(key(1).as_str())));
    assert!(world.received(&phone).iter().all(|f| f["type"] != "toDevice"), "the other device gets nothing");
    // It waits in the laptop's inbox until acknowledged.
    let inbox = world.fakes.store.inbox_of(&device_key("bob", "laptop"));
    assert!(inbox.iter().any(|e| e.frame.contains("\"toDevice\"")));
}

#[tokio::test]
async fn an_encrypted_chat_takes_envelopes_naming_its_current_devices() {
    let world = World::new();
    let alice = world.person("alice").await;
    let bob = world.person("bob").await;
    keyed(&world, &alice, 1, 1).await;
    keyed(&world, &bob, 2, 1).await;
    let chat = encrypted_chat(&world, &alice, &["bob"]).await;
    let devices = digest(&world, &alice, &chat).await;
    // Plain text, or no device list: refused, nothing stored.
    assert_eq!(code(world.send(&alice, &chat, "hello in the clear").await), "invalid_request");
    let no_list = json!({ "chatId": chat, "clientMessageId": "n", "message": envelope(1) });
    assert_eq!(code(super::super::send_message(world.ctx(), &alice, request(no_list)).await), "invalid_request");
    let ServerFrame::SendResult { seq, .. } = send_encrypted(&world, &alice, &chat, 1, &devices).await.unwrap() else { panic!() };
    assert_eq!(seq, 1, "the refusals took no seq");
    let got: Vec<Value> = world.received(&bob).into_iter().filter(|f| f["type"] == "newMessage").collect();
    assert_eq!((got[0]["message"].as_str(), got[0]["encrypted"].as_bool()), (Some(envelope(1).as_str()), Some(true)));
    // Bob adds a laptop with keys: alice's list is stale, and she is told so before any seq is taken.
    let laptop = world.device("bob", "laptop").await;
    keyed(&world, &laptop, 4, 1).await;
    assert_eq!(code(send_encrypted(&world, &alice, &chat, 2, &devices).await), "devices_changed");
    let fresh = digest(&world, &alice, &chat).await;
    assert_ne!(fresh, devices);
    let ServerFrame::SendResult { seq, .. } = send_encrypted(&world, &alice, &chat, 2, &fresh).await.unwrap() else { panic!() };
    assert_eq!(seq, 2, "gapless");
    // A plain chat takes no envelope (it would show as gibberish) and no device list.
    let plain = world.direct(&alice, "carol").await;
    assert_eq!(code(world.send(&alice, &plain, &envelope(3)).await), "invalid_request");
}

#[tokio::test]
async fn nothing_is_built_from_an_encrypted_text() {
    let world = World::new();
    let alice = world.person("alice").await;
    let bob = world.person("bob").await;
    keyed(&world, &alice, 1, 1).await;
    keyed(&world, &bob, 2, 1).await;
    let chat = encrypted_chat(&world, &alice, &["bob", "carol"]).await;
    let devices = digest(&world, &alice, &chat).await;
    // Mentions travel as ids beside the ciphertext (members only, not oneself).
    let frame = json!({ "chatId": chat, "clientMessageId": "m1", "message": envelope(1), "devices": devices,
        "mentions": ["bob", "alice", "mallory", "bob"] });
    super::super::send_message(world.ctx(), &alice, request(frame)).await.unwrap();
    let first: Vec<Value> = world.received(&bob).into_iter().filter(|f| f["type"] == "newMessage").collect();
    assert_eq!(first[0]["mentions"], json!(["bob"]));
    // A reply quotes no snippet of the ciphertext.
    let devices_now = digest(&world, &bob, &chat).await;
    let reply = json!({ "chatId": chat, "clientMessageId": "r1", "message": envelope(2), "devices": devices_now, "replyTo": 1 });
    super::super::send_message(world.ctx(), &bob, request(reply)).await.unwrap();
    let got: Vec<Value> = world.received(&alice).into_iter().filter(|f| f["type"] == "newMessage").collect();
    assert_eq!(got[0]["replyTo"]["snippet"], "", "{}", got[0]);
    // Edits and reactions are envelopes too; a plain emoji or text is refused.
    let edit = |message: String| json!({ "chatId": chat, "seq": 1, "message": message });
    assert_eq!(code(super::super::edit_message(world.ctx(), &alice, request(edit("plain".into()))).await), "invalid_request");
    super::super::edit_message(world.ctx(), &alice, request(edit(envelope(3)))).await.expect("an encrypted edit");
    let react = |emoji: &str| json!({ "chatId": chat, "seq": 1, "emoji": emoji });
    assert_eq!(code(super::super::react(world.ctx(), &bob, request(react("👍"))).await), "invalid_request");
    super::super::react(world.ctx(), &bob, request(react(&envelope(4)))).await.expect("an encrypted reaction");
    // Pushes say only that something came.
    let entry = world.fakes.store.inbox_of(&device_key("bob", "phone")).into_iter().find(|e| e.is_message()).unwrap();
    assert!(!entry.frame.contains("plain"));
    let notice = crate::messaging::push::Notice::of(&entry, "bob").expect("worth a push");
    assert_eq!(notice.body, "sent a message");
}

#[tokio::test]
async fn an_encrypted_chat_takes_opaque_uploads_only_and_a_plain_one_none() {
    let world = World::new();
    let alice = world.person("alice").await;
    let secret = encrypted_chat(&world, &alice, &["bob", "carol"]).await;
    let plain = world.direct(&alice, "dave").await;
    let sha = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";
    let ask =
        |name: &str, content_type: &str, size: u64| json!({ "fileName": name, "contentType": content_type, "size": size, "sha256": sha });
    let upload = |chat: String, body: Value| {
        let (world, alice) = (&world, &alice);
        async move { crate::media::create_upload(world.ctx(), &alice.user_id, &chat, request(body)).await }
    };
    let largest = 100 * 1024 * 1024;
    upload(secret.clone(), ask("encrypted", "application/octet-stream", largest)).await.expect("opaque, within the largest limit");
    for (body, what) in [
        (ask("cat.png", "image/png", 5), "a plain image would keep its bytes and name readable"),
        (ask("cat.png", "application/octet-stream", 5), "the name travels in the envelope"),
    ] {
        assert_eq!(code(upload(secret.clone(), body).await), "invalid_request", "{what}");
    }
    assert_eq!(code(upload(secret.clone(), ask("encrypted", "application/octet-stream", largest + 1)).await), "too_large");
    assert_eq!(code(upload(plain.clone(), ask("encrypted", "application/octet-stream", 5)).await), "invalid_request");
    upload(plain.clone(), ask("cat.png", "image/png", 5)).await.expect("a plain chat's image");
}
