//! # noderr-ml
//!
//! The ML side of a Noderr node. Today: the deterministic libtorch runtime setup
//! ([`runtime`]). The feature pipeline, the models, training and the JSON-RPC service build on
//! it.

pub mod runtime;
