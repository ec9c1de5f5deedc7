//! The genesis presets build, and give the chain what the chain specs promise: validators
//! with session keys, dev operators in each tier, the default models, a funded treasury,
//! consistent pallet state. A live network's genesis holds its launcher's keys only.

use frame_support::traits::{fungible::Inspect, IntegrityTest};
use noderr_primitives::{Tier, TierProvider};
use noderr_runtime::{
	configs::TreasuryAccount, genesis_config_presets as presets, AccountId, AllPalletsWithSystem,
	Balance, Balances, Runtime, StakingTiers, EXISTENTIAL_DEPOSIT, UNIT,
};
use sp_keyring::Sr25519Keyring;

mod common;
use common::ext_for;

fn account(k: Sr25519Keyring) -> AccountId {
	k.to_account_id()
}

fn check_common(validators: &[Sr25519Keyring], dev: bool) {
	let expected: Vec<AccountId> = {
		let mut v: Vec<_> = validators.iter().map(|k| account(*k)).collect();
		v.sort();
		v
	};
	assert_eq!(pallet_validator_set::Validators::<Runtime>::get().into_inner(), expected);
	assert_eq!(pallet_session::Validators::<Runtime>::get().len(), validators.len());
	assert_eq!(pallet_aura::Authorities::<Runtime>::get().len(), validators.len());
	assert_eq!(pallet_grandpa::Pallet::<Runtime>::grandpa_authorities().len(), validators.len());

	let tier = |k| <StakingTiers as TierProvider<AccountId, Balance>>::tier(&account(k));
	assert_eq!(tier(Sr25519Keyring::Alice), Some(Tier::Guardian));
	assert_eq!(tier(Sr25519Keyring::Bob), Some(Tier::Oracle));
	assert_eq!(tier(Sr25519Keyring::Charlie), Some(Tier::All));
	assert_eq!(tier(Sr25519Keyring::Dave), None);
	assert_eq!(
		<StakingTiers as TierProvider<AccountId, Balance>>::stake(&account(Sr25519Keyring::Alice)),
		10_000 * UNIT
	);
	// Dev networks fund the treasury that pays the task emission; the others give it only
	// the existential deposit.
	let treasury = if dev { presets::ENDOWMENT } else { EXISTENTIAL_DEPOSIT };
	assert_eq!(Balances::balance(&TreasuryAccount::get()), treasury);
	// Dev networks move tiers every 10 blocks so a new operator works within a minute.
	let epoch = pallet_staking_tiers::Configuration::<Runtime>::get().epoch_length;
	if dev {
		assert_eq!(epoch, 10);
	} else {
		assert_eq!(epoch, noderr_runtime::configs::DefaultTierConfig::get().epoch_length);
	}
	// The BTC/USD feed and its schedule of the three price models; the beacon's first value.
	let feed = pallet_inference::Feeds::<Runtime>::get(0).expect("the BTC/USD feed");
	assert_eq!(feed.pair.into_inner(), b"BTC/USD".to_vec());
	assert_eq!(feed.interval, 3_600);
	let schedule = pallet_inference::Schedules::<Runtime>::get(0).expect("its schedule");
	assert_eq!(schedule.models.len(), 3);
	assert_ne!(pallet_beacon::Current::<Runtime>::get(), [0; 32]);
	// Dev operators' worker keys: Dave for Alice, Eve for Bob, Ferdie for Charlie.
	let worker = |k| pallet_inference::WorkerOf::<Runtime>::get(account(k));
	if dev {
		assert_eq!(worker(Sr25519Keyring::Alice), Some(account(Sr25519Keyring::Dave)));
		assert_eq!(worker(Sr25519Keyring::Bob), Some(account(Sr25519Keyring::Eve)));
		assert_eq!(worker(Sr25519Keyring::Charlie), Some(account(Sr25519Keyring::Ferdie)));
	} else {
		assert_eq!(worker(Sr25519Keyring::Alice), None);
	}
	// The default models: price prediction for every tier, the others from ORACLE up.
	let served = |t| {
		pallet_model_registry::Pallet::<Runtime>::served_by(t, 0)
			.into_iter()
			.map(|(name, version, v)| v.info(name.into_inner(), version))
			.map(|i| {
				(String::from_utf8(i.name).unwrap(), i.spec.artifact_size > 0, i.spec.min_tier)
			})
			.collect::<Vec<_>>()
	};
	let names = |t| served(t).into_iter().map(|(n, _, _)| n).collect::<Vec<_>>();
	assert_eq!(names(Tier::All), ["price-transformer"]);
	assert_eq!(names(Tier::Oracle), ["gaf-regime", "msrr", "price-transformer", "sentiment"]);
	assert_eq!(names(Tier::Guardian), names(Tier::Oracle));
	assert!(served(Tier::Guardian).iter().all(|(_, sized, _)| *sized));
	pallet_model_registry::Pallet::<Runtime>::do_try_state().expect("registry invariants");
	pallet_staking_tiers::Pallet::<Runtime>::do_try_state().expect("staking tiers invariants");
	pallet_validator_set::Pallet::<Runtime>::do_try_state().expect("validator set invariants");
	pallet_inference::Pallet::<Runtime>::do_try_state().expect("inference invariants");
}

