//! Group membership: who may change it, and that what a member receives
//! follows it — nothing from before they joined, nothing after they left.

use serde_json::json;

use super::{World, code, request};
use crate::auth::Identity;
use crate::error::AppError;
use crate::fakes::{Fakes, config};
use crate::protocol::ServerFrame;

/// A membership change; whoever is added signed up before, as anyone one can add has.
async fn modify(world: &World, by: &Identity, chat: &str, user: &str, operation: &str) -> Result<ServerFrame, AppError> {
    if operation == "ADD" {
        world.signed_up(&[user]).await;
    }
    let frame = json!({ "chatId": chat, "userId": user, "operation": operation });
    super::super::modify_participants(world.ctx(), by, request(frame)).await
}

async fn admins(world: &World, chat: &str) -> Vec<String> {
    world.ctx().store.get_chat(chat).await.unwrap().unwrap().admins
}

#[tokio::test]
async fn only_admins_add_members() {
    let world = World::new();
    let (alice, bob) = (world.person("alice").await, world.person("bob").await);
    let group = world.group(&alice, &["bob"]).await;
    assert_eq!(code(modify(&world, &bob, &group, "carol", "ADD").await), "forbidden");
    modify(&world, &alice, &group, "carol", "ADD").await.expect("the creator is an admin");
    assert!(world.ctx().store.get_chat(&group).await.unwrap().unwrap().is_member("carol"));
}

#[tokio::test]
async fn someone_who_never_signed_in_cannot_be_added_and_nothing_changes() {
    let world = World::new();
    let alice = world.person("alice").await;
    let group = world.group(&alice, &["bob"]).await;
    let before = world.ctx().store.get_chat(&group).await.unwrap().unwrap();
    let frame = json!({ "chatId": group, "userId": "nobody", "operation": "ADD" });
    let refused = super::super::modify_participants(world.ctx(), &alice, request(frame)).await;
    assert_eq!(code(refused), "unknown_user");
    let after = world.ctx().store.get_chat(&group).await.unwrap().unwrap();
    assert_eq!((after.members, after.seq), (before.members, before.seq), "no member, no change in the chat");
}

#[tokio::test]
async fn a_removed_member_gets_nothing_sent_after_the_removal() {
    let world = World::new();
    let (alice, bob) = (world.person("alice").await, world.person("bob").await);
    let group = world.group(&alice, &["bob"]).await;
    world.sent(&alice, &group, "before").await;
    modify(&world, &alice, &group, "bob", "REMOVE").await.unwrap();
    world.sent(&alice, &group, "after").await;
    assert_eq!(world.texts(&bob), ["before"], "live");
    assert_eq!(world.inbox_texts(&bob), ["before"], "nor waiting in the inbox");
    assert_eq!(code(world.send(&bob, &group, "still here?").await), "not_member");
}

#[tokio::test]
async fn the_removed_member_is_told_of_their_removal() {
    let world = World::new();
    let (alice, bob) = (world.person("alice").await, world.person("bob").await);
    let group = world.group(&alice, &["bob"]).await;
    modify(&world, &alice, &group, "bob", "REMOVE").await.unwrap();
    let update = world.received(&bob).into_iter().find(|f| f["type"] == "chatUpdate").expect("bob is told");
    assert_eq!((update["operation"].as_str(), update["userId"].as_str()), (Some("REMOVE"), Some("bob")));
}

#[tokio::test]
async fn a_member_added_later_gets_nothing_from_before() {
    let world = World::new();
    let (alice, carol) = (world.person("alice").await, world.person("carol").await);
    let group = world.group(&alice, &["bob"]).await;
    world.sent(&alice, &group, "before carol").await;
    modify(&world, &alice, &group, "carol", "ADD").await.unwrap();
    world.sent(&alice, &group, "with carol").await;
    assert_eq!(world.texts(&carol), ["with carol"]);
    assert_eq!(world.inbox_texts(&carol), ["with carol"]);
}

#[tokio::test]
async fn a_membership_change_takes_its_place_between_messages() {
    let world = World::new();
    let alice = world.person("alice").await;
    let group = world.group(&alice, &["bob"]).await;
    let first = world.sent(&alice, &group, "one").await;
    let change = match modify(&world, &alice, &group, "carol", "ADD").await.unwrap() {
        ServerFrame::ParticipantsModified { seq, .. } => seq,
        other => panic!("{other:?}"),
    };
    let second = world.sent(&alice, &group, "two").await;
    assert!(first <= change && change < second, "{first} {change} {second}");
}

#[tokio::test]
async fn anyone_may_leave_but_only_admins_remove_others() {
    let world = World::new();
    let (alice, bob, carol) = (world.person("alice").await, world.person("bob").await, world.person("carol").await);
    let group = world.group(&alice, &["bob", "carol"]).await;
    assert_eq!(code(modify(&world, &bob, &group, "carol", "REMOVE").await), "forbidden");
    modify(&world, &carol, &group, "carol", "REMOVE").await.expect("carol leaves");
    let chat = world.ctx().store.get_chat(&group).await.unwrap().unwrap();
    assert_eq!(chat.members, ["alice", "bob"]);
    let _ = alice;
}

