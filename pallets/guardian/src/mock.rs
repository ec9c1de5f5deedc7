//! Test runtime: System, Balances, the real staking pallet (tiers, stakes, deferred slashes,
//! suspension) and this pallet. The task pallet, the model registry and the beacon are stood in
//! for by [`MockTasks`], [`MockModels`] and [`MockBeacon`]: tests settle tasks and audits by
//! hand, with the answers and agreement the task pallet would record, and call this pallet's
//! settlement hook as the task pallet does.
//!
//! Balances are whole NODERR: thresholds 1,000 / 5,000 / 10,000.

use crate as pallet_guardian;
use crate::audit::beyond;
use alloc::collections::BTreeMap;
use core::cell::RefCell;
use frame_support::{derive_impl, parameter_types, traits::ConstU32};
use frame_system::EnsureRoot;
use noderr_primitives::{
	Answer, FinishedTask, InputSpec, ModelSpec, ModelState, OnTaskSettled, OutputSpec,
	Participation, TaskKind, TaskResults, Tier, TierProvider,
};
use pallet_staking_tiers::{PerTier, TierConfig};
use sp_runtime::{testing::TestSignature, BuildStorage, DispatchError, Perbill};

type Block = frame_system::mocking::MockBlock<Test>;
pub type Balance = u64;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Balances: pallet_balances,
		StakingTiers: pallet_staking_tiers,
		Guardian: pallet_guardian,
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
pub const DEFER: u64 = 5;
pub const ENDOWMENT: Balance = 100_000;
pub const BOND: Balance = 100;
/// The regression model: two outputs, tolerance 1,000.
pub const PRICE: [u8; 32] = [1; 32];
/// The classifier: four classes.
pub const REGIME: [u8; 32] = [2; 32];
/// Another version of the price model.
pub const OLD_PRICE: [u8; 32] = [3; 32];
pub const TOLERANCE: u64 = 1_000;

parameter_types! {
	pub const Treasury: u64 = TREASURY;
	pub const ApplicationDeposit: Balance = 10;
	pub const TiersConfig: TierConfig<Balance, u64> = TierConfig {
		thresholds: PerTier { all: 1_000, oracle: 5_000, guardian: 10_000 },
		reward_multipliers: PerTier { all: 100, oracle: 200, guardian: 500 },
		epoch_length: 10,
		unbonding_period: 20,
		slash_defer_period: DEFER,
	};
	pub const DefaultConfig: crate::GuardianConfig<Balance, u64> = crate::GuardianConfig {
		sample_share: Perbill::from_percent(10),
		panel_size: 3,
		panel_quorum: Perbill::from_parts(666_666_667),
		vote_window: 5,
		report_bond: BOND,
		slash: [
			Perbill::from_percent(10),
			Perbill::from_percent(5),
			Perbill::from_percent(1),
			Perbill::from_percent(5),
		],
		escalation: Perbill::from_percent(100),
		suspend_after: 3,
		reporter_share: Perbill::from_percent(50),
		miss_window: 100,
		miss_threshold: 3,
	};
}

impl pallet_staking_tiers::Config for Test {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type GovernanceOrigin = EnsureRoot<u64>;
	type Treasury = Treasury;
	type ApplicationDeposit = ApplicationDeposit;
	type DefaultConfig = TiersConfig;
	type MaxOperators = ConstU32<64>;
	type MaxApplications = ConstU32<16>;
	type MaxUnlockingChunks = ConstU32<4>;
	type MaxNameLength = ConstU32<16>;
	type MaxContactLength = ConstU32<32>;
	type MaxRegionLength = ConstU32<8>;
	type MaxReasonLength = ConstU32<32>;
	type MaxReporters = ConstU32<8>;
	type MaxSlashesPerBlock = ConstU32<64>;
	type MaxPendingSlashes = ConstU32<256>;
	type WeightInfo = ();
}

impl pallet_guardian::Config for Test {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Tiers = StakingTiers;
	type Models = MockModels;
	type Tasks = MockTasks;
	type Slash = StakingTiers;
	type Beacon = MockBeacon;
	type GovernanceOrigin = EnsureRoot<u64>;
	type Treasury = Treasury;
	type DefaultConfig = DefaultConfig;
	type Signature = TestSignature;
	type MaxPanel = ConstU32<7>;
	type MaxOpenReports = ConstU32<16>;
	type MaxOpenAudits = ConstU32<64>;
	type MaxOffenceHistory = ConstU32<8>;
	type MaxQueuedPerBlock = ConstU32<4>;
	type MaxGuardians = ConstU32<32>;
	type MaxAssigned = ConstU32<8>;
	type WeightInfo = ();
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = ();
}