#[test]
fn development_preset() {
	ext_for(presets::development_config_genesis())
		.execute_with(|| check_common(&[Sr25519Keyring::Alice], true));
}

#[test]
fn local_testnet_preset() {
	ext_for(presets::local_config_genesis())
		.execute_with(|| check_common(&[Sr25519Keyring::Alice, Sr25519Keyring::Bob], true));
}

#[test]
fn a_live_genesis_has_the_launchers_keys_and_nothing_of_the_dev_networks() {
	use sp_core::{ed25519, sr25519, Pair};
	let sr = |seed: u8| sr25519::Pair::from_seed(&[seed; 32]).public();
	let validators: Vec<presets::Validator> = (1..=3u8)
		.map(|i| presets::Validator {
			account: sr(i).into(),
			aura: sr(i + 10).into(),
			grandpa: ed25519::Pair::from_seed(&[i + 20; 32]).public().into(),
		})
		.collect();
	let accounts: Vec<AccountId> = validators.iter().map(|v| v.account.clone()).collect();
	let root: AccountId = sr(30).into();
	let guardian: AccountId = sr(31).into();
	let mut endowed: Vec<(AccountId, Balance)> =
		accounts.iter().map(|a| (a.clone(), 100 * UNIT)).collect();
	endowed.push((root.clone(), 50 * UNIT));
	endowed.push((guardian.clone(), 20_000 * UNIT));
	let network = presets::LiveNetwork {
		validators,
		root: root.clone(),
		endowed,
		operators: vec![(guardian.clone(), b"first guardian".to_vec(), 10_000 * UNIT)],
	};
	ext_for(presets::live_genesis(network)).execute_with(|| {
		let mut expected = accounts.clone();
		expected.sort();
		assert_eq!(pallet_validator_set::Validators::<Runtime>::get().into_inner(), expected);
		let aura: Vec<_> = pallet_aura::Authorities::<Runtime>::get().into_inner();
		assert_eq!(aura.len(), 3);
		assert!(aura.iter().all(|a| (11..=13).any(|i| sr(i) == *a.as_ref())));
		assert_eq!(pallet_grandpa::Pallet::<Runtime>::grandpa_authorities().len(), 3);
		assert_eq!(pallet_sudo::Key::<Runtime>::get(), Some(root.clone()));
		assert_eq!(Balances::balance(&root), 50 * UNIT);
		let tier = |a: &AccountId| <StakingTiers as TierProvider<AccountId, Balance>>::tier(a);
		assert_eq!(tier(&guardian), Some(Tier::Guardian));
		// Nothing of the dev networks: no dev account holds anything or any role.
		for k in Sr25519Keyring::iter() {
			assert_eq!(Balances::balance(&k.to_account_id()), 0, "{k:?}");
			assert_eq!(tier(&k.to_account_id()), None, "{k:?}");
		}
		// A live network's treasury holds the existential deposit only, staking periods are
		// the defaults, no worker is linked, the feed is observed hourly.
		assert_eq!(Balances::balance(&TreasuryAccount::get()), EXISTENTIAL_DEPOSIT);
		assert_eq!(
			pallet_staking_tiers::Configuration::<Runtime>::get().epoch_length,
			noderr_runtime::configs::DefaultTierConfig::get().epoch_length
		);
		assert_eq!(pallet_inference::WorkerOf::<Runtime>::iter().count(), 0);
		assert_eq!(pallet_inference::Schedules::<Runtime>::get(0).unwrap().every, 600);
		pallet_staking_tiers::Pallet::<Runtime>::do_try_state().expect("staking tiers invariants");
		pallet_validator_set::Pallet::<Runtime>::do_try_state().expect("validator set invariants");
		pallet_inference::Pallet::<Runtime>::do_try_state().expect("inference invariants");
	});
}

