//! # noderr-ml
//!
//! The ML side of a Noderr node: the deterministic libtorch runtime setup ([`runtime`]), the
//! 94-feature pipeline over OHLCV bars ([`features`]), the other pure-Rust input pipelines (GAF
//! images, tokenizer: [`pipeline`]), model artifacts ([`artifact`]) and the base models some are
//! built on ([`base`]), the models ([`models`]) and their training (`train`, behind the `train`
//! feature), the time split and helpers training shares with the evaluation ([`heldout`]),
//! inference ([`engine`]), held-out evaluation against honest baselines ([`evaluate`]) and the
//! JSON-RPC service ([`service`]).

pub mod artifact;
pub mod base;
pub mod data;
pub mod engine;
pub mod evaluate;
pub mod features;
pub mod heldout;
pub mod models;
pub mod peer_protocol;
pub mod pipeline;
pub mod registration;
pub mod runtime;
pub mod service;
pub mod store;
#[cfg(feature = "train")]
pub mod train;
