//! History, the chat list, chat details and profiles over the HTTP API.

use std::collections::BTreeSet;

use e2e_tests::{Http, RATE_LIMITS_FOR_LOAD, System, number, text, unique};
use serde_json::{Value, json};

fn seqs(page: &Value) -> Vec<u64> {
    page["messages"].as_array().unwrap().iter().map(|m| number(m, "seq")).collect()
}

/// Pages through a chat's history with `first` then `next(page)` until
/// `hasMore` is false; returns every seq in the order received.
async fn walk(http: &Http, chat: &str, first: String, next: impl Fn(&[u64]) -> String) -> Vec<u64> {
    let mut all = Vec::new();
    let mut path = first;
    loop {
        let reply = http.get(&format!("/chats/{chat}/messages{path}")).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        let page = seqs(&reply.body);
        assert!(page.windows(2).all(|w| w[0] < w[1]), "each page is in ascending seq order: {page:?}");
        all.extend(&page);
        if reply.body["hasMore"] != true {
            return all;
        }
        assert!(!page.is_empty(), "a page with more after it is not empty");
        path = next(&page);
    }
}

#[tokio::test]
async fn paging_over_250_messages_returns_each_exactly_once_in_both_directions() {
    let system = System::builder().parameters(&[RATE_LIMITS_FOR_LOAD]).start().await;
    let [alice, bob] = ["alice", "bob"].map(unique);
    let mut alice_ws = system.connect(&alice, "phone").await;
    let chat = alice_ws.chat_with(&[&bob], None).await;
    const TOTAL: u64 = 250;
    for i in 1..=TOTAL {
        let sent = alice_ws.send_message(&chat, &format!("c{i}"), &format!("message {i}")).await;
        assert_eq!(sent["status"], "SUCCESS", "{sent}");
    }
    let http = system.http(&bob);

    // Scrolling up from the newest: each page ends right before the last one began.
    let mut backwards = walk(&http, &chat, "?limit=40".into(), |page| format!("?limit=40&before={}", page[0])).await;
    assert_eq!(backwards.len() as u64, TOTAL, "no message twice");
    backwards.sort_unstable();
    assert_eq!(backwards, (1..=TOTAL).collect::<Vec<_>>(), "every message once");

    // Catching up from the start: each page starts right after the last one ended.
    let forwards = walk(&http, &chat, "?limit=33&after=0".into(), |page| format!("?limit=33&after={}", page[page.len() - 1])).await;
    assert_eq!(forwards, (1..=TOTAL).collect::<Vec<_>>(), "every message once, oldest first");

    // A gap: what lies between two known seqs.
    let gap = http.get(&format!("/chats/{chat}/messages?after=100&before=106")).await;
    assert_eq!(seqs(&gap.body), vec![101, 102, 103, 104, 105]);
    assert_eq!(gap.body["hasMore"], false);
    let newest = http.get(&format!("/chats/{chat}/messages?limit=1")).await;
    assert_eq!(newest.body["messages"][0]["message"], format!("message {TOTAL}"));
    assert_eq!(newest.body["messages"][0]["senderId"], alice.as_str());
    assert!(newest.header("cache-control").contains("private"));

    for bad in ["?limit=0", "?limit=101", "?before=abc", "?after=-1"] {
        let reply = http.get(&format!("/chats/{chat}/messages{bad}")).await;
        assert_eq!((reply.status, text(&reply.body, "code")), (400, "invalid_request"), "{bad}: {}", reply.body);
    }
    let stranger = system.http(&unique("mallory")).get(&format!("/chats/{chat}/messages")).await;
    assert_eq!((stranger.status, text(&stranger.body, "code")), (403, "not_member"));
}

