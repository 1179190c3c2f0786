//! Every request limit answers with a typed error and changes nothing.

use e2e_tests::{System, image, number, unique, upload_request};
use serde_json::json;

#[tokio::test]
async fn each_request_limit_is_enforced() {
    let system = System::start().await;
    let (alice, bob) = (unique("alice"), unique("bob"));
    let mut a = system.connect(&alice, "phone").await;
    let chat = a.chat_with(&[&bob], None).await;

    let ids: Vec<String> = (0..101).map(|i| format!("id{i}")).collect();
    assert_eq!(a.request(json!({ "action": "ack", "messageIds": ids })).await["code"], "invalid_request", "ack takes at most 100 ids");
    assert_eq!(a.request(json!({ "action": "ack", "messageIds": [] })).await["code"], "invalid_request", "ack takes at least one id");
    assert_eq!(a.request(json!({ "action": "sync", "limit": 1001 })).await["code"], "invalid_request", "sync returns at most 1000");
    assert_eq!(a.request(json!({ "action": "sync", "limit": 0 })).await["code"], "invalid_request");
    let long_name = "n".repeat(101);
    assert_eq!(a.create_chat(&[&bob, "carol"], Some(&long_name)).await["code"], "invalid_request", "names are at most 100 characters");
    assert_eq!(a.create_chat(&[&bob, "carol"], None).await["code"], "invalid_request", "a group needs a name");
    assert_eq!(a.create_chat(&["bad#id"], None).await["code"], "invalid_request", "participant ids are plain");
    let long_id = "c".repeat(65);
    assert_eq!(a.send_message(&chat, &long_id, "hi").await["code"], "invalid_request", "clientMessageId is at most 64");
    let token = "t".repeat(4097);
    assert_eq!(a.request(json!({ "action": "registerPush", "platform": "GCM", "token": token })).await["code"], "invalid_request");
    // Push tokens are printable ASCII (APNs: hex; FCM: letters, digits, `:_-`):
    // a NUL answered `internal`, control and bidi characters were stored.
    for token in ["tok\u{0}en", "tok\u{7}en", "\u{202e}token", "tökén"] {
        let reply = a.request(json!({ "action": "registerPush", "platform": "GCM", "token": token })).await;
        assert_eq!(reply["code"], "invalid_request", "{token:?}: {reply}");
    }
    let eleven: Vec<String> = (0..11).map(|i| format!("att{i}")).collect();
    let reply = a
        .request(json!({ "action": "sendMessage", "chatId": chat, "clientMessageId": "eleven", "message": "x", "attachments": eleven }))
        .await;
    assert_eq!(reply["code"], "invalid_request", "a message carries at most 10 attachments: {reply}");
    let long_request_id = "r".repeat(129);
    a.send(json!({ "action": "sync", "requestId": long_request_id })).await;
    assert_eq!(a.wait_for(|f| f["type"] == "error").await["code"], "invalid_request", "requestId is at most 128");

    assert_eq!(number(&a.send_message(&chat, "ok", "nothing above changed anything").await, "seq"), 1);
}

