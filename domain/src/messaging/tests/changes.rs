//! Edits, deletions and reactions: who may make them, and what every member
//! sees afterwards.

use serde_json::json;

use super::{World, code, request};
use crate::auth::Identity;
use crate::error::AppError;
use crate::fakes::{Fakes, config};
use crate::protocol::ServerFrame;

async fn edit(world: &World, by: &Identity, chat: &str, seq: u64, text: &str) -> Result<ServerFrame, AppError> {
    super::super::edit_message(world.ctx(), by, request(json!({ "chatId": chat, "seq": seq, "message": text }))).await
}

async fn delete(world: &World, by: &Identity, chat: &str, seq: u64, for_everyone: bool) -> Result<ServerFrame, AppError> {
    super::super::delete_message(world.ctx(), by, request(json!({ "chatId": chat, "seq": seq, "forEveryone": for_everyone }))).await
}

async fn react(world: &World, by: &Identity, chat: &str, seq: u64, emoji: Option<&str>) -> Result<ServerFrame, AppError> {
    super::super::react(world.ctx(), by, request(json!({ "chatId": chat, "seq": seq, "emoji": emoji }))).await
}

async fn text_of(world: &World, chat: &str, seq: u64) -> String {
    world.ctx().store.get_message(chat, seq).await.unwrap().expect("a message").message
}

#[tokio::test]
async fn only_the_sender_edits_and_everyone_sees_the_new_text() {
    let world = World::new();
    let (alice, bob) = (world.person("alice").await, world.person("bob").await);
    let group = world.group(&alice, &["bob"]).await;
    let seq = world.sent(&alice, &group, "helo").await;
    assert_eq!(code(edit(&world, &bob, &group, seq, "hijacked").await), "forbidden");
    edit(&world, &alice, &group, seq, "hello").await.unwrap();
    assert_eq!(text_of(&world, &group, seq).await, "hello");
    let change = world.received(&bob).into_iter().find(|f| f["type"] == "messageChanged").expect("bob hears of the edit");
    assert_eq!(
        (change["targetSeq"].as_u64(), change["change"].as_str(), change["message"].as_str()),
        (Some(seq), Some("edited"), Some("hello"))
    );
}

#[tokio::test]
async fn an_edit_takes_the_next_seq_and_is_not_an_unread_message() {
    let world = World::new();
    let alice = world.person("alice").await;
    let group = world.group(&alice, &["bob"]).await;
    let seq = world.sent(&alice, &group, "first").await;
    let change_seq = match edit(&world, &alice, &group, seq, "first!").await.unwrap() {
        ServerFrame::MessageChanged(change) => change.seq,
        other => panic!("{other:?}"),
    };
    assert_eq!(change_seq, seq + 1);
    let chat = world.ctx().store.get_chat(&group).await.unwrap().unwrap();
    let bob = world.ctx().store.membership("bob", &group).await.unwrap().unwrap();
    assert_eq!(bob.unread(chat.seq, chat.events, &chat.holes), 1, "one message, the edit not counted");
}

#[tokio::test]
async fn an_edit_needs_text_within_the_size_limit() {
    let world = World::with(Fakes::with_config(config(&[("MAX_MESSAGE_BYTES", "8")])));
    let alice = world.person("alice").await;
    let group = world.group(&alice, &["bob"]).await;
    let seq = world.sent(&alice, &group, "short").await;
    assert_eq!(code(edit(&world, &alice, &group, seq, "   ").await), "invalid_request");
    assert_eq!(code(edit(&world, &alice, &group, seq, "much longer").await), "message_too_long");
    assert_eq!(text_of(&world, &group, seq).await, "short", "unchanged");
}

#[tokio::test]
async fn a_deletion_for_everyone_leaves_no_content_and_cannot_be_edited() {
    let world = World::new();
    let (alice, bob) = (world.person("alice").await, world.person("bob").await);
    let group = world.group(&alice, &["bob"]).await;
    let seq = world.sent(&alice, &group, "oops @bob").await;
    react(&world, &bob, &group, seq, Some("😂")).await.unwrap();
    delete(&world, &alice, &group, seq, true).await.unwrap();
    let gone = world.ctx().store.get_message(&group, seq).await.unwrap().unwrap();
    assert_eq!(gone.message, "");
    assert!(gone.deleted.is_some() && gone.reactions.is_empty() && gone.mentions.is_empty(), "{gone:?}");
    assert_eq!(code(edit(&world, &alice, &group, seq, "back").await), "invalid_request");
}

