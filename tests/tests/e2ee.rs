//! End-to-end encrypted chats (docs/e2ee.md): clients with real Olm and
//! Megolm (vodozemac) over the real WebSocket API. What a person checks:
//! every device of every member reads every message; a removed member
//! cannot read what is sent after the removal, nor a new member what was
//! sent before they joined; a device that joins later is not left out; an
//! offline device catches up; and the system never holds the plaintext.

use std::collections::BTreeSet;

use e2e_tests::e2ee::{Plain, SecureDevice, decrypt_file, encrypt_file};
use e2e_tests::{
    System, eventually, get_presigned, image, modify_participants, number, register_push, sha256_base64, text, unique, upload_as,
    upload_request,
};
use futures::future::join_all;
use serde_json::{Value, json};

/// Creates an end-to-end encrypted chat (a group when `name` is given).
async fn encrypted_chat(creator: &mut SecureDevice, others: &[&str], name: Option<&str>) -> String {
    creator.client.sign_up(others).await;
    let mut frame = json!({ "action": "createChat", "participants": others, "encrypted": true });
    if let Some(name) = name {
        frame["name"] = json!(name);
    }
    let reply = creator.client.request(frame).await;
    assert_eq!(reply["encrypted"], true, "{reply}");
    text(&reply, "chatId").to_owned()
}

fn texts(read: &[Plain]) -> Vec<&str> {
    read.iter().map(|p| p.text.as_str()).collect()
}

/// The chat's stored envelopes by seq, as history serves them to `reader`.
async fn envelopes(system: &System, reader: &str, chat: &str) -> Vec<(u64, String)> {
    let reply = system.http(reader).get(&format!("/chats/{chat}/messages")).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.body["messages"].as_array().unwrap().iter().map(|m| (number(m, "seq"), text(m, "message").to_owned())).collect()
}

#[tokio::test]
async fn one_to_one_across_three_devices_each_every_device_reads_every_message() {
    let system = System::start().await;
    let [alice, bob] = ["alice", "bob"].map(unique);
    let mut alices = join_all(["phone", "laptop", "tablet"].map(|d| SecureDevice::connect(&system, &alice, d))).await;
    let mut bobs = join_all(["phone", "laptop", "tablet"].map(|d| SecureDevice::connect(&system, &bob, d))).await;
    let chat = encrypted_chat(&mut alices[0], &[&bob], None).await;
    bobs[0].client.accept(&chat).await;

    // Plain text is refused in an encrypted chat, and nothing is stored.
    let plain = alices[0].client.send_message(&chat, "plain", "hello in the clear").await;
    assert_eq!(plain["code"], "invalid_request", "{plain}");

    for (i, words) in ["hi Bob", "are you there?", "it's encrypted"].iter().enumerate() {
        let sent = alices[0].send(&chat, &format!("a{i}"), words).await;
        assert_eq!(sent["status"], "SUCCESS", "{sent}");
    }
    let sent = bobs[1].send(&chat, "b0", "yes, from my laptop").await;
    assert_eq!(sent["status"], "SUCCESS", "{sent}");
    let everything = ["hi Bob", "are you there?", "it's encrypted", "yes, from my laptop"];

    // Every other device reads all four, in order, from the right sender.
    let readers = alices.iter_mut().skip(1).chain(bobs.iter_mut().filter(|b| b.device != "laptop"));
    let read = join_all(readers.map(|device| async move { (device.device.clone(), device.read(4).await) })).await;
    for (device, got) in &read {
        assert_eq!(texts(got), everything, "{device}");
        assert_eq!(got.iter().map(|p| p.seq).collect::<Vec<_>>(), [1, 2, 3, 4], "{device}");
        assert_eq!(got[3].sender_id, bob, "{device}");
    }
    // The senders read what the other sent (and their own, from history).
    assert_eq!(texts(&alices[0].read(1).await), ["yes, from my laptop"]);
    assert_eq!(texts(&bobs[1].read(3).await), &everything[..3]);
    let history = envelopes(&system, &alice, &chat).await;
    let own: Vec<String> = history.iter().take(3).map(|(_, e)| alices[0].open(e).expect("alice's phone reads its own")).collect();
    assert_eq!(own, &everything[..3]);
}

