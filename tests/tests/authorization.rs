//! The authorization matrix: every WebSocket and HTTP route of template.yaml,
//! tried as each kind of caller — the chat's admin, a member, the member's
//! other device, a removed member, a stranger, a device over the user's limit
//! (unregistered) and a revoked device — against their own chat, another
//! chat, and other users' attachments and devices. A route in the template
//! without entries here fails the test.
//!
//! (No client route takes a connection id: `@connections` is the Management
//! API, which only the functions' IAM roles may call.)

use std::collections::{BTreeMap, BTreeSet};

use e2e_tests::{Client, Http, System, image, sha256_base64, text, unique, upload, upload_avatar};
use local_runtime::repository_template;
use local_runtime::template::Template;
use serde_json::{Value, json};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Actor {
    Admin,
    Member,
    MemberOtherDevice,
    Removed,
    Stranger,
    Unregistered,
    Revoked,
}

use Actor::*;

const ACTORS: [Actor; 7] = [Admin, Member, MemberOtherDevice, Removed, Stranger, Unregistered, Revoked];

struct World {
    system: System,
    admin: String,
    member: String,
    /// Someone with an account (signed in once, in no group): whom anyone
    /// may start a chat with and the admin may add.
    newcomer: String,
    stranger: String,
    group: String,
    other_group: String,
    /// Sent by the admin in `group` at seq 1, before the removal.
    attachment: String,
    message_id: String,
    /// The stranger's, sent in `other_group`.
    strangers_attachment: String,
    tokens: BTreeMap<Actor, String>,
    clients: BTreeMap<Actor, Client>,
}

async fn world() -> World {
    let system = System::start().await;
    let [admin, member, removed, stranger, crowded, newcomer] =
        ["admin", "member", "removed", "stranger", "crowded", "newcomer"].map(unique);
    system.sign_up(&[&newcomer]).await;
    let token = |user: &str, device: &str| system.runtime.issue_token(user, device);
    let mut tokens = BTreeMap::from([
        (Admin, token(&admin, "phone")),
        (Member, token(&member, "phone")),
        (MemberOtherDevice, token(&member, "laptop")),
        (Removed, token(&removed, "phone")),
        (Stranger, token(&stranger, "phone")),
        (Unregistered, token(&crowded, "fourth")),
    ]);
    // The admin's tablet receives the admin's own messages (checked at the end).
    let _tablet = system.connect(&admin, "tablet").await;
    let mut clients = BTreeMap::new();
    for (actor, token) in &tokens {
        if *actor == Unregistered {
            for device in ["one", "two", "three"] {
                system.connect(&crowded, device).await.close().await;
            }
        }
        clients.insert(*actor, Client::open(&system.url_with_token(token)).await.expect("connects"));
    }
    // Identity keys, for the end-to-end encryption routes' cells (a device
    // without them may not send to devices, whose recipients check them).
    for actor in [Admin, Member, MemberOtherDevice, Removed, Stranger] {
        let identity = vodozemac::olm::Account::new().identity_keys();
        let keys = json!({ "curve25519": identity.curve25519.to_base64(), "ed25519": identity.ed25519.to_base64() });
        let reply = clients.get_mut(&actor).unwrap().request(json!({ "action": "uploadKeys", "identityKeys": keys })).await;
        assert_eq!(reply["type"], "keysUploaded", "{reply}");
    }
    // The member's lost device: registered once, then unregistered by the member.
    let lost = token(&member, "lost");
    Client::open(&system.url_with_token(&lost)).await.unwrap().close().await;
    let member_ws = clients.get_mut(&Member).unwrap();
    assert_eq!(member_ws.request(json!({ "action": "unregisterDevice", "deviceId": "lost" })).await["type"], "deviceUnregistered");
    tokens.insert(Revoked, lost);

    let admin_ws = clients.get_mut(&Admin).unwrap();
    let group = admin_ws.chat_with(&[&member, &removed], Some("matrix")).await;
    let attachment = upload(&Http::new(system.http_url(), Some(tokens[&Admin].clone())), &group, &image(2048, 1)).await;
    let sent = admin_ws
        .request(json!({ "action": "sendMessage", "chatId": group, "clientMessageId": "m1", "message": "hi", "attachments": [attachment] }))
        .await;
    let message_id = text(&sent, "messageId").to_owned();
    let removal =
        admin_ws.request(json!({ "action": "modifyChatParticipants", "chatId": group, "userId": removed, "operation": "REMOVE" })).await;
    assert_eq!(removal["type"], "participantsModified", "{removal}");

    // The member accepts the admin's invitation (until then the group shows nothing of them).
    let accepted = clients.get_mut(&Member).unwrap().request(json!({ "action": "acceptChat", "chatId": group })).await;
    assert_eq!(accepted["type"], "chatAccepted", "{accepted}");
    // ...and has an avatar, for the avatar route's cells.
    let avatar = upload_avatar(&Http::new(system.http_url(), Some(tokens[&Member].clone())), &image(512, 4)).await;
    let set = clients.get_mut(&Member).unwrap().request(json!({ "action": "updateProfile", "avatar": avatar })).await;
    assert_eq!(set["avatar"]["attachmentId"], avatar.as_str(), "{set}");

    let stranger_ws = clients.get_mut(&Stranger).unwrap();
    let other_group = stranger_ws.chat_with(&[&admin], Some("elsewhere")).await;
    let strangers_attachment = upload(&Http::new(system.http_url(), Some(tokens[&Stranger].clone())), &other_group, &image(1024, 2)).await;
    let sent = stranger_ws.request(json!({ "action": "sendMessage", "chatId": other_group, "clientMessageId": "s1", "message": "x", "attachments": [strangers_attachment] })).await;
    assert_eq!(sent["status"], "SUCCESS", "{sent}");
    World { system, admin, member, newcomer, stranger, group, other_group, attachment, message_id, strangers_attachment, tokens, clients }
}

