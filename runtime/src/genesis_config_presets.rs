//! Genesis presets: `development` (one validator, Alice), `local_testnet` (Alice and Bob) and
//! `zombienet` (the validators zombienet declares, six operators in every tier), each with the default models in the registry, the BTC/USD feed and its schedule, the dev
//! operators' worker keys linked, the treasury that pays task rewards funded, and short staking
//! periods so that a newly bonded operator works within a minute. Chain specs in `chain-specs/`
//! are exported from these.
//!
//! A live network has no preset: its validators, sudo key, endowments and genesis operators
//! are its launcher's ([`live_genesis`], built by the node from a launch file), never the
//! well-known development keys.

use crate::{
	configs::{DefaultGuardianConfig, DefaultTierConfig, TreasuryAccount},
	AccountId, BalancesConfig, BlockNumber, RuntimeGenesisConfig, SessionConfig, SessionKeys,
	StakingTiersConfig, SudoConfig, ValidatorSetConfig, EXISTENTIAL_DEPOSIT, UNIT,
};
use alloc::{vec, vec::Vec};
use frame_support::build_struct_json_patch;
use serde_json::Value;
use sp_consensus_aura::sr25519::AuthorityId as AuraId;
use sp_consensus_grandpa::AuthorityId as GrandpaId;
use sp_genesis_builder::{PresetId, DEV_RUNTIME_PRESET, LOCAL_TESTNET_RUNTIME_PRESET};

/// The preset of a local testnet launched by zombienet.
pub const ZOMBIENET_RUNTIME_PRESET: &str = "zombienet";
use sp_keyring::{Ed25519Keyring, Sr25519Keyring};

/// NODERR given to each endowed dev account: enough to bond into any tier.
pub const ENDOWMENT: u128 = 1_000_000 * UNIT;

/// The dev and test networks' default models, registered at genesis: written by
/// `noderr-ml registration --genesis` from the artifacts `scripts/train-models.sh` produces
/// (`scripts/test.sh` checks that they still match).
const DEV_MODELS: &str = include_str!("dev_models.json");

/// The registry pallet's genesis entries for the default models.
fn dev_models() -> Value {
	serde_json::from_str(DEV_MODELS).expect("dev_models.json is valid JSON; checked by tests")
}

/// The registered artifact hashes of the default models run on each new bar of the feed.
fn scheduled_models() -> Vec<[u8; 32]> {
	let models = dev_models();
	["price-transformer", "gaf-regime", "msrr"]
		.iter()
		.filter_map(|name| {
			models.as_array()?.iter().find_map(|e| {
				let n: Vec<u8> = serde_json::from_value(e[0].clone()).ok()?;
				(n == name.as_bytes())
					.then(|| serde_json::from_value(e[2]["spec"]["artifact_hash"].clone()).ok())?
			})
		})
		.collect()
}

/// Open time of the first BTC/USD bar the feed observes (2017-07-01 11:00 UTC, the first bar
/// of the historical series the market-data replay serves).
const FIRST_BAR_TIME: u64 = 1_498_906_800;

/// How a preset differs beyond its validators.
struct Options {
	/// Dev conveniences: worker keys linked, treasury funded, short staking periods.
	dev: bool,
	/// The dev operators' worker keys, `(operator, worker)`, linked at genesis (with `dev`).
	workers: Vec<(AccountId, AccountId)>,
	/// Blocks between feed observation rounds.
	feed_every: BlockNumber,
}

/// A validator at genesis: its account and session keys.
pub struct Validator {
	/// Its account (stash and controller).
	pub account: AccountId,
	/// Its Aura (block authoring) key.
	pub aura: AuraId,
	/// Its GRANDPA (finality) key.
	pub grandpa: GrandpaId,
}

/// What the launcher of a live network decides at genesis.
pub struct LiveNetwork {
	/// The first validators.
	pub validators: Vec<Validator>,
	/// The sudo key (governance until the network has other governance).
	pub root: AccountId,
	/// Accounts and their free balances.
	pub endowed: Vec<(AccountId, u128)>,
	/// Operators bonded from genesis: account, display name, bond (from their endowment).
	pub operators: Vec<(AccountId, Vec<u8>, u128)>,
}