#[tokio::test]
async fn a_group_of_ten_people_with_two_devices_each_reads_every_message() {
    let system = System::start().await;
    let users: Vec<String> = (0..10).map(|i| unique(&format!("member{i}"))).collect();
    let mut devices: Vec<SecureDevice> =
        join_all(users.iter().flat_map(|u| ["phone", "laptop"].map(|d| SecureDevice::connect(&system, u, d)))).await;
    let others: Vec<&str> = users[1..].iter().map(String::as_str).collect();
    let chat = encrypted_chat(&mut devices[0], &others, Some("ten")).await;

    // Three people (their phones) write one message each, one after another.
    for (n, sender) in [0, 6, 14].into_iter().enumerate() {
        let words = format!("hello from {}", devices[sender].user);
        let sent = devices[sender].send(&chat, &format!("m{n}"), &words).await;
        assert_eq!(sent["status"], "SUCCESS", "{sent}");
    }
    let expected: Vec<String> = [0, 6, 14].map(|s| format!("hello from {}", devices[s].user)).into();
    let read = join_all(devices.iter_mut().enumerate().map(|(i, device)| async move {
        let own = usize::from([0, 6, 14].contains(&i));
        (i, device.read(3 - own).await)
    }))
    .await;
    for (i, got) in read {
        let want: Vec<&str> = expected.iter().filter(|t| !(*t).ends_with(&devices[i].user) || i % 2 == 1).map(String::as_str).collect();
        assert_eq!(texts(&got), want, "device {i} ({}/{})", devices[i].user, devices[i].device);
    }
    // Each sender shared its session with the 19 other devices, once.
    for sender in [0, 6, 14] {
        let from: Vec<_> = devices.iter().filter(|d| d.keys_received.values().any(|(_, s)| *s == devices[sender].user)).collect();
        // The sender's own laptop gets the key too.
        assert_eq!(from.len(), 19, "devices holding {}'s session key", devices[sender].user);
    }
}

#[tokio::test]
async fn a_removed_member_cannot_read_what_follows_and_a_new_one_cannot_read_what_came_before() {
    let system = System::start().await;
    let [admin, bob, carol, dave] = ["admin", "bob", "carol", "dave"].map(unique);
    let mut a = SecureDevice::connect(&system, &admin, "phone").await;
    let mut b = SecureDevice::connect(&system, &bob, "phone").await;
    let mut c = SecureDevice::connect(&system, &carol, "phone").await;
    let mut d = SecureDevice::connect(&system, &dave, "phone").await;
    let chat = encrypted_chat(&mut a, &[&bob, &carol], Some("changing")).await;

    assert_eq!(a.send(&chat, "m1", "before the changes").await["status"], "SUCCESS");
    assert_eq!(texts(&b.read(1).await), ["before the changes"]);
    assert_eq!(texts(&c.read(1).await), ["before the changes"]);

    let removed = modify_participants(&mut a.client, &chat, &carol, "REMOVE").await;
    assert_eq!(removed["type"], "participantsModified", "{removed}");
    assert_eq!(a.send(&chat, "m2", "carol is gone").await["status"], "SUCCESS");
    assert_eq!(texts(&b.read(1).await), ["carol is gone"]);

    let added = modify_participants(&mut a.client, &chat, &dave, "ADD").await;
    assert_eq!(added["type"], "participantsModified", "{added}");
    assert_eq!(a.send(&chat, "m3", "welcome dave").await["status"], "SUCCESS");
    assert_eq!(texts(&b.read(1).await), ["welcome dave"]);
    assert_eq!(texts(&d.read(1).await), ["welcome dave"]);

    // What the server holds, tried with each one's keys.
    let stored = envelopes(&system, &bob, &chat).await;
    let envelope = |seq: u64| stored.iter().find(|(s, _)| *s == seq).map(|(_, e)| e.clone()).unwrap();
    let (m1, m2, m3) = (envelope(1), envelope(number(&removed, "seq") + 1), envelope(number(&added, "seq") + 1));
    assert_eq!(c.open(&m1).as_deref(), Some("before the changes"), "carol read it while a member");
    assert_eq!(c.open(&m2), None, "carol cannot read what was sent after her removal");
    assert_eq!(c.open(&m3), None);
    assert_eq!(d.open(&m1), None, "dave cannot read what was sent before he joined");
    assert_eq!(d.open(&m2), None);
    // Carol was never sent the session that replaced hers.
    let session = |envelope: &str| envelope.split(':').nth(1).unwrap().to_owned();
    assert_ne!(session(&m1), session(&m2), "the session was replaced when carol left");
    assert!(!c.keys_received.contains_key(&session(&m2)));
    // And the server relays nothing of the chat to her any more.
    c.sync().await;
    let late = c.client.drain(std::time::Duration::from_millis(300)).await;
    assert!(!late.iter().any(|f| f.to_string().contains("toDevice")), "{late:?}");
}

