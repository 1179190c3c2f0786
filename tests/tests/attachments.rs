//! Attachments' edges: a file never uploaded, bad keys, types and names,
//! names kept on download (issue 10).

use e2e_tests::{System, get_presigned, image, number, text, unique, upload, upload_request};
use serde_json::json;

/// Defect 8: S3 answers a missing key with 403 to a caller without
/// s3:ListBucket; sendMessage took that for an internal error.
#[tokio::test]
async fn a_message_with_an_attachment_never_uploaded_is_refused_as_s3_answers() {
    let system = System::start().await;
    let (alice, bob) = (unique("alice"), unique("bob"));
    let mut a = system.connect(&alice, "phone").await;
    let chat = a.chat_with(&[&bob], None).await;
    let bytes = image(2048, 3);
    let reply = system.http(&alice).post(&format!("/chats/{chat}/attachments"), &upload_request(&bytes, "image/png")).await;
    let attachment = text(&reply.body, "attachmentId");

    let ctx = system.function_context("SendMessageFunction");
    let head = aws_sdk_s3::Client::new(&system.function_sdk("SendMessageFunction"))
        .head_object()
        .bucket(&ctx.config.media_bucket)
        .key(format!("media/{attachment}"))
        .send()
        .await;
    let status = head.err().and_then(|e| e.raw_response().map(|r| r.status().as_u16()));
    assert_eq!(status, Some(403), "the local S3 answers a missing key as S3 does");
    let sent = a
        .request(json!({ "action": "sendMessage", "chatId": chat, "clientMessageId": "m", "message": "x", "attachments": [attachment] }))
        .await;
    assert_eq!(sent["code"], "invalid_request", "{sent}");
    assert!(text(&sent, "message").contains("not been uploaded"), "{sent}");
}

/// Defect 11: fields that become keys, media types and names were not validated.
#[tokio::test]
async fn bad_keys_media_types_and_names_are_typed_errors() {
    let system = System::start().await;
    let (alice, bob) = (unique("alice"), unique("bob"));
    let mut a = system.connect(&alice, "phone").await;
    let chat = a.chat_with(&[&bob], None).await;
    let long = "x".repeat(3000);
    let frames = [
        json!({ "action": "markRead", "chatId": "", "upToSeq": 1 }),
        json!({ "action": "messageStatus", "chatId": "", "seq": 1 }),
        json!({ "action": "modifyChatParticipants", "chatId": "", "userId": bob, "operation": "ADD" }),
        json!({ "action": "muteChat", "chatId": long, "muted": true }),
        json!({ "action": "sync", "cursor": long }),
        json!({ "action": "sendMessage", "chatId": chat, "clientMessageId": "k", "message": "x", "attachments": [long] }),
        json!({ "action": "ack", "messageIds": [long] }),
        json!({ "action": "createChat", "participants": [bob], "name": "nul\u{0}name" }),
        json!({ "action": "createChat", "participants": [bob], "name": "photo\u{202E}gpj.exe" }),
    ];
    for frame in frames {
        let reply = a.request(frame.clone()).await;
        assert_eq!(reply["code"], "invalid_request", "{frame} -> {reply}");
    }
    let http = system.http(&alice);
    let bytes = image(1024, 5);
    for content_type in ["audio/mpeg, text/html", "audio/x<script>", "image/png\u{1}", "image/png; x=1"] {
        let reply = http.post(&format!("/chats/{chat}/attachments"), &upload_request(&bytes, content_type)).await;
        assert_eq!(reply.status, 400, "{content_type:?}: {}", reply.body);
    }
    let mut request = upload_request(&bytes, "IMAGE/PNG");
    request["fileName"] = json!("invoice\u{202E}fdp.exe");
    assert_eq!(http.post(&format!("/chats/{chat}/attachments"), &request).await.status, 400);
    request["fileName"] = json!("holiday.png");
    let ok = http.post(&format!("/chats/{chat}/attachments"), &request).await;
    assert_eq!(ok.status, 201, "{}", ok.body);
    assert_eq!(ok.body["uploadHeaders"]["content-type"], "image/png", "stored and signed in canonical form");
    let path = format!("/chats/{}/messages", "x".repeat(300));
    assert_eq!(http.get(&path).await.status, 400);
    assert_eq!(number(&a.send_message(&chat, "ok", "nothing changed").await, "seq"), 1);
}

/// A download is offered as a file (`Content-Disposition: attachment`) under
/// the name it was uploaded with.
#[tokio::test]
async fn downloads_keep_the_name_they_were_uploaded_with() {
    let system = System::start().await;
    let (alice, bob) = (unique("alice"), unique("bob"));
    let mut a = system.connect(&alice, "phone").await;
    let _b = system.connect(&bob, "phone").await;
    let chat = a.chat_with(&[&bob], None).await;
    let attachment = upload(&system.http(&alice), &chat, &image(1024, 2)).await;
    a.request(json!({ "action": "sendMessage", "chatId": chat, "clientMessageId": "f", "message": "", "attachments": [attachment] })).await;
    let download = system.http(&bob).get(&format!("/chats/{chat}/attachments/{attachment}")).await;
    let url = text(&download.body, "url");
    assert!(url.contains("response-content-disposition=attachment"), "{url}");
    let response = reqwest::get(url).await.unwrap();
    let disposition = response.headers().get("content-disposition").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    assert!(disposition.contains("holiday.png"), "the download keeps its name: {disposition:?}");
    assert_eq!(get_presigned(url).await.0, 200);
}
