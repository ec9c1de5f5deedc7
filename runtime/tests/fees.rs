//! Fees against block spam: a length fee that makes filling blocks cost real money, and a fee
//! multiplier that rises while blocks are fuller than the target and falls back after.

use frame_support::{dispatch::GetDispatchInfo, weights::Weight};
use noderr_runtime::{
	configs::{RuntimeBlockLength, RuntimeBlockWeights, TRANSACTION_BYTE_FEE},
	Runtime, RuntimeCall, UNIT,
};
use pallet_transaction_payment::Multiplier;
use sp_runtime::{
	traits::{Convert, One},
	FixedPointNumber,
};

type Payment = pallet_transaction_payment::Pallet<Runtime>;
type Update = <Runtime as pallet_transaction_payment::Config>::FeeMultiplierUpdate;

fn remark(len: usize) -> RuntimeCall {
	RuntimeCall::System(frame_system::Call::remark { remark: vec![0; len] })
}

fn normal_max_length() -> u32 {
	*RuntimeBlockLength::get().max.get(frame_support::dispatch::DispatchClass::Normal)
}

#[test]
fn filling_a_block_with_bytes_costs_real_money() {
	sp_io::TestExternalities::default().execute_with(|| {
		let len = normal_max_length() - 1_000;
		let call = remark(len as usize);
		let fee = Payment::compute_fee(len, &call.get_dispatch_info(), 0);
		println!(
			"one transaction of {len} bytes (a block's normal length) costs {:.3} NODERR",
			fee as f64 / UNIT as f64
		);
		assert!(fee >= 39 * UNIT, "fee {fee} is too small to deter spam");
		assert!(fee >= TRANSACTION_BYTE_FEE * len as u128);
		// An ordinary transaction stays cheap.
		let small = Payment::compute_fee(150, &remark(50).get_dispatch_info(), 0);
		println!("a 150-byte remark costs {:.6} NODERR", small as f64 / UNIT as f64);
		assert!(small < UNIT / 100, "ordinary transactions stay below 0.01 NODERR: {small}");
	});
}

/// Runs the multiplier update `blocks` times with blocks filled to `fill` of the normal class.
fn after_blocks(start: Multiplier, blocks: u32, fill: sp_runtime::Perbill) -> Multiplier {
	let weights = RuntimeBlockWeights::get();
	let normal = weights.get(frame_support::dispatch::DispatchClass::Normal);
	let max = normal.max_total.unwrap_or(weights.max_block);
	let used = Weight::from_parts(fill * max.ref_time(), fill * max.proof_size());
	let mut m = start;
	for _ in 0..blocks {
		frame_system::Pallet::<Runtime>::set_block_consumed_resources(used, 0);
		m = Update::convert(m);
	}
	m
}

#[test]
fn the_fee_multiplier_follows_congestion() {
	use sp_runtime::Perbill;
	sp_io::TestExternalities::default().execute_with(|| {
		let one = Multiplier::one();
		// An hour (600 blocks) of full blocks.
		let hour_full = after_blocks(one, 600, Perbill::from_percent(100));
		println!("multiplier after an hour of full blocks: {:.3}", hour_full.to_float());
		assert!(hour_full > Multiplier::saturating_from_rational(11, 10), "{hour_full}");
		// A day of full blocks makes spam dozens of times dearer.
		let day_full = after_blocks(one, 14_400, Perbill::from_percent(100));
		println!("multiplier after a day of full blocks: {:.3}", day_full.to_float());
		assert!(day_full > Multiplier::saturating_from_integer(20), "{day_full}");
		// At the target fullness it stays; below it, it falls back, never below one.
		let at_target = after_blocks(hour_full, 600, Perbill::from_percent(25));
		assert!(at_target >= hour_full * Multiplier::saturating_from_rational(99, 100));
		// Idle blocks are 25 points below the target where full ones are 75 above: the way
		// down takes three times as long.
		let idle = after_blocks(day_full, 14_400 * 4, Perbill::zero());
		println!("multiplier after four idle days: {:.3}", idle.to_float());
		assert_eq!(idle, one);
	});
}
