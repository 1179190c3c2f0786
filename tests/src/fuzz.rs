//! A seeded mutator of JSON frames and bodies, for the fuzz tests: the same
//! seed gives the same cases, so a failure reproduces.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Map, Value, json};

/// Strings that have broken parsers and key builders elsewhere.
const NASTY: &[&str] = &[
    "",
    " ",
    "\u{0}",
    "a\u{0}b",
    "\u{202E}gpj.exe",
    "\u{2066}x\u{2069}",
    "line\nbreak",
    "tab\t",
    "#",
    "a#b",
    "user#device",
    "../../etc/passwd",
    "%00",
    "%2F",
    "dm-a-b",
    "dm--",
    "g-",
    "g-01JDX4W0Q3K6Y8V1S7M2N9B5CR",
    "01JDX4W0Q3K6Y8V1S7M2N9B5CR",
    "R000000000001ffffffffffffffff",
    "null",
    "true",
    "-1",
    "1e999",
    "😀👍🏽",
    "عائلة",
    "'; DROP TABLE chats; --",
    "${jndi:ldap://x}",
    "<script>alert(1)</script>",
    "image/png",
    "audio/mpeg, text/html",
    "APNS",
    "GCM",
    "ADD",
    "REMOVE",
];

pub struct Mutator {
    rng: StdRng,
}

impl Mutator {
    pub fn new(seed: u64) -> Self {
        Self { rng: StdRng::seed_from_u64(seed) }
    }

    pub fn text(&mut self) -> String {
        match self.rng.random_range(0..6) {
            0..=2 => NASTY[self.rng.random_range(0..NASTY.len())].to_owned(),
            3 => "x".repeat(self.rng.random_range(60..4000)),
            4 => (0..self.rng.random_range(1..40)).map(|_| char::from_u32(self.rng.random_range(0..0x3000)).unwrap_or('?')).collect(),
            _ => format!("{}{}", NASTY[self.rng.random_range(0..NASTY.len())], "é".repeat(self.rng.random_range(0..300))),
        }
    }

    pub fn number(&mut self) -> Value {
        match self.rng.random_range(0..8) {
            0 => json!(0),
            1 => json!(-1),
            2 => json!(u64::MAX),
            3 => json!(i64::MIN),
            4 => json!(1e300),
            5 => json!(0.5),
            6 => json!(9_007_199_254_740_993_u64),
            _ => json!(self.rng.random_range(0..2000)),
        }
    }

    /// Any JSON value, nested up to `depth`.
    pub fn value(&mut self, depth: u32) -> Value {
        match self.rng.random_range(0..if depth == 0 { 5 } else { 7 }) {
            0 => Value::Null,
            1 => json!(self.rng.random_bool(0.5)),
            2 => self.number(),
            3 | 4 => json!(self.text()),
            5 => Value::Array((0..self.rng.random_range(0..5)).map(|_| self.value(depth - 1)).collect()),
            _ => {
                let mut object = Map::new();
                for _ in 0..self.rng.random_range(0..4) {
                    let key = self.text();
                    object.insert(key, self.value(depth - 1));
                }
                Value::Object(object)
            }
        }
    }

    /// A mutation of `base` (a JSON object): fields replaced, removed or
    /// added, lists stuffed, or the serialised text cut and flipped. Fields in
    /// `keep` keep their values (e.g. `action`, so the frame reaches its route).
    pub fn mutate(&mut self, base: &Value, keep: &[&str]) -> String {
        let mut frame = base.clone();
        let object = frame.as_object_mut().expect("a base frame is an object");
        let fields: Vec<String> = object.keys().filter(|k| !keep.contains(&k.as_str())).cloned().collect();
        for _ in 0..self.rng.random_range(1..=3) {
            let field = (!fields.is_empty()).then(|| fields[self.rng.random_range(0..fields.len())].clone());
            match (self.rng.random_range(0..6), field) {
                (0 | 1, Some(field)) => {
                    let value = self.value(2);
                    object.insert(field, value);
                }
                (2, Some(field)) => {
                    object.remove(&field);
                }
                (3, Some(field)) => {
                    let many: Vec<Value> =
                        (0..self.rng.random_range(0..150)).map(|_| json!(NASTY[self.rng.random_range(0..NASTY.len())])).collect();
                    object.insert(field, Value::Array(many));
                }
                (4, _) => {
                    let key = self.text();
                    let value = self.value(1);
                    object.insert(key, value);
                }
                _ => {}
            }
        }
        let mut text = frame.to_string();
        if self.rng.random_range(0..5) == 0 {
            // Damage the serialised frame after its opening `{"action":...,` so most still route.
            let mut bytes = text.into_bytes();
            let from = bytes.len().min(30);
            for _ in 0..self.rng.random_range(1..4) {
                if bytes.len() <= from {
                    break;
                }
                let at = self.rng.random_range(from..bytes.len());
                match self.rng.random_range(0..3) {
                    0 => bytes[at] = self.rng.random::<u8>(),
                    1 => bytes.truncate(at),
                    _ => bytes.insert(at, b"{}[]\",:\\"[self.rng.random_range(0..8)]),
                }
            }
            text = String::from_utf8_lossy(&bytes).into_owned();
        }
        text
    }
}