#[tokio::test]
async fn a_device_added_later_is_not_left_out_and_a_stale_device_list_is_refused() {
    let system = System::start().await;
    let [alice, bob] = ["alice", "bob"].map(unique);
    let mut a = SecureDevice::connect(&system, &alice, "phone").await;
    let mut phone = SecureDevice::connect(&system, &bob, "phone").await;
    let chat = encrypted_chat(&mut a, &[&bob], None).await;
    assert_eq!(a.send(&chat, "m1", "only your phone has this").await["status"], "SUCCESS");
    assert_eq!(texts(&phone.read(1).await), ["only your phone has this"]);

    // Alice's app shared its session before Bob's laptop appeared.
    let stale = a.share_session(&chat).await;
    let mut laptop = SecureDevice::connect(&system, &bob, "laptop").await;
    let envelope = a.seal(&chat, "would miss the laptop");
    let refused = a
        .client
        .request(json!({ "action": "sendMessage", "chatId": chat, "clientMessageId": "m2", "message": envelope, "devices": stale }))
        .await;
    assert_eq!(refused["code"], "devices_changed", "{refused}");
    assert_eq!(envelopes(&system, &alice, &chat).await.len(), 1, "nothing stored");

    // The client shares with the new device and sends again (same id).
    assert_eq!(a.send(&chat, "m2", "now the laptop too").await["status"], "SUCCESS");
    assert_eq!(texts(&laptop.read(1).await), ["now the laptop too"]);
    assert_eq!(texts(&phone.read(1).await), ["now the laptop too"]);
    let first = envelopes(&system, &bob, &chat).await[0].1.clone();
    assert_eq!(laptop.open(&first), None, "a new device does not read what came before it");
}

