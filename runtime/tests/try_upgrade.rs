//! try-runtime checks of a runtime upgrade (feature `try-runtime`), the checks `try-runtime
//! on-runtime-upgrade` makes, run natively on this source:
//! - every migration's and every pallet's pre- and post-upgrade check (the runtime's own
//!   `Migrations` and the pallets' hooks), including that each pallet's storage version on chain
//!   is the one in its code;
//! - every storage item of every pallet decodes;
//! - every pallet's `try_state` invariants hold after the upgrade;
//! - the upgrade is idempotent: running it a second time changes no storage;
//! - its weight fits in a block.
//!
//! On the genesis of every preset, and (an ignored test, run by `tests/e2e/zombienet.testnet.mjs`
//! before it enacts an upgrade on the running testnet) on a snapshot of a live chain's whole
//! state taken over JSON-RPC.

#![cfg(feature = "try-runtime")]

mod common;

use frame_support::traits::UpgradeCheckSelect;
use noderr_runtime::{
	configs::RuntimeBlockWeights, genesis_config_presets as presets, Executive, Runtime, System,
	VERSION,
};
use sp_io::TestExternalities;

fn state_root() -> Vec<u8> {
	sp_io::storage::root(sp_runtime::StateVersion::V1)
}

/// Runs the upgrade checks on `ext`'s state; `what` names the state in failures.
fn check_upgrade(ext: &mut TestExternalities, what: &str) -> frame_support::weights::Weight {
	ext.execute_with(|| {
		let weight = Executive::try_runtime_upgrade(UpgradeCheckSelect::All)
			.unwrap_or_else(|e| panic!("{what}: the upgrade's try-runtime checks failed: {e:?}"));
		let last = frame_system::LastRuntimeUpgrade::<Runtime>::get()
			.expect("the upgrade records the version it enacted");
		assert_eq!(last.spec_version.0, VERSION.spec_version, "{what}");
		let max = RuntimeBlockWeights::get().max_block;
		assert!(weight.all_lte(max), "{what}: the upgrade weighs {weight:?}, a block {max:?}");

		let root = state_root();
		Executive::try_runtime_upgrade(UpgradeCheckSelect::All)
			.unwrap_or_else(|e| panic!("{what}: the second run of the upgrade failed: {e:?}"));
		assert_eq!(root, state_root(), "{what}: a second run of the upgrade changed the state");
		weight
	})
}

#[test]
fn every_preset_upgrades_cleanly_from_genesis() {
	for (name, genesis) in [
		("development", presets::development_config_genesis()),
		("local_testnet", presets::local_config_genesis()),
	] {
		let mut ext = common::ext_for(genesis);
		ext.execute_with(|| System::set_block_number(1));
		check_upgrade(&mut ext, name);
	}
}

/// A snapshot of a live chain's state: `{ "block": n, "hash": "0x…", "pairs": [["0x key",
/// "0x value"], …] }`, every key at that block (`state_getKeysPaged` from the empty prefix).
struct Snapshot {
	block: u64,
	hash: String,
	pairs: Vec<(String, String)>,
}

fn parse_snapshot(text: &str) -> Result<Snapshot, String> {
	let v: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
	let block = v["block"].as_u64().ok_or("no block number")?;
	let hash = v["hash"].as_str().ok_or("no block hash")?.to_string();
	let pairs = v["pairs"]
		.as_array()
		.ok_or("no pairs")?
		.iter()
		.map(|p| match (p[0].as_str(), p[1].as_str()) {
			(Some(k), Some(v)) => Ok((k.to_string(), v.to_string())),
			_ => Err(format!("not a [key, value] pair of hex strings: {p}")),
		})
		.collect::<Result<_, _>>()?;
	Ok(Snapshot { block, hash, pairs })
}

fn unhex(s: &str) -> Vec<u8> {
	let s = s.strip_prefix("0x").unwrap_or(s);
	assert!(s.len() % 2 == 0, "odd-length hex in the snapshot");
	(0..s.len())
		.step_by(2)
		.map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex in the snapshot"))
		.collect()
}

#[test]
#[ignore = "needs NODERR_TRY_RUNTIME_SNAPSHOT, a live chain's state; run by zombienet.testnet.mjs"]
fn a_live_chains_state_upgrades_cleanly() {
	let file = std::env::var("NODERR_TRY_RUNTIME_SNAPSHOT")
		.expect("NODERR_TRY_RUNTIME_SNAPSHOT names the snapshot file");
	let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{file}: {e}"));
	let snapshot = parse_snapshot(&text).unwrap_or_else(|e| panic!("{file}: not a snapshot: {e}"));
	let mut ext = TestExternalities::new_empty();
	let mut bytes = 0;
	for (key, value) in &snapshot.pairs {
		let (key, value) = (unhex(key), unhex(value));
		bytes += key.len() + value.len();
		ext.insert(key, value);
	}
	ext.commit_all().expect("the snapshot's state commits");
	let at = ext.execute_with(System::block_number);
	assert_eq!(u64::from(at), snapshot.block, "the snapshot's System::Number is its block");
	let weight = check_upgrade(&mut ext, &format!("block {} ({})", snapshot.block, snapshot.hash));
	println!(
		"try-runtime: block {} ({}): {} keys, {} bytes; this source's migrations and pallet \
		 upgrade hooks checked on it, weight {} ps, {} bytes of proof",
		snapshot.block,
		snapshot.hash,
		snapshot.pairs.len(),
		bytes,
		weight.ref_time(),
		weight.proof_size()
	);
}
