//! Tiers in force and epochs: who is re-evaluated, when, and the sorted member lists that
//! task assignment reads.

use crate::{
	Config, Configuration, CurrentEpoch, EffectiveTiers, Event, Ledgers, NextEpochAt,
	OperatorState, Operators, Pallet, PendingTierUpdates, TierMembers, WeightInfo,
};
use alloc::vec::Vec;
use frame_support::weights::Weight;
use frame_system::pallet_prelude::BlockNumberFor;
use noderr_primitives::Tier;
use sp_runtime::Saturating;

impl<T: Config> Pallet<T> {
	/// The tier `who` qualifies for now: approved, and by its active bond.
	pub(crate) fn qualifying_tier(who: &T::AccountId) -> Option<Tier> {
		let approved = Operators::<T>::get(who).is_some_and(|r| r.state == OperatorState::Approved);
		if !approved {
			return None;
		}
		let active = Ledgers::<T>::get(who)?.active;
		Configuration::<T>::get().tier_for(active)
	}

	/// Queues `who` for re-evaluation at the next epoch boundary. Only operators are queued,
	/// so the queue never holds more than `MaxOperators` entries.
	pub(crate) fn mark_for_update(who: &T::AccountId) {
		PendingTierUpdates::<T>::insert(who, ());
	}

	/// Drops `who` from the re-evaluation queue.
	pub(crate) fn unmark_for_update(who: &T::AccountId) {
		PendingTierUpdates::<T>::remove(who);
	}

	/// Puts `who` into tier `to` now, updating the member lists; emits `TierChanged`.
	pub(crate) fn set_effective_tier(who: &T::AccountId, to: Option<Tier>) {
		let from = EffectiveTiers::<T>::get(who);
		if from == to {
			return;
		}
		if let Some(old) = from {
			TierMembers::<T>::remove(old, who);
		}
		match to {
			Some(new) => {
				TierMembers::<T>::insert(new, who, ());
				EffectiveTiers::<T>::insert(who, new);
			}
			None => EffectiveTiers::<T>::remove(who),
		}
		Self::deposit_event(Event::TierChanged { who: who.clone(), from, to });
	}

	/// Lowers `who`'s tier at once if its bond no longer covers it (after a slash). Raising
	/// waits for the epoch boundary like every other change: the caller stored the ledger with
	/// `store_ledger`, which queued `who` for it.
	pub(crate) fn lower_tier_if_uncovered(who: &T::AccountId) {
		let qualifying = Self::qualifying_tier(who);
		if qualifying < EffectiveTiers::<T>::get(who) {
			Self::set_effective_tier(who, qualifying);
		}
	}

	/// Starts a new epoch at block `now`: every queued operator takes the tier it qualifies
	/// for. Returns the weight used.
	pub(crate) fn start_epoch(now: BlockNumberFor<T>) -> Weight {
		// Sorted so that events come out in the same order on every node, whatever the
		// storage hashing.
		let mut pending: Vec<T::AccountId> = PendingTierUpdates::<T>::iter_keys().collect();
		pending.sort();
		let count = pending.len() as u32;
		let _ = PendingTierUpdates::<T>::clear(count.saturating_add(1), None);
		for who in pending.iter() {
			Self::set_effective_tier(who, Self::qualifying_tier(who));
		}
		let index = CurrentEpoch::<T>::mutate(|epoch| {
			*epoch = epoch.saturating_add(1);
			*epoch
		});
		NextEpochAt::<T>::put(now.saturating_add(Configuration::<T>::get().epoch_length));
		Self::deposit_event(Event::EpochStarted { index, reevaluated: count });
		T::WeightInfo::start_epoch(count)
	}
}