/// One cell: who, against what, and what they must get ("ok", an error code,
/// or an HTTP status / handshake status).
struct Case {
    actor: Actor,
    target: &'static str,
    request: Value,
    expect: &'static str,
}

fn cases(actors_expect: [&'static str; 7], target: &'static str, request: impl Fn(Actor) -> Value) -> Vec<Case> {
    ACTORS.iter().zip(actors_expect).map(|(actor, expect)| Case { actor: *actor, target, request: request(*actor), expect }).collect()
}

fn one(actor: Actor, target: &'static str, request: Value, expect: &'static str) -> Case {
    Case { actor, target, request, expect }
}

/// WebSocket routes: a frame per caller. A revoked device cannot connect (401).
fn websocket_matrix(w: &World) -> BTreeMap<&'static str, Vec<Case>> {
    let (g, g2) = (w.group.as_str(), w.other_group.as_str());
    const DNR: &str = "device_not_registered";
    let mut m: BTreeMap<&'static str, Vec<Case>> = BTreeMap::new();
    m.insert("$connect", cases(["101", "101", "101", "101", "101", "101", "401"], "own token", |_| Value::Null));
    m.insert("$disconnect", cases(["closed", "closed", "closed", "closed", "closed", "closed", "401"], "own connection", |_| Value::Null));
    m.insert(
        "$default",
        cases(
            ["unknown_action", "unknown_action", "unknown_action", "unknown_action", "unknown_action", "unknown_action", "401"],
            "-",
            |_| json!({ "action": "fly" }),
        ),
    );
    m.insert(
        "createChat",
        cases(
            ["ok", "ok", "ok", "ok", "ok", DNR, "401"],
            "a new user",
            |_| json!({ "action": "createChat", "participants": [w.newcomer] }),
        ),
    );
    let mut send = cases(
        ["ok", "ok", "ok", "not_member", "not_member", DNR, "401"],
        "own group",
        |a| json!({ "action": "sendMessage", "chatId": g, "clientMessageId": unique(&format!("{a:?}")), "message": "matrix" }),
    );
    send.push(one(
        Member,
        "another group",
        json!({ "action": "sendMessage", "chatId": g2, "clientMessageId": "x", "message": "in?" }),
        "not_member",
    ));
    send.push(one(
        Member,
        "another user's attachment",
        json!({ "action": "sendMessage", "chatId": g, "clientMessageId": "y", "message": "", "attachments": [w.strangers_attachment] }),
        "invalid_request",
    ));
    m.insert("sendMessage", send);
    // Acks only ever touch the caller's own inbox (checked after the matrix).
    m.insert(
        "ack",
        cases(
            ["ok", "ok", "ok", "ok", "ok", DNR, "401"],
            "the admin's message id",
            |_| json!({ "action": "ack", "messageIds": [w.message_id] }),
        ),
    );
    m.insert("sync", cases(["ok", "ok", "ok", "ok", "ok", DNR, "401"], "own inbox", |_| json!({ "action": "sync" })));
    let mut modify = cases(
        ["ok", "forbidden", "forbidden", "not_member", "not_member", DNR, "401"],
        "own group, ADD",
        |_| json!({ "action": "modifyChatParticipants", "chatId": g, "userId": w.newcomer, "operation": "ADD" }),
    );
    modify.push(one(
        Member,
        "own group, REMOVE the admin",
        json!({ "action": "modifyChatParticipants", "chatId": g, "userId": w.admin, "operation": "REMOVE" }),
        "forbidden",
    ));
    modify.push(one(
        Member,
        "another group",
        json!({ "action": "modifyChatParticipants", "chatId": g2, "userId": w.member, "operation": "ADD" }),
        "not_member",
    ));
    // Making admins is the admins' too (the removed member and the stranger are not members).
    modify.push(one(
        Member,
        "the admin's group, promoting themself",
        json!({ "action": "modifyChatParticipants", "chatId": g, "userId": w.member, "operation": "PROMOTE" }),
        "forbidden",
    ));
    modify.push(one(
        Member,
        "the admin's group, demoting the admin",
        json!({ "action": "modifyChatParticipants", "chatId": g, "userId": w.admin, "operation": "DEMOTE" }),
        "forbidden",
    ));
    m.insert("modifyChatParticipants", modify);
    let mut read = cases(
        ["ok", "ok", "ok", "ok", "not_member", DNR, "401"],
        "own group",
        |_| json!({ "action": "markRead", "chatId": g, "upToSeq": 1 }),
    );
    read.push(one(Member, "another group", json!({ "action": "markRead", "chatId": g2, "upToSeq": 1 }), "not_member"));
    m.insert("markRead", read);
    m.insert("listChats", cases(["ok", "ok", "ok", "ok", "ok", DNR, "401"], "own chats", |_| json!({ "action": "listChats" })));
    // Device ids are scoped to the caller: naming the admin's tablet touches nobody's.
    const NO_SUCH: &str = "invalid_request";
    m.insert(
        "unregisterDevice",
        cases(
            [NO_SUCH, NO_SUCH, NO_SUCH, NO_SUCH, NO_SUCH, NO_SUCH, "401"],
            "another user's device",
            |a| json!({ "action": "unregisterDevice", "deviceId": if a == Admin { "nosuchdevice" } else { "tablet" } }),
        ),
    );
    m.insert("listDevices", cases(["ok", "ok", "ok", "ok", "ok", "ok", "401"], "own devices", |_| json!({ "action": "listDevices" })));
    let mut status = cases(
        ["ok", "forbidden", "forbidden", "forbidden", "not_member", DNR, "401"],
        "the admin's message",
        |_| json!({ "action": "messageStatus", "chatId": g, "seq": 1 }),
    );
    status.push(one(Member, "another group's message", json!({ "action": "messageStatus", "chatId": g2, "seq": 1 }), "not_member"));
    m.insert("messageStatus", status);
    m.insert(
        "registerPush",
        cases(
            ["ok", "ok", "ok", "ok", "ok", DNR, "401"],
            "own device",
            |_| json!({ "action": "registerPush", "platform": "GCM", "token": unique("t") }),
        ),
    );
    m.insert("unregisterPush", cases(["ok", "ok", "ok", "ok", "ok", DNR, "401"], "own device", |_| json!({ "action": "unregisterPush" })));
    let mut mute = cases(
        ["ok", "ok", "ok", "not_member", "not_member", DNR, "401"],
        "own group",
        |_| json!({ "action": "muteChat", "chatId": g, "muted": true }),
    );
    mute.push(one(Member, "another group", json!({ "action": "muteChat", "chatId": g2, "muted": true }), "not_member"));
    m.insert("muteChat", mute);
    // Members still in a group leave it before deleting it; the removed member
    // may delete it (tests/tests/membership.rs), not run here: it would hide
    // the group from the removed member's later cells.
    let delete = |chat: &str| json!({ "action": "deleteChat", "chatId": chat });
    let mut delete_chat = cases(
        ["invalid_request", "invalid_request", "invalid_request", "not_member", "not_member", DNR, "401"],
        "own group, still a member",
        |_| delete(g),
    );
    delete_chat[3] = one(Removed, "another group", delete(g2), "not_member");
    m.insert("deleteChat", delete_chat);
    let mut accept =
        cases(["ok", "ok", "ok", "not_member", "not_member", DNR, "401"], "own group", |_| json!({ "action": "acceptChat", "chatId": g }));
    accept.push(one(Member, "another group", json!({ "action": "acceptChat", "chatId": g2 }), "not_member"));
    m.insert("acceptChat", accept);
    let mut typing = cases(
        ["ok", "ok", "ok", "not_member", "not_member", DNR, "401"],
        "own group",
        |_| json!({ "action": "typing", "chatId": g, "typing": true }),
    );
    typing.push(one(Member, "another group", json!({ "action": "typing", "chatId": g2, "typing": true }), "not_member"));
    m.insert("typing", typing);
    // A block list is only ever the caller's own (checked in privacy.rs).
    m.insert(
        "blockUser",
        cases(
            ["ok", "ok", "ok", "ok", "ok", DNR, "401"],
            "a user (the stranger)",
            |a| json!({ "action": "blockUser", "userId": if a == Stranger { "nobody" } else { "strangerx" }, "blocked": false }),
        ),
    );
    let mut update = cases(
        ["ok", "forbidden", "forbidden", "not_member", "not_member", DNR, "401"],
        "own group",
        |_| json!({ "action": "updateChat", "chatId": g, "description": "the matrix" }),
    );
    update.push(one(Member, "another group", json!({ "action": "updateChat", "chatId": g2, "name": "mine" }), "not_member"));
    m.insert("updateChat", update);
    // Changes to the admin's message at seq 1 (sent before the removal).
    let mut edit = cases(
        ["ok", "forbidden", "forbidden", "not_member", "not_member", DNR, "401"],
        "the admin's message",
        |a| json!({ "action": "editMessage", "chatId": g, "seq": 1, "message": format!("hi, edited as {a:?}") }),
    );
    edit.push(one(
        Member,
        "another group's message",
        json!({ "action": "editMessage", "chatId": g2, "seq": 1, "message": "mine" }),
        "not_member",
    ));
    m.insert("editMessage", edit);
    // Deleting for oneself is anyone's who saw the message (the removed member too).
    let mut delete = cases(
        ["ok", "ok", "ok", "ok", "not_member", DNR, "401"],
        "the admin's message, for me",
        |_| json!({ "action": "deleteMessage", "chatId": g, "seq": 1, "forEveryone": false }),
    );
    delete.push(one(
        Member,
        "the admin's message, for everyone",
        json!({ "action": "deleteMessage", "chatId": g, "seq": 1, "forEveryone": true }),
        "forbidden",
    ));
    delete.push(one(
        Removed,
        "the admin's message, for everyone",
        json!({ "action": "deleteMessage", "chatId": g, "seq": 1, "forEveryone": true }),
        "not_member",
    ));
    delete.push(one(
        Admin,
        "the stranger's message in their group, for everyone",
        json!({ "action": "deleteMessage", "chatId": g2, "seq": 1, "forEveryone": true }),
        "forbidden",
    ));
    delete.push(one(
        Member,
        "another group's message, for me",
        json!({ "action": "deleteMessage", "chatId": g2, "seq": 1, "forEveryone": false }),
        "not_member",
    ));
    m.insert("deleteMessage", delete);
    let mut react = cases(
        ["ok", "ok", "ok", "not_member", "not_member", DNR, "401"],
        "the admin's message",
        |_| json!({ "action": "react", "chatId": g, "seq": 1, "emoji": "👍" }),
    );
    react.push(one(Member, "another group's message", json!({ "action": "react", "chatId": g2, "seq": 1, "emoji": "👍" }), "not_member"));
    m.insert("react", react);
    m.insert("updateProfile", cases(["ok", "ok", "ok", "ok", "ok", DNR, "401"], "own profile", |_| json!({ "action": "updateProfile" })));
    m.insert("setPrivacy", cases(["ok", "ok", "ok", "ok", "ok", DNR, "401"], "own settings", |_| json!({ "action": "setPrivacy" })));
    m.insert("listBlocked", cases(["ok", "ok", "ok", "ok", "ok", DNR, "401"], "own list", |_| json!({ "action": "listBlocked" })));
    m.insert("heartbeat", cases(["ok", "ok", "ok", "ok", "ok", DNR, "401"], "own connection", |_| json!({ "action": "heartbeat" })));
    m.insert(
        "subscribePresence",
        cases(
            ["ok", "ok", "ok", "forbidden", "forbidden", DNR, "401"],
            "the member",
            |_| json!({ "action": "subscribePresence", "userIds": [w.member] }),
        ),
    );
    // End-to-end encryption: a device's own keys; the devices of a chat one is in.
    m.insert("uploadKeys", cases(["ok", "ok", "ok", "ok", "ok", DNR, "401"], "own device", |_| json!({ "action": "uploadKeys" })));
    let mut device_keys = cases(
        ["ok", "ok", "ok", "not_member", "not_member", DNR, "401"],
        "own group",
        |_| json!({ "action": "getDeviceKeys", "chatId": g }),
    );
    device_keys.push(one(Member, "another group", json!({ "action": "getDeviceKeys", "chatId": g2 }), "not_member"));
    m.insert("getDeviceKeys", device_keys);
    let device = |user: &str| json!([{ "userId": user, "deviceId": "phone" }]);
    let mut claim = cases(
        ["ok", "ok", "ok", "not_member", "not_member", DNR, "401"],
        "a member's device, through own group",
        |a| json!({ "action": "claimKeys", "chatId": g, "devices": device(if a == Admin { &w.member } else { &w.admin }) }),
    );
    claim.push(one(
        Member,
        "a stranger's device, through own group",
        json!({ "action": "claimKeys", "chatId": g, "devices": device(&w.stranger) }),
        "invalid_request",
    ));
    claim.push(one(
        Member,
        "a device, through another group",
        json!({ "action": "claimKeys", "chatId": g2, "devices": device(&w.stranger) }),
        "not_member",
    ));
    m.insert("claimKeys", claim);
    let to = |user: &str| json!([{ "userId": user, "deviceId": "phone", "olmType": 0, "ciphertext": "AwogQmFzZTY0" }]);
    let mut to_device = cases(
        ["ok", "ok", "ok", "not_member", "not_member", DNR, "401"],
        "a member's device, through own group",
        |a| json!({ "action": "sendToDevice", "chatId": g, "messages": to(if a == Admin { &w.member } else { &w.admin }) }),
    );
    to_device.push(one(
        Member,
        "a stranger's device, through own group",
        json!({ "action": "sendToDevice", "chatId": g, "messages": to(&w.stranger) }),
        "invalid_request",
    ));
    to_device.push(one(
        Member,
        "a device, through another group",
        json!({ "action": "sendToDevice", "chatId": g2, "messages": to(&w.stranger) }),
        "not_member",
    ));
    m.insert("sendToDevice", to_device);
    m
}

