//! How many worker submissions fit in one block, with a balance transfer as the yardstick: from
//! the generated weights, counted the way the block builder counts them (the class's base
//! extrinsic weight, the call's weight, the transaction extensions' weight, the encoded length).
//! A submission reserves its work twice (the pool's dry run in `authorize`, then the dispatch);
//! in a block `authorize` refunds the dry run, so a block holds as many as their charged weight
//! allows (the block builder admits a transaction while its reserved weight still fits).

use codec::Encode;
use frame_support::{
	dispatch::{DispatchClass, GetDispatchInfo},
	weights::Weight,
};
use frame_system::offchain::CreateAuthorizedTransaction;
use noderr_runtime::{
	configs::{RuntimeBlockLength, RuntimeBlockWeights},
	AccountId, Runtime, RuntimeCall, Signature, UncheckedExtrinsic,
};
use pallet_inference::{Submission, Work};

fn signature() -> Signature {
	Signature::Sr25519(sp_core::sr25519::Signature::from_raw([7; 64]))
}

/// A worker's authorized submission of `work`, as its node builds it.
fn authorized(work: Work<u32, frame_support::traits::ConstU32<16>>) -> UncheckedExtrinsic {
	let submission = Submission { operator: AccountId::new([1; 32]), work };
	let call = RuntimeCall::Inference(pallet_inference::Call::submit {
		submission,
		signature: signature(),
	});
	<Runtime as CreateAuthorizedTransaction<RuntimeCall>>::create_authorized_transaction(call)
}

/// A signed balance transfer with the same extensions.
fn transfer() -> UncheckedExtrinsic {
	let call = RuntimeCall::Balances(pallet_balances::Call::transfer_allow_death {
		dest: AccountId::new([2; 32]).into(),
		value: 1_000_000_000_000,
	});
	let extension = <Runtime as CreateAuthorizedTransaction<RuntimeCall>>::create_extension();
	UncheckedExtrinsic::new_signed(call, AccountId::new([3; 32]).into(), signature(), extension)
}

/// The weight `authorize` refunds in a block.
fn refund(xt: &UncheckedExtrinsic) -> Weight {
	match &xt.function {
		RuntimeCall::Inference(pallet_inference::Call::submit { submission, .. }) => {
			pallet_inference::Pallet::<Runtime>::work_weight(&submission.work)
		}
		_ => Weight::zero(),
	}
}

/// (weight reserved, weight charged, encoded bytes, how many fit in one block's normal class).
fn cost(xt: &UncheckedExtrinsic) -> (Weight, Weight, usize, u64) {
	let weights = RuntimeBlockWeights::get();
	let normal = weights.get(DispatchClass::Normal);
	let reserved = normal.base_extrinsic.saturating_add(xt.get_dispatch_info().total_weight());
	let charged = reserved.saturating_sub(refund(xt));
	let room = normal.max_total.expect("a normal-class limit").saturating_sub(weights.base_block);
	let length = xt.encoded_size();
	// All but the last are counted at their charged weight; the last must fit reserved.
	let fit = |room: u64, charged: u64, reserved: u64| {
		if room < reserved {
			0
		} else {
			(room - reserved) / charged.max(1) + 1
		}
	};
	let by_weight = fit(room.ref_time(), charged.ref_time(), reserved.ref_time()).min(fit(
		room.proof_size(),
		charged.proof_size(),
		reserved.proof_size(),
	));
	let by_length =
		*RuntimeBlockLength::get().max.get(DispatchClass::Normal) as u64 / length as u64;
	(reserved, charged, length, by_weight.min(by_length))
}

#[test]
fn one_block_carries_over_a_thousand_commits_or_reveals() {
	let answer: noderr_primitives::Answer = vec![i64::MAX; 8].try_into().unwrap();
	let keys = vec![[9u8; 32]; 16].try_into().unwrap();
	let cases = [
		("commit", authorized(Work::Commit { task: u64::MAX, commitment: [5; 32] })),
		("reveal (8 values)", authorized(Work::Reveal { task: u64::MAX, answer, salt: [6; 32] })),
		("heartbeat (16 keys)", authorized(Work::Heartbeat { keys, at: 1 })),
		("balance transfer", transfer()),
	];
	let (_, transfer_weight, _, _) = cost(&cases[3].1);
	println!("capacity of one 6 s block's normal class (2 s of compute, 75 % normal):");
	println!(
		"  {:<20} {:>11} {:>11} {:>12} {:>6} {:>10}",
		"", "reserved", "charged", "vs transfer", "bytes", "per block"
	);
	let mut fits = std::collections::BTreeMap::new();
	for (name, xt) in &cases {
		let (reserved, charged, length, count) = cost(xt);
		println!(
			"  {name:<20} {:>8.1} µs {:>8.1} µs {:>11.2}x {length:>6} {count:>10}",
			reserved.ref_time() as f64 / 1e6,
			charged.ref_time() as f64 / 1e6,
			charged.ref_time() as f64 / transfer_weight.ref_time() as f64,
		);
		fits.insert(*name, count);
	}
	assert!(fits["commit"] >= 1_000, "commits per block: {}", fits["commit"]);
	assert!(fits["reveal (8 values)"] >= 1_000, "reveals per block: {}", fits["reveal (8 values)"]);
}

/// Guardian work at the largest panel (`MaxPanel`) and the most operators per task
/// (`MaxAssigned`), from the generated weights: each call and hook fits a block many times over.
#[test]
fn guardian_work_at_the_largest_panel_fits_a_block_many_times() {
	use frame_support::traits::Get;
	use pallet_guardian::WeightInfo;
	type W = pallet_guardian::weights::SubstrateWeight<Runtime>;
	let panel: u32 = <Runtime as pallet_guardian::Config>::MaxPanel::get();
	let operators: u32 = <Runtime as pallet_guardian::Config>::MaxAssigned::get();
	let guardians: u32 = <Runtime as pallet_guardian::Config>::MaxGuardians::get();
	let block = RuntimeBlockWeights::get().max_block;
	let rows = [
		("report (equivocation: two signatures, slash)", W::report_equivocation()),
		("report (wrong answer: audit of a 64-operator task)", W::report_audit()),
		("report (to a panel vote)", W::report_vote()),
		("vote (deciding vote, panel of 15)", W::vote(panel)),
		("tally at the vote's end (panel of 15)", W::tally(panel)),
		("panel draw among 512 GUARDIANs", W::draw_panel(guardians)),
		("settlement hook (64 operators)", W::on_task_finished(operators)),
		(
			"audit verdict (panel of 15, 64 operators all slashed)",
			W::conclude_audit(panel, operators),
		),
		("cancel a slash", W::cancel_slash()),
	];
	println!("guardian weights (ref time µs, proof KiB, share of a block's 2 s):");
	for (what, w) in rows {
		let share = w.ref_time() as f64 / block.ref_time() as f64;
		println!(
			"  {what}: {:.1} µs, {:.1} KiB, {:.3} %",
			w.ref_time() as f64 / 1e6,
			w.proof_size() as f64 / 1024.0,
			share * 100.0
		);
		assert!(share < 0.1, "{what} takes {:.1} % of a block", share * 100.0);
		assert!(w.proof_size() < block.proof_size() / 10, "{what}'s proof");
	}
}
