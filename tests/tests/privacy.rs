//! Privacy between users: blocking (issue 15). What a blocked user can no
//! longer do to the blocker, what still flows (group messages), and that
//! unblocking restores it.

use std::time::Duration;

use e2e_tests::{System, get_presigned, image, sha256_base64, text, unique, upload_avatar, upload_request};
use serde_json::{Value, json};

#[tokio::test]
async fn a_blocked_user_cannot_reach_the_blocker_one_to_one_but_groups_still_flow_until_unblocked() {
    let system = System::builder().parameters(&[("MaxBlockedUsers", "2")]).start().await;
    let [alice, bob, carol, dave, erin] = ["alice", "bob", "carol", "dave", "erin"].map(unique);
    let mut a = system.connect(&alice, "phone").await;
    let mut b = system.connect(&bob, "phone").await;
    let mut c = system.connect(&carol, "phone").await;
    let direct = a.chat_with(&[&bob], None).await;
    b.accept(&direct).await;
    let group = c.chat_with(&[&alice, &bob], Some("both in it")).await;
    a.accept(&group).await;
    b.accept(&group).await;
    assert_eq!(b.request(json!({ "action": "subscribePresence", "userIds": [alice] })).await["type"], "presenceList");

    // Alice blocks bob; her list says so, and says it again when asked.
    let blocked = a.request(json!({ "action": "blockUser", "userId": bob, "blocked": true })).await;
    assert_eq!(blocked["type"], "blockList", "{blocked}");
    assert_eq!(blocked["blocked"], json!([bob]));
    assert_eq!(a.request(json!({ "action": "blockUser", "userId": bob, "blocked": true })).await["blocked"], json!([bob]), "idempotent");
    assert_eq!(a.request(json!({ "action": "listBlocked" })).await["blocked"], json!([bob]));
    assert_eq!(b.request(json!({ "action": "listBlocked" })).await["blocked"], json!([]), "a block list is its owner's only");

    // Bob can no longer write to her 1-1, start one, see her, or add her.
    let send = b.send_message(&direct, "b1", "hello?").await;
    assert_eq!(send["code"], "blocked", "{send}");
    let again = b.request(json!({ "action": "createChat", "participants": [alice] })).await;
    assert_eq!(again["code"], "blocked", "{again}");
    let presence = b.request(json!({ "action": "subscribePresence", "userIds": [alice] })).await;
    assert_eq!(presence["code"], "forbidden", "{presence}");
    let profile = system.http(&bob).get(&format!("/users/{alice}")).await;
    assert_eq!(profile.status, 404, "she looks like a stranger: {}", profile.body);
    assert_eq!(system.http(&carol).get(&format!("/users/{alice}")).await.status, 200, "to others she is still there");
    let new_group = b.request(json!({ "action": "createChat", "participants": [alice, carol], "name": "sneaky" })).await;
    assert_eq!(new_group["code"], "blocked", "{new_group}");
    let own_group = b.chat_with(&[&carol], Some("bob's")).await;
    let add = b.request(json!({ "action": "modifyChatParticipants", "chatId": own_group, "userId": alice, "operation": "ADD" })).await;
    assert_eq!(add["code"], "blocked", "{add}");
    // Nor can alice write to him while she blocks him.
    assert_eq!(a.send_message(&direct, "a1", "bye").await["code"], "blocked");
    let typing = b.request(json!({ "action": "typing", "chatId": direct, "typing": true })).await;
    assert_eq!(typing["devices"], 0, "{typing}");

    // Nothing of bob's refused attempts reached alice; group messages flow both ways.
    let from_bob = b.send_message(&group, "g1", "hi all").await;
    assert_eq!(from_bob["status"], "SUCCESS", "{from_bob}");
    let got = a.wait_for(|f| f["type"] == "newMessage").await;
    assert_eq!((got["message"].as_str(), got["chatId"].as_str()), (Some("hi all"), Some(&*group)), "{got}");
    assert_eq!(a.send_message(&group, "g2", "hi").await["status"], "SUCCESS");
    assert_eq!(b.wait_for(|f| f["type"] == "newMessage").await["message"], "hi");

    // At most MaxBlockedUsers (2 here).
    assert_eq!(a.request(json!({ "action": "blockUser", "userId": dave, "blocked": true })).await["blocked"], json!([bob, dave]));
    let third = a.request(json!({ "action": "blockUser", "userId": erin, "blocked": true })).await;
    assert_eq!(third["code"], "too_many_blocked", "{third}");
    assert_eq!(a.request(json!({ "action": "listBlocked" })).await["blocked"], json!([bob, dave]), "the refused block changed nothing");

    // Unblocked: the 1-1 chat works again both ways, and he may see her.
    let unblocked = a.request(json!({ "action": "blockUser", "userId": bob, "blocked": false })).await;
    assert_eq!(unblocked["blocked"], json!([dave]), "{unblocked}");
    let sent = b.send_message(&direct, "b2", "still there?").await;
    assert_eq!(sent["status"], "SUCCESS", "{sent}");
    let got = a.wait_for(|f| f["type"] == "newMessage" && f["chatId"] == direct.as_str()).await;
    assert_eq!(text(&got, "message"), "still there?");
    assert_eq!(b.request(json!({ "action": "subscribePresence", "userIds": [alice] })).await["type"], "presenceList");
    assert_eq!(system.http(&bob).get(&format!("/users/{alice}")).await.status, 200);
    let frames = c.drain(Duration::from_millis(50)).await;
    assert!(frames.iter().all(|f| f["type"] != "error"), "carol saw nothing odd: {frames:?}");
}

