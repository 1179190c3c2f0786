//! The end-to-end tests, one binary: each module is a feature's tests over real
//! WebSocket and HTTP against the running local system. One binary links once
//! (where a binary per file linked the whole stack 17 times) and lets the test
//! harness spread every test over the cores, not one file's at a time.

mod attachments;
mod authorization;
mod browser;
mod budget;
mod connect;
mod delivery;
mod devices;
mod e2ee;
mod fuzz;
mod groups;
mod history;
mod limits;
mod media;
mod membership;
mod messaging;
mod presence;
mod privacy;
mod push;
mod receipts;
mod retention;
mod sdk;
mod sequence;
mod soak;
mod stand_ins;