/// HTTP routes (`METHOD path`): a path per caller, and the status it must get.
fn http_matrix(w: &World) -> BTreeMap<String, Vec<Case>> {
    let (g, g2, x, y) = (&w.group, &w.other_group, &w.attachment, &w.strangers_attachment);
    let mut m = BTreeMap::new();
    let path = |p: String| json!(p);
    let mut post = cases(["201", "201", "201", "403", "403", "403", "403"], "own group", |_| path(format!("/chats/{g}/attachments")));
    post.push(one(Member, "another group", path(format!("/chats/{g2}/attachments")), "403"));
    m.insert("POST /chats/{chatId}/attachments".to_owned(), post);
    let mut get = cases(["200", "200", "200", "200", "403", "403", "403"], "media sent before the removal", |_| {
        path(format!("/chats/{g}/attachments/{x}"))
    });
    get.push(one(Member, "another user's attachment, through own group", path(format!("/chats/{g}/attachments/{y}")), "404"));
    get.push(one(Member, "another user's attachment, in their group", path(format!("/chats/{g2}/attachments/{y}")), "403"));
    m.insert("GET /chats/{chatId}/attachments/{attachmentId}".to_owned(), get);
    m.insert("GET /chats".to_owned(), cases(["200", "200", "200", "200", "200", "403", "403"], "own chats", |_| path("/chats".into())));
    let mut chat = cases(["200", "200", "200", "200", "403", "403", "403"], "own group", |_| path(format!("/chats/{g}")));
    chat.push(one(Member, "another group", path(format!("/chats/{g2}")), "403"));
    m.insert("GET /chats/{chatId}".to_owned(), chat);
    let mut history = cases(["200", "200", "200", "200", "403", "403", "403"], "own group", |_| path(format!("/chats/{g}/messages")));
    history.push(one(Member, "another group", path(format!("/chats/{g2}/messages")), "403"));
    m.insert("GET /chats/{chatId}/messages".to_owned(), history);
    // Anyone registered may upload an avatar of their own; only who may see the profile sees it.
    m.insert(
        "POST /users/me/avatar".to_owned(),
        cases(["201", "201", "201", "201", "201", "403", "403"], "own avatar", |_| path("/users/me/avatar".into())),
    );
    m.insert(
        "GET /users/{userId}/avatar".to_owned(),
        cases(["200", "200", "200", "404", "404", "403", "403"], "the member's avatar", |_| path(format!("/users/{}/avatar", w.member))),
    );
    m.insert(
        "GET /users/{userId}".to_owned(),
        cases(["200", "200", "200", "404", "404", "403", "403"], "the member", |_| path(format!("/users/{}", w.member))),
    );
    m
}