/// A blocker may put the user they block in a group they create; that does
/// not accept them again (blocking ended it): after the unblock, the
/// unblocked user's next chat is still a request.
#[tokio::test]
async fn a_blocker_creating_a_group_with_the_blocked_user_does_not_accept_them_again() {
    let system = System::start().await;
    let [alice, bob, carol] = ["alice", "bob", "carol"].map(unique);
    let mut a = system.connect(&alice, "phone").await;
    let mut b = system.connect(&bob, "phone").await;
    let direct = a.chat_with(&[&bob], None).await;
    b.accept(&direct).await;
    assert_eq!(a.request(json!({ "action": "blockUser", "userId": bob, "blocked": true })).await["blocked"], json!([bob]));
    let group = a.create_chat(&[&bob, &carol], Some("with bob")).await;
    assert_eq!(group["type"], "chatCreated", "{group}");
    assert_eq!(a.request(json!({ "action": "blockUser", "userId": bob, "blocked": false })).await["blocked"], json!([]));

    let from_bob = b.chat_with(&[&alice, &carol], Some("from bob")).await;
    let listed = a.request(json!({ "action": "listChats" })).await;
    let chat = listed["chats"].as_array().unwrap().iter().find(|c| c["chatId"] == from_bob.as_str()).cloned().unwrap();
    assert_eq!(chat["request"], true, "bob is not accepted again: {chat}");
}

#[tokio::test]
async fn blocking_ends_the_presence_a_blocked_user_was_watching() {
    let system = System::start().await;
    let [alice, bob, carol] = ["alice", "bob", "carol"].map(unique);
    let mut a = system.connect(&alice, "phone").await;
    let direct = a.chat_with(&[&bob], None).await;
    let with_carol = a.chat_with(&[&carol], None).await;
    let mut b = system.connect(&bob, "phone").await;
    let mut c = system.connect(&carol, "phone").await;
    b.accept(&direct).await;
    c.accept(&with_carol).await;
    for watcher in [&mut b, &mut c] {
        assert_eq!(watcher.request(json!({ "action": "subscribePresence", "userIds": [alice] })).await["type"], "presenceList");
    }
    a.request(json!({ "action": "blockUser", "userId": bob, "blocked": true })).await;
    a.close().await;
    // Carol, still watching, is told alice went offline; bob, in the same
    // announcement's audience before the block, is not.
    let offline = c.wait_for(|f| f["type"] == "presence" && f["online"] == false).await;
    assert_eq!(offline["userId"], alice.as_str());
    // (Alice's coming online may still reach bob late: the stream announced
    // it before the block. Her going offline, after it, must not.)
    let frames = b.drain(Duration::from_millis(300)).await;
    assert!(frames.iter().all(|f| f["type"] != "presence" || f["online"] != false), "{frames:?}");
}

