//! Fuzzing with a stable, seeded harness: mutated frames for every WebSocket
//! action and mutated HTTP bodies and parameters.
//!
//! - In process, every request parser takes thousands of mutations per action:
//!   it never panics and answers a typed error (`malformed_json`,
//!   `invalid_request`) or a parsed request.
//! - End to end, every action of the running system takes `FUZZ_CASES`
//!   mutations (default 120; `FUZZ_CASES=2000` for a long run): each gets a
//!   reply that is a success or a typed error — never `internal` — the socket
//!   stays open, and what was refused stored nothing: the fuzzer's chats hold
//!   exactly the messages it was told were stored, and a chat it is not in is
//!   untouched.

use std::collections::BTreeMap;

use domain::protocol::*;
use e2e_tests::fuzz::Mutator;
use e2e_tests::{Client, System, text, unique, upload_request};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

const IN_PROCESS_CASES: usize = 3000;
/// A Curve25519 key's shape: 32 bytes, unpadded base64.
const KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";

fn upload_keys_frame() -> Value {
    json!({
        "action": "uploadKeys",
        "identityKeys": { "curve25519": KEY, "ed25519": KEY },
        "oneTimeKeys": [{ "keyId": "AAAAAQ", "key": KEY }],
        "fallbackKey": { "keyId": "AAAAAg", "key": KEY },
    })
}

fn claim_keys_frame(chat: &str, user: &str) -> Value {
    json!({ "action": "claimKeys", "chatId": chat, "devices": [{ "userId": user, "deviceId": "phone" }] })
}

fn send_to_device_frame(chat: &str, user: &str) -> Value {
    json!({ "action": "sendToDevice", "chatId": chat, "messages": [{ "userId": user, "deviceId": "phone", "olmType": 0, "ciphertext": "AwogQmFzZTY0" }] })
}
const MAX_FRAME: usize = 32 * 1024 - 64;

fn cases() -> usize {
    std::env::var("FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(120)
}

fn parses_or_refuses<T: DeserializeOwned>(base: Value, seed: u64) -> BTreeMap<&'static str, usize> {
    let mut mutator = Mutator::new(seed);
    let mut outcomes = BTreeMap::new();
    for _ in 0..IN_PROCESS_CASES {
        let frame = mutator.mutate(&base, &["action"]);
        let outcome = match parse_request::<T>(Some(&frame)) {
            Ok(_) => "parsed",
            Err((err, _)) => err.code(),
        };
        assert!(matches!(outcome, "parsed" | "malformed_json" | "invalid_request"), "{frame} -> {outcome}");
        *outcomes.entry(outcome).or_default() += 1;
    }
    outcomes
}

