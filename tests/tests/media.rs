//! Media over the HTTP API: presigned S3 uploads that only accept the declared
//! bytes, messages that carry them, and downloads for members only.

use e2e_tests::{
    Http, System, eventually, get_presigned, image, number, put_presigned, send_with, sha256_base64, text, unique, upload, upload_as,
    upload_request,
};
use serde_json::json;

#[tokio::test]
async fn an_image_goes_up_through_its_presigned_url_and_members_download_the_identical_bytes() {
    let system = System::start().await;
    let [alice, bob, mallory] = ["alice", "bob", "mallory"].map(unique);
    let mut alice_ws = system.connect(&alice, "phone").await;
    let mut bob_ws = system.connect(&bob, "phone").await;
    let chat = alice_ws.chat_with(&[&bob], None).await;

    let bytes = image(300 * 1024, 7);
    let attachment = upload(&system.http(&alice), &chat, &bytes).await;
    let sent = send_with(&mut alice_ws, &chat, &[&attachment]).await;
    assert_eq!(sent["status"], "SUCCESS", "{sent}");

    let message = bob_ws.messages(1).await.remove(0);
    let carried = &message["attachments"][0];
    assert_eq!(carried["attachmentId"], attachment.as_str());
    assert_eq!(carried["size"], bytes.len());
    assert_eq!(carried["contentType"], "image/png");
    assert_eq!(carried["sha256"], sha256_base64(&bytes));

    let download = system.http(&bob).get(&format!("/chats/{chat}/attachments/{attachment}")).await;
    assert_eq!(download.status, 200, "{}", download.body);
    assert!(download.header("cache-control").contains("private"));
    let (status, fetched) = get_presigned(text(&download.body, "url")).await;
    assert_eq!(status, 200);
    assert_eq!(sha256_base64(&fetched), sha256_base64(&bytes), "the member gets exactly the uploaded bytes");
    assert_eq!(fetched.len(), bytes.len());

    let stranger = system.http(&mallory).get(&format!("/chats/{chat}/attachments/{attachment}")).await;
    assert_eq!(stranger.status, 403, "{}", stranger.body);
    assert_eq!(stranger.body["code"], "not_member");
    assert!(stranger.body["url"].is_null());
}

