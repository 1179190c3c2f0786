//! Read state: unread counts that count messages only, read markers that
//! only move forward, receipts to senders and read syncs to one's devices.

use serde_json::json;

use super::{World, request};
use crate::auth::Identity;
use crate::protocol::{ChatSummary, ServerFrame};

async fn read_up_to(world: &World, who: &Identity, chat: &str, seq: u64) -> u64 {
    match super::super::mark_read(world.ctx(), who, request(json!({ "chatId": chat, "upToSeq": seq }))).await.unwrap() {
        ServerFrame::MarkedRead { last_read, .. } => last_read,
        other => panic!("{other:?}"),
    }
}

async fn summary(world: &World, user: &str, chat: &str) -> ChatSummary {
    let summaries = super::super::chat_summaries(world.ctx(), user).await.unwrap();
    summaries.into_iter().find(|s| s.chat_id == chat).expect("the chat is listed")
}

#[tokio::test]
async fn unread_counts_fall_as_the_member_reads() {
    let world = World::new();
    let (alice, bob) = (world.person("alice").await, world.person("bob").await);
    let chat = world.direct(&alice, "bob").await;
    let first = world.sent(&alice, &chat, "1").await;
    world.sent(&alice, &chat, "2").await;
    world.sent(&alice, &chat, "3").await;
    assert_eq!(summary(&world, "bob", &chat).await.unread_count, 3);
    read_up_to(&world, &bob, &chat, first).await;
    assert_eq!(summary(&world, "bob", &chat).await.unread_count, 2);
    assert_eq!(summary(&world, "alice", &chat).await.unread_count, 0, "one's own messages are read");
}

#[tokio::test]
async fn reactions_and_edits_are_not_unread_messages() {
    let world = World::new();
    let (alice, bob) = (world.person("alice").await, world.person("bob").await);
    let chat = world.direct(&alice, "bob").await;
    let seq = world.sent(&bob, &chat, "from bob").await;
    read_up_to(&world, &alice, &chat, seq).await;
    super::super::react(world.ctx(), &bob, request(json!({ "chatId": chat, "seq": seq, "emoji": "👍" }))).await.unwrap();
    super::super::edit_message(world.ctx(), &bob, request(json!({ "chatId": chat, "seq": seq, "message": "edited" }))).await.unwrap();
    assert_eq!(summary(&world, "alice", &chat).await.unread_count, 0);
}

#[tokio::test]
async fn a_read_marker_never_moves_back_nor_past_the_chat() {
    let world = World::new();
    let (alice, bob) = (world.person("alice").await, world.person("bob").await);
    let chat = world.direct(&alice, "bob").await;
    world.sent(&alice, &chat, "1").await;
    let last = world.sent(&alice, &chat, "2").await;
    assert_eq!(read_up_to(&world, &bob, &chat, 1_000).await, last, "clamped to the chat's last seq");
    assert_eq!(read_up_to(&world, &bob, &chat, 1).await, last, "not moved back");
}

#[tokio::test]
async fn reading_tells_the_sender_and_the_readers_other_devices() {
    let world = World::new();
    let (alice, bob) = (world.person("alice").await, world.person("bob").await);
    let laptop = world.device("bob", "laptop").await;
    let chat = world.direct(&alice, "bob").await;
    super::super::accept_chat(world.ctx(), &bob, request(json!({ "chatId": chat }))).await.unwrap();
    let seq = world.sent(&alice, &chat, "seen?").await;
    read_up_to(&world, &bob, &chat, seq).await;
    let receipt = world.received(&alice).into_iter().find(|f| f["type"] == "receipt").expect("alice hears bob read it");
    assert_eq!((receipt["status"].as_str(), receipt["upToSeq"].as_u64()), (Some("read"), Some(seq)));
    let sync = world.received(&laptop).into_iter().find(|f| f["type"] == "readSync").expect("bob's laptop follows");
    assert_eq!(sync["upToSeq"].as_u64(), Some(seq));
    assert!(!world.kinds(&bob).contains(&"readSync".to_owned()), "the reading device knows");
}

#[tokio::test]
async fn reading_a_request_tells_its_sender_nothing() {
    let world = World::new();
    let (alice, bob) = (world.person("alice").await, world.person("bob").await);
    let chat = world.direct(&alice, "bob").await;
    let seq = world.sent(&alice, &chat, "hi stranger").await;
    read_up_to(&world, &bob, &chat, seq).await;
    assert!(!world.kinds(&alice).contains(&"receipt".to_owned()), "{:?}", world.kinds(&alice));
}

#[tokio::test]
async fn mentions_are_counted_until_read() {
    let world = World::new();
    let (alice, bob) = (world.person("alice").await, world.person("bob").await);
    let group = world.group(&alice, &["bob"]).await;
    let seq = world.sent(&alice, &group, "@bob your turn").await;
    assert_eq!(summary(&world, "bob", &group).await.mention_count, 1);
    read_up_to(&world, &bob, &group, seq).await;
    assert_eq!(summary(&world, "bob", &group).await.mention_count, 0);
}