#[tokio::test]
async fn a_quote_of_a_message_deleted_for_everyone_shows_no_snippet() {
    let world = World::new();
    let (alice, bob) = (world.person("alice").await, world.person("bob").await);
    let chat = world.direct(&alice, "bob").await;
    let seq = world.sent(&alice, &chat, "secret").await;
    let frame = json!({ "chatId": chat, "clientMessageId": "q", "message": "what?", "replyTo": seq });
    let reply_seq = match super::super::send_message(world.ctx(), &bob, request(frame)).await.unwrap() {
        ServerFrame::SendResult { seq, .. } => seq,
        other => panic!("{other:?}"),
    };
    delete(&world, &alice, &chat, seq, true).await.unwrap();
    let page = crate::history::messages_page(world.ctx(), "bob", &chat, Default::default()).await.unwrap();
    let reply = page.messages.iter().find(|m| m.seq == reply_seq).expect("the reply is in history");
    let quote = reply.reply_to.as_ref().expect("it still says what it answered");
    assert!(quote.deleted && quote.snippet.is_empty(), "{quote:?}");
}

#[tokio::test]
async fn only_the_sender_or_a_group_admin_deletes_for_everyone() {
    let world = World::new();
    let (alice, bob, carol) = (world.person("alice").await, world.person("bob").await, world.person("carol").await);
    let group = world.group(&alice, &["bob", "carol"]).await;
    let by_bob = world.sent(&bob, &group, "bob's").await;
    assert_eq!(code(delete(&world, &carol, &group, by_bob, true).await), "forbidden");
    delete(&world, &alice, &group, by_bob, true).await.expect("the admin may");
}

#[tokio::test]
async fn a_deletion_for_me_hides_it_from_me_alone() {
    let world = World::new();
    let (alice, bob) = (world.person("alice").await, world.person("bob").await);
    let group = world.group(&alice, &["bob"]).await;
    let seq = world.sent(&alice, &group, "keep for bob").await;
    let reply = delete(&world, &bob, &group, seq, false).await.unwrap();
    assert!(matches!(reply, ServerFrame::MessageHidden { seq: s, .. } if s == seq), "{reply:?}");
    assert!(world.ctx().store.membership("bob", &group).await.unwrap().unwrap().has_hidden(seq));
    assert!(!world.ctx().store.membership("alice", &group).await.unwrap().unwrap().has_hidden(seq));
    assert_eq!(text_of(&world, &group, seq).await, "keep for bob", "the message itself is untouched");
}

#[tokio::test]
async fn one_reaction_per_person_replaced_or_taken_back() {
    let world = World::new();
    let (alice, bob) = (world.person("alice").await, world.person("bob").await);
    let chat = world.direct(&alice, "bob").await;
    let seq = world.sent(&alice, &chat, "news").await;
    react(&world, &bob, &chat, seq, Some("👍")).await.unwrap();
    react(&world, &bob, &chat, seq, Some("🎉")).await.unwrap();
    react(&world, &alice, &chat, seq, Some("🎉")).await.unwrap();
    let reactions = world.ctx().store.get_message(&chat, seq).await.unwrap().unwrap().reactions;
    assert_eq!(reactions.len(), 1);
    assert_eq!((reactions[0].emoji.as_str(), reactions[0].count), ("🎉", 2));
    react(&world, &bob, &chat, seq, None).await.unwrap();
    let reactions = world.ctx().store.get_message(&chat, seq).await.unwrap().unwrap().reactions;
    assert_eq!(reactions[0].users, ["alice"]);
}

#[tokio::test]
async fn a_reaction_is_one_emoji() {
    let world = World::new();
    let alice = world.person("alice").await;
    let chat = world.direct(&alice, "bob").await;
    let seq = world.sent(&alice, &chat, "x").await;
    for bad in ["ok", "👍👍 ", "a👍", "1"] {
        assert_eq!(code(react(&world, &alice, &chat, seq, Some(bad)).await), "invalid_request", "{bad:?}");
    }
    react(&world, &alice, &chat, seq, Some("👍🏽")).await.expect("a modifier belongs to its emoji");
}

#[tokio::test]
async fn changing_a_message_that_is_not_there_is_refused() {
    let world = World::new();
    let (alice, eve) = (world.person("alice").await, world.person("eve").await);
    let chat = world.direct(&alice, "bob").await;
    let seq = world.sent(&alice, &chat, "x").await;
    assert_eq!(code(edit(&world, &alice, &chat, seq + 5, "y").await), "invalid_request", "no message there");
    assert_eq!(code(react(&world, &eve, &chat, seq, Some("👍")).await), "not_member");
}

#[tokio::test]
async fn a_retried_edit_takes_no_new_seq() {
    let world = World::new();
    let alice = world.person("alice").await;
    let chat = world.direct(&alice, "bob").await;
    let seq = world.sent(&alice, &chat, "draft").await;
    edit(&world, &alice, &chat, seq, "final").await.unwrap();
    edit(&world, &alice, &chat, seq, "final").await.unwrap();
    assert_eq!(world.ctx().store.get_chat(&chat).await.unwrap().unwrap().seq, seq + 1);
}
