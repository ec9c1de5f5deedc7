//! Runtime API of the model registry, for the node's model store, operators' tooling and
//! dashboards.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

use alloc::vec::Vec;
use codec::Codec;
use noderr_primitives::Tier;
pub use pallet_model_registry::{InputSpec, ModelInfo, OutputSpec, SemVer, Status, TaskKind};

sp_api::decl_runtime_apis! {
	/// Queries about registered models.
	pub trait ModelRegistryApi<BlockNumber>
	where
		BlockNumber: Codec,
	{
		/// The versions a node of `tier` serves at this block: activation reached, live or
		/// deprecated, minimum tier at or below `tier`. Sorted by name, then version.
		fn active_models(tier: Tier) -> Vec<ModelInfo<BlockNumber>>;

		/// A version by name and version, whatever its activation block.
		fn model(name: Vec<u8>, version: SemVer) -> Option<ModelInfo<BlockNumber>>;
	}
}
