//! # noderr-ml
//!
//! The ML side of a Noderr node: the deterministic libtorch runtime setup ([`runtime`]) and the
//! 94-feature pipeline over OHLCV bars ([`features`]).

pub mod data;
pub mod features;
pub mod runtime;