/// Who sees a user online and their last seen: everyone they share an
/// accepted chat with, their contacts (people they accepted), or nobody.
#[tokio::test]
async fn presence_shows_to_everyone_contacts_or_nobody_as_the_user_chose() {
    let system = System::start().await;
    let [alice, bob, carol, erin] = ["alice", "bob", "carol", "erin"].map(unique);
    let mut a = system.connect(&alice, "phone").await;
    let mut b = system.connect(&bob, "phone").await;
    let mut c = system.connect(&carol, "phone").await;
    let mut e = system.connect(&erin, "phone").await;
    // Bob is alice's contact (she started their chat); erin only shares carol's group with her.
    let direct = a.chat_with(&[&bob], None).await;
    b.accept(&direct).await;
    let group = c.chat_with(&[&alice, &erin], Some("mixed")).await;
    a.accept(&group).await;
    e.accept(&group).await;
    let sees = |frame: &Value| (frame["users"][0]["online"].clone(), frame["users"][0]["hidden"].clone());
    let watch = json!({ "action": "subscribePresence", "userIds": [alice] });
    assert_eq!(sees(&e.request(watch.clone()).await), (json!(true), Value::Null), "everyone, by default");

    let set = a.request(json!({ "action": "setPrivacy", "presence": "contacts" })).await;
    assert_eq!(
        set,
        json!({ "type": "privacy", "requestId": set["requestId"], "presence": "contacts", "readReceipts": true, "_arrivedAtMicros": set["_arrivedAtMicros"] })
    );
    assert_eq!(sees(&b.request(watch.clone()).await), (json!(true), Value::Null), "bob is her contact");
    assert_eq!(sees(&e.request(watch.clone()).await), (json!(false), json!(true)), "erin is not");
    let profile = system.http(&erin).get(&format!("/users/{alice}")).await;
    assert_eq!((profile.body["hidden"].clone(), profile.body.get("lastSeen")), (json!(true), None), "{}", profile.body);

    // Going offline is announced to her contacts only (both watch now).
    a.close().await;
    let offline = b.wait_for(|f| f["type"] == "presence" && f["online"] == false).await;
    assert!(offline["lastSeen"].as_u64().is_some(), "{offline}");
    // (Her coming online, announced before the setting changed, may reach erin late.)
    let erin_saw: Vec<Value> =
        e.drain(Duration::from_millis(300)).await.into_iter().filter(|f| f["type"] == "presence" && f["online"] == false).collect();
    assert!(erin_saw.is_empty(), "{erin_saw:?}");

    // Nobody: not even a contact; settings persist across connections and are readable.
    let mut a = system.connect(&alice, "phone").await;
    assert_eq!(a.request(json!({ "action": "setPrivacy", "presence": "nobody" })).await["presence"], "nobody");
    assert_eq!(sees(&b.request(watch.clone()).await), (json!(false), json!(true)));
    let read_back = a.request(json!({ "action": "setPrivacy" })).await;
    assert_eq!((read_back["presence"].clone(), read_back["readReceipts"].clone()), (json!("nobody"), json!(true)));
    // She still sees others.
    let hers = a.request(json!({ "action": "subscribePresence", "userIds": [bob] })).await;
    assert_eq!(sees(&hers), (json!(true), Value::Null));
    let bad = a.request(json!({ "action": "setPrivacy", "presence": "friends" })).await;
    assert_eq!(bad["code"], "invalid_request", "{bad}");
}

