//! A minimal runtime for the pallet's unit tests: System plus this pallet.

use crate as pallet_validator_set;
use frame_support::{derive_impl, parameter_types};
use frame_system::EnsureRoot;
use sp_runtime::BuildStorage;

type Block = frame_system::mocking::MockBlock<Test>;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		ValidatorSet: pallet_validator_set,
	}
);

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
}

parameter_types! {
	pub const MaxValidators: u32 = 8;
	pub const MinValidators: u32 = 1;
}

impl pallet_validator_set::Config for Test {
	type RuntimeEvent = RuntimeEvent;
	type ValidatorAdminOrigin = EnsureRoot<u64>;
	type MaxValidators = MaxValidators;
	type MinValidators = MinValidators;
	type HasSessionKeys = KeysOf;
	type SessionValidators = KeyOwners;
	type WeightInfo = ();
}

thread_local! {
	/// Accounts without session keys (every other account has them).
	pub static KEYLESS: core::cell::RefCell<Vec<u64>> = const { core::cell::RefCell::new(Vec::new()) };
}

/// Session keys: everyone but the accounts in [`KEYLESS`].
pub struct KeysOf;
impl frame_support::traits::Contains<u64> for KeysOf {
	fn contains(who: &u64) -> bool {
		!KEYLESS.with(|k| k.borrow().contains(who))
	}
}

thread_local! {
	/// The session's validators (at genesis: the owners of its authority keys).
	pub static KEY_OWNERS: core::cell::RefCell<Vec<u64>> = const { core::cell::RefCell::new(Vec::new()) };
}

/// The session's validators: [`KEY_OWNERS`].
pub struct KeyOwners;
impl frame_support::traits::Get<Vec<u64>> for KeyOwners {
	fn get() -> Vec<u64> {
		KEY_OWNERS.with(|k| k.borrow().clone())
	}
}

/// Genesis: validators 1 and 2.
pub fn new_test_ext() -> sp_io::TestExternalities {
	let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	pallet_validator_set::GenesisConfig::<Test> { initial_validators: vec![2, 1] }
		.assimilate_storage(&mut storage)
		.unwrap();
	let mut ext = sp_io::TestExternalities::new(storage);
	ext.execute_with(|| System::set_block_number(1));
	ext
}

/// Runs `test` and then checks the pallet's invariants.
pub fn run_test(test: impl FnOnce()) {
	new_test_ext().execute_with(|| {
		test();
		ValidatorSet::do_try_state().expect("invariants hold after the test");
	});
}
