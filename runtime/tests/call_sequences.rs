//! Fuzzed sequences of extrinsics against the development genesis: every call of every pallet,
//! with arguments built from the accounts, amounts and numbers the chain knows plus random
//! bytes, dispatched by signed accounts, root (directly and through sudo) and no origin, with
//! blocks (the pallets' hooks, sessions, epochs) between calls. After every step:
//! - a call that fails changes nothing (the state root is the one before it) and fails with a
//!   specific error, never `Other`, `Corruption` or `Unavailable`;
//! - every pallet's invariants hold (`do_try_state`);
//! - money is accounted: the sum of all balances (free and reserved) is the total issuance, and
//!   no call but root's balance setting raises the total issuance (burns and the dust of a
//!   reaped account lower it).
//!
//! The run is seeded and repeatable; `NODERR_CALL_FUZZ_SEQUENCES` (default 400) and
//! `NODERR_CALL_FUZZ_SEED` change its size and seed. It prints what it executed.
//! Left out, by design: root's raw storage and code writes (`system.*` as root, a forced
//! issuance adjustment, handing the sudo key away) which break invariants on purpose, and the
//! timestamp inherent, which only a block author sets.

mod common;

use codec::{Decode, Encode};
use frame_support::traits::{OnFinalize, OnInitialize};
use noderr_runtime::{
	configs::TreasuryAccount, genesis_config_presets as presets, AccountId, Balance, Runtime,
	RuntimeCall, RuntimeOrigin, EXISTENTIAL_DEPOSIT, UNIT,
};
use sp_keyring::Sr25519Keyring;
use sp_runtime::{traits::Dispatchable, DispatchError};
use std::collections::{BTreeMap, BTreeSet};

type System = frame_system::Pallet<Runtime>;
/// The pallets whose hooks run between calls (timestamp, Aura and GRANDPA need a real block's
/// inherents and digests; the rest run as in a block).
type Hooked = (
	pallet_session::Pallet<Runtime>,
	pallet_beacon::Pallet<Runtime>,
	pallet_validator_set::Pallet<Runtime>,
	pallet_staking_tiers::Pallet<Runtime>,
	pallet_model_registry::Pallet<Runtime>,
	pallet_inference::Pallet<Runtime>,
	pallet_guardian::Pallet<Runtime>,
);

/// splitmix64: small, seedable, good enough to pick fuzzing choices.
struct Rng(u64);

impl Rng {
	fn next(&mut self) -> u64 {
		self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
		let mut z = self.0;
		z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
		z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
		z ^ (z >> 31)
	}
	fn below(&mut self, n: u64) -> u64 {
		self.next() % n
	}
	fn chance(&mut self, percent: u64) -> bool {
		self.below(100) < percent
	}
	fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
		&items[self.below(items.len() as u64) as usize]
	}
}