/// The models: a two-output regression, a four-class classifier, an older regression version.
pub struct MockModels;
impl noderr_primitives::ModelProvider for MockModels {
	fn model(hash: &[u8; 32]) -> Option<ModelSpec> {
		let kind = match *hash {
			PRICE | OLD_PRICE => TaskKind::Regression { outputs: 2 },
			REGIME => TaskKind::Classification { classes: 4 },
			_ => return None,
		};
		Some(ModelSpec {
			kind,
			min_tier: Tier::All,
			input: InputSpec::Bars { window: 8 },
			output: OutputSpec { scale: 1_000_000, tolerance: TOLERANCE },
			state: ModelState::Live,
		})
	}
}

/// The beacon: a hash of the block number, unless switched off.
pub struct MockBeacon;
impl noderr_primitives::Beacon<u64> for MockBeacon {
	fn beacon_after(block: u64) -> Option<[u8; 32]> {
		use sp_runtime::traits::{BlakeTwo256, Hash};
		if NO_BEACON.with(|b| *b.borrow()) {
			return None;
		}
		Some(BlakeTwo256::hash_of(&(b"beacon", block)).0)
	}
}

/// An audit the pallet asked for, not yet finished.
#[derive(Clone, Debug)]
pub struct OpenAudit {
	pub of: u64,
	pub assigned: Vec<u64>,
}

thread_local! {
	pub static RECORDS: RefCell<BTreeMap<u64, FinishedTask<u64>>> = const { RefCell::new(BTreeMap::new()) };
	pub static AUDITS: RefCell<BTreeMap<u64, OpenAudit>> = const { RefCell::new(BTreeMap::new()) };
	pub static NEXT_TASK: RefCell<u64> = const { RefCell::new(1_000_000) };
	pub static WORKERS: RefCell<BTreeMap<u64, u64>> = const { RefCell::new(BTreeMap::new()) };
	pub static NO_BEACON: RefCell<bool> = const { RefCell::new(false) };
}

/// The task pallet as this pallet sees it.
pub struct MockTasks;
impl TaskResults<u64> for MockTasks {
	fn strikes(_: &u64) -> u32 {
		0
	}
	fn revealed(task: u64, who: &u64) -> Option<Answer> {
		RECORDS.with(|r| r.borrow().get(&task)?.answer_of(who).cloned())
	}
	fn finished(task: u64) -> Option<FinishedTask<u64>> {
		RECORDS.with(|r| r.borrow().get(&task).cloned())
	}
	fn operator_of(worker: &u64) -> Option<u64> {
		WORKERS.with(|w| w.borrow().get(worker).copied())
	}
	fn create_audit(task: u64, panel: u8, exclude: Option<u64>) -> Result<u64, DispatchError> {
		let record = Self::finished(task).ok_or(DispatchError::Other("unknown task"))?;
		if record.audit_of.is_some() || record.aggregate.is_none() {
			return Err(DispatchError::Other("not auditable"));
		}
		let id = NEXT_TASK.with(|n| {
			let id = *n.borrow();
			*n.borrow_mut() += 1;
			id
		});
		// Drawn as the task pallet would: GUARDIANs, none of the task's operators nor `exclude`.
		let workers: Vec<u64> = record.answers.iter().map(|(w, _, _)| *w).collect();
		let mut candidates: Vec<u64> = StakingTiers::operators(Tier::Guardian)
			.into_iter()
			.filter(|g| !workers.contains(g) && Some(*g) != exclude)
			.collect();
		let mut assigned = Vec::new();
		let mut n = id;
		while assigned.len() < panel as usize && !candidates.is_empty() {
			n = n.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
			assigned.push(candidates.swap_remove((n >> 33) as usize % candidates.len()));
		}
		AUDITS.with(|a| a.borrow_mut().insert(id, OpenAudit { of: task, assigned }));
		Ok(id)
	}
	fn assigned(task: u64) -> Vec<u64> {
		AUDITS.with(|a| a.borrow().get(&task).map(|o| o.assigned.clone()).unwrap_or_default())
	}
}

pub fn answer(values: &[i64]) -> Answer {
	Answer::truncate_from(values.to_vec())
}

