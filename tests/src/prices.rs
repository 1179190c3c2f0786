//! AWS's published on-demand prices the benchmark turns usage into dollars
//! with: us-east-1, arm64 Lambda, the first pricing tier of each. The one
//! place they are kept. As published on AWS's pricing pages and last checked
//! against them 2026-11-24 (DynamoDB's on-demand prices are those after the
//! 50 % cut of 2024-11-01; this machine has no internet, so a later change is
//! not reflected: update the date with the figures).

pub const CHECKED: &str = "2026-11-24";

/// DynamoDB on-demand, per write request unit (1 KB written; 2 in a transaction).
pub const DYNAMODB_WRITE_UNIT: f64 = 0.625 / 1e6;
/// DynamoDB on-demand, per read request unit (4 KB strongly consistent; half eventually).
pub const DYNAMODB_READ_UNIT: f64 = 0.125 / 1e6;
/// API Gateway WebSocket, per message (each 32 KB of a frame in or out).
pub const WEBSOCKET_MESSAGE: f64 = 1.00 / 1e6;
/// API Gateway WebSocket, per connection minute.
pub const WEBSOCKET_CONNECTION_MINUTE: f64 = 0.25 / 1e6;
/// API Gateway HTTP API, per request (each 512 KB).
pub const HTTP_API_REQUEST: f64 = 1.00 / 1e6;
/// Lambda, per invocation.
pub const LAMBDA_REQUEST: f64 = 0.20 / 1e6;
/// Lambda on arm64 (Graviton), per GB-second of configured memory × billed duration.
pub const LAMBDA_ARM_GB_SECOND: f64 = 0.000_013_333_4;
/// SNS, per mobile push notification delivered.
pub const SNS_MOBILE_PUSH: f64 = 0.50 / 1e6;