#[test]
fn every_request_parser_answers_mutated_frames_with_a_request_or_a_typed_error() {
    let chat = "g-01JDX4W0Q3K6Y8V1S7M2N9B5CR";
    let runs: Vec<(&str, BTreeMap<&str, usize>)> = vec![
        ("createChat", parses_or_refuses::<CreateChatRequest>(json!({ "action": "createChat", "participants": ["bob"], "name": "n" }), 1)),
        (
            "sendMessage",
            parses_or_refuses::<SendMessageRequest>(
                json!({ "action": "sendMessage", "chatId": chat, "clientMessageId": "c", "message": "m", "attachments": [] }),
                2,
            ),
        ),
        ("ack", parses_or_refuses::<AckRequest>(json!({ "action": "ack", "messageId": "a", "messageIds": ["b"], "eventIds": ["c"] }), 3)),
        ("sync", parses_or_refuses::<SyncRequest>(json!({ "action": "sync", "cursor": "c", "limit": 10 }), 4)),
        (
            "modifyChatParticipants",
            parses_or_refuses::<ModifyChatParticipantsRequest>(
                json!({ "action": "modifyChatParticipants", "chatId": chat, "userId": "u", "operation": "ADD" }),
                5,
            ),
        ),
        ("markRead", parses_or_refuses::<MarkReadRequest>(json!({ "action": "markRead", "chatId": chat, "upToSeq": 3 }), 6)),
        ("listChats", parses_or_refuses::<ListChatsRequest>(json!({ "action": "listChats", "x": 1 }), 7)),
        ("unregisterDevice", parses_or_refuses::<UnregisterDeviceRequest>(json!({ "action": "unregisterDevice", "deviceId": "d" }), 8)),
        ("listDevices", parses_or_refuses::<ListDevicesRequest>(json!({ "action": "listDevices", "x": 1 }), 9)),
        ("messageStatus", parses_or_refuses::<MessageStatusRequest>(json!({ "action": "messageStatus", "chatId": chat, "seq": 1 }), 10)),
        (
            "registerPush",
            parses_or_refuses::<RegisterPushRequest>(json!({ "action": "registerPush", "platform": "GCM", "token": "t" }), 11),
        ),
        ("unregisterPush", parses_or_refuses::<UnregisterPushRequest>(json!({ "action": "unregisterPush", "x": 1 }), 12)),
        ("muteChat", parses_or_refuses::<MuteChatRequest>(json!({ "action": "muteChat", "chatId": chat, "muted": true }), 13)),
        ("heartbeat", parses_or_refuses::<HeartbeatRequest>(json!({ "action": "heartbeat", "x": 1 }), 14)),
        (
            "subscribePresence",
            parses_or_refuses::<SubscribePresenceRequest>(json!({ "action": "subscribePresence", "userIds": ["u"] }), 15),
        ),
        ("typing", parses_or_refuses::<TypingRequest>(json!({ "action": "typing", "chatId": chat, "typing": true }), 17)),
        ("blockUser", parses_or_refuses::<BlockUserRequest>(json!({ "action": "blockUser", "userId": "u", "blocked": true }), 18)),
        ("listBlocked", parses_or_refuses::<ListBlockedRequest>(json!({ "action": "listBlocked", "x": 1 }), 19)),
        (
            "updateProfile",
            parses_or_refuses::<UpdateProfileRequest>(json!({ "action": "updateProfile", "displayName": "n", "about": "a" }), 22),
        ),
        (
            "setPrivacy",
            parses_or_refuses::<SetPrivacyRequest>(json!({ "action": "setPrivacy", "presence": "contacts", "readReceipts": false }), 21),
        ),
        (
            "updateChat",
            parses_or_refuses::<UpdateChatRequest>(json!({ "action": "updateChat", "chatId": chat, "name": "n", "description": "d" }), 20),
        ),
        (
            "editMessage",
            parses_or_refuses::<EditMessageRequest>(json!({ "action": "editMessage", "chatId": chat, "seq": 1, "message": "m" }), 23),
        ),
        (
            "deleteMessage",
            parses_or_refuses::<DeleteMessageRequest>(
                json!({ "action": "deleteMessage", "chatId": chat, "seq": 1, "forEveryone": true }),
                24,
            ),
        ),
        (
            "updateProfile (avatar)",
            parses_or_refuses::<UpdateProfileRequest>(json!({ "action": "updateProfile", "avatar": "01JDX4W0Q3K6Y8V1S7M2N9B5CR" }), 26),
        ),
        ("react", parses_or_refuses::<ReactRequest>(json!({ "action": "react", "chatId": chat, "seq": 1, "emoji": "👍" }), 25)),
        ("uploadKeys", parses_or_refuses::<UploadKeysRequest>(upload_keys_frame(), 27)),
        ("getDeviceKeys", parses_or_refuses::<GetDeviceKeysRequest>(json!({ "action": "getDeviceKeys", "chatId": chat }), 28)),
        ("claimKeys", parses_or_refuses::<ClaimKeysRequest>(claim_keys_frame(chat, "bob"), 29)),
        ("sendToDevice", parses_or_refuses::<SendToDeviceRequest>(send_to_device_frame(chat, "bob"), 30)),
    ];
    // HTTP bodies go through serde_json the same way (`transport::http::json_body`).
    let mut mutator = Mutator::new(16);
    let base = json!({ "fileName": "a.png", "contentType": "image/png", "size": 10, "sha256": "x" });
    let mut http_outcomes: BTreeMap<&str, usize> = BTreeMap::new();
    for _ in 0..IN_PROCESS_CASES {
        let body = mutator.mutate(&base, &[]);
        let outcome = match serde_json::from_str::<Value>(&body) {
            Err(_) => "malformed_json",
            Ok(value) => serde_json::from_value::<CreateAttachmentRequest>(value).map_or("invalid_request", |_| "parsed"),
        };
        *http_outcomes.entry(outcome).or_default() += 1;
    }
    // The key and name rules take any string without panicking.
    for _ in 0..IN_PROCESS_CASES {
        let s = mutator.text();
        let _ = (domain::ids::check_chat_id(&s), domain::ids::check_id("id", &s), domain::text::check_name("name", &s, 100));
        let _ = (domain::media::canonical_media_type(&s), domain::media::content_disposition(&s));
    }
    let total = (runs.len() + 1) * IN_PROCESS_CASES;
    for (action, outcomes) in &runs {
        println!("fuzz (in process) {action}: {outcomes:?}");
        assert!(outcomes.get("invalid_request").copied().unwrap_or(0) > 0, "{action}: mutations reach the field checks");
    }
    println!("fuzz (in process) POST attachments body: {http_outcomes:?}");
    let mut avatar_outcomes: BTreeMap<&str, usize> = BTreeMap::new();
    let base = json!({ "contentType": "image/png", "size": 10, "sha256": "x" });
    for _ in 0..IN_PROCESS_CASES {
        let body = mutator.mutate(&base, &[]);
        let outcome = match serde_json::from_str::<Value>(&body) {
            Err(_) => "malformed_json",
            Ok(value) => serde_json::from_value::<CreateAvatarRequest>(value).map_or("invalid_request", |_| "parsed"),
        };
        *avatar_outcomes.entry(outcome).or_default() += 1;
    }
    println!("fuzz (in process) POST avatar body: {avatar_outcomes:?}");
    println!("fuzz (in process): {total} mutated frames and bodies, {IN_PROCESS_CASES} strings through the key, name and media rules");
}