fn dev_validator(sr: Sr25519Keyring, ed: Ed25519Keyring) -> Validator {
	Validator { account: sr.to_account_id(), aura: sr.public().into(), grandpa: ed.public().into() }
}

/// Dev operators, one in each tier: Alice GUARDIAN, Bob ORACLE, Charlie ALL.
fn dev_operators() -> Vec<(AccountId, Vec<u8>, u128)> {
	vec![
		(Sr25519Keyring::Alice.to_account_id(), b"alice-guardian".to_vec(), 10_000 * UNIT),
		(Sr25519Keyring::Bob.to_account_id(), b"bob-oracle".to_vec(), 5_000 * UNIT),
		(Sr25519Keyring::Charlie.to_account_id(), b"charlie-all".to_vec(), 1_000 * UNIT),
	]
}

fn genesis(
	validators: Vec<Validator>,
	mut balances: Vec<(AccountId, u128)>,
	operators: Vec<(AccountId, Vec<u8>, u128)>,
	root: AccountId,
	options: Options,
) -> Value {
	// The treasury must exist to receive slashed stake of any size; on dev networks it also
	// pays the per-task emission.
	let treasury = if options.dev { ENDOWMENT } else { EXISTENTIAL_DEPOSIT };
	balances.push((TreasuryAccount::get(), treasury));
	let mut patch = build_struct_json_patch!(RuntimeGenesisConfig {
		balances: BalancesConfig { balances },
		staking_tiers: StakingTiersConfig { operators },
		sudo: SudoConfig { key: Some(root) },
		validator_set: ValidatorSetConfig {
			initial_validators: validators.iter().map(|v| v.account.clone()).collect::<Vec<_>>(),
		},
		session: SessionConfig {
			keys: validators
				.into_iter()
				.map(|v| {
					let keys = SessionKeys { aura: v.aura, grandpa: v.grandpa };
					(v.account.clone(), v.account, keys)
				})
				.collect::<Vec<_>>(),
		},
	});
	patch["modelRegistry"] = serde_json::json!({ "models": dev_models() });
	let initial = <sp_runtime::traits::BlakeTwo256 as sp_runtime::traits::Hash>::hash(
		b"noderr beacon genesis",
	);
	patch["beacon"] = serde_json::json!({ "initial": initial.0 });
	let mut inference = serde_json::json!({
		"feeds": [[0, b"BTC/USD".to_vec(), 3_600, FIRST_BAR_TIME, [b"coinbase:BTC-USD".to_vec(), b"binance:BTCUSDT".to_vec()]]],
		"schedules": [[0, options.feed_every, scheduled_models()]],
	});
	if options.dev {
		// Worker keys of the dev operators.
		inference["workers"] = serde_json::to_value(&options.workers).expect("serializable");
		// Tiers move every 10 blocks (a minute), unbonding takes 20, slashes wait 5.
		let mut config = DefaultTierConfig::get();
		config.epoch_length = 10;
		config.unbonding_period = 20;
		config.slash_defer_period = 5;
		patch["stakingTiers"]["config"] = serde_json::to_value(config).expect("serializable");
		// Panels vote for 10 blocks; missed reveals are counted over 100. Only disputed tasks
		// are audited: the dev operators include one GUARDIAN, who works on most tasks, so a
		// sampled audit of an agreed task would rarely find a panel (guardians who join, as in
		// the local network's tests, form panels for disputed tasks).
		let mut guardian = DefaultGuardianConfig::get();
		guardian.vote_window = 10;
		guardian.miss_window = 100;
		guardian.sample_share = sp_runtime::Perbill::zero();
		patch["guardian"] = serde_json::json!({ "config": guardian });
	}
	patch["inference"] = inference;
	patch
}

/// The workers of the dev operators: Dave submits for Alice, Eve for Bob, Ferdie for Charlie.
fn dev_workers() -> Vec<(AccountId, AccountId)> {
	vec![
		(Sr25519Keyring::Alice.to_account_id(), Sr25519Keyring::Dave.to_account_id()),
		(Sr25519Keyring::Bob.to_account_id(), Sr25519Keyring::Eve.to_account_id()),
		(Sr25519Keyring::Charlie.to_account_id(), Sr25519Keyring::Ferdie.to_account_id()),
	]
}

