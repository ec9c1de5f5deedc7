//! Queries for the runtime API: open reports, a guardian's pending duties, an operator's
//! offence history.

use crate::*;
use alloc::vec::Vec;
use noderr_primitives::TaskResults;

impl<T: Config> Pallet<T> {
	/// What `guardian` has to do now: votes it has not cast on reports whose panel it sits on,
	/// and open audit tasks it was drawn for (its worker answers those by itself).
	pub fn duties(guardian: &T::AccountId) -> Vec<Duty<BlockNumberFor<T>>> {
		let mut duties = Vec::new();
		for (report, r) in Reports::<T>::iter() {
			if let Judging::Voting { until } = r.judging {
				if r.panel.contains(guardian)
					&& !r.ayes.contains(guardian)
					&& !r.nays.contains(guardian)
				{
					duties.push(Duty::Vote { report, until });
				}
			}
		}
		for (audit, info) in Audits::<T>::iter() {
			if T::Tasks::assigned(audit).contains(guardian) {
				duties.push(Duty::ReExecute { audit, of: info.of });
			}
		}
		duties
	}

	/// `who`'s confirmed offences, oldest first, and how many count (not cancelled).
	pub fn offence_history(who: &T::AccountId) -> (Vec<Offence<BlockNumberFor<T>>>, u32) {
		(Offences::<T>::get(who).into_inner(), ConfirmedCount::<T>::get(who))
	}
}

use frame_system::pallet_prelude::BlockNumberFor;
