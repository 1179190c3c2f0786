//! What every request frame carries besides its route's fields: the
//! `action` API Gateway routes on, the `requestId` a reply echoes, and the
//! connection it came on.

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::AppError;

/// A request frame split into the route's own fields and what every frame
/// carries: its `requestId` (echoed in the reply) and the connection it came on.
pub struct Request<T> {
    pub request_id: Option<String>,
    pub connection_id: String,
    pub body: T,
}

/// The envelope fields parsed from a frame, before the connection is known.
pub struct Envelope<T> {
    pub request_id: Option<String>,
    pub body: T,
}

/// Parses a frame for one route. Failures keep the `requestId` when the frame
/// was JSON, so the error frame can echo it.
pub fn parse_request<T: DeserializeOwned>(body: Option<&str>) -> Result<Envelope<T>, (AppError, Option<String>)> {
    let mut value: Value = serde_json::from_str(body.unwrap_or("")).map_err(|_| (AppError::MalformedJson, None))?;
    let Some(object) = value.as_object_mut() else {
        return Err((AppError::invalid("a frame is a JSON object"), None));
    };
    let request_id = match object.remove("requestId") {
        None | Some(Value::Null) => None,
        Some(Value::String(id)) if id.len() <= 128 => Some(id),
        Some(_) => return Err((AppError::invalid("requestId must be a string of at most 128 characters"), None)),
    };
    object.remove("action");
    let body = T::deserialize(value).map_err(|e| (AppError::invalid(e.to_string()), request_id.clone()))?;
    Ok(Envelope { request_id, body })
}

/// The `requestId` of a frame, if it is JSON and has one (for error replies).
pub fn request_id_of(body: Option<&str>) -> Option<String> {
    let value: Value = serde_json::from_str(body?).ok()?;
    value.get("requestId")?.as_str().map(str::to_owned)
}
