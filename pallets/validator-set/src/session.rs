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
		// No genesis validators named: `None` lets the session take the owners of its genesis
		// authority keys (not its non-authority keys); `start_session(0)` then adopts them.
		let validators = Validators::<T>::get().into_inner();
		(!validators.is_empty()).then_some(validators)
	}

	fn end_session(_end_index: u32) {}

	fn start_session(start_index: u32) {
		if start_index != 0 || !Validators::<T>::get().is_empty() {
			return;
		}
		// Genesis without named validators: the session's first validators, the owners of its
		// genesis authority keys (how zombienet's declared validators become the chain's).
		let mut validators = T::SessionValidators::get();
		validators.sort();
		validators.dedup();
		// No keys either (the default genesis config): the set stays empty, as before.
		let bounded: BoundedVec<_, T::MaxValidators> =
			validators.try_into().expect("more genesis session keys than MaxValidators");
		Validators::<T>::put(bounded);
	}
}
