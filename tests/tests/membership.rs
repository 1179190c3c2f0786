//! Membership changes as the members see them: removed members' badges and
//! frozen views, rejoining, new chats reaching every device (issue 10).

use std::time::Duration;

use e2e_tests::{System, eventually, image, modify_participants, number, text, unique, upload};
use serde_json::json;

/// Defect 5: a member removed at seq 3 of 5 could not mark anything read.
#[tokio::test]
async fn a_removed_member_clears_their_unread_badge_up_to_the_removal() {
    let system = System::start().await;
    let [admin, bob, carol] = ["admin", "bob", "carol"].map(unique);
    let mut a = system.connect(&admin, "phone").await;
    let mut b = system.connect(&bob, "phone").await;
    let chat = a.chat_with(&[&bob, &carol], Some("badge")).await;
    for i in 1..=3 {
        a.send_message(&chat, &format!("m{i}"), "before").await;
    }
    assert_eq!(number(&modify_participants(&mut a, &chat, &bob, "REMOVE").await, "seq"), 3);
    for i in 4..=5 {
        a.send_message(&chat, &format!("m{i}"), "after").await;
    }
    let marked = b.request(json!({ "action": "markRead", "chatId": chat, "upToSeq": 5 })).await;
    assert_eq!(marked["lastRead"], 3, "{marked}");
    let chats = b.request(json!({ "action": "listChats" })).await;
    let summary = chats["chats"].as_array().unwrap().iter().find(|c| c["chatId"] == chat.as_str()).unwrap().clone();
    assert_eq!((summary["unreadCount"].as_u64(), summary["lastSeq"].as_u64()), (Some(0), Some(3)), "{summary}");
}

/// Defect 10: reads after removal showed the chat's present; a member added
/// back lost what they had seen; a file sent again was refused to newer members.
#[tokio::test]
async fn removal_freezes_the_view_and_rejoining_keeps_what_was_seen() {
    let system = System::start().await;
    let [admin, bob, carol] = ["admin", "bob", "carol"].map(unique);
    let mut a = system.connect(&admin, "phone").await;
    let chat = a.chat_with(&[&bob], Some("frozen")).await;
    a.send_message(&chat, "m1", "one").await;
    let photo = upload(&system.http(&admin), &chat, &image(4096, 1)).await;
    let first = a
        .request(json!({ "action": "sendMessage", "chatId": chat, "clientMessageId": "p1", "message": "pic", "attachments": [photo] }))
        .await;
    assert_eq!(first["seq"], 2);
    modify_participants(&mut a, &chat, &bob, "REMOVE").await;
    let at_removal = system.http(&bob).get(&format!("/chats/{chat}")).await.body;
    modify_participants(&mut a, &chat, &carol, "ADD").await;
    let renamed = a.request(json!({ "action": "updateChat", "chatId": chat, "name": "renamed", "description": "after bob" })).await;
    assert_eq!(renamed["type"], "chatInfo", "{renamed}");
    eventually("time moves", || async { domain::time::now_millis() > number(&at_removal, "lastActiveAt") + 5 }).await;
    a.send_message(&chat, "m3", "three").await;

    let details = system.http(&bob).get(&format!("/chats/{chat}")).await.body;
    assert_eq!(details["participants"], json!([admin]), "members at the removal, not carol: {details}");
    assert_eq!(details["admins"], json!([admin]));
    assert_eq!(details["lastActiveAt"], at_removal["lastActiveAt"], "activity frozen at the removal");
    assert_eq!((details["name"].as_str(), details.get("description")), (Some("frozen"), None), "the name he knew: {details}");
    let listed = system.http(&bob).get("/chats").await.body;
    let in_list = listed["chats"].as_array().unwrap().iter().find(|c| c["chatId"] == chat.as_str()).unwrap().clone();
    assert_eq!(in_list["name"], "frozen", "{in_list}");
    let mut b = system.connect(&bob, "phone").await;
    let listed = b.request(json!({ "action": "listChats" })).await;
    let summary = listed["chats"].as_array().unwrap().iter().find(|c| c["chatId"] == chat.as_str()).unwrap().clone();
    assert_eq!(summary["participants"], json!([admin]));
    assert_eq!(summary["lastActiveAt"], at_removal["lastActiveAt"]);
    assert_eq!(summary["name"], "frozen", "{summary}");

    // Carol joined after the photo: she cannot see it, until it is sent again.
    let carol_http = system.http(&carol);
    assert_eq!(carol_http.get(&format!("/chats/{chat}/attachments/{photo}")).await.status, 403);
    let again = a
        .request(json!({ "action": "sendMessage", "chatId": chat, "clientMessageId": "p2", "message": "again", "attachments": [photo] }))
        .await;
    assert_eq!(again["status"], "SUCCESS", "{again}");
    assert_eq!(carol_http.get(&format!("/chats/{chat}/attachments/{photo}")).await.status, 200);

    // Bob, added back, sees 1-2 and what comes after his return, not 3-4.
    modify_participants(&mut a, &chat, &bob, "ADD").await;
    a.send_message(&chat, "m5", "five").await;
    let page = system.http(&bob).get(&format!("/chats/{chat}/messages")).await.body;
    let seqs: Vec<u64> = page["messages"].as_array().unwrap().iter().map(|m| number(m, "seq")).collect();
    assert_eq!(seqs, [1, 2, 5], "{page}");
    let details = system.http(&bob).get(&format!("/chats/{chat}")).await.body;
    assert_eq!(
        (details["name"].as_str(), details["description"].as_str()),
        (Some("renamed"), Some("after bob")),
        "a member again: {details}"
    );
    let forward = system.http(&bob).get(&format!("/chats/{chat}/messages?after=0&limit=2")).await.body;
    let seqs: Vec<u64> = forward["messages"].as_array().unwrap().iter().map(|m| number(m, "seq")).collect();
    assert_eq!((seqs, forward["hasMore"].as_bool()), (vec![1, 2], Some(true)));
    assert_eq!(system.http(&bob).get(&format!("/chats/{chat}/attachments/{photo}")).await.status, 200, "his earlier media too");
}

