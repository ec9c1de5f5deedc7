//! Test runtime: System, Balances and this pallet, with the tier provider, model registry and
//! beacon replaced by small in-memory stand-ins the tests set. Balances are whole NODERR.
//!
//! Operators are accounts 1..=12; operator `n`'s worker key is `n + 100`. Requesters hold
//! `ENDOWMENT`; the treasury holds `TREASURY_FUNDS`.

use crate as pallet_inference;
use crate::*;
use frame_support::{
	derive_impl, parameter_types,
	traits::{ConstU32, Hooks},
};
use frame_system::EnsureRoot;
use noderr_primitives::{
	commitment, Answer, InputSpec, ModelSpec, ModelState, OutputSpec, TaskKind, Tier,
};
use sp_runtime::{BuildStorage, Perbill};
use std::{cell::RefCell, collections::BTreeMap};

type Block = frame_system::mocking::MockBlock<Test>;
pub type Balance = u64;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Balances: pallet_balances,
		Inference: pallet_inference,
	}
);

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
	type AccountData = pallet_balances::AccountData<Balance>;
}

#[derive_impl(pallet_balances::config_preludes::TestDefaultConfig)]
impl pallet_balances::Config for Test {
	type AccountStore = System;
	type Balance = Balance;
	type RuntimeHoldReason = RuntimeHoldReason;
}

pub const TREASURY: u64 = 999;
pub const TREASURY_FUNDS: Balance = 1_000_000;
pub const ENDOWMENT: Balance = 100_000;
pub const REQUESTER: u64 = 50;
pub const POOR: u64 = 51;
pub const DELAY: u64 = 2;
pub const COMMIT: u64 = 2;
pub const REVEAL: u64 = 2;
pub const HEARTBEAT: u64 = 20;
pub const MIN_FEE: Balance = 10;
pub const REWARD: Balance = 30;
pub const EPOCH_CAP: Balance = 1_000;

pub const PRICE: [u8; 32] = [1; 32];
pub const REGIME: [u8; 32] = [2; 32];
pub const MSRR: [u8; 32] = [3; 32];
pub const SENTIMENT: [u8; 32] = [4; 32];
pub const LATE: [u8; 32] = [5; 32];
pub const TOLERANCE: u64 = 1_000;

pub fn class_config(assigned: u8) -> ClassConfig<Balance, u64> {
	ClassConfig {
		assigned,
		commit_blocks: COMMIT,
		reveal_blocks: REVEAL,
		min_fee: MIN_FEE,
		quorum: Perbill::from_rational(2u32, 3u32),
	}
}

parameter_types! {
	pub const Treasury: u64 = TREASURY;
	pub DefaultConfig: crate::types::InferenceConfig<Balance, u64> = crate::types::InferenceConfig {
		classes: [class_config(3); 5],
		assignment_delay: DELAY,
		heartbeat_period: HEARTBEAT,
		observation_tier: Tier::Oracle,
		observation_tolerance: Perbill::from_percent(1),
		reward_per_task: REWARD,
		emission_per_epoch: EPOCH_CAP,
		emission_epoch: 10,
	};
}

thread_local! {
	static TIERS: RefCell<BTreeMap<u64, (Tier, Balance)>> = const { RefCell::new(BTreeMap::new()) };
	static MODELS: RefCell<BTreeMap<[u8; 32], ModelSpec>> = const { RefCell::new(BTreeMap::new()) };
	static BEACON_SALT: RefCell<u64> = const { RefCell::new(0) };
}

/// Stand-in tier provider: tiers and stakes the tests set.
pub struct Tiers;
impl noderr_primitives::TierProvider<u64, Balance> for Tiers {
	fn tier(who: &u64) -> Option<Tier> {
		TIERS.with(|t| t.borrow().get(who).map(|x| x.0))
	}
	fn stake(who: &u64) -> Balance {
		TIERS.with(|t| t.borrow().get(who).map(|x| x.1).unwrap_or(0))
	}
	fn reward_multiplier(tier: Tier) -> u32 {
		[100, 200, 500][tier.index()]
	}
	fn operators(min: Tier) -> Vec<u64> {
		TIERS.with(|t| t.borrow().iter().filter(|(_, x)| x.0 >= min).map(|(a, _)| *a).collect())
	}
}