/// S3 takes a single PUT of up to 5 GB and the template lets a video be 100
/// MB: the local stack must not refuse what AWS accepts (its proxy once kept
/// axum's 2 MiB body limit, and uploads over 2 MiB failed with a 413).
#[tokio::test]
async fn a_20_megabyte_video_goes_up_and_comes_back_whole_through_the_local_stack() {
    let system = System::start().await;
    let [alice, bob] = ["alice", "bob"].map(unique);
    let mut alice_ws = system.connect(&alice, "phone").await;
    let mut bob_ws = system.connect(&bob, "phone").await;
    let chat = alice_ws.chat_with(&[&bob], None).await;

    let bytes: Vec<u8> = (0..20 * 1024 * 1024).map(|i: usize| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    let declared = json!({ "fileName": "clip.mp4", "contentType": "video/mp4", "size": bytes.len(), "sha256": sha256_base64(&bytes) });
    let attachment = upload_as(&system.http(&alice), &chat, &declared, &bytes).await;
    let sent = send_with(&mut alice_ws, &chat, &[&attachment]).await;
    assert_eq!(sent["status"], "SUCCESS", "{sent}");
    assert_eq!(bob_ws.messages(1).await[0]["attachments"][0]["size"], bytes.len());

    let download = system.http(&bob).get(&format!("/chats/{chat}/attachments/{attachment}")).await;
    assert_eq!(download.status, 200, "{}", download.body);
    let (status, fetched) = get_presigned(text(&download.body, "url")).await;
    assert_eq!(status, 200);
    assert_eq!((fetched.len(), sha256_base64(&fetched)), (bytes.len(), sha256_base64(&bytes)), "bob gets the same 20 MB");
}

#[tokio::test]
async fn s3_refuses_other_bytes_than_declared_and_a_message_cannot_carry_what_is_not_uploaded() {
    let system = System::start().await;
    let [alice, bob] = ["alice", "bob"].map(unique);
    let mut alice_ws = system.connect(&alice, "phone").await;
    let mut bob_ws = system.connect(&bob, "phone").await;
    let chat = alice_ws.chat_with(&[&bob], None).await;
    let http = system.http(&alice);
    let declared = image(64 * 1024, 1);
    let reply = http.post(&format!("/chats/{chat}/attachments"), &upload_request(&declared, "image/png")).await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    let url = text(&reply.body, "uploadUrl");
    let headers = &reply.body["uploadHeaders"];
    let attachment = text(&reply.body, "attachmentId").to_owned();

    // Same size, other content: the signed checksum does not match.
    let (status, body) = put_presigned(url, headers, image(64 * 1024, 2)).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("BadDigest"), "{body}");
    // Another size: the signed content-length does not match.
    let mut longer = declared.clone();
    longer.extend_from_slice(b"extra");
    let (status, body) = put_presigned(url, headers, longer).await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("SignatureDoesNotMatch"), "{body}");
    // Other bytes with their own checksum: the header is signed too.
    let other = image(64 * 1024, 3);
    let mut forged = headers.clone();
    forged["x-amz-checksum-sha256"] = json!(sha256_base64(&other));
    let (status, body) = put_presigned(url, &forged, other).await;
    assert_eq!(status, 403, "{body}");

    // Nothing was stored, so the attachment cannot be sent.
    let refused = send_with(&mut alice_ws, &chat, &[&attachment]).await;
    assert_eq!(refused["code"], "invalid_request", "{refused}");
    assert!(text(&refused, "message").contains("not been uploaded"), "{refused}");

    // Once uploaded, only its uploader may send it, and only in its chat.
    let (status, _) = put_presigned(url, headers, declared.clone()).await;
    assert_eq!(status, 200);
    let not_bobs = send_with(&mut bob_ws, &chat, &[&attachment]).await;
    assert_eq!(not_bobs["code"], "invalid_request", "{not_bobs}");
    let other_chat = alice_ws.chat_with(&[&unique("carol")], None).await;
    let wrong_chat = send_with(&mut alice_ws, &other_chat, &[&attachment]).await;
    assert_eq!(wrong_chat["code"], "invalid_request", "{wrong_chat}");
    let unknown = send_with(&mut alice_ws, &chat, &["01JDNOSUCHATTACHMENT000000"]).await;
    assert_eq!(unknown["code"], "invalid_request", "{unknown}");
    assert_eq!(send_with(&mut alice_ws, &chat, &[&attachment]).await["status"], "SUCCESS");
}

#[tokio::test]
async fn upload_requests_are_checked_before_anything_is_signed() {
    let system = System::start().await;
    let [alice, bob, mallory] = ["alice", "bob", "mallory"].map(unique);
    let mut alice_ws = system.connect(&alice, "phone").await;
    let chat = alice_ws.chat_with(&[&bob], None).await;
    let http = system.http(&alice);
    let path = format!("/chats/{chat}/attachments");
    let bytes = image(1024, 0);

    let mut too_big = upload_request(&bytes, "image/png");
    too_big["size"] = json!(16 * 1024 * 1024 + 1);
    let reply = http.post(&path, &too_big).await;
    assert_eq!((reply.status, text(&reply.body, "code")), (413, "too_large"), "{}", reply.body);
    let mut video = upload_request(&bytes, "video/mp4");
    video["size"] = json!(100 * 1024 * 1024);
    assert_eq!(http.post(&path, &video).await.status, 201, "video may be up to 100 MB");

    let reply = http.post(&path, &upload_request(&bytes, "application/x-msdownload")).await;
    assert_eq!((reply.status, text(&reply.body, "code")), (400, "invalid_request"), "{}", reply.body);
    let mut bad_checksum = upload_request(&bytes, "image/png");
    bad_checksum["sha256"] = json!("not-a-checksum");
    assert_eq!(http.post(&path, &bad_checksum).await.status, 400);
    let mut bad_name = upload_request(&bytes, "image/png");
    bad_name["fileName"] = json!("../../etc/passwd");
    assert_eq!(http.post(&path, &bad_name).await.status, 400);
    let mut extra = upload_request(&bytes, "image/png");
    extra["acl"] = json!("public-read");
    assert_eq!(http.post(&path, &extra).await.status, 400, "unknown fields are refused");
    let reply = system.http(&alice).post(&path, &json!("garbage")).await;
    assert_eq!(reply.status, 400);

    let stranger = system.http(&mallory).post(&path, &upload_request(&bytes, "image/png")).await;
    assert_eq!((stranger.status, text(&stranger.body, "code")), (403, "not_member"));

    // API Gateway's own answers: no token, a bad token, no such route.
    let anonymous = Http::new(system.http_url(), None).post(&path, &upload_request(&bytes, "image/png")).await;
    assert_eq!(anonymous.status, 401);
    let forged = Http::new(system.http_url(), Some("not.a.token".into())).post(&path, &upload_request(&bytes, "image/png")).await;
    assert_eq!(forged.status, 403);
    assert_eq!(forged.body["message"], "Forbidden");
    assert_eq!(http.get("/no/such/route").await.status, 404);
    // API Gateway's 10 MB payload cap, before any function runs.
    let huge = json!({ "fileName": "x".repeat(10 * 1024 * 1024), "contentType": "image/png", "size": 1, "sha256": sha256_base64(b"x") });
    let reply = http.post(&path, &huge).await;
    assert_eq!((reply.status, &reply.body["message"]), (413, &json!("Request Entity Too Large")));
    // Under the cap, a large body reaches the function, which judges it.
    let mut large = huge.clone();
    large["fileName"] = json!("x".repeat(3 * 1024 * 1024));
    let reply = http.post(&path, &large).await;
    assert_eq!((reply.status, text(&reply.body, "code")), (400, "invalid_request"), "{}", reply.body);
}