/// Defect 7: members learned of a new chat only at its first message.
#[tokio::test]
async fn every_member_device_hears_of_a_new_chat_live_or_on_sync() {
    let system = System::start().await;
    let [alice, bob, carol] = ["alice", "bob", "carol"].map(unique);
    let mut a_phone = system.connect(&alice, "phone").await;
    let mut a_laptop = system.connect(&alice, "laptop").await;
    let mut b = system.connect(&bob, "phone").await;
    system.connect(&carol, "phone").await.close().await;
    let created = a_phone.create_chat(&[&bob, &carol], Some("Trip")).await;
    let chat = text(&created, "chatId");

    for client in [&mut b, &mut a_laptop] {
        let notice = client.frames_of("newChat", 1).await.remove(0);
        assert_eq!(notice["chatId"], chat);
        assert_eq!(notice["name"], "Trip");
        assert_eq!(notice["createdBy"], alice.as_str());
        assert_eq!(notice["participants"].as_array().unwrap().len(), 3);
    }
    let mut c = system.connect(&carol, "phone").await;
    c.sync().await;
    assert_eq!(c.frames_of("newChat", 1).await[0]["chatId"], chat, "offline members get it on sync");
    // Finding the existing 1-1 again is no new chat.
    let direct = a_phone.chat_with(&[&bob], None).await;
    b.frames_of("newChat", 1).await;
    assert_eq!(a_phone.create_chat(&[&bob], None).await["created"], false);
    b.send_message(&direct, "x", "ping").await;
    let frames = b.drain(Duration::from_millis(300)).await;
    assert!(!frames.iter().any(|f| f["type"] == "newChat"), "{frames:?}");
}

/// The texts of a user's history of a chat, oldest first, over HTTP.
async fn history_texts(system: &System, user: &str, chat: &str) -> Vec<String> {
    let page = system.http(user).get(&format!("/chats/{chat}/messages")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    page.body["messages"].as_array().unwrap().iter().map(|m| m["message"].as_str().unwrap_or_default().to_owned()).collect()
}

async fn listed(system: &System, user: &str) -> Vec<String> {
    let list = system.http(user).get("/chats").await;
    list.body["chats"].as_array().unwrap().iter().map(|c| c["chatId"].as_str().unwrap().to_owned()).collect()
}

/// A message request declined by deleting it: gone from the recipient's list
/// and history (and their other device's, told live), kept by the sender;
/// a later message brings it back holding only that. A removed member
/// deletes the group for good; a member still in it is told to leave first.
#[tokio::test]
async fn a_deleted_request_or_left_group_goes_from_the_list_and_history() {
    let system = System::start().await;
    let [alice, bob] = ["alice", "bob"].map(unique);
    let mut a = system.connect(&alice, "phone").await;
    let mut b = system.connect(&bob, "phone").await;
    let mut laptop = system.connect(&bob, "laptop").await;
    let chat = a.chat_with(&[&bob], None).await;
    a.send_message(&chat, "s1", "win a prize").await;
    b.messages(1).await;
    let deleted = b.request(json!({ "action": "deleteChat", "chatId": chat })).await;
    assert_eq!(deleted["type"], "chatDeleted", "{deleted}");
    assert_eq!(deleted["throughSeq"], 1, "{deleted}");
    let told = laptop.wait_for(|f| f["type"] == "chatDeleted").await;
    assert_eq!(told["chatId"], chat.as_str());
    assert!(!listed(&system, &bob).await.contains(&chat), "gone from bob's list");
    assert!(history_texts(&system, &bob, &chat).await.is_empty(), "and from his history");
    assert_eq!(history_texts(&system, &alice, &chat).await, ["win a prize"], "alice keeps hers, not told");

    a.send_message(&chat, "s2", "really?").await;
    b.messages(1).await;
    let list = system.http(&bob).get("/chats").await.body;
    let back = list["chats"].as_array().unwrap().iter().find(|c| c["chatId"] == chat.as_str()).cloned().expect("back in bob's list");
    assert_eq!((back["request"].as_bool(), back["unreadCount"].as_u64()), (Some(true), Some(1)), "{back}");
    assert_eq!(history_texts(&system, &bob, &chat).await, ["really?"], "holding only what came after");

    let group = a.chat_with(&[&bob], Some("club")).await;
    a.send_message(&group, "g1", "welcome").await;
    let refused = b.request(json!({ "action": "deleteChat", "chatId": group })).await;
    assert_eq!(refused["code"], "invalid_request", "{refused}");
    assert_eq!(modify_participants(&mut b, &group, &bob, "REMOVE").await["type"], "participantsModified");
    assert!(listed(&system, &bob).await.contains(&group), "a left group stays listed");
    assert_eq!(b.request(json!({ "action": "deleteChat", "chatId": group })).await["type"], "chatDeleted");
    a.send_message(&group, "g2", "bob left").await;
    assert!(!listed(&system, &bob).await.contains(&group), "deleted for good");
}
