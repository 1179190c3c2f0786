//! DynamoDB stream consumers.

pub mod presence_changes;
pub mod push;
pub mod receipts;
