//! Benchmarks for the validator set, each at the worst case: a set one short of full.

use super::*;
use frame_benchmarking::v2::*;
use frame_support::traits::{EnsureOrigin, Get};

fn fill<T: Config>(count: u32) {
	for i in 0..count {
		let who: T::AccountId = account("validator", i, 0);
		Pallet::<T>::do_add_validator(who).expect("below MaxValidators");
	}
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn add_validator() -> Result<(), BenchmarkError> {
		let max = T::MaxValidators::get();
		let existing = Validators::<T>::get().len() as u32;
		fill::<T>(max.saturating_sub(existing).saturating_sub(1));
		let origin = T::ValidatorAdminOrigin::try_successful_origin()
			.map_err(|_| BenchmarkError::Weightless)?;
		let who: T::AccountId = account("new", 0, 0);

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, who.clone());

		assert!(Validators::<T>::get().contains(&who));
		Ok(())
	}

	#[benchmark]
	fn remove_validator() -> Result<(), BenchmarkError> {
		let max = T::MaxValidators::get();
		let existing = Validators::<T>::get().len() as u32;
		fill::<T>(max.saturating_sub(existing));
		let origin = T::ValidatorAdminOrigin::try_successful_origin()
			.map_err(|_| BenchmarkError::Weightless)?;
		// The first account sorts anywhere; removing it shifts up to V - 1 entries.
		let who: T::AccountId = account("validator", 0, 0);

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, who.clone());

		assert!(!Validators::<T>::get().contains(&who));
		Ok(())
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::new_test_ext(), crate::mock::Test);
}
