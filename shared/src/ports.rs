//! The domain's ports: what its rules ask of the world, as traits. The
//! adapters (`store/` on DynamoDB, `fanout`, `bucket`, `notifier` on AWS)
//! implement them for the deployed stack; in-memory fakes implement them for
//! the rules' unit tests, which run without any stand-in.

mod delivery;
mod media;
mod push;
mod store;

pub use delivery::*;
pub use media::*;
pub use push::*;
pub use store::*;
