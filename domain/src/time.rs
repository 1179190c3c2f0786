use std::time::{SystemTime, UNIX_EPOCH};

pub fn now_millis() -> u64 {
    now_micros() / 1000
}

pub fn now_micros() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_micros() as u64).unwrap_or(0)
}

pub fn now_secs() -> u64 {
    now_millis() / 1000
}