#[test]
fn preset_names_resolve() {
	for id in presets::preset_names() {
		assert!(presets::get_preset(&id).is_some(), "{id:?}");
	}
	assert!(presets::get_preset(&"unknown".into()).is_none());
}

#[test]
fn pallet_integrity() {
	sp_io::TestExternalities::new_empty().execute_with(AllPalletsWithSystem::integrity_test);
}

#[test]
fn a_stored_session_period_of_zero_cannot_stop_block_production() {
	use codec::Encode;
	use frame_support::traits::{EstimateNextSessionRotation, Get, Hooks};
	use noderr_runtime::configs::{SessionLength, SessionOffset, SessionPeriod};
	ext_for(presets::local_config_genesis()).execute_with(|| {
		// What governance's `system.setStorage` writes: a SCALE u32 at twox_128(":SessionPeriod:").
		sp_io::storage::set(&sp_io::hashing::twox_128(b":SessionPeriod:"), &0u32.encode());
		assert_eq!(SessionPeriod::get(), 0, "the write took effect");
		assert_eq!(SessionLength::get(), 1, "the period in force is clamped");
		// Block after block, the session hook (which ended sessions at `block % period`) runs
		// and rotates: a session a block, not a panic.
		let start = pallet_session::CurrentIndex::<Runtime>::get();
		for n in 1..=5u32 {
			frame_system::Pallet::<Runtime>::set_block_number(n);
			<pallet_session::Pallet<Runtime> as Hooks<u32>>::on_initialize(n);
		}
		assert_eq!(pallet_session::CurrentIndex::<Runtime>::get(), start + 5);
		let (next, _) = <pallet_session::PeriodicSessions<SessionLength, SessionOffset> as
			EstimateNextSessionRotation<u32>>::estimate_next_session_rotation(5);
		assert_eq!(next, Some(6));
		// A sane value is used as it is.
		sp_io::storage::set(&sp_io::hashing::twox_128(b":SessionPeriod:"), &7u32.encode());
		assert_eq!(SessionLength::get(), 7);
	});
}

