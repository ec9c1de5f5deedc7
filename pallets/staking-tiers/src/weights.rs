//! Weights for `pallet_staking_tiers`.
//!
//! Regenerate with `scripts/benchmark-weights.sh`, which runs this pallet's FRAME benchmarks
//! through the node built with `--features runtime-benchmarks`.

#![allow(unused_parens, unused_imports, missing_docs)]

use core::marker::PhantomData;
use frame_support::{
	traits::Get,
	weights::{constants::RocksDbWeight, Weight},
};

/// Weight functions needed by this pallet.
pub trait WeightInfo {
	fn apply() -> Weight;
	fn approve() -> Weight;
	fn reject() -> Weight;
	fn withdraw_application() -> Weight;
	fn suspend() -> Weight;
	fn reinstate() -> Weight;
	fn bond() -> Weight;
	fn bond_extra() -> Weight;
	fn unbond() -> Weight;
	fn withdraw_unbonded() -> Weight;
	fn rebond() -> Weight;
	fn set_config() -> Weight;
	fn cancel_slash() -> Weight;
	fn start_epoch(n: u32) -> Weight;
	fn apply_slash(c: u32) -> Weight;
}

macro_rules! weights {
	($db:expr) => {
		fn apply() -> Weight {
			Weight::from_parts(60_000_000, 6_000).saturating_add($db.reads_writes(4, 4))
		}
		fn approve() -> Weight {
			Weight::from_parts(50_000_000, 6_000).saturating_add($db.reads_writes(3, 3))
		}
		fn reject() -> Weight {
			Weight::from_parts(55_000_000, 6_000).saturating_add($db.reads_writes(4, 4))
		}
		fn withdraw_application() -> Weight {
			Weight::from_parts(55_000_000, 6_000).saturating_add($db.reads_writes(4, 4))
		}
		fn suspend() -> Weight {
			Weight::from_parts(60_000_000, 40_000).saturating_add($db.reads_writes(3, 3))
		}
		fn reinstate() -> Weight {
			Weight::from_parts(40_000_000, 40_000).saturating_add($db.reads_writes(2, 2))
		}
		fn bond() -> Weight {
			Weight::from_parts(70_000_000, 40_000).saturating_add($db.reads_writes(6, 4))
		}
		fn bond_extra() -> Weight {
			Weight::from_parts(70_000_000, 40_000).saturating_add($db.reads_writes(6, 4))
		}
		fn unbond() -> Weight {
			Weight::from_parts(60_000_000, 40_000).saturating_add($db.reads_writes(3, 2))
		}
		fn withdraw_unbonded() -> Weight {
			Weight::from_parts(70_000_000, 40_000).saturating_add($db.reads_writes(5, 4))
		}
		fn rebond() -> Weight {
			Weight::from_parts(60_000_000, 40_000).saturating_add($db.reads_writes(3, 2))
		}
		fn set_config() -> Weight {
			Weight::from_parts(2_000_000_000, 600_000).saturating_add($db.reads_writes(1_002, 2))
		}
		fn cancel_slash() -> Weight {
			Weight::from_parts(40_000_000, 6_000).saturating_add($db.reads_writes(4, 4))
		}
		fn start_epoch(n: u32) -> Weight {
			Weight::from_parts(20_000_000, 2_000)
				.saturating_add(Weight::from_parts(40_000_000, 80_000).saturating_mul(n.into()))
				.saturating_add($db.reads_writes(3, 3))
				.saturating_add($db.reads_writes(4, 4).saturating_mul(n.into()))
		}
		fn apply_slash(c: u32) -> Weight {
			Weight::from_parts(150_000_000, 40_000)
				.saturating_add(Weight::from_parts(1_000_000, 0).saturating_mul(c.into()))
				.saturating_add($db.reads_writes(10, 10))
		}
	};
}

/// Weights for a runtime, scaled by its database weights.
pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T> {
	weights!(T::DbWeight::get());
}

impl WeightInfo for () {
	weights!(RocksDbWeight::get());
}
