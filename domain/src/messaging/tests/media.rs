//! Files: uploaded by presigned URL, sent only once they are there, served
//! only to members who may see the message, gone from the bucket once
//! deleted for everyone.

use serde_json::json;

use super::{World, code, request};
use crate::auth::Identity;
use crate::error::AppError;
use crate::ports::MediaKind;
use crate::protocol::ServerFrame;

/// A 5-byte PNG upload to `chat` by `who`; its attachment id.
async fn upload(world: &World, who: &Identity, chat: &str, uploaded: bool) -> Result<String, AppError> {
    let ask =
        json!({ "fileName": "cat.png", "contentType": "image/png", "size": 5, "sha256": "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=" });
    let created = crate::media::create_upload(world.ctx(), &who.user_id, chat, request(ask)).await?;
    if uploaded {
        world.fakes.media.upload(MediaKind::Attachment, &created.attachment_id, 5);
    }
    Ok(created.attachment_id)
}

async fn send_file(world: &World, who: &Identity, chat: &str, attachment: &str) -> Result<ServerFrame, AppError> {
    let frame = json!({ "chatId": chat, "clientMessageId": attachment, "message": "", "attachments": [attachment] });
    super::super::send_message(world.ctx(), who, request(frame)).await
}

#[tokio::test]
async fn a_file_is_sent_once_it_is_uploaded() {
    let world = World::new();
    let alice = world.person("alice").await;
    let chat = world.direct(&alice, "bob").await;
    let waiting = upload(&world, &alice, &chat, false).await.unwrap();
    assert_eq!(code(send_file(&world, &alice, &chat, &waiting).await), "invalid_request", "not in the bucket yet");
    world.fakes.media.upload(MediaKind::Attachment, &waiting, 5);
    send_file(&world, &alice, &chat, &waiting).await.expect("uploaded now");
}

#[tokio::test]
async fn only_members_upload_and_only_the_uploader_sends_it() {
    let world = World::new();
    let (alice, bob, eve) = (world.person("alice").await, world.person("bob").await, world.person("eve").await);
    let chat = world.direct(&alice, "bob").await;
    assert_eq!(code(upload(&world, &eve, &chat, true).await), "not_member");
    let alices = upload(&world, &alice, &chat, true).await.unwrap();
    assert_eq!(code(send_file(&world, &bob, &chat, &alices).await), "invalid_request", "not bob's upload");
}

#[tokio::test]
async fn a_member_who_joined_later_cannot_download_an_earlier_file() {
    let world = World::new();
    let (alice, carol) = (world.person("alice").await, world.person("carol").await);
    let group = world.group(&alice, &["bob"]).await;
    let file = upload(&world, &alice, &group, true).await.unwrap();
    send_file(&world, &alice, &group, &file).await.unwrap();
    let add = json!({ "chatId": group, "userId": "carol", "operation": "ADD" });
    super::super::modify_participants(world.ctx(), &alice, request(add)).await.unwrap();
    assert!(crate::media::download(world.ctx(), "bob", &group, &file).await.is_ok());
    assert_eq!(code(crate::media::download(world.ctx(), &carol.user_id, &group, &file).await), "forbidden");
    assert_eq!(code(crate::media::download(world.ctx(), "eve", &group, &file).await), "not_member");
}

#[tokio::test]
async fn a_file_deleted_for_everyone_leaves_the_bucket() {
    let world = World::new();
    let alice = world.person("alice").await;
    let chat = world.direct(&alice, "bob").await;
    let file = upload(&world, &alice, &chat, true).await.unwrap();
    let seq = match send_file(&world, &alice, &chat, &file).await.unwrap() {
        ServerFrame::SendResult { seq, .. } => seq,
        other => panic!("{other:?}"),
    };
    let delete = json!({ "chatId": chat, "seq": seq, "forEveryone": true });
    super::super::delete_message(world.ctx(), &alice, request(delete)).await.unwrap();
    assert!(!world.fakes.media.holds(MediaKind::Attachment, &file), "the object is deleted");
    assert_eq!(code(crate::media::download(world.ctx(), "bob", &chat, &file).await), "not_found");
}

#[tokio::test]
async fn an_abandoned_upload_is_cleaned_up_and_a_sent_one_is_not() {
    let world = World::new();
    let alice = world.person("alice").await;
    let chat = world.direct(&alice, "bob").await;
    let (sent, abandoned) = (upload(&world, &alice, &chat, true).await.unwrap(), upload(&world, &alice, &chat, true).await.unwrap());
    send_file(&world, &alice, &chat, &sent).await.unwrap();
    let deleted = crate::media::delete_abandoned(world.ctx(), &[sent.clone(), abandoned.clone()]).await.unwrap();
    assert_eq!(deleted, 1);
    assert!(world.fakes.media.holds(MediaKind::Attachment, &sent));
    assert!(!world.fakes.media.holds(MediaKind::Attachment, &abandoned));
}

#[tokio::test]
async fn a_disabled_push_endpoint_is_not_retried() {
    let world = World::new();
    let (alice, bob) = (world.person("alice").await, world.person("bob").await);
    super::super::register_push(world.ctx(), &bob, request(json!({ "platform": "GCM", "token": "old-install" }))).await.unwrap();
    super::super::disconnect(world.ctx(), &bob, &super::connection(&bob)).await.unwrap();
    let arn = world.ctx().store.devices_of(&["bob".to_owned()]).await.unwrap()["bob"].devices["phone"].push.clone().unwrap().endpoint_arn;
    world.fakes.push.disable(&arn);
    let chat = world.direct(&alice, "bob").await;
    world.sent(&alice, &chat, "hello?").await;
    let entries = world.fakes.store.inbox_of(&crate::ids::device_key("bob", "phone"));
    let new: Vec<super::super::NewEntry> =
        entries.into_iter().filter(|e| e.is_message()).map(|entry| super::super::NewEntry { record_id: "r".into(), entry }).collect();
    let retry = super::super::push_offline(world.ctx(), &new).await.unwrap();
    assert!(retry.is_empty(), "an uninstalled app is no failure to retry");
    assert_eq!(world.fakes.push.published(), 0);
}