fn outcome_of(reply: &Value) -> String {
    if reply["type"] == "error" { reply["code"].as_str().unwrap_or("?").to_owned() } else { "ok".to_owned() }
}

#[tokio::test]
async fn every_route_refuses_whoever_may_not_use_it() {
    let mut w = world().await;
    let template = Template::load(&repository_template()).unwrap();
    let ws_routes: BTreeSet<String> = template.websocket_api().unwrap().routes.into_iter().map(|r| r.route_key).collect();
    let lookup = |name: &str| template.parameter_default(name);
    let http_routes: BTreeSet<String> =
        template.http_api(&lookup).unwrap().expect("an HTTP API").routes.into_iter().map(|r| format!("{} {}", r.method, r.path)).collect();
    let ws = websocket_matrix(&w);
    let http = http_matrix(&w);
    assert_eq!(
        ws.keys().map(|k| k.to_string()).collect::<BTreeSet<_>>(),
        ws_routes,
        "every WebSocket route of the template has matrix entries"
    );
    assert_eq!(http.keys().cloned().collect::<BTreeSet<_>>(), http_routes, "every HTTP route of the template has matrix entries");

    let mut failures = Vec::new();
    let mut count = 0;
    for (route, cases) in &ws {
        for case in cases {
            count += 1;
            let got = if case.actor == Revoked || *route == "$connect" || *route == "$disconnect" {
                let url = w.system.url_with_token(&w.tokens[&case.actor]);
                let got = match Client::open(&url).await {
                    Err(status) => status.to_string(),
                    Ok(client) if *route == "$disconnect" => {
                        client.close().await;
                        "closed".to_owned()
                    }
                    Ok(client) => {
                        client.close().await;
                        "101".to_owned()
                    }
                };
                // A device holds one socket: the probe replaced the actor's
                // connection, so it connects again for the frames that follow.
                if let (Some(client), true) = (w.clients.get_mut(&case.actor), got == "101" || got == "closed") {
                    *client = Client::open(&url).await.expect("reconnects");
                }
                got
            } else {
                let client = w.clients.get_mut(&case.actor).unwrap();
                outcome_of(&client.request(case.request.clone()).await)
            };
            if got != case.expect {
                failures.push(format!("{route} as {:?} on {}: expected {}, got {got}", case.actor, case.target, case.expect));
            }
        }
    }
    for (route, cases) in &http {
        let method = route.split(' ').next().unwrap();
        for case in cases {
            count += 1;
            let client = Http::new(w.system.http_url(), Some(w.tokens[&case.actor].clone()));
            let path = case.request.as_str().unwrap();
            let reply = if path.ends_with("/avatar") && method == "POST" {
                let bytes = image(64, 3);
                client.post(path, &json!({ "contentType": "image/png", "size": bytes.len(), "sha256": sha256_base64(&bytes) })).await
            } else if method == "POST" {
                client.post(path, &e2e_tests::upload_request(&image(64, 3), "image/png")).await
            } else {
                client.get(path).await
            };
            if reply.status.to_string() != case.expect {
                failures.push(format!(
                    "{route} as {:?} on {}: expected {}, got {} {}",
                    case.actor, case.target, case.expect, reply.status, reply.body
                ));
            }
        }
    }
    println!("authorization matrix: {count} cases over {} WebSocket and {} HTTP routes", ws.len(), http.len());
    assert!(failures.is_empty(), "{} of {count} cases failed:\n{}", failures.len(), failures.join("\n"));

    // What the refused and self-scoped calls must not have touched.
    let admin = w.clients.get_mut(&Admin).unwrap();
    let devices = admin.request(json!({ "action": "listDevices" })).await;
    assert!(
        devices["devices"].as_array().unwrap().iter().any(|d| d["deviceId"] == "tablet"),
        "the admin's tablet is still registered: {devices}"
    );
    let mut tablet = w.system.connect(&w.admin, "tablet").await;
    tablet.sync().await;
    assert_eq!(tablet.messages(1).await[0]["messageId"], w.message_id.as_str(), "others' acks left the tablet's inbox alone");
    let details = Http::new(w.system.http_url(), Some(w.tokens[&Admin].clone())).get(&format!("/chats/{}", w.group)).await.body;
    assert_eq!(details["admins"], json!([w.admin]), "no one but the admin changed the admins: {details}");
}