/// Read receipts off, as WhatsApp's: the user sends none and sees none;
/// delivered receipts still flow. Turned on again, both come back.
#[tokio::test]
async fn read_receipts_off_are_reciprocal() {
    let system = System::start().await;
    let [alice, bob] = ["alice", "bob"].map(unique);
    let mut a = system.connect(&alice, "phone").await;
    let mut b = system.connect(&bob, "phone").await;
    let chat = a.chat_with(&[&bob], None).await;
    b.accept(&chat).await;
    let status = |reply: &Value| (reply["recipients"][0]["delivered"].clone(), reply["recipients"][0]["read"].clone());
    let read_receipt = |seq: u64| move |f: &Value| f["type"] == "receipt" && f["status"] == "read" && f["upToSeq"] == seq;

    // Both on: alice learns bob read seq 1.
    a.send_message(&chat, "m1", "one").await;
    b.request(json!({ "action": "markRead", "chatId": chat, "upToSeq": 1 })).await;
    a.wait_for(read_receipt(1)).await;

    // Bob turns them off: his reading of seq 2 tells alice nothing.
    assert_eq!(b.request(json!({ "action": "setPrivacy", "readReceipts": false })).await["readReceipts"], false);
    a.send_message(&chat, "m2", "two").await;
    b.request(json!({ "action": "markRead", "chatId": chat, "upToSeq": 2 })).await;
    let st = a.request(json!({ "action": "messageStatus", "chatId": chat, "seq": 2 })).await;
    assert_eq!(status(&st), (json!(true), json!(false)), "delivered, not shown read: {st}");
    // And he sees none: alice reads his message, his status shows no read.
    let sent = b.send_message(&chat, "m3", "three").await;
    let seq = sent["seq"].as_u64().unwrap();
    a.request(json!({ "action": "markRead", "chatId": chat, "upToSeq": seq })).await;
    let st = b.request(json!({ "action": "messageStatus", "chatId": chat, "seq": seq })).await;
    assert_eq!(status(&st), (json!(true), json!(false)), "{st}");
    let receipts: Vec<Value> = [a.drain(Duration::from_millis(200)).await, b.drain(Duration::from_millis(200)).await]
        .concat()
        .into_iter()
        .filter(|f| f["type"] == "receipt" && f["status"] == "read")
        .collect();
    assert!(receipts.is_empty(), "no read receipt either way: {receipts:?}");

    // On again: reads are reported both ways.
    b.request(json!({ "action": "setPrivacy", "readReceipts": true })).await;
    let sent = b.send_message(&chat, "m4", "four").await;
    let seq = sent["seq"].as_u64().unwrap();
    a.request(json!({ "action": "markRead", "chatId": chat, "upToSeq": seq })).await;
    b.wait_for(read_receipt(seq)).await;
    let st = b.request(json!({ "action": "messageStatus", "chatId": chat, "seq": seq })).await;
    assert_eq!(status(&st), (json!(true), json!(true)), "{st}");
}