#[tokio::test]
async fn an_offline_device_catches_up_on_keys_and_messages_in_order() {
    let system = System::start().await;
    let [alice, bob] = ["alice", "bob"].map(unique);
    let mut a = SecureDevice::connect(&system, &alice, "phone").await;
    let mut tablet = SecureDevice::connect(&system, &bob, "tablet").await;
    let chat = encrypted_chat(&mut a, &[&bob], None).await;
    tablet.go_offline().await;

    let words: Vec<String> = (1..=5).map(|i| format!("while you were away {i}")).collect();
    for (i, w) in words.iter().enumerate() {
        assert_eq!(a.send(&chat, &format!("m{i}"), w).await["status"], "SUCCESS");
    }
    tablet.reconnect(&system).await;
    tablet.sync().await;
    let got = tablet.read(5).await;
    assert_eq!(texts(&got), words.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(got.iter().map(|p| p.seq).collect::<Vec<_>>(), [1, 2, 3, 4, 5]);
    // Acknowledged: a second sync brings nothing again.
    tablet.sync().await;
    let again = tablet.client.drain(std::time::Duration::from_millis(300)).await;
    assert!(!again.iter().any(|f| f.to_string().contains("newMessage") || f.to_string().contains("toDevice")), "{again:?}");
}

#[tokio::test]
async fn racing_claims_hand_each_one_time_key_out_once_then_the_fallback_key() {
    let system = System::start().await;
    let [bob, x, y, z] = ["bob", "x", "y", "z"].map(unique);
    let target = SecureDevice::connect(&system, &bob, "phone").await;
    let mut claimers =
        join_all([&x, &y, &z].into_iter().flat_map(|u| ["phone", "laptop", "tablet"].map(|d| SecureDevice::connect(&system, u, d)))).await;
    let chat = encrypted_chat(&mut claimers[0], &[&bob, &y, &z], Some("claims")).await;

    // Nine devices, three claims each, all at once: 27 claims for 20 keys.
    let claims = join_all(claimers.iter_mut().map(|claimer| {
        let (chat, bob) = (chat.clone(), bob.clone());
        async move {
            let mut keys = Vec::new();
            for _ in 0..3 {
                let reply = claimer
                    .client
                    .request(json!({ "action": "claimKeys", "chatId": chat, "devices": [{ "userId": bob, "deviceId": "phone" }] }))
                    .await;
                assert_eq!(reply["type"], "claimedKeys", "{reply}");
                keys.push(reply["keys"][0].clone());
            }
            keys
        }
    }))
    .await;
    let all: Vec<Value> = claims.into_iter().flatten().collect();
    let (fallback, one_time): (Vec<&Value>, Vec<&Value>) = all.iter().partition(|k| k["fallback"] == true);
    let handed: BTreeSet<String> = one_time.iter().map(|k| text(k, "key").to_owned()).collect();
    assert_eq!(one_time.len(), 20, "every one-time key handed out");
    assert_eq!(handed.len(), 20, "each one-time key exactly once");
    assert_eq!(handed, target.uploaded, "the keys bob's phone uploaded");
    assert_eq!(fallback.len(), 7);
    assert!(fallback.iter().all(|k| text(k, "key") == target.fallback), "then its fallback key");
    assert!(all.iter().all(|k| text(&k["identityKeys"], "curve25519") == target.curve_key()));

    // Someone outside the chat cannot claim bob's keys through it.
    let mut outsider = SecureDevice::connect(&system, &unique("mallory"), "phone").await;
    let refused = outsider
        .client
        .request(json!({ "action": "claimKeys", "chatId": chat, "devices": [{ "userId": bob, "deviceId": "phone" }] }))
        .await;
    assert_eq!(refused["code"], "not_member", "{refused}");
}

/// Every item of a table, as text.
async fn table_text(system: &System, logical_id: &str) -> Vec<String> {
    let dynamo = system.dynamo().await;
    let mut items = Vec::new();
    let mut start = None;
    loop {
        let page = dynamo.scan().table_name(system.table(logical_id)).set_exclusive_start_key(start).send().await.unwrap();
        items.extend(page.items().iter().map(|item| format!("{item:?}")));
        start = page.last_evaluated_key().cloned();
        if start.is_none() {
            return items;
        }
    }
}

#[tokio::test]
async fn the_system_holds_no_plaintext_of_an_encrypted_chat() {
    // Functions as processes: their log lines are kept, as CloudWatch Logs keeps them.
    let system = System::builder().processes("debug").start().await;
    let [alice, bob] = ["alice", "bob"].map(unique);
    let marker = unique("aubergine");
    let mut a = SecureDevice::connect(&system, &alice, "phone").await;
    let mut b = SecureDevice::connect(&system, &bob, "phone").await;
    let mut offline = SecureDevice::connect(&system, &bob, "tablet").await;
    register_push(&mut offline.client).await;
    let chat = encrypted_chat(&mut a, &[&bob], None).await;
    b.client.accept(&chat).await;
    offline.go_offline().await;

    let sent = a.send(&chat, "m1", &format!("the secret is {marker}")).await;
    assert_eq!(sent["status"], "SUCCESS", "{sent}");
    let reply = b.send(&chat, "m2", &format!("@{alice} got {marker}")).await;
    assert_eq!(reply["status"], "SUCCESS", "{reply}");
    assert_eq!(b.read(1).await[0].text, format!("the secret is {marker}"));
    // The offline tablet is pushed a notice that says nothing of the text.
    eventually("the tablet is pushed the messages", || async { !system.pushes_to(&bob, "tablet").await.is_empty() }).await;
    // A photo too: encrypted on the device, as the SDK sends files here.
    let photo = image(32 * 1024, 5);
    let (sealed, mut described) = encrypt_file(&photo, &format!("{marker}.png"), "image/png");
    let request = json!({ "fileName": "encrypted", "contentType": "application/octet-stream", "size": sealed.len(), "sha256": sha256_base64(&sealed) });
    let attachment = upload_as(&system.http(&alice), &chat, &request, &sealed).await;
    described["attachmentId"] = json!(attachment);
    let with_photo =
        a.send_body(&chat, "m3", &json!({ "text": format!("{marker} from above"), "files": [described] }), &[&attachment]).await;
    assert_eq!(with_photo["status"], "SUCCESS", "{with_photo}");
    assert_eq!(b.read(1).await[0].text, format!("{marker} from above"));
    // The control: the same scan finds the text of a plain chat.
    let control = unique("courgette");
    let plain = a.client.chat_with(&[&unique("carol")], None).await;
    assert_eq!(a.client.send_message(&plain, "p1", &control).await["status"], "SUCCESS");

    let tables = [
        "UsersTable",
        "ConnectionsTable",
        "ChatsTable",
        "MessagesTable",
        "InboxTable",
        "ClientMessageIdsTable",
        "MembershipsTable",
        "PresenceSubscriptionsTable",
        "ContactsTable",
        "OneTimeKeysTable",
        "RateLimitsTable",
        "AttachmentsTable",
    ];
    let mut scanned = 0;
    let mut holding_chat = 0;
    let mut holding_control = 0;
    for table in tables {
        let items = table_text(&system, table).await;
        scanned += items.len();
        holding_control += items.iter().filter(|i| i.contains(&control)).count();
        holding_chat += items.iter().filter(|i| i.contains(&chat)).count();
        let leaks: Vec<&String> = items.iter().filter(|i| i.contains(&marker)).collect();
        assert!(leaks.is_empty(), "{table} holds the plaintext: {leaks:?}");
    }
    assert!(holding_control >= 1, "the scan reads stored text: the plain chat's message is found");
    assert!(holding_chat >= 4, "the scan saw the chat's items (messages, inbox entries, the chat): {holding_chat}");
    eprintln!("scanned {scanned} items in {} tables, {holding_chat} of this chat: none holds the plaintext", tables.len());
    let pushes = system.pushes_to(&bob, "tablet").await;
    assert!(pushes.iter().all(|p| !p.to_string().contains(&marker)), "{pushes:?}");
    let moto = e2e_tests::moto_state().await.to_string();
    assert!(!moto.contains(&marker), "SNS and S3 (moto) hold no plaintext");
    // Every object of the bucket: no plaintext, and none of the photo's bytes.
    let s3 = system.s3().await;
    let bucket = system.function_context("SendMessageFunction").config.media_bucket.clone();
    let (mut objects, mut photo_found) = (0, false);
    let mut token = None;
    loop {
        let page = s3.list_objects_v2().bucket(&bucket).set_continuation_token(token).send().await.unwrap();
        for object in page.contents() {
            let body = s3.get_object().bucket(&bucket).key(object.key().unwrap()).send().await.unwrap().body.collect().await.unwrap();
            let bytes = body.into_bytes();
            objects += 1;
            assert!(!bytes.windows(marker.len()).any(|w| w == marker.as_bytes()), "{:?} holds the plaintext", object.key());
            assert!(!bytes.windows(64).any(|w| w == &photo[1000..1064]), "{:?} holds the photo's bytes", object.key());
            photo_found |= bytes[..] == sealed[..];
        }
        token = page.next_continuation_token().map(str::to_owned);
        if token.is_none() {
            break;
        }
    }
    assert!(photo_found, "the scan read the encrypted photo's object");
    // Every line the functions logged.
    let lines = system.runtime.logs.all();
    let of_chat = lines.iter().filter(|(_, line)| line.contains(&chat)).count();
    assert!(of_chat >= 3, "the scan sees the functions' lines about this chat: {of_chat}");
    let leaked: Vec<_> = lines.iter().filter(|(_, line)| line.contains(&marker)).collect();
    assert!(leaked.is_empty(), "logged plaintext: {leaked:?}");
    eprintln!("scanned {objects} S3 objects and {} log lines ({of_chat} about this chat): none holds the plaintext", lines.len());
    // History and the chat list serve envelopes, never the text.
    let history = system.http(&alice).get(&format!("/chats/{chat}/messages")).await;
    assert!(!history.body.to_string().contains(&marker) && history.body.to_string().contains("megolm.v1:"));
    let chats = a.client.request(json!({ "action": "listChats" })).await;
    assert!(!chats.to_string().contains(&marker), "{chats}");
}

#[tokio::test]
async fn edits_reactions_and_replies_are_encrypted_and_a_deletion_leaves_a_tombstone() {
    let system = System::start().await;
    let [alice, bob] = ["alice", "bob"].map(unique);
    let mut a = SecureDevice::connect(&system, &alice, "phone").await;
    let mut b = SecureDevice::connect(&system, &bob, "phone").await;
    let chat = encrypted_chat(&mut a, &[&bob], None).await;
    b.client.accept(&chat).await;
    assert_eq!(a.send(&chat, "m1", "see you at 7").await["seq"], 1);
    assert_eq!(texts(&b.read(1).await), ["see you at 7"]);

    // An edit: plain text refused, an envelope delivered and decrypted.
    let edit = |message: &str| json!({ "action": "editMessage", "chatId": chat, "seq": 1, "message": message });
    assert_eq!(a.client.request(edit("see you at 8")).await["code"], "invalid_request");
    a.share_session(&chat).await;
    let sealed = a.seal(&chat, "see you at 8");
    assert_eq!(a.client.request(edit(&sealed)).await["type"], "messageChanged");
    let edited = b.client.wait_for(|f| f["type"] == "messageChanged" && f["change"] == "edited").await;
    assert_eq!(b.open_when_keyed(text(&edited, "message")).await, "see you at 8");

    // A reaction: the emoji is an envelope too.
    b.share_session(&chat).await;
    let emoji = b.seal(&chat, "👍");
    let reacted = b.client.request(json!({ "action": "react", "chatId": chat, "seq": 1, "emoji": emoji })).await;
    assert_eq!(reacted["type"], "messageChanged", "{reacted}");
    let reaction = a.client.wait_for(|f| f["type"] == "messageChanged" && f["change"] == "reacted").await;
    assert_eq!(a.open_when_keyed(text(&reaction, "emoji")).await, "👍");

    // A reply: the quote's snippet is empty (the server cannot make one).
    b.share_session(&chat).await;
    let envelope = b.seal(&chat, "8 is fine");
    let digest = b.device_keys(&chat).await.1;
    let reply = b
        .client
        .request(json!({ "action": "sendMessage", "chatId": chat, "clientMessageId": "b1", "message": envelope, "devices": digest, "replyTo": 1 }))
        .await;
    assert_eq!(reply["status"], "SUCCESS", "{reply}");
    let quoted = a.read(1).await;
    assert_eq!(texts(&quoted), ["8 is fine"]);
    let history = system.http(&alice).get(&format!("/chats/{chat}/messages")).await.body;
    let last = history["messages"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["replyTo"]["seq"], 1, "{last}");
    assert_eq!(last["replyTo"]["snippet"], "", "{last}");
    // History serves the edited envelope and the reaction's envelope.
    let first = &history["messages"][0];
    assert_eq!(a.open(text(first, "message")).as_deref(), Some("see you at 8"));
    assert_eq!(first["encrypted"], true);

    // Deleted for everyone: a tombstone, no envelope, no reactions, anywhere.
    let deleted = a.client.request(json!({ "action": "deleteMessage", "chatId": chat, "seq": 1, "forEveryone": true })).await;
    assert_eq!(deleted["type"], "messageChanged", "{deleted}");
    let history = system.http(&bob).get(&format!("/chats/{chat}/messages")).await.body;
    let tombstone = &history["messages"][0];
    assert_eq!(tombstone["message"], "", "{tombstone}");
    assert!(tombstone["deleted"].is_object() && tombstone.get("reactions").is_none(), "{tombstone}");
    for envelope in [sealed, emoji] {
        assert!(!history.to_string().contains(&envelope), "the deleted message's envelopes are gone from history");
    }
}

#[tokio::test]
async fn a_photo_in_an_encrypted_chat_is_encrypted_on_the_device_and_checked_by_the_downloader() {
    let system = System::start().await;
    let [alice, bob] = ["alice", "bob"].map(unique);
    let mut a = SecureDevice::connect(&system, &alice, "phone").await;
    let mut b = SecureDevice::connect(&system, &bob, "phone").await;
    let chat = encrypted_chat(&mut a, &[&bob], None).await;
    b.client.accept(&chat).await;
    let http = system.http(&alice);
    let photo = image(64 * 1024, 9);

    // The photo as it is, or under its own name, is refused in this chat.
    let readable = http.post(&format!("/chats/{chat}/attachments"), &upload_request(&photo, "image/png")).await;
    assert_eq!((readable.status, readable.body["code"].as_str()), (400, Some("invalid_request")), "{}", readable.body);

    let (sealed, described) = encrypt_file(&photo, "view from the top.png", "image/png");
    let request = json!({ "fileName": "encrypted", "contentType": "application/octet-stream", "size": sealed.len(), "sha256": sha256_base64(&sealed) });
    let attachment = upload_as(&http, &chat, &request, &sealed).await;
    let mut file = described.clone();
    file["attachmentId"] = json!(attachment);
    let body = json!({ "text": "the view from here", "files": [file] });
    let sent = a.send_body(&chat, "photo", &body, &[&attachment]).await;
    assert_eq!(sent["status"], "SUCCESS", "{sent}");

    // Bob reads the message, downloads the file, checks it and decrypts it.
    let got = b.read(1).await.remove(0);
    assert_eq!(got.text, "the view from here");
    let named = &got.body["files"][0];
    assert_eq!((named["name"].as_str(), named["type"].as_str()), (Some("view from the top.png"), Some("image/png")));
    let held = &got.frame["attachments"][0];
    assert_eq!((held["fileName"].as_str(), held["contentType"].as_str()), (Some("encrypted"), Some("application/octet-stream")));
    let download = system.http(&bob).get(&format!("/chats/{chat}/attachments/{attachment}")).await;
    assert_eq!(download.status, 200, "{}", download.body);
    let (status, bytes) = get_presigned(text(&download.body, "url")).await;
    assert_eq!(status, 200);
    assert_eq!(decrypt_file(&bytes, named).as_deref(), Some(&photo[..]), "bob's copy is the photo");
    // A file that is not the one the message named is caught.
    let mut tampered = bytes.clone();
    tampered[100] ^= 1;
    assert_eq!(decrypt_file(&tampered, named), None, "the digest in the message catches other bytes");

    // S3 holds the ciphertext only.
    let ctx = system.function_context("SendMessageFunction");
    let object = aws_sdk_s3::Client::new(&system.function_sdk("SendMessageFunction"))
        .get_object()
        .bucket(&ctx.config.media_bucket)
        .key(format!("media/{attachment}"))
        .send()
        .await
        .unwrap();
    let stored = object.body.collect().await.unwrap().into_bytes();
    assert_eq!(&stored[..], &sealed[..]);
    assert!(!stored.windows(64).any(|w| photo.windows(64).next() == Some(w)), "no run of the photo's bytes in S3");
}