#[tokio::test]
async fn a_removed_member_keeps_the_chat_with_what_they_could_see() {
    let world = World::new();
    let alice = world.person("alice").await;
    world.person("bob").await;
    let group = world.group(&alice, &["bob"]).await;
    let seen = world.sent(&alice, &group, "before").await;
    let remove = json!({ "chatId": group, "userId": "bob", "operation": "REMOVE" });
    super::super::modify_participants(world.ctx(), &alice, request(remove)).await.unwrap();
    world.sent(&alice, &group, "after").await;
    let bob = summary(&world, "bob", &group).await;
    assert_eq!(bob.removed_at_seq.map(|r| r >= seen), Some(true));
    assert_eq!(bob.unread_count, 1, "only the message from before the removal");
    assert_eq!(bob.last_seq, bob.removed_at_seq.unwrap(), "the list shows the chat as it was");
}

#[tokio::test]
async fn a_muted_chat_is_listed_as_muted_until_unmuted() {
    let world = World::new();
    let alice = world.person("alice").await;
    let chat = world.direct(&alice, "bob").await;
    let mute = |muted: bool| super::super::mute_chat(world.ctx(), &alice, request(json!({ "chatId": chat, "muted": muted })));
    mute(true).await.unwrap();
    assert!(summary(&world, "alice", &chat).await.muted);
    assert!(!summary(&world, "bob", &chat).await.muted, "muting is the caller's own");
    mute(false).await.unwrap();
    assert!(!summary(&world, "alice", &chat).await.muted);
    let eve = world.person("eve").await;
    let by_eve = super::super::mute_chat(world.ctx(), &eve, request(json!({ "chatId": chat, "muted": true }))).await;
    assert_eq!(super::code(by_eve), "not_member");
}

async fn delete(world: &World, who: &Identity, chat: &str) -> Result<ServerFrame, crate::error::AppError> {
    super::super::delete_chat(world.ctx(), who, request(json!({ "chatId": chat }))).await
}

/// The texts the user's history of the chat holds, oldest first.
async fn history_texts(world: &World, user: &str, chat: &str) -> Vec<String> {
    let page = crate::history::messages_page(world.ctx(), user, chat, crate::history::HistoryQuery::default()).await.unwrap();
    page.messages.iter().map(|m| m.message.clone()).collect()
}

#[tokio::test]
async fn a_deleted_request_leaves_the_list_and_history_until_a_new_message_brings_it_back() {
    let world = World::new();
    let alice = world.person("alice").await;
    let (bob, bobs_laptop) = (world.person("bob").await, world.device("bob", "laptop").await);
    let chat = world.direct(&alice, "bob").await;
    world.sent(&alice, &chat, "buy cheap watches").await;
    world.sent(&alice, &chat, "@bob hello?").await;
    delete(&world, &bob, &chat).await.expect("bob deletes the request");
    let listed = super::super::chat_summaries(world.ctx(), "bob").await.unwrap();
    assert!(listed.iter().all(|s| s.chat_id != chat), "gone from bob's list: {listed:?}");
    assert!(history_texts(&world, "bob", &chat).await.is_empty(), "and from his history");
    assert_eq!(history_texts(&world, "alice", &chat).await, ["buy cheap watches", "@bob hello?"], "alice keeps hers");
    let told = world.received(&bobs_laptop).into_iter().find(|f| f["type"] == "chatDeleted").expect("bob's laptop is told");
    assert_eq!(told["chatId"], chat.as_str());

    world.sent(&alice, &chat, "last chance").await;
    let back = summary(&world, "bob", &chat).await;
    assert!(back.request, "still a request");
    assert_eq!((back.unread_count, back.mention_count), (1, 0), "only the new message is unread");
    let page = crate::history::chats_page(world.ctx(), "bob", None, None).await.unwrap();
    let preview = page.chats.iter().find(|c| c.chat_id == chat).and_then(|c| c.last_message.clone()).map(|m| m.text);
    assert_eq!(preview.as_deref(), Some("last chance"), "its preview is the new message");
    assert_eq!(history_texts(&world, "bob", &chat).await, ["last chance"], "only what came after");
}

#[tokio::test]
async fn a_group_is_deleted_only_once_left_and_only_by_a_member() {
    let world = World::new();
    let (alice, bob, mallory) = (world.person("alice").await, world.person("bob").await, world.person("mallory").await);
    let group = world.group(&alice, &["bob"]).await;
    world.sent(&alice, &group, "welcome").await;
    assert_eq!(super::code(delete(&world, &bob, &group).await), "invalid_request", "a member leaves first");
    assert_eq!(history_texts(&world, "bob", &group).await, ["welcome"], "the refusal changed nothing");
    assert_eq!(super::code(delete(&world, &mallory, &group).await), "not_member");
    let leave = json!({ "chatId": group, "userId": "bob", "operation": "REMOVE" });
    super::super::modify_participants(world.ctx(), &bob, request(leave)).await.expect("bob leaves");
    assert!(
        super::super::chat_summaries(world.ctx(), "bob").await.unwrap().iter().any(|s| s.chat_id == group),
        "a left group stays listed"
    );
    delete(&world, &bob, &group).await.expect("then deletes it");
    world.sent(&alice, &group, "bye bob").await;
    assert!(super::super::chat_summaries(world.ctx(), "bob").await.unwrap().iter().all(|s| s.chat_id != group), "and it never comes back");
    assert!(history_texts(&world, "bob", &group).await.is_empty());
}