/// The well-known dev accounts, each endowed with [`ENDOWMENT`].
fn dev_accounts() -> Vec<(AccountId, u128)> {
	Sr25519Keyring::iter().map(|k| (k.to_account_id(), ENDOWMENT)).collect()
}

/// One validator (Alice), all dev accounts endowed, Alice is sudo.
pub fn development_config_genesis() -> Value {
	genesis(
		vec![dev_validator(Sr25519Keyring::Alice, Ed25519Keyring::Alice)],
		dev_accounts(),
		dev_operators(),
		Sr25519Keyring::Alice.to_account_id(),
		Options { dev: true, workers: dev_workers(), feed_every: 10 },
	)
}

/// Two validators (Alice, Bob), for a multi-node network on one machine.
pub fn local_config_genesis() -> Value {
	genesis(
		vec![
			dev_validator(Sr25519Keyring::Alice, Ed25519Keyring::Alice),
			dev_validator(Sr25519Keyring::Bob, Ed25519Keyring::Bob),
		],
		dev_accounts(),
		dev_operators(),
		Sr25519Keyring::Alice.to_account_id(),
		Options { dev: true, workers: dev_workers(), feed_every: 10 },
	)
}

/// The zombienet local testnet: no validators named, so the nodes zombienet declares (whose
/// session keys it writes, owned by `//Name//stash`) are the validator set. Six operators, each
/// the account of one node (`//Name`), whose worker key is the node's own key (zombienet puts it
/// in the node's keystore under the worker key type): Alice, Bob and Charlie GUARDIAN (a panel
/// can form), Dave and Eve ORACLE, Ferdie ALL. Every dev account is endowed; a node's `balance`
/// in the network definition must stay at least [`ENDOWMENT`], as zombienet overwrites it.
pub fn zombienet_config_genesis() -> Value {
	let operators = [
		(Sr25519Keyring::Alice, &b"alice-guardian"[..], 10_000 * UNIT),
		(Sr25519Keyring::Bob, b"bob-guardian", 10_000 * UNIT),
		(Sr25519Keyring::Charlie, b"charlie-guardian", 10_000 * UNIT),
		(Sr25519Keyring::Dave, b"dave-oracle", 5_000 * UNIT),
		(Sr25519Keyring::Eve, b"eve-oracle", 5_000 * UNIT),
		(Sr25519Keyring::Ferdie, b"ferdie-all", 1_000 * UNIT),
	];
	genesis(
		vec![],
		dev_accounts(),
		operators.iter().map(|(k, name, bond)| (k.to_account_id(), name.to_vec(), *bond)).collect(),
		Sr25519Keyring::Alice.to_account_id(),
		Options {
			dev: true,
			workers: operators
				.iter()
				.map(|(k, ..)| (k.to_account_id(), k.to_account_id()))
				.collect(),
			feed_every: 10,
		},
	)
}

/// A live network's genesis: the launcher's validators, sudo key, endowments and operators, the
/// default models, the BTC/USD feed observed every hour (600 blocks), staking periods as
/// configured by default (hour epochs, seven-day unbonding). The node builds it from a launch
/// file (`noderr-node export-chain-spec --chain launch:FILE`) and refuses well-known keys.
pub fn live_genesis(network: LiveNetwork) -> Value {
	genesis(
		network.validators,
		network.endowed,
		network.operators,
		network.root,
		Options { dev: false, workers: vec![], feed_every: 600 },
	)
}

/// The preset with the given id, serialized as JSON.
pub fn get_preset(id: &PresetId) -> Option<Vec<u8>> {
	let patch = match id.as_ref() {
		DEV_RUNTIME_PRESET => development_config_genesis(),
		LOCAL_TESTNET_RUNTIME_PRESET => local_config_genesis(),
		ZOMBIENET_RUNTIME_PRESET => zombienet_config_genesis(),
		_ => return None,
	};
	Some(
		serde_json::to_string(&patch)
			.expect("serialization to json is expected to work. qed.")
			.into_bytes(),
	)
}

/// The names of the presets this runtime offers.
pub fn preset_names() -> Vec<PresetId> {
	vec![
		PresetId::from(DEV_RUNTIME_PRESET),
		PresetId::from(LOCAL_TESTNET_RUNTIME_PRESET),
		PresetId::from(ZOMBIENET_RUNTIME_PRESET),
	]
}
