//! The bridge to `pallet-session`: hands the current set over at each rotation.

use crate::{Config, Pallet, PendingChange, Validators};
use alloc::vec::Vec;
use frame_support::{traits::Get, BoundedVec};

impl<T: Config> pallet_session::SessionManager<T::AccountId> for Pallet<T> {
	fn new_session(new_index: u32) -> Option<Vec<T::AccountId>> {
		// Returning `None` keeps the previous set; only hand over a set that changed.
		if !PendingChange::<T>::take() {
			return None;
		}
		let validators = Validators::<T>::get().into_inner();
		log::info!(
			target: "runtime::validator-set",
			"session {new_index}: {} validators", validators.len()
		);
		Some(validators)
	}

	fn new_session_genesis(_new_index: u32) -> Option<Vec<T::AccountId>> {
		let mut validators = Validators::<T>::get().into_inner();
		if validators.is_empty() {
			// No genesis validators named: the owners of the genesis session keys (set before
			// this is called) are the validator set.
			validators = T::SessionKeyOwners::get();
			validators.sort();
			validators.dedup();
			assert!(
				validators.len() as u32 >= T::MinValidators::get(),
				"no genesis validators named and fewer session keys than MinValidators"
			);
			let bounded: BoundedVec<_, T::MaxValidators> = validators
				.clone()
				.try_into()
				.expect("more genesis session keys than MaxValidators");
			Validators::<T>::put(bounded);
		}
		Some(validators)
	}

	fn end_session(_end_index: u32) {}

	fn start_session(_start_index: u32) {}
}
