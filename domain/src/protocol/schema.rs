//! The wire contract as one JSON Schema document (draft 2020-12), generated
//! from the protocol types: every frame a client sends (`ClientFrame`), every
//! frame the server sends (`Reply`: a `ServerFrame` with the `requestId` it
//! answers), and the HTTP API's bodies. The committed copy is
//! `docs/protocol.schema.json`, and the JavaScript client's TypeScript
//! declarations (`clients/js/src/protocol.d.ts`) are generated from it by
//! `scripts/contract`; tests fail when either is stale, so the three cannot
//! drift apart again.

use schemars::JsonSchema;
use schemars::generate::SchemaSettings;
use serde_json::{Value, json};

use super::{
    AttachmentDownload, AttachmentUpload, AvatarDownload, ChatDetails, ChatsPage, ClientRequest, CreateAttachmentRequest,
    CreateAvatarRequest, HttpError, MessagesPage, Reply, UserProfile,
};

/// A request frame as a client writes it: the route's fields, its `action`,
/// and the envelope's `requestId`.
#[derive(JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClientFrame {
    /// Echoed by the reply to this frame (a string of at most 128 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    #[serde(flatten)]
    pub request: ClientRequest,
}

/// Where the committed schema lives, from the workspace root.
pub const SCHEMA_PATH: &str = "docs/protocol.schema.json";

/// The contract: every type a client reads or writes, under `$defs`.
pub fn contract() -> Value {
    let mut generator = SchemaSettings::draft2020_12().into_generator();
    // The roots; everything they use comes along as a definition of its own.
    generator.subschema_for::<ClientFrame>();
    generator.subschema_for::<Reply>();
    generator.subschema_for::<CreateAttachmentRequest>();
    generator.subschema_for::<AttachmentUpload>();
    generator.subschema_for::<AttachmentDownload>();
    generator.subschema_for::<MessagesPage>();
    generator.subschema_for::<ChatsPage>();
    generator.subschema_for::<ChatDetails>();
    generator.subschema_for::<UserProfile>();
    generator.subschema_for::<CreateAvatarRequest>();
    generator.subschema_for::<AvatarDownload>();
    generator.subschema_for::<HttpError>();
    let mut definitions = generator.take_definitions(true);
    for definition in definitions.values_mut() {
        spread_envelope(definition);
    }
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Chat wire contract",
        "description": "Generated from domain/src/protocol (scripts/contract); do not edit. WebSocket: a client sends ClientFrame and receives Reply. HTTP API: the request and response bodies of docs/http-api.md.",
        "$defs": definitions,
    })
}

/// A flattened envelope (`requestId` beside a tagged union) comes out of
/// schemars as `properties` next to `oneOf`; each variant gets the envelope's
/// properties instead, so that every tool (and the TypeScript generator) reads
/// each frame as one object.
fn spread_envelope(definition: &mut Value) {
    let Some(object) = definition.as_object_mut() else { return };
    if !object.contains_key("oneOf") {
        return;
    }
    let Some(Value::Object(envelope)) = object.remove("properties") else { return };
    for variant in object["oneOf"].as_array_mut().into_iter().flatten() {
        if let Some(Value::Object(properties)) = variant.get_mut("properties") {
            for (name, schema) in &envelope {
                properties.entry(name.clone()).or_insert_with(|| schema.clone());
            }
        }
        split_ref(variant);
    }
    object.remove("type");
}

/// A variant that is a type of its own plus the union's tag (`newMessage`:
/// a `MessageView` and `type`) comes out as `$ref` with sibling keywords.
/// JSON Schema 2020-12 reads that as both at once, but the TypeScript
/// generator drops the siblings (and the tag with them) and copies the
/// referenced type; `allOf` says the same and every tool reads it.
fn split_ref(variant: &mut Value) {
    let Some(object) = variant.as_object_mut() else { return };
    if object.len() < 2 {
        return;
    }
    let Some(reference) = object.remove("$ref") else { return };
    let rest = std::mem::take(object);
    object.insert("allOf".to_owned(), json!([{ "$ref": reference }, Value::Object(rest)]));
}

/// The contract as committed: pretty JSON with a final newline.
pub fn contract_text() -> String {
    let mut text = serde_json::to_string_pretty(&contract()).expect("a schema serialises");
    text.push('\n');
    text
}

/// The `action` of every request frame the contract knows (the variants of
/// `ClientRequest`, which the schema inlines into `ClientFrame`).
pub fn actions() -> Vec<String> {
    let contract = contract();
    let variants = contract["$defs"]["ClientFrame"]["oneOf"].as_array().cloned().unwrap_or_default();
    variants.iter().filter_map(|variant| variant["properties"]["action"]["const"].as_str().map(str::to_owned)).collect()
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    /// `UPDATE_CONTRACT=1 cargo test -p shared contract` rewrites the file
    /// (then `scripts/contract` the TypeScript).
    #[test]
    fn the_committed_contract_is_the_generated_one() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(SCHEMA_PATH);
        let generated = contract_text();
        if std::env::var_os("UPDATE_CONTRACT").is_some() {
            std::fs::write(&path, &generated).expect("schema written");
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(committed == generated, "{SCHEMA_PATH} is stale: run `scripts/contract` and commit the result");
    }

    #[test]
    fn every_request_and_frame_has_a_definition() {
        let contract = contract();
        for name in ["ClientFrame", "Reply", "MessageView", "ChatSummary", "ChatsPage", "MessagesPage", "HttpError"] {
            assert!(contract["$defs"][name].is_object(), "no definition of {name}");
        }
        // Every frame keeps its tag where the TypeScript generator reads it:
        // never a `$ref` with sibling keywords, which it drops.
        for (union, tag) in [("ClientFrame", "action"), ("Reply", "type")] {
            for variant in contract["$defs"][union]["oneOf"].as_array().unwrap() {
                let parts = variant["allOf"].as_array().cloned().unwrap_or_else(|| vec![variant.clone()]);
                assert!(parts.iter().any(|p| p["properties"][tag]["const"].is_string()), "{union} variant without its {tag}: {variant}");
                assert!(variant.get("$ref").is_none(), "{union}: $ref with siblings: {variant}");
            }
        }
        let actions = actions();
        assert_eq!(actions.len(), 30, "{actions:?}");
        assert!(actions.contains(&"sendMessage".to_owned()));
    }
}