/// Sets (or with `None` removes) an operator's tier and stake.
pub fn set_tier(who: u64, tier: Option<(Tier, Balance)>) {
	TIERS.with(|t| match tier {
		Some(x) => t.borrow_mut().insert(who, x),
		None => t.borrow_mut().remove(&who),
	});
}

/// Stand-in registry.
pub struct Models;
impl noderr_primitives::ModelProvider for Models {
	fn model(hash: &[u8; 32]) -> Option<ModelSpec> {
		MODELS.with(|m| m.borrow().get(hash).cloned())
	}
}

/// Registers (or with `None` retires) a model.
pub fn set_model(hash: [u8; 32], spec: Option<ModelSpec>) {
	MODELS.with(|m| match spec {
		Some(s) => m.borrow_mut().insert(hash, s),
		None => m.borrow_mut().remove(&hash),
	});
}

fn spec(kind: TaskKind, min_tier: Tier, input: InputSpec, state: ModelState) -> ModelSpec {
	ModelSpec {
		kind,
		min_tier,
		input,
		output: OutputSpec { scale: 1_000_000, tolerance: TOLERANCE },
		state,
	}
}

/// Stand-in beacon: a value for every block already built, changed by [`set_beacon_salt`].
pub struct TestBeacon;
impl noderr_primitives::Beacon<u64> for TestBeacon {
	fn beacon_after(block: u64) -> Option<[u8; 32]> {
		if block >= System::block_number() {
			return None;
		}
		let salt = BEACON_SALT.with(|s| *s.borrow());
		Some(sp_io::hashing::blake2_256(&(b"test beacon", salt, block).encode()))
	}
}

/// Changes every beacon value.
pub fn set_beacon_salt(salt: u64) {
	BEACON_SALT.with(|s| *s.borrow_mut() = salt);
}

impl pallet_inference::Config for Test {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Tiers = Tiers;
	type Models = Models;
	type Beacon = TestBeacon;
	type OnSettled = ();
	type GovernanceOrigin = EnsureRoot<u64>;
	type Treasury = Treasury;
	type DefaultConfig = DefaultConfig;
	type MaxAssigned = ConstU32<64>;
	type MaxTextLength = ConstU32<1024>;
	type MaxFeeds = ConstU32<2>;
	type MaxPairLength = ConstU32<16>;
	type MaxSourceHints = ConstU32<4>;
	type MaxSourceHintLength = ConstU32<64>;
	type HistoryLength = ConstU32<400>;
	type MaxScheduledModels = ConstU32<4>;
	type MaxDeadlinesPerBlock = ConstU32<8>;
	type MaxRecords = ConstU32<16>;
	type MaxServedModels = ConstU32<8>;
	type WorkerSignature = sp_runtime::testing::TestSignature;
	type WorkerKeys = LocalWorkers;
	type WeightInfo = ();
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = BenchmarkSetup;
}

type Extrinsic = frame_system::mocking::MockUncheckedExtrinsic<Test>;

impl<C> frame_system::offchain::CreateTransactionBase<C> for Test
where
	RuntimeCall: From<C>,
{
	type Extrinsic = Extrinsic;
	type RuntimeCall = RuntimeCall;
}

impl<C> frame_system::offchain::CreateTransaction<C> for Test
where
	RuntimeCall: From<C>,
{
	type Extension = ();
	fn create_transaction(call: RuntimeCall, extension: ()) -> Extrinsic {
		Extrinsic::new_transaction(call, extension)
	}
}

impl<C> frame_system::offchain::CreateAuthorizedTransaction<C> for Test
where
	RuntimeCall: From<C>,
{
	fn create_extension() {}
}

thread_local! {
	static LOCAL_WORKERS: RefCell<Vec<u64>> = const { RefCell::new(Vec::new()) };
}

