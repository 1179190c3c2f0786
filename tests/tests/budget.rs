//! Holds one message's AWS calls to the budget: an online 1-1 recipient costs at
//! most 7 calls including the ack (one of them the sender's rate-limit
//! counter); a 100-member group costs one post and one
//! ack per recipient device plus at most 12 other calls. The counts come from
//! the SDK interceptor every handler's clients carry, and so are the write
//! units DynamoDB reports for a 1-1 message. The HTTP API's routes and
//! attachments are held to theirs too.

use e2e_tests::{Client, System, text, unique};
use futures::future::join_all;
use local_runtime::Invocation;

fn invocations_of(system: &System, route: &str) -> Vec<Invocation> {
    system.runtime.invocations().into_iter().filter(|i| i.route_key == route).collect()
}

#[tokio::test]
async fn a_one_to_one_message_costs_at_most_thirteen_aws_calls_and_eight_write_units_including_the_ack() {
    let system = System::start().await;
    let (alice, bob) = (unique("alice"), unique("bob"));
    let mut a = system.connect(&alice, "phone").await;
    let mut b = system.connect(&bob, "phone").await;
    let chat = a.chat_with(&[&bob], None).await;

    assert_eq!(a.send_message(&chat, "budget-1", "count me").await["status"], "SUCCESS");
    let got = b.messages(1).await.remove(0);
    assert_eq!(b.ack(&[text(&got, "messageId")]).await["count"], 1);

    let sends = invocations_of(&system, "sendMessage");
    let acks = invocations_of(&system, "ack");
    assert_eq!((sends.len(), acks.len()), (1, 1));
    let (send, ack) = (&sends[0].calls, &acks[0].calls);
    println!("1-1 send: {} calls ({send}); ack: {} calls ({ack})", send.total(), ack.total());
    assert_eq!(send.count("PostToConnection"), 1, "one post to the one recipient device");
    // The send: the rate-limit counter; the idempotency record and the chat
    // read side by side; the devices read beside the seq's atomic update; the
    // claim, the message, the sender's read marker, the inbox entry, the
    // claim marked written; the devices read again for live connections and
    // one post. No transaction: nothing here waits on another sender. (With
    // the seq taken in a transaction it was 6 calls and 11 write units.)
    assert!(send.total() + ack.total() <= 13, "budget is 13, used {} + {}", send.total(), ack.total());
    // What DynamoDB bills, as it reports it: one unit for each of the seven
    // writes above and the ack's delete.
    let units = send.write_units + ack.write_units;
    println!("1-1 send + ack: {units} write units, {} read units", send.read_units + ack.read_units);
    assert!(units <= 8.0, "a 1-1 message and its ack cost at most 8 write units, used {units}");

    // The delivered receipt is computed off the request path, from the stream.
    assert_eq!(a.frames_of("receipt", 1).await[0]["status"], "delivered");
    let receipts: Vec<_> =
        invocations_of(&system, "stream").into_iter().filter(|i| i.function == "ReceiptsFunction" && i.calls.total() > 0).collect();
    let receipt_calls: u32 = receipts.iter().map(|i| i.calls.total()).sum();
    println!("delivered receipt (asynchronous, per stream batch): {receipt_calls} calls ({})", receipts[0].calls);
}

#[tokio::test]
async fn a_hundred_member_group_message_costs_a_post_and_an_ack_per_device_plus_at_most_fourteen() {
    let system = System::start().await;
    let members: Vec<String> = (0..100).map(|i| unique(&format!("b{i}"))).collect();
    let mut clients: Vec<Client> = join_all(members.iter().map(|m| system.connect(m, "phone"))).await;
    let others: Vec<&str> = members[1..].iter().map(String::as_str).collect();
    let chat = clients[0].chat_with(&others, Some("budget")).await;

    assert_eq!(clients[0].send_message(&chat, "budget-100", "to all").await["status"], "SUCCESS");
    join_all(clients[1..].iter_mut().map(|c| async move {
        let got = c.messages(1).await.remove(0);
        assert_eq!(c.ack(&[text(&got, "messageId")]).await["count"], 1);
    }))
    .await;

    let sends = invocations_of(&system, "sendMessage");
    assert_eq!(sends.len(), 1);
    let send = &sends[0].calls;
    let posts = send.count("PostToConnection");
    println!("100-member send: {} calls ({send}); {} of them posts", send.total(), posts);
    assert_eq!(posts, 99, "one post per recipient device");
    // The 1-1 send's eleven, with the 99 inbox entries in four batches of 25.
    assert!(send.total() - posts <= 14, "at most 14 other calls, used {}", send.total() - posts);
    let acks = invocations_of(&system, "ack");
    assert_eq!(acks.len(), 99);
    assert!(acks.iter().all(|a| a.calls.total() == 1), "each ack is one call");
}

