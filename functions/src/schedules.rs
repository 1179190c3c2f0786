//! Scheduled jobs (EventBridge schedules).

pub mod cleanup;
pub mod presence_sweep;
