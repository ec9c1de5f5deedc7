//! Test runtime: System and the registry, root as `ModelAdmin`.

use crate as pallet_model_registry;
use frame_support::{derive_impl, traits::ConstU32};
use frame_system::EnsureRoot;
use sp_runtime::BuildStorage;

type Block = frame_system::mocking::MockBlock<Test>;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		ModelRegistry: pallet_model_registry,
	}
);

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
}

frame_support::parameter_types! {
	pub const MaxArtifactSize: u64 = 1 << 30;
}

pub const MAX_LIVE: u32 = 3;
pub const MAX_MODELS: u32 = 4;
pub const MAX_LOCATIONS: u32 = 2;
pub const MAX_LOCATION_LENGTH: u32 = 64;

impl pallet_model_registry::Config for Test {
	type ModelAdmin = EnsureRoot<u64>;
	type MaxNameLength = ConstU32<32>;
	type MaxLocations = ConstU32<MAX_LOCATIONS>;
	type MaxLocationLength = ConstU32<MAX_LOCATION_LENGTH>;
	type MaxLiveVersions = ConstU32<MAX_LIVE>;
	type MaxModels = ConstU32<MAX_MODELS>;
	type MaxArtifactSize = MaxArtifactSize;
	type WeightInfo = ();
}

/// Storage with `models` registered at genesis, at block 1; the invariants are checked when
/// the closure returns.
pub fn new_test_ext_with(
	models: Vec<(Vec<u8>, crate::SemVer, crate::Registration<u64>)>,
	test: impl FnOnce(),
) {
	let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	pallet_model_registry::GenesisConfig::<Test> { models }
		.assimilate_storage(&mut storage)
		.unwrap();
	let mut ext = sp_io::TestExternalities::new(storage);
	ext.execute_with(|| {
		System::set_block_number(1);
		test();
		ModelRegistry::do_try_state().expect("invariants hold after the test");
	});
}

/// Storage with nothing registered.
pub fn new_test_ext(test: impl FnOnce()) {
	new_test_ext_with(Vec::new(), test)
}

/// Storage for the benchmark tests.
#[cfg(feature = "runtime-benchmarks")]
pub fn new_test_ext_bench() -> sp_io::TestExternalities {
	let storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	let mut ext = sp_io::TestExternalities::new(storage);
	ext.execute_with(|| System::set_block_number(1));
	ext
}