/// The HTTP API's reads are a fixed, small number of calls each, and an
/// attachment adds three calls to its message (one read, one HeadObject, and
/// marking it sent).
#[tokio::test]
async fn http_reads_and_attachments_stay_within_a_few_calls() {
    let system = System::start().await;
    let (alice, bob) = (unique("alice"), unique("bob"));
    let mut a = system.connect(&alice, "phone").await;
    let chat = a.chat_with(&[&bob], None).await;
    assert_eq!(a.send_message(&chat, "plain", "no attachment").await["status"], "SUCCESS");
    let http = system.http(&alice);
    let bytes = b"\x89PNG tiny".to_vec();
    let upload = http
        .post(&format!("/chats/{chat}/attachments"), &serde_json::json!({ "fileName": "t.png", "contentType": "image/png", "size": bytes.len(), "sha256": e2e_tests::sha256_base64(&bytes) }))
        .await;
    assert_eq!(upload.status, 201);
    assert_eq!(e2e_tests::put_presigned(text(&upload.body, "uploadUrl"), &upload.body["uploadHeaders"], bytes).await.0, 200);
    let id = text(&upload.body, "attachmentId").to_owned();
    let with = a
        .request(
            serde_json::json!({ "action": "sendMessage", "chatId": chat, "clientMessageId": "with", "message": "", "attachments": [id] }),
        )
        .await;
    assert_eq!(with["status"], "SUCCESS", "{with}");
    assert_eq!(http.get(&format!("/chats/{chat}/attachments/{id}")).await.status, 200);
    assert_eq!(http.get(&format!("/chats/{chat}/messages?limit=10")).await.status, 200);
    assert_eq!(http.get("/chats").await.status, 200);

    let calls = |route: &str| -> u32 { invocations_of(&system, route).iter().map(|i| i.calls.total()).sum() };
    let sends = invocations_of(&system, "sendMessage");
    let (plain, attached) = (sends[0].calls.total(), sends[1].calls.total());
    println!("send without attachment: {plain}; with one: {attached} ({})", sends[1].calls);
    assert_eq!(attached, plain + 3, "an attachment costs one Attachments read, one HeadObject and one write");
    assert_eq!(sends[1].calls.count("HeadObject"), 1);
    for (route, budget) in [
        // the upload-bytes counter, the chat, the attachment
        ("POST /chats/{chatId}/attachments", 3),
        ("GET /chats/{chatId}/attachments/{attachmentId}", 2),
        // the membership, the chat and its counter, the page
        ("GET /chats/{chatId}/messages", 4),
        // memberships, chats with their counters, previews, and the 1-1 peer's display name
        ("GET /chats", 4),
    ] {
        println!(
            "{route}: {} calls ({:?})",
            calls(route),
            invocations_of(&system, route).iter().map(|i| i.calls.to_string()).collect::<Vec<_>>()
        );
        assert!(calls(route) <= budget, "{route}: budget {budget}, used {}", calls(route));
    }
}

