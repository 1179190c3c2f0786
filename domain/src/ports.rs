//! The domain's ports: what its rules ask of the world, as traits. The
//! adapters (the `store` crate on DynamoDB, `aws-adapters` on S3, SNS, the
//! Management API and Secrets Manager)
//! implement them for the deployed stack; in-memory fakes implement them for
//! the rules' unit tests, which run without any stand-in.

mod delivery;
mod media;
mod push;
mod secrets;
mod store;

pub use delivery::*;
pub use media::*;
pub use push::*;
pub use secrets::*;
pub use store::*;