/// Profiles: a display name and an "about", shown on the user's page and as
/// a 1-1 chat's peer name in chat lists — not to someone a request or a
/// block hides the user from.
#[tokio::test]
async fn profiles_show_on_user_pages_and_in_chat_lists_to_those_who_may_see_them() {
    let system = System::start().await;
    let [alice, bob] = ["alice", "bob"].map(unique);
    let mut a = system.connect(&alice, "phone").await;
    let mut b = system.connect(&bob, "phone").await;
    let set = a.request(json!({ "action": "updateProfile", "displayName": " Alice A. ", "about": "out hiking" })).await;
    assert_eq!(
        (set["type"].clone(), set["displayName"].clone(), set["about"].clone()),
        (json!("profile"), json!("Alice A."), json!("out hiking"))
    );
    b.request(json!({ "action": "updateProfile", "displayName": "Bob B." })).await;
    let chat = a.chat_with(&[&bob], None).await;
    let peer_name =
        |list: &Value| list["chats"].as_array().unwrap().iter().find(|c| c["chatId"] == chat.as_str()).unwrap()["peerName"].clone();

    // Bob has not accepted yet: alice sees nothing of him, he sees her name.
    assert_eq!(peer_name(&a.request(json!({ "action": "listChats" })).await), Value::Null);
    assert_eq!(peer_name(&b.request(json!({ "action": "listChats" })).await), json!("Alice A."));
    b.accept(&chat).await;
    assert_eq!(peer_name(&a.request(json!({ "action": "listChats" })).await), json!("Bob B."));
    assert_eq!(peer_name(&system.http(&alice).get("/chats").await.body), json!("Bob B."), "the HTTP chat list too");
    assert_eq!(system.http(&alice).get(&format!("/chats/{chat}")).await.body["peerName"], "Bob B.");
    let page = system.http(&bob).get(&format!("/users/{alice}")).await;
    assert_eq!((page.body["displayName"].clone(), page.body["about"].clone()), (json!("Alice A."), json!("out hiking")), "{}", page.body);

    // Limits; a refusal changes nothing; an empty about clears it; none reads.
    let long_name = a.request(json!({ "action": "updateProfile", "displayName": "n".repeat(65) })).await;
    assert_eq!(long_name["code"], "invalid_request", "{long_name}");
    for blank in ["\u{200B}", "\u{3164}"] {
        let invisible = a.request(json!({ "action": "updateProfile", "displayName": blank })).await;
        assert_eq!(invisible["code"], "invalid_request", "a name that shows nothing: {invisible}");
    }
    let long_about = a.request(json!({ "action": "updateProfile", "about": "a".repeat(140) })).await;
    assert_eq!(long_about["code"], "invalid_request", "{long_about}");
    assert_eq!(a.request(json!({ "action": "updateProfile" })).await["about"], "out hiking");
    let cleared = a.request(json!({ "action": "updateProfile", "about": "" })).await;
    assert_eq!((cleared["displayName"].clone(), cleared.get("about").cloned()), (json!("Alice A."), None), "{cleared}");

    // A block hides the blocker's name from the 1-1 chat.
    a.request(json!({ "action": "blockUser", "userId": bob, "blocked": true })).await;
    assert_eq!(peer_name(&b.request(json!({ "action": "listChats" })).await), Value::Null);
}