/// zombienet's customisation of a plain spec (zombienet-sdk 0.7.1, `customize_relay`): the
/// session keys replaced by the declared validators' (owned by `//Name//stash`, keys of
/// `//Name`), both `//Name` and `//Name//stash` given the node's `balance` (overwriting what the
/// preset endowed), everything else left as it is.
fn as_zombienet_customises(
	mut patch: serde_json::Value,
	names: &[&str],
	balance: u128,
) -> serde_json::Value {
	use sp_core::{ed25519, sr25519, Pair};
	let sr = |seed: &str| AccountId::from(sr25519::Pair::from_string(seed, None).unwrap().public());
	let mut keys = Vec::new();
	let mut balances: std::collections::BTreeMap<String, u128> = patch["balances"]["balances"]
		.as_array()
		.unwrap()
		.iter()
		.map(|e| {
			(
				e[0].as_str().unwrap().to_string(),
				e[1].as_u64().map(u128::from).unwrap_or_else(|| e[1].to_string().parse().unwrap()),
			)
		})
		.collect();
	for name in names {
		let seed = format!("//{}{}", name[..1].to_uppercase(), &name[1..]);
		let stash = sr(&format!("{seed}//stash"));
		let aura = sr25519::Pair::from_string(&seed, None).unwrap().public();
		let grandpa = ed25519::Pair::from_string(&seed, None).unwrap().public();
		keys.push(serde_json::json!([stash, stash, {
			"aura": sp_consensus_aura::sr25519::AuthorityId::from(aura),
			"grandpa": sp_consensus_grandpa::AuthorityId::from(grandpa),
		}]));
		balances.insert(sr(&seed).to_string(), balance);
		balances.insert(stash.to_string(), balance);
	}
	patch["session"]["keys"] = serde_json::Value::Array(keys);
	patch["balances"]["balances"] =
		serde_json::to_value(balances.into_iter().collect::<Vec<_>>()).unwrap();
	patch
}

#[test]
fn the_zombienet_preset_makes_zombienets_validators_the_chains() {
	use sp_core::{sr25519, Pair};
	let names = ["alice", "bob", "charlie", "dave", "eve", "ferdie"];
	let patch =
		as_zombienet_customises(presets::zombienet_config_genesis(), &names, presets::ENDOWMENT);
	ext_for(patch).execute_with(|| {
		let mut stashes: Vec<AccountId> = names
			.iter()
			.map(|n| {
				let seed = format!("//{}{}//stash", n[..1].to_uppercase(), &n[1..]);
				sr25519::Pair::from_string(&seed, None).unwrap().public().into()
			})
			.collect();
		stashes.sort();
		assert_eq!(pallet_validator_set::Validators::<Runtime>::get().into_inner(), stashes);
		assert_eq!(pallet_session::Validators::<Runtime>::get().len(), 6);
		assert_eq!(pallet_aura::Authorities::<Runtime>::get().len(), 6);
		assert_eq!(pallet_grandpa::Pallet::<Runtime>::grandpa_authorities().len(), 6);
		let tier = |k: Sr25519Keyring| {
			<StakingTiers as TierProvider<AccountId, Balance>>::tier(&account(k))
		};
		for k in [Sr25519Keyring::Alice, Sr25519Keyring::Bob, Sr25519Keyring::Charlie] {
			assert_eq!(tier(k), Some(Tier::Guardian));
		}
		assert_eq!(tier(Sr25519Keyring::Dave), Some(Tier::Oracle));
		assert_eq!(tier(Sr25519Keyring::Eve), Some(Tier::Oracle));
		assert_eq!(tier(Sr25519Keyring::Ferdie), Some(Tier::All));
		// Each operator's worker key is its node's own key.
		for k in Sr25519Keyring::iter().take(6) {
			assert_eq!(pallet_inference::WorkerOf::<Runtime>::get(account(k)), Some(account(k)));
		}
		pallet_staking_tiers::Pallet::<Runtime>::do_try_state().expect("staking tiers invariants");
		pallet_validator_set::Pallet::<Runtime>::do_try_state().expect("validator set invariants");
		pallet_inference::Pallet::<Runtime>::do_try_state().expect("inference invariants");
	});
}

#[test]
fn the_zombienet_preset_without_zombienets_keys_has_no_validators() {
	// Only zombienet's customisation gives this chain its validators.
	ext_for(presets::zombienet_config_genesis()).execute_with(|| {
		assert!(pallet_validator_set::Validators::<Runtime>::get().is_empty());
		assert!(pallet_session::Validators::<Runtime>::get().is_empty());
	});
}