#[tokio::test]
async fn a_removed_member_keeps_earlier_media_and_loses_media_sent_after_removal() {
    let system = System::start().await;
    let [admin, b, c] = ["admin", "b", "c"].map(unique);
    let mut admin_ws = system.connect(&admin, "phone").await;
    let chat = admin_ws.chat_with(&[&b, &c], Some("trip")).await;
    let http = system.http(&admin);
    let before = upload(&http, &chat, &image(2048, 1)).await;
    assert_eq!(send_with(&mut admin_ws, &chat, &[&before]).await["status"], "SUCCESS");
    let removed = admin_ws.request(json!({ "action": "modifyChatParticipants", "chatId": chat, "userId": c, "operation": "REMOVE" })).await;
    assert_eq!(removed["type"], "participantsModified", "{removed}");
    let after = upload(&http, &chat, &image(2048, 2)).await;
    assert_eq!(send_with(&mut admin_ws, &chat, &[&after]).await["status"], "SUCCESS");

    let c_http = system.http(&c);
    assert_eq!(c_http.get(&format!("/chats/{chat}/attachments/{before}")).await.status, 200);
    let denied = c_http.get(&format!("/chats/{chat}/attachments/{after}")).await;
    assert_eq!(denied.status, 403, "{}", denied.body);
    assert_eq!(system.http(&b).get(&format!("/chats/{chat}/attachments/{after}")).await.status, 200);
    // Removed members cannot upload any more either.
    assert_eq!(c_http.post(&format!("/chats/{chat}/attachments"), &upload_request(&image(10, 0), "image/png")).await.status, 403);
}

#[tokio::test]
async fn uploads_no_message_took_are_deleted_by_the_cleanup_and_sent_ones_stay() {
    let system = System::start().await;
    let [alice, bob] = ["alice", "bob"].map(unique);
    let mut alice_ws = system.connect(&alice, "phone").await;
    let chat = alice_ws.chat_with(&[&bob], None).await;
    let http = system.http(&alice);
    let kept = upload(&http, &chat, &image(4096, 1)).await;
    assert_eq!(send_with(&mut alice_ws, &chat, &[&kept]).await["status"], "SUCCESS");
    let abandoned = upload(&http, &chat, &image(4096, 2)).await;
    // Unsent, the uploader can still fetch it.
    assert_eq!(http.get(&format!("/chats/{chat}/attachments/{abandoned}")).await.status, 200);
    assert_eq!(
        system.http(&bob).get(&format!("/chats/{chat}/attachments/{abandoned}")).await.status,
        404,
        "others never see an unsent upload"
    );

    let ctx = system.function_context("CleanupFunction");
    let two_days_later = domain::time::now_millis() + 2 * 86_400_000;
    let report = domain::retention::run_cleanup(&ctx, two_days_later).await.unwrap();
    assert!(report.abandoned_uploads >= 1, "{report:?}");

    assert_eq!(http.get(&format!("/chats/{chat}/attachments/{abandoned}")).await.status, 404);
    // Asked as sendMessage, which may read media: an object still there would have a size.
    let s3_object = system
        .function_context("SendMessageFunction")
        .media
        .uploaded_size(domain::ports::MediaKind::Attachment, &abandoned)
        .await
        .expect("S3 answers");
    assert_eq!(s3_object, None, "the abandoned object is gone from S3");
    let kept_download = http.get(&format!("/chats/{chat}/attachments/{kept}")).await;
    assert_eq!(kept_download.status, 200);
    assert_eq!(get_presigned(text(&kept_download.body, "url")).await.0, 200, "sent media stays");
}