#[tokio::test]
async fn an_avatar_is_an_uploaded_image_shown_to_those_who_may_see_the_profile() {
    let system = System::start().await;
    let [alice, bob, mallory] = ["alice", "bob", "mallory"].map(unique);
    let mut a = system.connect(&alice, "phone").await;
    let mut b = system.connect(&bob, "phone").await;
    let chat = a.chat_with(&[&bob], None).await;
    b.accept(&chat).await;

    let first = image(3000, 4);
    let id = upload_avatar(&system.http(&alice), &first).await;
    let set = a.request(json!({ "action": "updateProfile", "avatar": id })).await;
    assert_eq!((set["type"].as_str(), set["avatar"]["attachmentId"].as_str()), (Some("profile"), Some(id.as_str())), "{set}");
    assert_eq!(set["avatar"]["sha256"], sha256_base64(&first));

    // Bob sees it on the user page, in both chat lists, and downloads the very bytes.
    let page = system.http(&bob).get(&format!("/users/{alice}")).await.body;
    assert_eq!(page["avatar"]["attachmentId"], id.as_str(), "{page}");
    let listed = system.http(&bob).get("/chats").await.body;
    assert_eq!(listed["chats"][0]["peerAvatar"], id.as_str(), "{listed}");
    let listed = b.request(json!({ "action": "listChats" })).await;
    assert_eq!(listed["chats"][0]["peerAvatar"], id.as_str(), "{listed}");
    let download = system.http(&bob).get(&format!("/users/{alice}/avatar")).await;
    assert_eq!(download.status, 200, "{}", download.body);
    let first_url = text(&download.body, "url").to_owned();
    let (status, bytes) = get_presigned(&first_url).await;
    assert_eq!((status, sha256_base64(&bytes)), (200, sha256_base64(&first)));
    // A stranger sees no avatar, as no profile.
    assert_eq!(system.http(&mallory).get(&format!("/users/{alice}/avatar")).await.status, 404);

    // An avatar is a small image, the caller's own, uploaded.
    let post = |body: Value| {
        let http = system.http(&alice);
        async move { http.post("/users/me/avatar", &body).await }
    };
    let sha = sha256_base64(&first);
    let too_big = post(json!({ "contentType": "image/png", "size": domain::media::MAX_AVATAR_BYTES + 1, "sha256": sha })).await;
    assert_eq!((too_big.status, too_big.body["code"].as_str()), (413, Some("too_large")), "{}", too_big.body);
    let not_image = post(json!({ "contentType": "application/pdf", "size": 10, "sha256": sha })).await;
    assert_eq!(not_image.status, 400, "{}", not_image.body);
    let bobs = upload_avatar(&system.http(&bob), &image(500, 5)).await;
    let theirs = a.request(json!({ "action": "updateProfile", "avatar": bobs })).await;
    assert_eq!(theirs["code"], "invalid_request", "{theirs}");
    let pending = post(json!({ "contentType": "image/png", "size": 10, "sha256": sha })).await;
    let not_uploaded = a.request(json!({ "action": "updateProfile", "avatar": text(&pending.body, "attachmentId") })).await;
    assert_eq!(not_uploaded["code"], "invalid_request", "{not_uploaded}");

    // A new avatar replaces the old, whose file is deleted; an empty one removes it.
    let second = image(2000, 6);
    let id2 = upload_avatar(&system.http(&alice), &second).await;
    assert_eq!(a.request(json!({ "action": "updateProfile", "avatar": id2 })).await["avatar"]["attachmentId"], id2.as_str());
    assert_ne!(get_presigned(&first_url).await.0, 200, "the replaced avatar's object is gone");
    let download = system.http(&bob).get(&format!("/users/{alice}/avatar")).await;
    let (_, bytes) = get_presigned(text(&download.body, "url")).await;
    assert_eq!(sha256_base64(&bytes), sha256_base64(&second));
    let removed = a.request(json!({ "action": "updateProfile", "avatar": "" })).await;
    assert!(removed.get("avatar").is_none(), "{removed}");
    assert_eq!(system.http(&bob).get(&format!("/users/{alice}/avatar")).await.status, 404);
}

/// Avatars have their own prefix (`avatars/`), so the functions that handle
/// them are granted that and not chat attachments (`media/`): the profile
/// function could delete any chat's files when both shared `media/*`.
#[tokio::test]
async fn avatar_functions_reach_avatars_only_and_avatars_are_stored_apart() {
    let system = System::start().await;
    let alice = unique("alice");
    let mut a = system.connect(&alice, "phone").await;
    let chat = a.chat_with(&[&unique("bob")], None).await;
    let bytes = image(2048, 3);
    let file = system.http(&alice).post(&format!("/chats/{chat}/attachments"), &upload_request(&bytes, "image/png")).await;
    assert!(text(&file.body, "uploadUrl").contains("/media/"), "{}", file.body);
    let avatar = system
        .http(&alice)
        .post("/users/me/avatar", &json!({ "contentType": "image/png", "size": 10, "sha256": sha256_base64(b"0123456789") }))
        .await;
    assert_eq!(avatar.status, 201, "{}", avatar.body);
    assert!(text(&avatar.body, "uploadUrl").contains("/avatars/"), "{}", avatar.body);

    let bucket = system.function_context("UpdateProfileFunction").config.media_bucket.clone();
    let as_profile = aws_sdk_s3::Client::new(&system.function_sdk("UpdateProfileFunction"));
    let chat_file = format!("media/{}", text(&file.body, "attachmentId"));
    let denied = as_profile.delete_object().bucket(&bucket).key(&chat_file).send().await;
    let status = denied.err().and_then(|e| e.raw_response().map(|r| r.status().as_u16()));
    assert_eq!(status, Some(403), "the profile function may not delete a chat's file");
    let own_kind = as_profile.delete_object().bucket(&bucket).key(format!("avatars/{}", unique("gone"))).send().await;
    assert!(own_kind.is_ok(), "avatars it may: {own_kind:?}");
}