/// The task pallet's aggregation, simplified: the median per field (or the plurality class)
/// and each reveal's agreement with it.
pub fn aggregate(reveals: &[Option<Answer>], classes: bool) -> (Option<Answer>, Vec<bool>) {
	let revealed: Vec<&Answer> = reveals.iter().flatten().collect();
	if revealed.is_empty() {
		return (None, Vec::new());
	}
	let agg: Answer = if classes {
		let mut counts: BTreeMap<&Answer, usize> = BTreeMap::new();
		for a in &revealed {
			*counts.entry(a).or_default() += 1;
		}
		let best = counts.values().copied().max().unwrap_or(0);
		if counts.values().filter(|c| **c == best).count() > 1 {
			return (None, Vec::new());
		}
		(*counts.iter().find(|(_, c)| **c == best).unwrap().0).clone()
	} else {
		let n = revealed[0].len();
		let mut agg = Vec::new();
		for i in 0..n {
			let mut column: Vec<i64> =
				revealed.iter().map(|a| a.get(i).copied().unwrap_or(0)).collect();
			column.sort();
			agg.push(column[(column.len() - 1) / 2]);
		}
		Answer::truncate_from(agg)
	};
	let agrees: Vec<bool> = revealed.iter().map(|a| !beyond(a, &agg, TOLERANCE, classes)).collect();
	// A majority must agree, as in the task pallet.
	if agrees.iter().filter(|a| **a).count() * 2 <= agrees.len() {
		return (None, Vec::new());
	}
	(Some(agg), agrees)
}

/// Finishes task `id` of `model` with `(operator, revealed answer)` as the task pallet would and
/// calls the settlement hook. `audit_of`: the task an audit re-ran.
pub fn finish(
	id: u64,
	model: [u8; 32],
	reveals: Vec<(u64, Option<Answer>)>,
	audit_of: Option<u64>,
) {
	let classes = model == REGIME;
	let answers: Vec<Option<Answer>> = reveals.iter().map(|(_, a)| a.clone()).collect();
	let (agg, agrees) = aggregate(&answers, classes);
	let mut it = agrees.iter();
	let answers: Vec<(u64, Participation, Option<Answer>)> = reveals
		.into_iter()
		.map(|(w, a)| {
			let p = match (&a, &agg) {
				(None, _) => Participation::NotRevealed,
				(Some(_), None) => Participation::Revealed,
				(Some(_), Some(_)) => {
					if *it.next().unwrap() {
						Participation::Agreed
					} else {
						Participation::Outlier
					}
				}
			};
			(w, p, a)
		})
		.collect();
	let outcomes: Vec<(u64, Participation)> = answers.iter().map(|(w, p, _)| (*w, *p)).collect();
	RECORDS.with(|r| {
		r.borrow_mut().insert(
			id,
			FinishedTask { model: Some(model), aggregate: agg.clone(), answers, audit_of },
		)
	});
	AUDITS.with(|a| a.borrow_mut().remove(&id));
	<Guardian as OnTaskSettled<u64>>::on_task_settled(id, Some(model), agg.as_ref(), &outcomes);
}

/// Finishes open audit `id` with the panel's answers from `answer_of(member)`.
pub fn finish_audit(id: u64, answer_of: impl Fn(u64) -> Option<Answer>) {
	let audit = AUDITS.with(|a| a.borrow().get(&id).cloned()).expect("an open audit");
	let model = RECORDS.with(|r| r.borrow()[&audit.of].model).unwrap();
	let reveals = audit.assigned.iter().map(|m| (*m, answer_of(*m))).collect();
	finish(id, model, reveals, Some(audit.of));
}

/// Open audits: (audit task, task it re-runs).
pub fn open_audits() -> Vec<(u64, u64)> {
	AUDITS.with(|a| a.borrow().iter().map(|(id, o)| (*id, o.of)).collect())
}

/// Operators 1..=4 GUARDIAN (12,000), 11..=14 ORACLE (6,000), 21..=24 ALL (1,000, exactly the
/// threshold). Worker key of operator `n` is `100 + n`. Accounts 50..=52 are endowed only.
pub fn build() -> sp_io::TestExternalities {
	build_network(&GUARDIANS, &ORACLES, &ALLS)
}