fn env_u64(name: &str, default: u64) -> u64 {
	std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Every (pallet index, call index) the runtime decodes: a call of zeros decodes for every call
/// (empty vectors, zero numbers, first enum variants).
fn call_kinds() -> Vec<[u8; 2]> {
	let zeros = [0u8; 512];
	let mut kinds = Vec::new();
	for pallet in 0..=255u8 {
		for call in 0..=255u8 {
			let mut bytes = vec![pallet, call];
			bytes.extend_from_slice(&zeros);
			if RuntimeCall::decode(&mut &bytes[..]).is_ok() {
				kinds.push([pallet, call]);
			}
		}
	}
	kinds
}

/// Argument bytes: the chain's accounts, amounts around the tiers' bonds, small numbers,
/// lengths, flags and random bytes, in random order. Decoding takes what it needs.
fn arguments(rng: &mut Rng, accounts: &[AccountId]) -> Vec<u8> {
	let amounts: [Balance; 9] = [
		0,
		1,
		EXISTENTIAL_DEPOSIT,
		UNIT,
		1_000 * UNIT,
		5_000 * UNIT,
		10_000 * UNIT,
		1_000_000 * UNIT,
		u128::MAX,
	];
	let mut out = Vec::new();
	for _ in 0..rng.below(14) {
		match rng.below(10) {
			0..=2 => out.extend_from_slice(rng.pick(accounts).as_ref()),
			3 => {
				let amount = if rng.chance(80) { *rng.pick(&amounts) } else { rng.next() as u128 };
				out.extend_from_slice(&amount.encode());
			}
			4 => out.push((rng.below(5) as u8) << 2), // a compact length or number, 0..=4
			5 => out.extend_from_slice(&(rng.below(200) as u32).encode()),
			6 => {
				for _ in 0..1 + rng.below(40) {
					out.push(rng.next() as u8);
				}
			}
			7 => out.push(rng.below(2) as u8),
			8 => out.extend_from_slice(&[0x01, 0x00]), // Some / a variant, then zero
			_ => out.extend(std::iter::repeat_n(0, 1 + rng.below(8) as usize)),
		}
	}
	out
}

/// Calls left out: root's that break invariants on purpose, and the timestamp inherent.
fn excluded(call: &RuntimeCall, root: bool) -> bool {
	match call {
		RuntimeCall::Sudo(
			pallet_sudo::Call::sudo { call }
			| pallet_sudo::Call::sudo_unchecked_weight { call, .. },
		) => excluded(call, true),
		RuntimeCall::Sudo(pallet_sudo::Call::sudo_as { call, .. }) => excluded(call, root),
		RuntimeCall::Sudo(
			pallet_sudo::Call::set_key { .. } | pallet_sudo::Call::remove_key { .. },
		) => true,
		RuntimeCall::System(_) => root,
		// The timestamp inherent: only the block author sets it, once per block, in step with
		// Aura's slot (the transaction pool refuses it from anyone else).
		RuntimeCall::Timestamp(_) => true,
		RuntimeCall::Balances(pallet_balances::Call::force_adjust_total_issuance { .. }) => true,
		_ => false,
	}
}

/// Calls that may raise the total issuance: root setting a balance.
fn may_change_issuance(call: &RuntimeCall) -> bool {
	match call {
		RuntimeCall::Sudo(
			pallet_sudo::Call::sudo { call }
			| pallet_sudo::Call::sudo_unchecked_weight { call, .. }
			| pallet_sudo::Call::sudo_as { call, .. },
		) => may_change_issuance(call),
		RuntimeCall::Balances(
			pallet_balances::Call::burn { .. } | pallet_balances::Call::force_set_balance { .. },
		) => true,
		_ => false,
	}
}

fn check_invariants(context: &dyn Fn() -> String) {
	fn text(e: impl std::fmt::Debug) -> String {
		format!("{e:?}")
	}
	let checks: [(&str, Result<(), String>); 5] = [
		("model registry", pallet_model_registry::Pallet::<Runtime>::do_try_state().map_err(text)),
		("staking tiers", pallet_staking_tiers::Pallet::<Runtime>::do_try_state().map_err(text)),
		("validator set", pallet_validator_set::Pallet::<Runtime>::do_try_state().map_err(text)),
		("inference", pallet_inference::Pallet::<Runtime>::do_try_state().map_err(text)),
		("guardian", pallet_guardian::Pallet::<Runtime>::do_try_state().map_err(text)),
	];
	for (name, result) in checks {
		if let Err(e) = result {
			panic!("{name} invariants broken: {e}\n{}", context());
		}
	}
	let held: Balance = frame_system::Account::<Runtime>::iter()
		.map(|(_, info)| info.data.free.saturating_add(info.data.reserved))
		.sum();
	let issuance = pallet_balances::TotalIssuance::<Runtime>::get();
	assert_eq!(held, issuance, "balances do not add up to the total issuance\n{}", context());
}

fn advance_block() {
	let n = System::block_number();
	<Hooked as OnFinalize<u32>>::on_finalize(n);
	System::reset_events();
	System::set_block_number(n + 1);
	<Hooked as OnInitialize<u32>>::on_initialize(n + 1);
}

fn state_root() -> Vec<u8> {
	sp_io::storage::root(sp_runtime::StateVersion::V1)
}

#[derive(Default)]
struct Tally {
	generated: u64,
	undecodable: u64,
	excluded: u64,
	ok: u64,
	failed: u64,
	blocks: u64,
	ok_kinds: BTreeSet<[u8; 2]>,
	errors: BTreeMap<String, u64>,
}

#[test]
fn fuzzed_call_sequences_keep_every_invariant_and_fail_cleanly() {
	let sequences = env_u64("NODERR_CALL_FUZZ_SEQUENCES", 400);
	let seed = env_u64("NODERR_CALL_FUZZ_SEED", 0x6e6f_6465_7272);
	let steps = 60;
	let started = std::time::Instant::now();
	let kinds = call_kinds();
	assert!(kinds.len() > 40, "the runtime's calls were found: {}", kinds.len());

	let mut accounts: Vec<AccountId> = Sr25519Keyring::iter().map(|k| k.to_account_id()).collect();
	accounts.push(TreasuryAccount::get());
	accounts.push(AccountId::new([0; 32]));
	accounts.push(AccountId::new([0xee; 32]));
	let alice = Sr25519Keyring::Alice.to_account_id();

	let mut tally = Tally::default();
	for sequence in 0..sequences {
		let mut rng = Rng(seed ^ sequence.wrapping_mul(0x2545_f491_4f6c_dd1d));
		let mut ext = common::ext_for(presets::development_config_genesis());
		ext.execute_with(|| {
			System::set_block_number(1);
			check_invariants(&|| format!("at genesis (sequence {sequence})"));
			let mut history: Vec<String> = Vec::new();
			for step in 0..steps {
				if rng.chance(25) {
					let blocks = if rng.chance(10) { 1 + rng.below(40) } else { 1 };
					for _ in 0..blocks {
						advance_block();
					}
					tally.blocks += blocks;
					history.push(format!("{blocks} block(s) to #{}", System::block_number()));
					let context = || format!("sequence {sequence}, after {history:#?}");
					check_invariants(&context);
				}

				let kind = *rng.pick(&kinds);
				let mut bytes = kind.to_vec();
				bytes.extend(arguments(&mut rng, &accounts));
				tally.generated += 1;
				let Ok(mut call) = RuntimeCall::decode(&mut &bytes[..]) else {
					tally.undecodable += 1;
					continue;
				};
				let (origin, who) = match rng.below(100) {
					0..=14 if !matches!(call, RuntimeCall::Sudo(_)) => {
						call = RuntimeCall::Sudo(pallet_sudo::Call::sudo { call: Box::new(call) });
						(RuntimeOrigin::signed(alice.clone()), "sudo by Alice".to_string())
					}
					15..=24 => (RuntimeOrigin::root(), "root".to_string()),
					25..=34 => (RuntimeOrigin::none(), "none".to_string()),
					_ => {
						let who = rng.pick(&accounts).clone();
						(RuntimeOrigin::signed(who.clone()), format!("signed by {who}"))
					}
				};
				if excluded(&call, who == "root") {
					tally.excluded += 1;
					continue;
				}

				let root_before = state_root();
				let issuance_before = pallet_balances::TotalIssuance::<Runtime>::get();
				let described = format!("step {step}: {call:?} ({who})");
				let result = call.clone().dispatch(origin);
				history
					.push(format!("{described} -> {:?}", result.map(|_| ()).map_err(|e| e.error)));
				let context = || format!("sequence {sequence}, after {history:#?}");
				match result {
					Ok(_) => {
						tally.ok += 1;
						tally.ok_kinds.insert(kind);
					}
					Err(e) => {
						tally.failed += 1;
						assert!(
							!matches!(
								e.error,
								DispatchError::Other(_)
									| DispatchError::Corruption | DispatchError::Unavailable
							),
							"an unspecific error {:?}\n{}",
							e.error,
							context()
						);
						assert_eq!(
							state_root(),
							root_before,
							"a failed call changed state\n{}",
							context()
						);
						let name = match e.error {
							DispatchError::Module(m) => {
								format!("{}::{}", m.message.unwrap_or("?"), m.index)
							}
							other => format!("{other:?}"),
						};
						*tally.errors.entry(name).or_default() += 1;
					}
				}
				// Nothing but root's balance setting mints: the issuance may only fall (burns,
				// the dust of a reaped account), never rise.
				if !may_change_issuance(&call) {
					assert!(
						pallet_balances::TotalIssuance::<Runtime>::get() <= issuance_before,
						"total issuance rose\n{}",
						context()
					);
				}
				check_invariants(&context);
			}
		});
	}

	let mut errors: Vec<_> = tally.errors.iter().collect();
	errors.sort_by(|a, b| b.1.cmp(a.1));
	println!(
		"call fuzz: {sequences} sequences (seed {seed:#x}), {} calls generated over {} call kinds, \
		 {} undecodable, {} left out, {} dispatched: {} ok ({} kinds), {} failed; {} blocks; {:.1} s",
		tally.generated,
		kinds.len(),
		tally.undecodable,
		tally.excluded,
		tally.ok + tally.failed,
		tally.ok,
		tally.ok_kinds.len(),
		tally.failed,
		tally.blocks,
		started.elapsed().as_secs_f64()
	);
	println!("call fuzz: most common errors {:?}", &errors[..errors.len().min(12)]);
	// The generator must reach far into the runtime, or this test proves little.
	assert!(tally.ok_kinds.len() * 3 >= kinds.len(), "too few call kinds succeeded");
	assert!(tally.failed * 10 >= tally.ok, "too few failures: the arguments are too tame");
}