#[tokio::test]
async fn when_the_last_admin_leaves_the_smallest_id_becomes_admin() {
    let world = World::new();
    let zed = world.person("zed").await;
    let group = world.group(&zed, &["mia", "ben"]).await;
    modify(&world, &zed, &group, "zed", "REMOVE").await.unwrap();
    assert_eq!(admins(&world, &group).await, ["ben"]);
}

#[tokio::test]
async fn a_group_keeps_at_least_one_admin() {
    let world = World::new();
    let alice = world.person("alice").await;
    let group = world.group(&alice, &["bob"]).await;
    assert_eq!(code(modify(&world, &alice, &group, "alice", "DEMOTE").await), "invalid_request");
    modify(&world, &alice, &group, "bob", "PROMOTE").await.unwrap();
    modify(&world, &alice, &group, "alice", "DEMOTE").await.expect("bob is admin now");
    assert_eq!(admins(&world, &group).await, ["bob"]);
    assert_eq!(code(modify(&world, &alice, &group, "bob", "DEMOTE").await), "forbidden", "alice is no admin any more");
}

#[tokio::test]
async fn a_group_holds_at_most_the_configured_members() {
    let world = World::with(Fakes::with_config(config(&[("MAX_GROUP_MEMBERS", "3")])));
    let alice = world.person("alice").await;
    assert_eq!(code(world.create(&alice, &["b", "c", "d"], Some("Big")).await), "too_many_members");
    let group = world.group(&alice, &["b", "c"]).await;
    assert_eq!(code(modify(&world, &alice, &group, "d", "ADD").await), "too_many_members");
}

#[tokio::test]
async fn a_direct_chat_never_gains_or_loses_members() {
    let world = World::new();
    let alice = world.person("alice").await;
    let chat = world.direct(&alice, "bob").await;
    assert_eq!(code(modify(&world, &alice, &chat, "carol", "ADD").await), "invalid_request");
    assert_eq!(code(modify(&world, &alice, &chat, "bob", "REMOVE").await), "invalid_request");
}

#[tokio::test]
async fn adding_a_member_twice_or_removing_a_stranger_is_refused() {
    let world = World::new();
    let alice = world.person("alice").await;
    let group = world.group(&alice, &["bob"]).await;
    assert_eq!(code(modify(&world, &alice, &group, "bob", "ADD").await), "invalid_request");
    assert_eq!(code(modify(&world, &alice, &group, "zoe", "REMOVE").await), "invalid_request");
}

#[tokio::test]
async fn outsiders_cannot_change_a_group() {
    let world = World::new();
    let (alice, eve) = (world.person("alice").await, world.person("eve").await);
    let group = world.group(&alice, &["bob"]).await;
    assert_eq!(code(modify(&world, &eve, &group, "eve", "ADD").await), "not_member");
    let rename = super::super::update_chat(world.ctx(), &eve, request(json!({ "chatId": group, "name": "Mine" }))).await;
    assert_eq!(code(rename), "not_member");
}

#[tokio::test]
async fn only_admins_rename_a_group_and_every_member_hears_of_it() {
    let world = World::new();
    let (alice, bob) = (world.person("alice").await, world.person("bob").await);
    let group = world.group(&alice, &["bob"]).await;
    let by_bob = super::super::update_chat(world.ctx(), &bob, request(json!({ "chatId": group, "name": "Bob's" }))).await;
    assert_eq!(code(by_bob), "forbidden");
    let update = json!({ "chatId": group, "name": "Climbing", "description": "Saturdays" });
    super::super::update_chat(world.ctx(), &alice, request(update)).await.unwrap();
    let chat = world.ctx().store.get_chat(&group).await.unwrap().unwrap();
    assert_eq!((chat.name.as_deref(), chat.description.as_deref()), (Some("Climbing"), Some("Saturdays")));
    let info = world.received(&bob).into_iter().find(|f| f["type"] == "chatInfo").expect("bob hears of it");
    assert_eq!(info["name"], "Climbing");
}

#[tokio::test]
async fn a_rename_needs_a_name_or_a_description_and_a_group() {
    let world = World::new();
    let alice = world.person("alice").await;
    let group = world.group(&alice, &["bob"]).await;
    let direct = world.direct(&alice, "carol").await;
    let nothing = super::super::update_chat(world.ctx(), &alice, request(json!({ "chatId": group }))).await;
    assert_eq!(code(nothing), "invalid_request");
    let long = "x".repeat(super::super::membership::MAX_DESCRIPTION_CHARS + 1);
    let too_long = super::super::update_chat(world.ctx(), &alice, request(json!({ "chatId": group, "description": long }))).await;
    assert_eq!(code(too_long), "invalid_request");
    let on_direct = super::super::update_chat(world.ctx(), &alice, request(json!({ "chatId": direct, "name": "Us" }))).await;
    assert_eq!(code(on_direct), "invalid_request");
}