/// A chain with the given GUARDIANs (12,000), ORACLEs (6,000) and ALLs (1,000), all within
/// accounts 1..=60; worker key of operator `n` is `100 + n`.
pub fn build_network(guardians: &[u64], oracles: &[u64], alls: &[u64]) -> sp_io::TestExternalities {
	let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	let mut balances: Vec<(u64, Balance)> = (1..=60).map(|a| (a, ENDOWMENT)).collect();
	balances.push((TREASURY, 1));
	pallet_balances::GenesisConfig::<Test> { balances, ..Default::default() }
		.assimilate_storage(&mut storage)
		.unwrap();
	let mut operators = Vec::new();
	for g in guardians {
		operators.push((*g, b"g".to_vec(), 12_000));
	}
	for o in oracles {
		operators.push((*o, b"o".to_vec(), 6_000));
	}
	for a in alls {
		operators.push((*a, b"a".to_vec(), 1_000));
	}
	pallet_staking_tiers::GenesisConfig::<Test> { config: None, operators }
		.assimilate_storage(&mut storage)
		.unwrap();
	let mut ext = sp_io::TestExternalities::new(storage);
	ext.execute_with(|| {
		System::set_block_number(1);
		reset_mocks();
		WORKERS.with(|w| {
			for op in guardians.iter().chain(oracles).chain(alls) {
				w.borrow_mut().insert(100 + op, *op);
			}
		});
	});
	ext
}

pub const GUARDIANS: [u64; 4] = [1, 2, 3, 4];
pub const ORACLES: [u64; 4] = [11, 12, 13, 14];
pub const ALLS: [u64; 4] = [21, 22, 23, 24];

pub fn reset_mocks() {
	RECORDS.with(|r| r.borrow_mut().clear());
	AUDITS.with(|a| a.borrow_mut().clear());
	WORKERS.with(|w| w.borrow_mut().clear());
	NO_BEACON.with(|b| *b.borrow_mut() = false);
	NEXT_TASK.with(|n| *n.borrow_mut() = 1_000_000);
}

/// Every account's held report bonds equal its open reports' bonds (the pallet's own check
/// covers reporters with open reports; this covers everyone else too).
pub fn check_all_bonds() {
	use frame_support::traits::fungible::InspectHold;
	let bonds = Guardian::bonds_by_reporter();
	for who in (1..=60).chain([TREASURY]) {
		let held = Balances::balance_on_hold(&crate::HoldReason::ReportBond.into(), &who);
		assert_eq!(held, bonds.get(&who).copied().unwrap_or(0), "bonds held by {who}");
	}
}

/// Runs `test` in a fresh chain, then checks every invariant of both pallets.
pub fn run_test(test: impl FnOnce()) {
	build().execute_with(|| {
		test();
		check();
	});
}

pub fn check() {
	Guardian::do_try_state().expect("guardian invariants hold");
	StakingTiers::do_try_state().expect("staking invariants hold");
	check_all_bonds();
}

/// Advances to block `n`, running both pallets' `on_initialize` and checking the invariants.
pub fn run_to_block(n: u64) {
	use frame_support::traits::Hooks;
	while System::block_number() < n {
		let next = System::block_number() + 1;
		System::set_block_number(next);
		StakingTiers::on_initialize(next);
		Guardian::on_initialize(next);
		check();
	}
}

/// Total issuance: slashes move money, they never create or destroy it (the treasury receives).
pub fn total() -> Balance {
	Balances::total_issuance()
}

#[cfg(feature = "runtime-benchmarks")]
impl crate::benchmarking::BenchmarkHelper<Test> for () {
	fn operator(who: &u64, tier: Tier) {
		use frame_support::traits::fungible::Mutate;
		let bond = match tier {
			Tier::All => 1_000,
			Tier::Oracle => 6_000,
			Tier::Guardian => 12_000,
		};
		let _ = Balances::mint_into(who, bond + ENDOWMENT);
		StakingTiers::genesis_operator(who, b"bench", bond).expect("a new operator");
	}
	fn model() -> [u8; 32] {
		PRICE
	}
	fn finished_task(
		model: [u8; 32],
		answers: Vec<(u64, Participation, Option<Answer>)>,
		aggregate: Option<Answer>,
		audit_of: Option<u64>,
	) -> u64 {
		let id = NEXT_TASK.with(|n| {
			let id = *n.borrow();
			*n.borrow_mut() += 1;
			id
		});
		RECORDS.with(|r| {
			r.borrow_mut()
				.insert(id, FinishedTask { model: Some(model), aggregate, answers, audit_of })
		});
		id
	}
	fn link_worker(operator: &u64, worker: &u64) {
		WORKERS.with(|w| w.borrow_mut().insert(*worker, *operator));
	}
	fn worker_key() -> u64 {
		7_777
	}
	fn sign(worker: &u64, payload: &[u8]) -> TestSignature {
		TestSignature(*worker, payload.to_vec())
	}
	fn set_beacon_after(_: u64) {}
}