/// Stand-in keystore: the worker keys a test gives the node; a signature is a `TestSignature`.
pub struct LocalWorkers;
impl crate::WorkerKeys<u64, sp_runtime::testing::TestSignature> for LocalWorkers {
	fn local() -> Vec<u64> {
		LOCAL_WORKERS.with(|w| w.borrow().clone())
	}
	fn sign(worker: &u64, payload: &[u8]) -> Option<sp_runtime::testing::TestSignature> {
		Self::local()
			.contains(worker)
			.then(|| sp_runtime::testing::TestSignature(*worker, payload.to_vec()))
	}
}

/// The node holds these worker keys.
pub fn set_local_workers(workers: Vec<u64>) {
	LOCAL_WORKERS.with(|w| *w.borrow_mut() = workers);
}

/// The benchmarks' set-up, through the stand-ins.
#[cfg(feature = "runtime-benchmarks")]
pub struct BenchmarkSetup;
#[cfg(feature = "runtime-benchmarks")]
impl crate::BenchmarkHelper<u64, Balance, u64, sp_runtime::testing::TestSignature>
	for BenchmarkSetup
{
	fn set_operator(who: &u64, tier: Tier, stake: Balance) {
		set_tier(*who, Some((tier, stake)));
	}
	fn register_model(hash: [u8; 32], spec: ModelSpec) {
		set_model(hash, Some(spec));
	}
	// The stand-in beacon has a value for every block before the current one already.
	fn set_beacon_after(_block: u64) {}
	fn worker_key() -> u64 {
		4_242
	}
	fn sign(worker: &u64, payload: &[u8]) -> sp_runtime::testing::TestSignature {
		sp_runtime::testing::TestSignature(*worker, payload.to_vec())
	}
}

use codec::Encode;

/// The worker key of operator `op`.
pub fn worker(op: u64) -> u64 {
	op + 100
}

/// A chain with: requesters and operators funded, the treasury funded, the four models of the
/// default set registered (and one not yet active), operators 1..=3 ALL (1,000), 4..=6 ORACLE
/// (5,000), 7..=9 GUARDIAN (10,000), every operator's worker linked, and feed 0 (BTC/USD,
/// hourly) without history.
pub fn build() -> sp_io::TestExternalities {
	let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	let mut balances: Vec<(u64, Balance)> = (1..=12).map(|a| (a, ENDOWMENT)).collect();
	balances.push((REQUESTER, ENDOWMENT));
	balances.push((POOR, 15));
	balances.push((TREASURY, TREASURY_FUNDS));
	pallet_balances::GenesisConfig::<Test> { balances, ..Default::default() }
		.assimilate_storage(&mut storage)
		.unwrap();
	pallet_inference::GenesisConfig::<Test> {
		config: None,
		feeds: vec![(
			0,
			b"BTC/USD".to_vec(),
			3_600,
			1_500_000_000,
			vec![b"binance:BTCUSDT".to_vec()],
		)],
		schedules: vec![],
		workers: (1..=12).map(|op| (op, worker(op))).collect(),
	}
	.assimilate_storage(&mut storage)
	.unwrap();
	let mut ext = sp_io::TestExternalities::new(storage);
	ext.execute_with(|| {
		System::set_block_number(1);
		TIERS.with(|t| t.borrow_mut().clear());
		MODELS.with(|m| m.borrow_mut().clear());
		set_local_workers(Vec::new());
		set_beacon_salt(0);
		for op in 1..=3 {
			set_tier(op, Some((Tier::All, 1_000)));
		}
		for op in 4..=6 {
			set_tier(op, Some((Tier::Oracle, 5_000)));
		}
		for op in 7..=9 {
			set_tier(op, Some((Tier::Guardian, 10_000)));
		}
		set_model(
			PRICE,
			Some(spec(
				TaskKind::Regression { outputs: 3 },
				Tier::All,
				InputSpec::Features { pipeline_version: 1, window: 60, feature_count: 94 },
				ModelState::Live,
			)),
		);
		set_model(
			REGIME,
			Some(spec(
				TaskKind::Classification { classes: 4 },
				Tier::Oracle,
				InputSpec::Bars { window: 64 },
				ModelState::Live,
			)),
		);
		set_model(
			MSRR,
			Some(spec(
				TaskKind::Regression { outputs: 6 },
				Tier::Oracle,
				InputSpec::Bars { window: 168 },
				ModelState::Live,
			)),
		);
		set_model(
			SENTIMENT,
			Some(spec(
				TaskKind::TextClassification { classes: 3 },
				Tier::Oracle,
				InputSpec::Text { max_bytes: 64 },
				ModelState::Live,
			)),
		);
		set_model(
			LATE,
			Some(spec(
				TaskKind::Regression { outputs: 3 },
				Tier::All,
				InputSpec::Text { max_bytes: 64 },
				ModelState::NotYetActive,
			)),
		);
	});
	ext
}