/// API Gateway delivers no WebSocket message over 128 KB. Twenty groups of 99
/// members with 64-character ids make a chat list of ~137 KB, which a single
/// `chats` reply could never bring (issue 13): it comes in pages, each under
/// the limit, and together they hold every chat once.
#[tokio::test]
async fn a_chat_list_larger_than_one_websocket_message_comes_in_pages() {
    let system = System::start().await;
    let (stranger, victim) = (unique("stranger"), unique("victim"));
    let long_id = |i: usize| {
        let id = format!("{}{i:03}{}", unique("m"), "x".repeat(64));
        id[..64].to_owned()
    };
    let mut s = system.connect(&stranger, "phone").await;
    let others: Vec<String> = (0..97).map(long_id).collect();
    let mut created = std::collections::BTreeSet::new();
    for group in 0..20 {
        let mut participants: Vec<&str> = others.iter().map(String::as_str).collect();
        participants.push(&victim);
        let reply = s.create_chat(&participants, Some(&format!("group {group}"))).await;
        assert_eq!(reply["type"], "chatCreated", "{reply}");
        created.insert(reply["chatId"].as_str().unwrap().to_owned());
    }

    let mut v = system.connect(&victim, "phone").await;
    let mut listed = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..20 {
        let mut request = json!({ "action": "listChats" });
        if let Some(cursor) = &cursor {
            request["cursor"] = json!(cursor);
        }
        let page = v.request(request).await;
        assert_eq!(page["type"], "chats", "every page is delivered: {}", &page.to_string()[..page.to_string().len().min(300)]);
        assert!(page.to_string().len() < 128 * 1024, "a page fits one WebSocket message: {} bytes", page.to_string().len());
        listed.extend(page["chats"].as_array().unwrap().iter().map(|c| c["chatId"].as_str().unwrap().to_owned()));
        cursor = page["nextCursor"].as_str().map(str::to_owned);
        if cursor.is_none() {
            break;
        }
    }
    assert!(cursor.is_none(), "the pages end");
    let distinct: std::collections::BTreeSet<String> = listed.iter().cloned().collect();
    assert_eq!(listed.len(), distinct.len(), "no chat twice");
    assert_eq!(distinct, created, "every chat once");
}

/// Per-user and per-device rate limits hold across requests fired at once,
/// answer `rate_limited` with the seconds to wait, and change nothing: one
/// user's limits leave another's alone (issue 13). Day-long windows here, so
/// no window boundary falls inside the test.
#[tokio::test]
async fn rate_limits_refuse_with_a_retry_after_and_change_nothing() {
    let limits = "sendMessage=5/86400,createChat=3/86400,uploadMegabytes=1/86400,subscribePresence=2/86400,messageChanges=3/86400";
    let system = System::builder().parameters(&[("RateLimits", limits)]).start().await;
    let (alice, bob, carol) = (unique("alice"), unique("bob"), unique("carol"));
    let mut a = system.connect(&alice, "phone").await;
    let mut b = system.connect(&bob, "phone").await;

    // createChat: three, then refused; the refused chat does not exist.
    let chat = a.chat_with(&[&bob], None).await;
    a.chat_with(&[&carol], None).await;
    a.chat_with(&[&bob, &carol], Some("one")).await;
    let refused = a.create_chat(&[&bob, &carol], Some("two")).await;
    assert_eq!(refused["code"], "rate_limited", "{refused}");
    assert!(number(&refused, "retryAfter") > 0, "{refused}");
    let chats = a.request(json!({ "action": "listChats" })).await;
    assert_eq!(chats["chats"].as_array().map(Vec::len), Some(3), "{chats}");

    // sendMessage: twelve fired at once on one socket, five land.
    for i in 0..12 {
        a.send(json!({ "action": "sendMessage", "requestId": format!("s{i}"), "chatId": chat, "clientMessageId": format!("c{i}"), "message": "burst" })).await;
    }
    let mut replies = Vec::new();
    for _ in 0..12 {
        replies.push(a.wait_for(|f| f["requestId"].as_str().is_some_and(|r| r.starts_with('s'))).await);
    }
    let landed = replies.iter().filter(|r| r["type"] == "sendResult").count();
    let limited: Vec<_> = replies.iter().filter(|r| r["code"] == "rate_limited").collect();
    assert_eq!((landed, limited.len()), (5, 7), "{replies:?}");
    assert!(limited.iter().all(|r| number(r, "retryAfter") > 0));
    let history = system.http(&bob).get(&format!("/chats/{chat}/messages")).await;
    assert_eq!(history.body["messages"].as_array().map(Vec::len), Some(5), "{}", history.body);
    assert_eq!(number(&b.send_message(&chat, "b1", "bob is not limited by alice").await, "seq"), 6);

    // messageChanges: edits, reactions and deletions together; the refused one changes nothing.
    let edit = |text: &str| json!({ "action": "editMessage", "chatId": chat, "seq": 1, "message": text });
    assert_eq!(a.request(edit("one")).await["type"], "messageChanged");
    assert_eq!(a.request(json!({ "action": "react", "chatId": chat, "seq": 6, "emoji": "👍" })).await["type"], "messageChanged");
    assert_eq!(
        a.request(json!({ "action": "deleteMessage", "chatId": chat, "seq": 2, "forEveryone": false })).await["type"],
        "messageHidden"
    );
    let over = a.request(edit("two")).await;
    assert_eq!(over["code"], "rate_limited", "{over}");
    let history = system.http(&bob).get(&format!("/chats/{chat}/messages")).await.body;
    assert_eq!(history["messages"][0]["message"], "one", "{history}");

    // Upload bytes: 600 KB, then another 600 KB passes the 1 MB.
    let http = system.http(&alice);
    let path = format!("/chats/{chat}/attachments");
    let bytes = image(600 * 1024, 1);
    assert_eq!(http.post(&path, &upload_request(&bytes, "image/png")).await.status, 201);
    let over = http.post(&path, &upload_request(&bytes, "image/png")).await;
    assert_eq!((over.status, over.body["code"].as_str()), (429, Some("rate_limited")), "{}", over.body);
    let retry_after = over.header("retry-after").parse::<u64>().unwrap();
    assert!(retry_after > 0);
    // Spelt as the WebSocket's error frame and docs/http-api.md spell it.
    assert_eq!(number(&over.body, "retryAfter"), retry_after, "{}", over.body);

    // subscribePresence: per device, so alice's laptop still may.
    for _ in 0..2 {
        assert_eq!(a.request(json!({ "action": "subscribePresence", "userIds": [bob] })).await["type"], "presenceList");
    }
    assert_eq!(a.request(json!({ "action": "subscribePresence", "userIds": [bob] })).await["code"], "rate_limited");
    let mut laptop = system.connect(&alice, "laptop").await;
    assert_eq!(laptop.request(json!({ "action": "subscribePresence", "userIds": [bob] })).await["type"], "presenceList");
}