#[tokio::test]
async fn the_chat_list_orders_by_activity_with_previews_unread_counts_and_cursor_pages() {
    let system = System::start().await;
    let [alice, bob, carol] = ["alice", "bob", "carol"].map(unique);
    let mut alice_ws = system.connect(&alice, "phone").await;
    let with_bob = alice_ws.chat_with(&[&bob], None).await;
    let with_carol = alice_ws.chat_with(&[&carol], None).await;
    let group = alice_ws.chat_with(&[&bob, &carol], Some("weekend")).await;
    let mut bob_ws = system.connect(&bob, "phone").await;
    for (chat, text_) in [(&with_bob, "hi bob"), (&group, "plans?"), (&with_carol, "hi carol")] {
        assert_eq!(alice_ws.send_message(chat, &unique("m"), text_).await["status"], "SUCCESS");
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    assert_eq!(bob_ws.send_message(&group, &unique("m"), &format!("@{alice} saturday")).await["status"], "SUCCESS");

    let http = system.http(&alice);
    let list = http.get("/chats").await;
    assert_eq!(list.status, 200, "{}", list.body);
    let chats = list.body["chats"].as_array().unwrap();
    let order: Vec<&str> = chats.iter().map(|c| text(c, "chatId")).collect();
    assert_eq!(order, vec![group.as_str(), with_carol.as_str(), with_bob.as_str()], "most recently active first");
    let first = &chats[0];
    assert_eq!(first["name"], "weekend");
    assert_eq!(first["lastMessage"]["text"], format!("@{alice} saturday"));
    assert_eq!(first["lastMessage"]["senderId"], bob.as_str());
    assert_eq!((number(first, "unreadCount"), number(first, "mentionCount")), (1, 1));
    assert_eq!(chats[1]["lastMessage"]["text"], "hi carol");
    assert_eq!(number(&chats[1], "unreadCount"), 0, "own messages are read");
    let members: BTreeSet<&str> = first["participants"].as_array().unwrap().iter().map(|m| m.as_str().unwrap()).collect();
    assert_eq!(members, BTreeSet::from([alice.as_str(), bob.as_str(), carol.as_str()]));

    // The same list in pages of two.
    let page1 = http.get("/chats?limit=2").await;
    let cursor = text(&page1.body, "nextCursor").to_owned();
    let page2 = http.get(&format!("/chats?limit=2&cursor={cursor}")).await;
    assert!(page2.body["nextCursor"].is_null(), "{}", page2.body);
    let paged: Vec<String> = [&page1, &page2]
        .iter()
        .flat_map(|p| p.body["chats"].as_array().unwrap().iter().map(|c| text(c, "chatId").to_owned()).collect::<Vec<_>>())
        .collect();
    assert_eq!(paged, order);
    assert_eq!(http.get("/chats?cursor=bogus").await.status, 400);

    // Bob's view: one unread in the 1-1, the group read up to his own message.
    let bobs = system.http(&bob).get("/chats").await;
    let bob_dm = bobs.body["chats"].as_array().unwrap().iter().find(|c| c["chatId"] == with_bob.as_str()).cloned().unwrap();
    assert_eq!(number(&bob_dm, "unreadCount"), 1);
    assert_eq!(bob_dm["lastMessage"]["text"], "hi bob");
}

#[tokio::test]
async fn removed_and_late_members_see_only_their_part_and_strangers_see_nothing() {
    let system = System::start().await;
    let [admin, b, c, late, stranger] = ["admin", "b", "c", "late", "stranger"].map(unique);
    let mut admin_ws = system.connect(&admin, "phone").await;
    let chat = admin_ws.chat_with(&[&b, &c], Some("club")).await;
    let modify =
        |user: &str, operation: &str| json!({ "action": "modifyChatParticipants", "chatId": chat, "userId": user, "operation": operation });
    for i in 0..3 {
        admin_ws.send_message(&chat, &unique("m"), &format!("before {i}")).await;
    }
    let removed_at = number(&admin_ws.request(modify(&c, "REMOVE")).await, "seq");
    system.sign_up(&[&late]).await;
    let joined_at = number(&admin_ws.request(modify(&late, "ADD")).await, "seq");
    for i in 0..2 {
        admin_ws.send_message(&chat, &unique("m"), &format!("after {i}")).await;
    }
    let all = seqs(&system.http(&b).get(&format!("/chats/{chat}/messages")).await.body);
    let last = *all.last().unwrap();

    let c_view = system.http(&c).get(&format!("/chats/{chat}/messages")).await;
    assert_eq!(c_view.status, 200);
    assert!(seqs(&c_view.body).iter().all(|s| *s <= removed_at), "nothing after the removal: {}", c_view.body);
    assert_eq!(seqs(&c_view.body).len(), 3);
    let late_view = seqs(&system.http(&late).get(&format!("/chats/{chat}/messages")).await.body);
    assert_eq!(late_view, ((joined_at + 1)..=last).collect::<Vec<_>>(), "only what came after joining");

    let details = system.http(&c).get(&format!("/chats/{chat}")).await;
    assert_eq!(details.status, 200, "{}", details.body);
    assert_eq!(number(&details.body, "removedAtSeq"), removed_at);
    assert_eq!(details.body["createdBy"], admin.as_str());
    let member_details = system.http(&b).get(&format!("/chats/{chat}")).await;
    assert_eq!(member_details.body["admins"], json!([admin]));
    assert_eq!(number(&member_details.body, "lastSeq"), last);

    let outsider = system.http(&stranger);
    assert_eq!(outsider.get(&format!("/chats/{chat}")).await.status, 403);
    assert_eq!(outsider.get(&format!("/chats/{chat}/messages?after=0")).await.status, 403);
    assert_eq!(outsider.get("/chats").await.body["chats"], json!([]));

    // Profiles: oneself and people one shares a chat with; nobody else.
    let profile = system.http(&b).get(&format!("/users/{admin}")).await;
    assert_eq!(profile.status, 200, "{}", profile.body);
    assert_eq!((profile.body["userId"].as_str(), profile.body["online"].as_bool()), (Some(admin.as_str()), Some(true)));
    assert_eq!(number(&profile.body, "chatsInCommon"), 1);
    assert_eq!(outsider.get(&format!("/users/{admin}")).await.status, 404);
    assert_eq!(outsider.get(&format!("/users/{stranger}")).await.status, 200);
    assert_eq!(system.http(&c).get(&format!("/users/{b}")).await.status, 404, "a removed member shares no chat any more");
    assert_eq!(outsider.get("/users/bad%23id").await.status, 400);
}