#[tokio::test]
async fn presigned_urls_stop_working_when_they_expire() {
    // Short-lived URLs: long enough for a busy machine to use a fresh one, short for a test.
    let quotas = local_runtime::Quotas::default();
    let system = System::builder().quotas(quotas).parameters(&[("UploadUrlSeconds", "3"), ("DownloadUrlSeconds", "3")]).start().await;
    let [alice, bob] = ["alice", "bob"].map(unique);
    let mut alice_ws = system.connect(&alice, "phone").await;
    let chat = alice_ws.chat_with(&[&bob], None).await;
    let http = system.http(&alice);
    let bytes = image(1024, 9);
    let late = http.post(&format!("/chats/{chat}/attachments"), &upload_request(&bytes, "image/png")).await;
    let uploaded = upload(&http, &chat, &bytes).await;
    let download = http.get(&format!("/chats/{chat}/attachments/{uploaded}")).await;
    // S3 compares X-Amz-Date + X-Amz-Expires with its clock: wait until both have passed.
    let expired_at = number(&late.body, "expiresAt").max(number(&download.body, "expiresAt"));
    eventually("both URLs are past their expiry", || async { domain::time::now_millis() > expired_at + 1000 }).await;

    let (status, body) = put_presigned(text(&late.body, "uploadUrl"), &late.body["uploadHeaders"], bytes.clone()).await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("expired"), "{body}");
    assert_eq!(get_presigned(text(&download.body, "url")).await.0, 403);
    // A fresh URL works again (asked for anew should the machine be too slow to use one in time).
    let path = format!("/chats/{chat}/attachments/{uploaded}");
    eventually("a fresh download URL works", || async {
        let again = http.get(&path).await;
        get_presigned(text(&again.body, "url")).await.0 == 200
    })
    .await;
}

#[tokio::test]
async fn browsers_get_the_cors_answers_api_gateway_gives() {
    let system = System::start().await;
    let client = reqwest::Client::new();
    let preflight = client
        .request(reqwest::Method::OPTIONS, format!("{}/chats/x/attachments", system.http_url()))
        .header("origin", "https://app.example")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "authorization,content-type")
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status().as_u16(), 204, "preflights need no token");
    let header = |name: &str| preflight.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    assert_eq!(header("access-control-allow-origin"), "*");
    assert!(header("access-control-allow-methods").contains("POST"));
    assert!(header("access-control-allow-headers").contains("authorization"));
    let token = system.runtime.issue_token(&unique("alice"), "web");
    let list =
        client.get(format!("{}/chats", system.http_url())).bearer_auth(token).header("origin", "https://app.example").send().await.unwrap();
    assert_eq!(list.status().as_u16(), 200);
    assert_eq!(list.headers().get("access-control-allow-origin").unwrap(), "*");
}