/// Routes that post to other members or write their inboxes are limited per
/// user too: group renames and membership changes (`chatUpdates`), blocks
/// (`blockUser`), and an invitation costs a `createChat` — so removing and
/// adding someone again is no way round that limit. Refused: nothing changes.
#[tokio::test]
async fn chat_updates_blocks_and_invitations_are_limited_per_user() {
    let limits = "chatUpdates=4/86400,blockUser=2/86400,createChat=3/86400";
    let system = System::builder().parameters(&[("RateLimits", limits)]).start().await;
    let [alice, bob, carol, dave, erin, frank] = ["alice", "bob", "carol", "dave", "erin", "frank"].map(unique);
    let mut a = system.connect(&alice, "phone").await;
    let mut b = system.connect(&bob, "phone").await;
    let group = a.chat_with(&[&bob], Some("plans")).await;
    b.accept(&group).await;

    // chatUpdates: renames and membership changes together; the fifth is refused.
    let rename = |name: &str| json!({ "action": "updateChat", "chatId": group, "name": name });
    let modify = |op: &str| json!({ "action": "modifyChatParticipants", "chatId": group, "userId": bob, "operation": op });
    assert_eq!(a.request(rename("one")).await["type"], "chatInfo");
    assert_eq!(a.request(rename("two")).await["type"], "chatInfo");
    assert_eq!(a.request(modify("REMOVE")).await["type"], "participantsModified");
    assert_eq!(a.request(modify("ADD")).await["type"], "participantsModified");
    let over = a.request(rename("three")).await;
    assert_eq!(over["code"], "rate_limited", "{over}");
    assert!(number(&over, "retryAfter") > 0, "{over}");
    let over = a.request(modify("REMOVE")).await;
    assert_eq!(over["code"], "rate_limited", "{over}");
    let details = system.http(&bob).get(&format!("/chats/{group}")).await.body;
    assert_eq!(details["name"], "two", "the refused rename changed nothing: {details}");
    assert!(details["participants"].as_array().unwrap().iter().any(|p| p == bob.as_str()), "bob is still in: {details}");

    // Invitations: dave's group is one createChat, inviting carol and erin
    // (who never accepted him) two more; frank's invitation is refused.
    let mut d = system.connect(&dave, "phone").await;
    system.sign_up(&[&carol, &erin, &frank]).await;
    let dgroup = d.chat_with(&[&bob], Some("dave's")).await;
    for invited in [&carol, &erin] {
        let added = d.request(json!({ "action": "modifyChatParticipants", "chatId": dgroup, "userId": invited, "operation": "ADD" })).await;
        assert_eq!(added["type"], "participantsModified", "{added}");
    }
    let over = d.request(json!({ "action": "modifyChatParticipants", "chatId": dgroup, "userId": frank, "operation": "ADD" })).await;
    assert_eq!(over["code"], "rate_limited", "{over}");
    assert!(over["message"].as_str().unwrap().contains("createChat"), "charged as a new chat: {over}");
    let details = system.http(&dave).get(&format!("/chats/{dgroup}")).await.body;
    assert!(!details["participants"].as_array().unwrap().iter().any(|p| p == frank.as_str()), "{details}");
    assert_eq!(d.create_chat(&[&frank], None).await["code"], "rate_limited", "the same limit");

    // blockUser: a block and an unblock, then the third toggle is refused.
    let block = |blocked: bool| json!({ "action": "blockUser", "userId": carol, "blocked": blocked });
    assert_eq!(a.request(block(true)).await["blocked"], json!([carol]));
    assert_eq!(a.request(block(false)).await["blocked"], json!([]));
    let over = a.request(block(true)).await;
    assert_eq!(over["code"], "rate_limited", "{over}");
    assert_eq!(a.request(json!({ "action": "listBlocked" })).await["blocked"], json!([]), "the refused block changed nothing");
}

