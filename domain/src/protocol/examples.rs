//! Every JSON example in `docs/protocol.md` and `docs/http-api.md` is parsed
//! against the protocol types: a request frame (it has an `action`) as
//! `ClientRequest`, which refuses unknown fields; a server frame (a `type`)
//! as `ServerFrame`, and an HTTP body as the body types; and every field an
//! example shows must come back when the parsed value is serialised again, so
//! a misspelt or removed field fails here. Examples that elide (`...`) are
//! fragments and are counted, not parsed.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::{
    AttachmentDownload, AttachmentUpload, AvatarDownload, ChatDetails, ChatsPage, ClientRequest, CreateAttachmentRequest,
    CreateAvatarRequest, HttpError, MessagesPage, ServerFrame, UserProfile,
};

/// The examples of one document: each ```json block's JSON values (a block
/// may hold several, one per line or spread over lines), or `None` for a
/// block that elides.
fn examples(document: &str) -> Vec<(usize, Option<Vec<Value>>)> {
    let text = std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(document)).expect("docs readable");
    let mut out = Vec::new();
    let mut rest = text.as_str();
    let mut line = 1;
    while let Some(start) = rest.find("```json\n") {
        line += rest[..start].matches('\n').count() + 1;
        let body = &rest[start + 8..];
        let end = body.find("```").expect("a closed code block");
        let block = &body[..end];
        let values: Result<Vec<Value>, _> = serde_json::Deserializer::from_str(block).into_iter::<Value>().collect();
        let elides = block.contains("...,") || block.contains(", ...") || block.contains("\"...\":") || block.contains("...}");
        match values {
            Ok(values) if !elides => out.push((line, Some(values))),
            _ if elides => out.push((line, None)),
            Err(e) => panic!("{document}:{line}: an example that is not JSON: {e}"),
            Ok(_) => unreachable!(),
        }
        line += block.matches('\n').count();
        rest = &body[end + 3..];
    }
    out
}

/// Whether every field of `example` is in `serialised`, recursively.
fn shown_fields_survive(example: &Value, serialised: &Value, path: &str) -> Result<(), String> {
    match (example, serialised) {
        (Value::Object(shown), Value::Object(kept)) => {
            for (key, value) in shown {
                let Some(again) = kept.get(key) else { return Err(format!("{path}.{key} is not a field of the type")) };
                shown_fields_survive(value, again, &format!("{path}.{key}"))?;
            }
            Ok(())
        }
        (Value::Array(shown), Value::Array(kept)) => {
            shown.iter().zip(kept).enumerate().try_for_each(|(i, (a, b))| shown_fields_survive(a, b, &format!("{path}[{i}]")))
        }
        _ => Ok(()),
    }
}

fn parses_as<T: DeserializeOwned + Serialize>(example: &Value) -> Result<(), String> {
    let parsed: T = serde_json::from_value(example.clone()).map_err(|e| e.to_string())?;
    shown_fields_survive(example, &serde_json::to_value(parsed).map_err(|e| e.to_string())?, "")
}

/// Whether an example is a value of one type.
type Check = fn(&Value) -> Result<(), String>;

/// For request bodies, which refuse unknown fields themselves.
fn parses_strictly_as<T: DeserializeOwned>(example: &Value) -> Result<(), String> {
    serde_json::from_value::<T>(example.clone()).map(drop).map_err(|e| e.to_string())
}

fn without_request_id(example: &Value) -> Value {
    let mut example = example.clone();
    if let Some(object) = example.as_object_mut() {
        object.remove("requestId");
    }
    example
}

#[test]
fn every_websocket_example_is_a_frame_of_the_protocol() {
    let (mut parsed, mut elided) = (0, 0);
    for (line, values) in examples("docs/protocol.md") {
        let Some(values) = values else {
            elided += 1;
            continue;
        };
        for value in values {
            let at = format!("docs/protocol.md:{line}: {value}");
            let example = without_request_id(&value);
            if example.get("action").is_some() {
                parses_strictly_as::<ClientRequest>(&example).unwrap_or_else(|e| panic!("{at}\n  is not a request frame: {e}"));
            } else if example.get("type").is_some() {
                parses_as::<ServerFrame>(&example).unwrap_or_else(|e| panic!("{at}\n  is not a server frame: {e}"));
            } else {
                panic!("{at}\n  has neither an action nor a type");
            }
            parsed += 1;
        }
    }
    assert!(parsed >= 50, "only {parsed} examples parsed ({elided} elided)");
    assert!(elided <= 8, "{elided} examples elide: show whole frames where they can be");
}

#[test]
fn every_http_example_is_a_body_of_the_http_api() {
    let bodies: [(&str, Check); 10] = [
        ("HttpError", parses_as::<HttpError>),
        ("CreateAttachmentRequest", parses_strictly_as::<CreateAttachmentRequest>),
        ("AttachmentUpload", parses_as::<AttachmentUpload>),
        ("AttachmentDownload", parses_as::<AttachmentDownload>),
        ("MessagesPage", parses_as::<MessagesPage>),
        ("ChatsPage", parses_as::<ChatsPage>),
        ("ChatDetails", parses_as::<ChatDetails>),
        ("UserProfile", parses_as::<UserProfile>),
        ("CreateAvatarRequest", parses_strictly_as::<CreateAvatarRequest>),
        ("AvatarDownload", parses_as::<AvatarDownload>),
    ];
    let mut parsed = 0;
    for (line, values) in examples("docs/http-api.md") {
        for value in values.into_iter().flatten() {
            let errors: Vec<String> =
                bodies.iter().map(|(name, parses)| parses(&value).map_err(|e| format!("{name}: {e}"))).filter_map(Result::err).collect();
            assert!(
                errors.len() < bodies.len(),
                "docs/http-api.md:{line}: {value}\n  is no body of the HTTP API:\n  {}",
                errors.join("\n  ")
            );
            parsed += 1;
        }
    }
    assert!(parsed >= 7, "only {parsed} HTTP examples parsed");
}
