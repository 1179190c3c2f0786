//! The Lambdas: one module per function of `template.yaml`, grouped by what
//! invokes them (`websocket/`, `http/`, `streams/`, `schedules/`,
//! `authorizers/`), each translating its event into a call of `domain` and the
//! result back. [`registry`] lists them all; one `bootstrap` binary
//! (`main.rs`) serves whichever the template's `Handler` names, and the local
//! runtime calls the same handlers in process.

pub mod authorizers;
pub mod http;
pub mod registry;
pub mod runtime;
pub mod schedules;
pub mod streams;
pub mod websocket;
pub mod wiring;
