//! Weights of the model registry's calls.
//!
//! Estimated from each call's storage accesses with the runtime's database weights plus a
//! compute allowance, until the pallet joins the runtime and `scripts/benchmark-weights.sh
//! pallet_model_registry` replaces this file with measured values (the benchmarks are in
//! `benchmarking.rs` and run in the pallet's tests).

use frame_support::weights::{constants::RocksDbWeight, Weight};

/// Weight functions of the pallet.
pub trait WeightInfo {
	/// `register` with `l` fetch locations.
	fn register(l: u32) -> Weight;
	/// `deprecate`.
	fn deprecate() -> Weight;
	/// `retire`.
	fn retire() -> Weight;
}

/// Estimates: reads and writes at the reference database weights, 50 us of compute per call
/// and 2 us per location.
pub struct SubstrateWeight;

impl WeightInfo for SubstrateWeight {
	fn register(l: u32) -> Weight {
		// Reads: Versions, ByHash, LiveVersions, its counter. Writes: Versions, LiveVersions,
		// counter, ByHash.
		Weight::from_parts(50_000_000 + 2_000_000 * l as u64, 8_000 + 600 * l as u64)
			.saturating_add(RocksDbWeight::get().reads_writes(4, 4))
	}
	fn deprecate() -> Weight {
		Weight::from_parts(30_000_000, 8_000)
			.saturating_add(RocksDbWeight::get().reads_writes(2, 1))
	}
	fn retire() -> Weight {
		Weight::from_parts(30_000_000, 8_000)
			.saturating_add(RocksDbWeight::get().reads_writes(3, 4))
	}
}

impl WeightInfo for () {
	fn register(l: u32) -> Weight {
		SubstrateWeight::register(l)
	}
	fn deprecate() -> Weight {
		SubstrateWeight::deprecate()
	}
	fn retire() -> Weight {
		SubstrateWeight::retire()
	}
}
