//! The bridge to `pallet-session`: hands the current set over at each rotation.

use crate::{Config, Pallet, PendingChange, Validators};
use alloc::vec::Vec;

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
		Some(Validators::<T>::get().into_inner())
	}

	fn end_session(_end_index: u32) {}

	fn start_session(_start_index: u32) {}
}