/// End-to-end encryption's limits: keys per upload and per device, devices
/// per claim, messages and bytes per `sendToDevice`, the envelope's length,
/// and the `claimKeys` and `sendToDevice` rates. Each refusal is typed and
/// changes nothing: the keys held, the keys claimed and the inboxes stay.
#[tokio::test]
async fn end_to_end_encryption_limits_refuse_and_change_nothing() {
    use vodozemac::olm::Account;
    let system = System::builder().parameters(&[("RateLimits", "claimKeys=3/86400,sendToDevice=4/86400")]).start().await;
    let (alice, bob) = (unique("alice"), unique("bob"));
    let mut a = system.connect(&alice, "phone").await;
    let mut b = system.connect(&bob, "phone").await;
    let (alice_account, mut bob_account) = (Account::new(), Account::new());
    let identity = |account: &Account| {
        let keys = account.identity_keys();
        json!({ "curve25519": keys.curve25519.to_base64(), "ed25519": keys.ed25519.to_base64() })
    };
    let upload = |keys: Vec<serde_json::Value>| json!({ "action": "uploadKeys", "oneTimeKeys": keys });
    let bobs_identity = identity(&bob_account);
    let mut fresh_keys = |n: usize| {
        bob_account.generate_one_time_keys(n);
        let keys: Vec<serde_json::Value> =
            bob_account.one_time_keys().iter().map(|(id, key)| json!({ "keyId": id.to_base64(), "key": key.to_base64() })).collect();
        bob_account.mark_keys_as_published();
        keys
    };
    let held = |reply: serde_json::Value| number(&reply, "oneTimeKeyCount");
    assert_eq!(a.request(json!({ "action": "uploadKeys", "identityKeys": identity(&alice_account) })).await["type"], "keysUploaded");
    assert_eq!(held(b.request(json!({ "action": "uploadKeys", "identityKeys": bobs_identity })).await), 0);

    // 50 keys per upload, 100 held per device.
    let over = b.request(upload(fresh_keys(51))).await;
    assert_eq!(over["code"], "invalid_request", "{over}");
    assert_eq!(held(b.request(upload(vec![])).await), 0, "the refused upload stored none");
    assert_eq!(held(b.request(upload(fresh_keys(50))).await), 50);
    assert_eq!(held(b.request(upload(fresh_keys(50))).await), 100);
    let full = b.request(upload(fresh_keys(1))).await;
    assert_eq!(full["code"], "invalid_request", "{full}");
    assert_eq!(held(b.request(upload(vec![])).await), 100);

    let chat = a.chat_with(&[&bob], Some("limits")).await;
    // 300 devices per claim; then three claims an hour, the fourth refused.
    let many: Vec<serde_json::Value> = (0..301).map(|i| json!({ "userId": bob, "deviceId": format!("d{i}") })).collect();
    let claim = |devices: serde_json::Value| json!({ "action": "claimKeys", "chatId": chat, "devices": devices });
    assert_eq!(a.request(claim(json!(many))).await["code"], "invalid_request");
    let bobs_phone = json!([{ "userId": bob, "deviceId": "phone" }]);
    for _ in 0..3 {
        assert_eq!(a.request(claim(bobs_phone.clone())).await["type"], "claimedKeys");
    }
    let limited = a.request(claim(bobs_phone.clone())).await;
    assert_eq!(limited["code"], "rate_limited", "{limited}");
    assert!(number(&limited, "retryAfter") > 0);
    assert_eq!(held(b.request(upload(vec![])).await), 97, "three claimed, none by the refused claims");

    // 100 messages and 4096 bytes of ciphertext per message; then the rate.
    let message =
        |ciphertext: &str, olm_type: u8| json!({ "userId": bob, "deviceId": "phone", "olmType": olm_type, "ciphertext": ciphertext });
    let send = |messages: Vec<serde_json::Value>| json!({ "action": "sendToDevice", "chatId": chat, "messages": messages });
    for (refused, what) in [
        (send(vec![message("AAAA", 0); 101]), "101 messages"),
        (send(vec![message(&"A".repeat(4097), 0)]), "4097 bytes"),
        (send(vec![message("AAAA", 2)]), "olmType 2"),
        (send(vec![message("not base64!", 0)]), "not base64"),
    ] {
        assert_eq!(a.request(refused).await["code"], "invalid_request", "{what}");
    }
    for _ in 0..4 {
        assert_eq!(a.request(send(vec![message(&"A".repeat(4096), 1)])).await["type"], "toDeviceSent");
    }
    let limited = a.request(send(vec![message("AAAA", 1)])).await;
    assert_eq!(limited["code"], "rate_limited", "{limited}");
    let reached = b.frames_of("toDevice", 4).await;
    assert_eq!(reached.len(), 4);
    let more = b.drain(std::time::Duration::from_millis(300)).await;
    assert!(!more.iter().any(|f| f["type"] == "toDevice"), "no refused message reached bob: {more:?}");

    // An envelope longer than a plain text of the plain limit can become.
    let encrypted = a.request(json!({ "action": "createChat", "participants": [bob], "name": "secret", "encrypted": true })).await;
    let encrypted = encrypted["chatId"].as_str().unwrap().to_owned();
    let keys = a.request(json!({ "action": "getDeviceKeys", "chatId": encrypted })).await;
    let long = format!("megolm.v1:session:{}", "A".repeat(24_000));
    let refused = a
        .request(
            json!({ "action": "sendMessage", "chatId": encrypted, "clientMessageId": "long", "message": long, "devices": keys["digest"] }),
        )
        .await;
    assert_eq!(refused["code"], "message_too_long", "{refused}");
    let history = system.http(&alice).get(&format!("/chats/{encrypted}/messages")).await;
    assert_eq!(history.body["messages"].as_array().map(Vec::len), Some(0), "{}", history.body);
}