/// An idle connected device's cost is its heartbeats: one a beat that stays
/// in its window only reads (half a unit), and only a beat that starts a new
/// window writes.
#[tokio::test]
async fn a_heartbeat_writes_only_when_it_starts_a_new_window() {
    let system = System::builder().parameters(&[("PresenceTimeoutSeconds", "2")]).start().await;
    let mut device = system.connect(&unique("idle"), "phone").await;
    let beats = |system: &System| invocations_of(system, "heartbeat");
    // Two beats right after a window starts: neither leaves it.
    let window_start = |now: u64| now / 2000 * 2000;
    e2e_tests::eventually("a fresh window", || async { domain::time::now_millis() - window_start(domain::time::now_millis()) < 200 }).await;
    device.request(serde_json::json!({ "action": "heartbeat" })).await;
    device.request(serde_json::json!({ "action": "heartbeat" })).await;
    let first = beats(&system);
    let writes: Vec<f64> = first.iter().map(|b| b.calls.write_units).collect();
    println!("heartbeats in one window: {:?}", first.iter().map(|b| b.calls.to_string()).collect::<Vec<_>>());
    // The first may move the connection from its connect's window; the second stays.
    assert_eq!(writes[1], 0.0, "a beat in the window it is already in writes nothing");
    assert_eq!(first[1].calls.count("GetItem"), 1);
    assert!(first[1].calls.read_units <= 0.5, "one eventually consistent read: {}", first[1].calls.read_units);

    // The next window: the beat moves the connection (and its index key).
    let next = window_start(domain::time::now_millis()) + 2000;
    e2e_tests::eventually("the next window", || async { domain::time::now_millis() >= next }).await;
    device.request(serde_json::json!({ "action": "heartbeat" })).await;
    let moved = beats(&system).pop().expect("a third beat");
    assert!(moved.calls.write_units >= 1.0, "a beat that starts a window writes: {}", moved.calls);
    // The item, and the heartbeat index's entry moved (delete + put); no
    // other index holds what a beat changes.
    assert!(moved.calls.write_units <= 3.0, "at most 3 write units, used {}", moved.calls.write_units);
}

/// A typing indicator is never stored: its rate-limit counter is its only
/// write; it reads the chat and the members' devices, and posts once per
/// connected device of the other members.
#[tokio::test]
async fn a_typing_indicator_costs_three_calls_plus_a_post_per_connected_device() {
    let system = System::start().await;
    let [alice, bob, carol] = ["alice", "bob", "carol"].map(unique);
    let mut a = system.connect(&alice, "phone").await;
    let mut b = system.connect(&bob, "phone").await;
    let _b_laptop = system.connect(&bob, "laptop").await;
    let mut c = system.connect(&carol, "phone").await;
    let group = a.chat_with(&[&bob, &carol], Some("typing budget")).await;
    b.accept(&group).await;
    c.accept(&group).await;
    let sent = a.request(serde_json::json!({ "action": "typing", "chatId": group, "typing": true })).await;
    assert_eq!(sent["devices"], 3, "{sent}");
    let typing = invocations_of(&system, "typing");
    let calls = &typing[0].calls;
    println!("typing to 3 devices: {} calls ({calls}), {} write units", calls.total(), calls.write_units);
    assert_eq!(calls.count("PostToConnection"), 3);
    assert_eq!(calls.total() - calls.count("PostToConnection"), 3, "the counter, the chat, the devices: {calls}");
    assert!(calls.write_units <= 1.0, "only the rate-limit counter is written: {}", calls.write_units);
}

/// Blocking is read where it costs nothing: a 1-1 send checks the chat item
/// it reads anyway (the budget above holds with blocking in place); a block
/// itself is five calls.
#[tokio::test]
async fn a_block_costs_five_calls() {
    let system = System::start().await;
    let [alice, bob] = ["alice", "bob"].map(unique);
    let mut a = system.connect(&alice, "phone").await;
    a.chat_with(&[&bob], None).await;
    let blocked = a.request(serde_json::json!({ "action": "blockUser", "userId": bob, "blocked": true })).await;
    assert_eq!(blocked["type"], "blockList", "{blocked}");
    let calls = &invocations_of(&system, "blockUser")[0].calls;
    println!("block: {} calls ({calls})", calls.total());
    // The rate-limit counter (UpdateItem), the list (Query), the block
    // (BatchWriteItem), the chat's mark (UpdateItem), the watchers (Query).
    assert_eq!(calls.total(), 5, "{calls}");
}

/// A group's name change: the rate-limit counter, the chat read and written,
/// then published like any event (devices, inboxes, posts).
#[tokio::test]
async fn renaming_a_group_costs_seven_calls_plus_a_post_per_connected_device() {
    let system = System::start().await;
    let [alice, bob, carol] = ["alice", "bob", "carol"].map(unique);
    let mut a = system.connect(&alice, "phone").await;
    let _b = system.connect(&bob, "phone").await;
    let group = a.chat_with(&[&bob, &carol], Some("before")).await;
    let renamed = a.request(serde_json::json!({ "action": "updateChat", "chatId": group, "name": "after" })).await;
    assert_eq!(renamed["type"], "chatInfo", "{renamed}");
    let calls = &invocations_of(&system, "updateChat")[0].calls;
    println!("rename: {} calls ({calls})", calls.total());
    assert_eq!(calls.count("PostToConnection"), 1, "bob's phone; carol is offline, alice asked");
    // RateLimits UpdateItem; Chats GetItem (the chat and its counter, for
    // the seq the notice sorts at) + UpdateItem; Users BatchGetItem, Inbox
    // BatchWriteItem, Users BatchGetItem (publish).
    assert_eq!(calls.total() - calls.count("PostToConnection"), 7, "{calls}");
}

