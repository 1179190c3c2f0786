//! A terminal chat client for the local system: type to chat from two terminals.
//!
//!   chat-client ws://127.0.0.1:8080/local alice phone
//!
//! Commands: `/dm <user>`, `/group <name> <user> <user>...`, `/use <chatId>`,
//! `/sync`, `/quit`; any other line is sent to the current chat. Received
//! messages are acknowledged automatically.

use clap::Parser;
use futures::{SinkExt, StreamExt};
use local_runtime::DEV_JWT_SECRET;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio_tungstenite::connect_async;
use tokio_tungstenite::tungstenite::Message;

#[derive(Parser)]
#[command(name = "chat-client", about = "Chat from a terminal: /dm <user>, /group <name> <user>..., /use <chatId>, /sync, /quit")]
struct Args {
    /// The WebSocket API (`ws://127.0.0.1:8080/local`, or a stack's `WebSocketUrl`).
    url: String,
    user: String,
    device: String,
    /// The key that signs the token (the local runtime's development key by default).
    #[arg(long, env = "JWT_SECRET", default_value = DEV_JWT_SECRET, hide_default_value = true)]
    jwt_secret: String,
}

#[tokio::main]
async fn main() {
    let Args { url, user, device, jwt_secret } = Args::parse();
    let token = domain::auth::issue_token(&jwt_secret, &user, &device, 24 * 3600);
    let (socket, _) = match connect_async(format!("{url}?token={token}")).await {
        Ok(socket) => socket,
        Err(e) => {
            eprintln!("connect failed: {e}");
            std::process::exit(1);
        }
    };
    let (mut sink, mut stream) = socket.split();
    sink.send(Message::Text(json!({"action": "sync"}).to_string().into())).await.ok();
    println!("connected as {user}/{device}. /dm <user> to start a chat.");
    let (acks, mut ack_rx) = tokio::sync::mpsc::unbounded_channel::<Vec<String>>();
    let reader = tokio::spawn(async move {
        while let Some(Ok(Message::Text(text))) = stream.next().await {
            let frame: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
            let messages = match frame["type"].as_str() {
                Some("newMessage") => vec![frame.clone()],
                Some("syncBatch") => {
                    frame["frames"].as_array().into_iter().flatten().filter(|f| f["type"] == "newMessage").cloned().collect()
                }
                _ => {
                    println!("<< {text}");
                    continue;
                }
            };
            for m in &messages {
                println!(
                    "[{} #{}] {}: {}",
                    m["chatId"].as_str().unwrap_or("?"),
                    m["seq"],
                    m["senderId"].as_str().unwrap_or("?"),
                    m["message"].as_str().unwrap_or("")
                );
            }
            let ids = messages.iter().filter_map(|m| m["messageId"].as_str().map(str::to_owned)).collect();
            let _ = acks.send(ids);
        }
        println!("connection closed");
        std::process::exit(0);
    });
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    let mut chat: Option<String> = None;
    let mut counter = 0_u64;
    loop {
        let frame = tokio::select! {
            Some(ids) = ack_rx.recv() => json!({"action": "ack", "messageIds": ids}),
            line = lines.next_line() => {
                let Ok(Some(line)) = line else { break };
                let words: Vec<&str> = line.split_whitespace().collect();
                match words.as_slice() {
                    [] => continue,
                    ["/quit"] => break,
                    ["/sync"] => json!({"action": "sync"}),
                    ["/use", id] => { chat = Some(id.to_string()); continue }
                    ["/dm", other] => json!({"action": "createChat", "participants": [other]}),
                    ["/group", name, members @ ..] => json!({"action": "createChat", "name": name, "participants": members}),
                    _ => {
                        let Some(chat_id) = &chat else { println!("no chat yet: /dm <user> then /use <chatId>"); continue };
                        counter += 1;
                        json!({"action": "sendMessage", "chatId": chat_id, "clientMessageId": format!("{device}-{}-{counter}", domain::time::now_millis()), "message": line})
                    }
                }
            }
        };
        if sink.send(Message::Text(frame.to_string().into())).await.is_err() {
            break;
        }
    }
    reader.abort();
}