/// Codes a refused frame may get (anything but `internal`).
const TYPED: &[&str] = &[
    "malformed_json",
    "unknown_action",
    "invalid_request",
    "not_member",
    "forbidden",
    "too_many_members",
    "message_too_long",
    "push_unavailable",
    "not_found",
    "too_large",
    "contention",
    "device_not_registered",
    "rate_limited",
    "blocked",
    "too_late",
];

/// Sends one frame and returns the reply: the frame echoing `request_id`, or
/// an error that could not echo it (the frame was not JSON).
async fn exchange(client: &mut Client, text: String, request_id: &str) -> Value {
    client.send_text(text).await;
    client.wait_for(|f| f["requestId"] == request_id || (f["type"] == "error" && f.get("requestId").is_none())).await
}

async fn stored_messages(system: &System, chat: &str) -> usize {
    system.partition("MessagesTable", "chatId", chat).await.len()
}

#[tokio::test]
async fn the_running_system_answers_every_mutated_frame_and_body_with_a_typed_reply_and_stores_nothing_refused() {
    let system = System::start().await;
    let [fuzzer, victim, outsider, other] = ["fuzzer", "victim", "outsider", "other"].map(unique);
    let mut f = system.connect(&fuzzer, "phone").await;
    let group = f.chat_with(&[&victim], Some("fuzzed")).await;
    let direct = f.chat_with(&[&victim], None).await;
    let mut o = system.connect(&outsider, "phone").await;
    let untouched = o.chat_with(&[&other], Some("not yours")).await;
    assert_eq!(f.send_message(&group, "seed", "first").await["seq"], 1);

    let bases: Vec<Value> = vec![
        json!({ "action": "createChat", "participants": [victim], "name": "n" }),
        json!({ "action": "sendMessage", "chatId": group, "clientMessageId": "c", "message": "m", "attachments": [] }),
        json!({ "action": "sendMessage", "chatId": direct, "clientMessageId": "d", "message": "m" }),
        json!({ "action": "ack", "messageIds": ["01JDX4W0Q3K6Y8V1S7M2N9B5CR"], "eventIds": [] }),
        json!({ "action": "sync", "limit": 10 }),
        json!({ "action": "modifyChatParticipants", "chatId": group, "userId": victim, "operation": "REMOVE" }),
        json!({ "action": "markRead", "chatId": group, "upToSeq": 1 }),
        json!({ "action": "listChats" }),
        json!({ "action": "unregisterDevice", "deviceId": "ghost" }),
        json!({ "action": "listDevices" }),
        json!({ "action": "messageStatus", "chatId": group, "seq": 1 }),
        json!({ "action": "registerPush", "platform": "GCM", "token": "t" }),
        json!({ "action": "unregisterPush" }),
        json!({ "action": "muteChat", "chatId": group, "muted": true }),
        json!({ "action": "heartbeat" }),
        json!({ "action": "subscribePresence", "userIds": [victim] }),
        json!({ "action": "typing", "chatId": group, "typing": true }),
        json!({ "action": "blockUser", "userId": victim, "blocked": true }),
        json!({ "action": "listBlocked" }),
        json!({ "action": "updateChat", "chatId": group, "name": "n", "description": "d" }),
        json!({ "action": "setPrivacy", "presence": "everyone", "readReceipts": true }),
        json!({ "action": "updateProfile", "displayName": "fuzz", "about": "a" }),
        json!({ "action": "updateProfile", "avatar": "01JDX4W0Q3K6Y8V1S7M2N9B5CR" }),
        json!({ "action": "editMessage", "chatId": group, "seq": 1, "message": "edited" }),
        json!({ "action": "react", "chatId": group, "seq": 1, "emoji": "👍" }),
        json!({ "action": "deleteMessage", "chatId": group, "seq": 1, "forEveryone": false }),
        json!({ "action": "deleteMessage", "chatId": group, "seq": 1, "forEveryone": true }),
        upload_keys_frame(),
        json!({ "action": "getDeviceKeys", "chatId": group }),
        claim_keys_frame(&group, &fuzzer),
        send_to_device_frame(&group, &fuzzer),
        json!({ "action": "noSuchAction", "x": 1 }),
    ];
    // Changes take seqs of their own (items of the Messages table); a retried one takes none.
    let mut changes = std::collections::BTreeSet::new();
    let per_action = cases();
    let mut mutator = Mutator::new(42);
    let mut outcomes: BTreeMap<String, usize> = BTreeMap::new();
    let mut stored = 1; // the seed message
    let mut sent = 0;
    let mut last_beat = std::time::Instant::now();
    for base in &bases {
        let action = text(base, "action").to_owned();
        // Without a deviceId, unregisterDevice would (rightly) remove the fuzzer itself.
        let keep: &[&str] = if action == "unregisterDevice" { &["action", "deviceId"] } else { &["action"] };
        for _ in 0..per_action {
            // A heartbeat a minute, as clients send: the presence sweep closes silent sockets.
            if last_beat.elapsed() > std::time::Duration::from_secs(45) {
                assert_eq!(f.request(json!({ "action": "heartbeat" })).await["type"], "heartbeatAck");
                last_beat = std::time::Instant::now();
            }
            sent += 1;
            let request_id = format!("f{sent}");
            let mutated = mutator.mutate(base, keep);
            // The request id goes first, so damage to the frame's tail keeps it.
            let framed = match mutated.strip_prefix('{') {
                Some(rest) if rest.starts_with('}') => format!("{{\"requestId\":\"{request_id}\"}}"),
                Some(rest) => format!("{{\"requestId\":\"{request_id}\",{rest}"),
                None => mutated.clone(),
            };
            if framed.len() > MAX_FRAME {
                // Over API Gateway's 32 KB the socket closes (1009): tested in messaging.rs.
                *outcomes.entry(format!("{action} → (over 32 KB, not sent)")).or_default() += 1;
                continue;
            }
            let reply = exchange(&mut f, framed.clone(), &request_id).await;
            let outcome = match reply["type"].as_str() {
                Some("error") => reply["code"].as_str().unwrap_or("?").to_owned(),
                Some(kind) => kind.to_owned(),
                None => "?".to_owned(),
            };
            assert!(reply["type"] != "error" || TYPED.contains(&outcome.as_str()), "{framed} -> {reply}");
            if reply["type"] == "sendResult" && reply["duplicate"] == false {
                stored += 1;
            }
            if reply["type"] == "messageChanged" {
                changes.insert((text(&reply, "chatId").to_owned(), reply["seq"].as_u64()));
            }
            *outcomes.entry(format!("{action} → {outcome}")).or_default() += 1;
        }
    }
    for (outcome, count) in &outcomes {
        println!("fuzz (end to end) {outcome}: {count}");
    }
    println!("fuzz (end to end): {sent} mutated frames over {} actions", bases.len());
    assert_eq!(f.request(json!({ "action": "heartbeat" })).await["type"], "heartbeatAck", "the socket is still open");
    let in_chats = stored_messages(&system, &group).await + stored_messages(&system, &direct).await;
    assert_eq!(in_chats, stored + changes.len(), "the fuzzer's chats hold exactly the messages and changes it was told were stored");
    assert_eq!(stored_messages(&system, &untouched).await, 0, "a chat the fuzzer is not in is untouched");
    let details = system.http(&outsider).get(&format!("/chats/{untouched}")).await.body;
    assert_eq!(details["participants"].as_array().map(Vec::len), Some(2), "{details}");

    // HTTP: mutated upload bodies, and mutated query and path parameters.
    let http = system.http(&fuzzer);
    let mut statuses: BTreeMap<String, usize> = BTreeMap::new();
    let base = upload_request(b"\x89PNG fuzz", "image/png");
    let avatar_base = json!({ "contentType": "image/png", "size": 9, "sha256": e2e_tests::sha256_base64(b"\x89PNG fuzz") });
    for i in 0..per_action * 2 {
        let body = mutator.mutate(&base, &[]);
        let reply = http.post_text(&format!("/chats/{group}/attachments"), body.clone()).await;
        assert!(reply.status < 500, "{body} -> {} {}", reply.status, reply.body);
        let avatar = http.post_text("/users/me/avatar", mutator.mutate(&avatar_base, &[])).await;
        assert!(avatar.status < 500, "avatar -> {} {}", avatar.status, avatar.body);
        *statuses.entry(format!("POST avatar → {}", avatar.status)).or_default() += 1;
        assert!(reply.status >= 300 || reply.body["uploadUrl"].is_string(), "{body} -> {}", reply.body);
        *statuses.entry(format!("POST attachments → {}", reply.status)).or_default() += 1;
        let noise = percent(&mutator.text());
        let path = match i % 4 {
            0 => format!("/chats/{group}/messages?limit={noise}&before={noise}"),
            1 => format!("/chats?cursor={noise}&limit={noise}"),
            2 => format!("/chats/{noise}/attachments/{noise}"),
            _ if i % 8 == 3 => format!("/users/{noise}/avatar"),
            _ => format!("/users/{noise}"),
        };
        let reply = http.get(&path).await;
        assert!(reply.status < 500, "{path} -> {} {}", reply.status, reply.body);
        *statuses
            .entry(format!("GET {} → {}", path.split('?').next().unwrap_or("").split('/').nth(1).unwrap_or(""), reply.status))
            .or_default() += 1;
    }
    for (outcome, count) in &statuses {
        println!("fuzz (end to end) HTTP {outcome}: {count}");
    }
    println!("fuzz (end to end): {} mutated HTTP requests", per_action * 4);
}

fn percent(text: &str) -> String {
    text.bytes().take(600).map(|b| format!("%{b:02X}")).collect()
}