/// An edit, a reaction and a deletion in a 1-1 chat, recipient online: each is
/// the rate-limit counter, the chat and the message read, the seq taken from
/// the chat's counter, the devices read twice (before the transaction for the
/// inbox entries, after it for live connections), the transaction (the
/// change, its message, the inbox entry: no item every send writes), and a
/// post per connected device; a deletion also asks which devices still hold
/// the message unacknowledged.
#[tokio::test]
async fn an_edit_a_reaction_and_a_deletion_cost_seven_or_eight_calls_plus_a_post_per_connected_device() {
    let system = System::start().await;
    let (alice, bob) = (unique("alice"), unique("bob"));
    let mut a = system.connect(&alice, "phone").await;
    let mut b = system.connect(&bob, "phone").await;
    let chat = a.chat_with(&[&bob], None).await;
    // (Reacting to a request would accept it first: three calls more, once.)
    b.accept(&chat).await;
    assert_eq!(a.send_message(&chat, "m1", "hello").await["seq"], 1);
    let got = b.messages(1).await.remove(0);
    assert_eq!(b.ack(&[text(&got, "messageId")]).await["count"], 1);

    let change = |action: &str| {
        let mut frame = serde_json::json!({ "action": action, "chatId": chat, "seq": 1 });
        match action {
            "editMessage" => frame["message"] = "hello!".into(),
            "react" => frame["emoji"] = "👍".into(),
            _ => frame["forEveryone"] = true.into(),
        }
        frame
    };
    assert_eq!(a.request(change("editMessage")).await["type"], "messageChanged");
    assert_eq!(b.request(change("react")).await["type"], "messageChanged");
    assert_eq!(a.request(change("deleteMessage")).await["type"], "messageChanged");
    for (route, budget) in [("editMessage", 7), ("react", 7), ("deleteMessage", 8)] {
        let invocations = invocations_of(&system, route);
        let calls = &invocations[0].calls;
        println!("{route} (1-1, online): {} calls ({calls}), {} write units", calls.total(), calls.write_units);
        assert_eq!(calls.count("PostToConnection"), 1, "{route}: one post to the other member's device");
        assert_eq!(calls.total() - 1, budget, "{route}: {calls}");
        // The rate-limit counter and the seq's (1 unit each), and the
        // transaction's change, message and inbox entry (2 units each).
        assert!(calls.write_units <= 8.0, "{route}: {} write units", calls.write_units);
    }
}

/// Setting an avatar: the profile read, the upload checked (record, HeadObject)
/// and kept, the profile written; replacing one also deletes the old file.
#[tokio::test]
async fn setting_an_avatar_costs_five_calls_and_replacing_one_three_more() {
    let system = System::start().await;
    let alice = unique("alice");
    let mut a = system.connect(&alice, "phone").await;
    let first = e2e_tests::upload_avatar(&system.http(&alice), &e2e_tests::image(800, 1)).await;
    let second = e2e_tests::upload_avatar(&system.http(&alice), &e2e_tests::image(900, 2)).await;
    for id in [&first, &second] {
        let set = a.request(serde_json::json!({ "action": "updateProfile", "avatar": id })).await;
        assert_eq!(set["avatar"]["attachmentId"], id.as_str(), "{set}");
    }
    let sets = invocations_of(&system, "updateProfile");
    let (set, replace) = (&sets[0].calls, &sets[1].calls);
    println!("set an avatar: {} calls ({set}); replace it: {} calls ({replace})", set.total(), replace.total());
    assert_eq!(set.total(), 5, "{set}");
    assert_eq!(replace.total(), 8, "{replace}");
    assert_eq!(replace.count("DeleteObjects"), 1, "the old file deleted: {replace}");
    let uploads = invocations_of(&system, "POST /users/me/avatar");
    println!("POST /users/me/avatar: {} calls ({})", uploads[0].calls.total(), uploads[0].calls);
    assert_eq!(uploads[0].calls.total(), 2, "the upload-bytes counter and the record: {}", uploads[0].calls);
}
