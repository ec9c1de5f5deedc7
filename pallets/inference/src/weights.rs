//! Weights for `pallet_inference`.
//!
//! PROVISIONAL: these are estimates from each call's storage accesses (ParityDB weights) plus a
//! fixed compute allowance, written before the pallet's FRAME benchmarks were run. The
//! benchmarks (`benchmarking.rs`) will replace this file with generated weights through
//! `scripts/benchmark-weights.sh pallet_inference`.

#![allow(missing_docs)]

use frame_support::weights::{constants::ParityDbWeight, Weight};

/// Weight functions needed by this pallet.
pub trait WeightInfo {
	fn create_task() -> Weight;
	fn create_task_history() -> Weight;
	fn commit() -> Weight;
	fn reveal() -> Weight;
	fn heartbeat() -> Weight;
	fn link_worker() -> Weight;
	fn set_config() -> Weight;
	fn set_feed() -> Weight;
	fn set_schedule() -> Weight;
	fn seed_bars(n: u32) -> Weight;
	fn run_schedules(n: u32) -> Weight;
	fn process_deadlines(n: u32) -> Weight;
	fn assign(n: u32) -> Weight;
	fn authorize_submit() -> Weight;
}

/// Compute allowance per call, generous against what such calls measure on this chain (the
/// staking pallet's calls measure 40-55 us).
const COMPUTE: u64 = 100_000_000;

impl WeightInfo for () {
	fn create_task() -> Weight {
		Weight::from_parts(COMPUTE, 4_000).saturating_add(ParityDbWeight::get().reads_writes(8, 5))
	}
	fn create_task_history() -> Weight {
		// The text task's accesses plus the feed and its bar count.
		Weight::from_parts(COMPUTE, 6_000).saturating_add(ParityDbWeight::get().reads_writes(10, 5))
	}
	fn commit() -> Weight {
		Weight::from_parts(COMPUTE, 8_000).saturating_add(ParityDbWeight::get().reads_writes(4, 3))
	}
	fn reveal() -> Weight {
		Weight::from_parts(COMPUTE, 8_000).saturating_add(ParityDbWeight::get().reads_writes(6, 3))
	}
	fn heartbeat() -> Weight {
		// Up to 16 keys, each listed or unlisted with three accesses.
		Weight::from_parts(COMPUTE * 2, 16_000)
			.saturating_add(ParityDbWeight::get().reads_writes(50, 50))
	}
	fn link_worker() -> Weight {
		Weight::from_parts(COMPUTE, 2_000).saturating_add(ParityDbWeight::get().reads_writes(2, 3))
	}
	fn set_config() -> Weight {
		Weight::from_parts(COMPUTE, 1_000).saturating_add(ParityDbWeight::get().writes(1))
	}
	fn set_feed() -> Weight {
		Weight::from_parts(COMPUTE, 2_000).saturating_add(ParityDbWeight::get().reads_writes(2, 2))
	}
	fn set_schedule() -> Weight {
		Weight::from_parts(COMPUTE, 2_000).saturating_add(ParityDbWeight::get().reads_writes(1, 1))
	}
	fn seed_bars(n: u32) -> Weight {
		Weight::from_parts(COMPUTE, 2_000)
			.saturating_add(Weight::from_parts(COMPUTE / 4, 200).saturating_mul(n as u64))
			.saturating_add(ParityDbWeight::get().reads_writes(3, 1))
			.saturating_add(ParityDbWeight::get().reads_writes(4, 3).saturating_mul(n as u64))
	}
	fn run_schedules(n: u32) -> Weight {
		Weight::from_parts(COMPUTE, 4_000)
			.saturating_add(ParityDbWeight::get().reads(16))
			.saturating_add(Weight::from_parts(COMPUTE, 4_000).saturating_mul(n as u64))
			.saturating_add(ParityDbWeight::get().reads_writes(4, 4).saturating_mul(n as u64))
	}
	fn process_deadlines(n: u32) -> Weight {
		// The worst deadline: a settlement of 64 operators (reads and clears their
		// commitments and reveals, pays, records).
		Weight::from_parts(COMPUTE, 4_000)
			.saturating_add(Weight::from_parts(COMPUTE * 20, 64_000).saturating_mul(n as u64))
			.saturating_add(ParityDbWeight::get().reads_writes(400, 400).saturating_mul(n as u64))
	}
	fn assign(_n: u32) -> Weight {
		// At most 4k + 8 = 264 candidates read (index entry, heartbeat, tier, stake), of which
		// up to 200 lapsed and unlisted (four writes each): flat in the number listed.
		Weight::from_parts(COMPUTE * 20, 200_000)
			.saturating_add(ParityDbWeight::get().reads_writes(1_100, 900))
	}
	fn authorize_submit() -> Weight {
		// The signed payload and a signature check.
		Weight::from_parts(COMPUTE, 0).saturating_add(ParityDbWeight::get().reads(1))
	}
}
