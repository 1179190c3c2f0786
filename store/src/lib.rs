//! (moved next)