#[tokio::test]
async fn a_message_deleted_for_everyone_leaves_a_tombstone_and_its_files_go() {
    let system = System::start().await;
    let [alice, bob, carol] = ["alice", "bob", "carol"].map(unique);
    let mut a = system.connect(&alice, "phone").await;
    let mut b = system.connect(&bob, "phone").await;
    system.connect(&carol, "phone").await.close().await;
    let group = a.chat_with(&[&bob, &carol], Some("album")).await;
    b.accept(&group).await;
    let bytes = image(4096, 9);
    let attachment = upload(&system.http(&bob), &group, &bytes).await;
    let sent = send_with(&mut b, &group, &[&attachment]).await;
    assert_eq!(sent["seq"], 1, "{sent}");
    a.messages(1).await;
    let download = system.http(&alice).get(&format!("/chats/{group}/attachments/{attachment}")).await;
    assert_eq!(download.status, 200, "{}", download.body);
    let url = text(&download.body, "url").to_owned();
    let reply =
        a.request(json!({ "action": "sendMessage", "chatId": group, "clientMessageId": "r1", "message": "nice", "replyTo": 1 })).await;
    assert_eq!(reply["seq"], 2, "{reply}");

    let deleted = b.request(json!({ "action": "deleteMessage", "chatId": group, "seq": 1, "forEveryone": true })).await;
    assert_eq!((deleted["change"].as_str(), deleted["seq"].as_u64()), (Some("deleted"), Some(3)), "{deleted}");
    let live = a.frames_of("messageChanged", 1).await.remove(0);
    assert_eq!((live["change"].as_str(), live["targetSeq"].as_u64()), (Some("deleted"), Some(1)), "{live}");

    // The file is gone: no download for members, and S3 refuses the URL signed before.
    let after = system.http(&alice).get(&format!("/chats/{group}/attachments/{attachment}")).await;
    assert_eq!(after.status, 404, "{}", after.body);
    let (status, _) = get_presigned(&url).await;
    assert_ne!(status, 200, "the S3 object was deleted");

    // Carol was offline: her sync brings the message already deleted, then its deletion; never its file.
    let mut c = system.connect(&carol, "phone").await;
    c.sync().await;
    let frames: Vec<serde_json::Value> =
        c.drain(std::time::Duration::from_millis(300)).await.into_iter().flat_map(e2e_tests::unpack).collect();
    let original = frames.iter().find(|f| f["type"] == "newMessage" && f["seq"] == 1).cloned().expect("the message, as deleted");
    assert_eq!((original["message"].as_str(), original["deleted"]["by"].as_str()), (Some(""), Some(bob.as_str())), "{original}");
    assert!(original.get("attachments").is_none(), "{original}");
    assert!(frames.iter().any(|f| f["type"] == "messageChanged" && f["seq"] == 3), "{frames:?}");

    // History: a tombstone keeps the position; the reply's quote shows the original deleted.
    let page = system.http(&alice).get(&format!("/chats/{group}/messages")).await.body;
    let messages = page["messages"].as_array().unwrap();
    assert_eq!((messages[0]["seq"].as_u64(), messages[0]["message"].as_str()), (Some(1), Some("")), "{page}");
    assert!(messages[0]["deleted"].is_object() && messages[0].get("attachments").is_none(), "{page}");
    assert_eq!((messages[1]["replyTo"]["deleted"].as_bool(), messages[1]["replyTo"]["snippet"].as_str()), (Some(true), Some("")), "{page}");
    assert_eq!(page["events"][0]["seq"], 3);

    // A retry answers the same deletion; a group admin deletes others' messages, a member only their own.
    let again = b.request(json!({ "action": "deleteMessage", "chatId": group, "seq": 1, "forEveryone": true })).await;
    assert_eq!(again["seq"], 3, "{again}");
    c.accept(&group).await;
    let oops = c.send_message(&group, "c1", "oops").await;
    let seq = number(&oops, "seq");
    let by_member = b.request(json!({ "action": "deleteMessage", "chatId": group, "seq": seq, "forEveryone": true })).await;
    assert_eq!(by_member["code"], "forbidden", "{by_member}");
    let by_admin = a.request(json!({ "action": "deleteMessage", "chatId": group, "seq": seq, "forEveryone": true })).await;
    assert_eq!((by_admin["change"].as_str(), by_admin["userId"].as_str()), (Some("deleted"), Some(alice.as_str())), "{by_admin}");

    // Delete for me: gone from alice's devices and history only.
    let mut laptop = system.connect(&alice, "laptop").await;
    let hidden = a.request(json!({ "action": "deleteMessage", "chatId": group, "seq": 2, "forEveryone": false })).await;
    assert_eq!(hidden["type"], "messageHidden", "{hidden}");
    assert_eq!(laptop.frames_of("messageHidden", 1).await[0]["seq"], 2);
    let mine = system.http(&alice).get(&format!("/chats/{group}/messages")).await.body;
    assert_eq!(mine["hidden"], json!([2]), "{mine}");
    assert!(!mine["messages"].as_array().unwrap().iter().any(|m| m["seq"] == 2), "{mine}");
    let bobs = system.http(&bob).get(&format!("/chats/{group}/messages")).await.body;
    assert!(bobs["messages"].as_array().unwrap().iter().any(|m| m["seq"] == 2 && m["message"] == "nice"), "{bobs}");
    // (A member hides at most MAX_HIDDEN_PER_CHAT messages per chat: the store's condition, with a cap of 1.)
    let store = &system.function_context("DeleteMessageFunction").store;
    assert!(!store.hide_message(&alice, &group, 1, 1).await.unwrap(), "over the cap");
    assert!(store.hide_message(&alice, &group, 2, 1).await.unwrap(), "hiding the same one again is no new one");
}
