//! Benchmarks of the registry's calls, at their worst case: the longest name, the most and the
//! longest locations, a new model for `register` (it touches the model counter too), a model
//! with `MaxLiveVersions - 1` other versions for `deprecate`, a model's last version for
//! `retire`.

use super::*;
use alloc::{vec, vec::Vec};
use frame_benchmarking::v2::*;
use frame_support::traits::Get;
use frame_system::pallet_prelude::BlockNumberFor;
use frame_system::RawOrigin;
use noderr_primitives::Tier;

fn registration<T: Config>(hash: u8, locations: u32) -> Registration<BlockNumberFor<T>> {
	let location = |i: u32| {
		let mut l = b"https://".to_vec();
		l.resize(T::MaxLocationLength::get() as usize, b'a' + (i % 26) as u8);
		l
	};
	Registration {
		spec: VersionSpec {
			kind: TaskKind::Classification { classes: 4 },
			min_tier: Tier::Oracle,
			input: InputSpec::Features { pipeline_version: 1, window: 60, feature_count: 94 },
			output: OutputSpec { scale: 1_000_000, tolerance: 1_000 },
			artifact_hash: [hash; 32],
			artifact_size: 1,
		},
		locations: (0..locations).map(location).collect(),
		activate_at: frame_system::Pallet::<T>::block_number() + 1_000u32.into(),
	}
}

fn long_name<T: Config>() -> Vec<u8> {
	vec![b'm'; T::MaxNameLength::get() as usize]
}

fn version(i: u32) -> SemVer {
	SemVer { major: i as u16, minor: 0, patch: 0 }
}

/// Fills the model with live versions up to one below the bound.
fn fill<T: Config>(name: &[u8]) {
	for i in 0..T::MaxLiveVersions::get().saturating_sub(1) {
		Pallet::<T>::do_register(name.to_vec(), version(i + 1), registration::<T>(i as u8 + 1, 1))
			.expect("within bounds");
	}
}

#[benchmarks]
mod benchmarks {
	use super::*;

	/// A new model: the costlier path (it also reads and writes the model counter).
	#[benchmark]
	fn register(l: Linear<0, { T::MaxLocations::get() }>) {
		let name = long_name::<T>();
		fill::<T>(b"other");
		let r = registration::<T>(200, l);
		#[extrinsic_call]
		_(RawOrigin::Root, name.clone(), version(1000), r);
		assert!(Pallet::<T>::model(name, version(1000)).is_some());
	}

	#[benchmark]
	fn deprecate() {
		let name = long_name::<T>();
		fill::<T>(&name);
		Pallet::<T>::do_register(name.clone(), version(1000), registration::<T>(200, 1)).unwrap();
		#[extrinsic_call]
		_(RawOrigin::Root, name.clone(), version(1000));
		assert!(matches!(
			Pallet::<T>::model(name, version(1000)).unwrap().status,
			Status::Deprecated(_)
		));
	}

	/// The model's last version: the costlier path (the model and its count go too).
	#[benchmark]
	fn retire() {
		let name = long_name::<T>();
		fill::<T>(b"other");
		Pallet::<T>::do_register(name.clone(), version(1000), registration::<T>(200, 1)).unwrap();
		#[extrinsic_call]
		_(RawOrigin::Root, name.clone(), version(1000));
		assert!(Pallet::<T>::model(name, version(1000)).is_none());
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::new_test_ext_bench(), crate::mock::Test);
}
