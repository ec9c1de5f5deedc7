//! Test runtime: System, Balances and this pallet. Balances are whole NODERR (no decimals)
//! so that the default thresholds read as in the docs: 1,000 / 5,000 / 10,000.

use crate as pallet_staking_tiers;
use crate::{PerTier, TierConfig};
use frame_support::{derive_impl, parameter_types, traits::ConstU32};
use frame_system::EnsureRoot;
use sp_runtime::BuildStorage;

type Block = frame_system::mocking::MockBlock<Test>;
pub type Balance = u64;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Balances: pallet_balances,
		StakingTiers: pallet_staking_tiers,
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
pub const EPOCH: u64 = 10;
pub const UNBONDING: u64 = 20;
pub const DEFER: u64 = 5;
pub const DEPOSIT: Balance = 10;
pub const ENDOWMENT: Balance = 100_000;

parameter_types! {
	pub const Treasury: u64 = TREASURY;
	pub const ApplicationDeposit: Balance = DEPOSIT;
	pub const DefaultConfig: TierConfig<Balance, u64> = TierConfig {
		thresholds: PerTier { all: 1_000, oracle: 5_000, guardian: 10_000 },
		reward_multipliers: PerTier { all: 100, oracle: 200, guardian: 500 },
		epoch_length: EPOCH,
		unbonding_period: UNBONDING,
		slash_defer_period: DEFER,
	};
}

impl pallet_staking_tiers::Config for Test {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type GovernanceOrigin = EnsureRoot<u64>;
	type Treasury = Treasury;
	type ApplicationDeposit = ApplicationDeposit;
	type DefaultConfig = DefaultConfig;
	type MaxOperators = ConstU32<16>;
	type MaxApplications = ConstU32<8>;
	type MaxUnlockingChunks = ConstU32<4>;
	type MaxNameLength = ConstU32<16>;
	type MaxContactLength = ConstU32<32>;
	type MaxRegionLength = ConstU32<8>;
	type MaxReasonLength = ConstU32<32>;
	type MaxReporters = ConstU32<3>;
	type MaxSlashesPerBlock = ConstU32<2>;
	type MaxPendingSlashes = ConstU32<8>;
	type WeightInfo = ();
}

/// Accounts 1..=20 hold `ENDOWMENT`; 30 holds 500; the treasury exists. No operators.
/// (The benchmark test suite's externalities.)
#[cfg_attr(not(feature = "runtime-benchmarks"), allow(dead_code))]
pub fn new_test_ext() -> sp_io::TestExternalities {
	build(Vec::new())
}

/// Like [`new_test_ext`], with genesis operators `(account, bond)`.
pub fn build(operators: Vec<(u64, Balance)>) -> sp_io::TestExternalities {
	let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	let mut balances: Vec<(u64, Balance)> = (1..=20).map(|a| (a, ENDOWMENT)).collect();
	balances.push((30, 500));
	balances.push((TREASURY, 1));
	pallet_balances::GenesisConfig::<Test> { balances, ..Default::default() }
		.assimilate_storage(&mut storage)
		.unwrap();
	pallet_staking_tiers::GenesisConfig::<Test> {
		config: None,
		operators: operators
			.into_iter()
			.map(|(who, bond)| (who, b"genesis".to_vec(), bond))
			.collect(),
	}
	.assimilate_storage(&mut storage)
	.unwrap();
	let mut ext = sp_io::TestExternalities::new(storage);
	ext.execute_with(|| System::set_block_number(1));
	ext
}

/// Runs `test` in a fresh chain, then checks every invariant.
pub fn run_test(test: impl FnOnce()) {
	run_test_with(Vec::new(), test)
}

/// Runs `test` with genesis operators, then checks every invariant.
pub fn run_test_with(operators: Vec<(u64, Balance)>, test: impl FnOnce()) {
	build(operators).execute_with(|| {
		test();
		StakingTiers::do_try_state().expect("invariants hold after the test");
	});
}

/// Advances to block `n`, running the pallet's `on_initialize` for every block on the way
/// and checking the invariants after each.
pub fn run_to_block(n: u64) {
	use frame_support::traits::Hooks;
	while System::block_number() < n {
		let next = System::block_number() + 1;
		System::set_block_number(next);
		StakingTiers::on_initialize(next);
		StakingTiers::do_try_state().expect("invariants hold after every block");
	}
}