/// Runs `test` in a fresh chain, then checks every invariant.
pub fn run_test(test: impl FnOnce()) {
	build().execute_with(|| {
		Inference::do_try_state().expect("invariants hold before the test");
		test();
		Inference::do_try_state().expect("invariants hold after the test");
	});
}

/// Advances to block `n`, running `on_initialize` for each block and checking the invariants
/// after each.
pub fn run_to_block(n: u64) {
	while System::block_number() < n {
		let next = System::block_number() + 1;
		System::set_block_number(next);
		Inference::on_initialize(next);
		Inference::do_try_state().expect("invariants hold after every block");
	}
}

/// Advances one block.
pub fn next_block() {
	run_to_block(System::block_number() + 1);
}

/// Every listed operator (1..=9) declares `keys`.
pub fn heartbeat_all(keys: &[[u8; 32]]) {
	use noderr_primitives::{ModelProvider, TierProvider};
	for op in 1..=9 {
		// Each declares the keys its tier may serve.
		let tier = <Tiers as TierProvider<u64, Balance>>::tier(&op);
		let allowed: Vec<[u8; 32]> = keys
			.iter()
			.copied()
			.filter(|k| {
				let needed = if *k == OBSERVATION_KEY {
					Tier::Oracle
				} else {
					<Models as ModelProvider>::model(k).map_or(Tier::Guardian, |m| m.min_tier)
				};
				tier.is_some_and(|t| t >= needed)
			})
			.collect();
		heartbeat(op, &allowed);
	}
}

/// Operator `op` declares `keys`.
pub fn heartbeat(op: u64, keys: &[[u8; 32]]) {
	Inference::heartbeat(RuntimeOrigin::signed(worker(op)), keys.to_vec().try_into().unwrap())
		.unwrap();
}

/// An answer from values.
pub fn answer(v: &[i64]) -> Answer {
	v.to_vec().try_into().unwrap()
}

/// The salt operator `op` uses in the tests.
pub fn salt(op: u64) -> [u8; 32] {
	[op as u8; 32]
}

/// Operator `op` commits to `a` for `task`.
pub fn commit(
	op: u64,
	task: TaskId,
	a: &Answer,
) -> frame_support::dispatch::DispatchResultWithPostInfo {
	Inference::commit(RuntimeOrigin::signed(worker(op)), task, commitment(task, &op, a, &salt(op)))
}

/// Operator `op` reveals `a` for `task`.
pub fn reveal(
	op: u64,
	task: TaskId,
	a: &Answer,
) -> frame_support::dispatch::DispatchResultWithPostInfo {
	Inference::reveal(RuntimeOrigin::signed(worker(op)), task, a.clone(), salt(op))
}

/// The operators assigned to `task`.
pub fn assigned(task: TaskId) -> Vec<u64> {
	Tasks::<Test>::get(task).unwrap().assigned.iter().map(|a| a.who).collect()
}

/// Appends `n` flat bars to feed 0 (price 100.000000, volume 1).
pub fn fill_history(n: u32) {
	for _ in 0..n {
		let time = Feeds::<Test>::get(0).unwrap().next_bar_time;
		Inference::append_bar(
			0,
			Bar {
				time,
				open: 100_000_000,
				high: 101_000_000,
				low: 99_000_000,
				close: 100_000_000,
				volume: 1_000_000,
			},
		);
	}
}
