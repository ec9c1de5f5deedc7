//! What other pallets see of this one: [`TierProvider`] and [`Slash`].

use crate::{BalanceOf, Config, Configuration, EffectiveTiers, Ledgers, Pallet, TierMembers};
use alloc::vec::Vec;
use noderr_primitives::{Slash, SlashId, Tier, TierProvider};
use sp_runtime::{traits::Zero, DispatchError, Perbill};

impl<T: Config> TierProvider<T::AccountId, BalanceOf<T>> for Pallet<T> {
	fn tier(who: &T::AccountId) -> Option<Tier> {
		EffectiveTiers::<T>::get(who)
	}

	fn stake(who: &T::AccountId) -> BalanceOf<T> {
		Ledgers::<T>::get(who).map(|l| l.active).unwrap_or_else(Zero::zero)
	}

	fn reward_multiplier(tier: Tier) -> u32 {
		Configuration::<T>::get().reward_multipliers.get(tier)
	}

	fn operators(min_tier: Tier) -> Vec<T::AccountId> {
		let mut all: Vec<T::AccountId> = Tier::ALL
			.into_iter()
			.filter(|tier| *tier >= min_tier)
			.flat_map(TierMembers::<T>::iter_key_prefix)
			.collect();
		all.sort();
		all
	}
}

impl<T: Config> Slash<T::AccountId> for Pallet<T> {
	fn schedule_slash(
		who: &T::AccountId,
		fraction: Perbill,
		reporters: Vec<T::AccountId>,
		reporter_share: Perbill,
	) -> Result<SlashId, DispatchError> {
		Self::do_schedule_slash(who, fraction, reporters, reporter_share)
	}

	fn cancel_slash(id: SlashId) -> Result<(), DispatchError> {
		Self::do_cancel_slash(id)
	}

	fn is_pending(id: SlashId) -> bool {
		crate::PendingSlashes::<T>::contains_key(id)
	}

	fn suspend(who: &T::AccountId) -> Result<(), DispatchError> {
		Self::do_suspend(
			who.clone(),
			frame_support::BoundedVec::truncate_from(b"repeated confirmed offences".to_vec()),
		)
	}
}

impl<T: Config> Pallet<T> {
	/// Everything about one operator, for the runtime API.
	pub fn operator_status(
		who: &T::AccountId,
	) -> crate::OperatorStatus<BalanceOf<T>, frame_system::pallet_prelude::BlockNumberFor<T>> {
		let ledger = Ledgers::<T>::get(who);
		crate::OperatorStatus {
			state: crate::Operators::<T>::get(who).map(|r| r.state),
			tier: EffectiveTiers::<T>::get(who),
			next_tier: Self::qualifying_tier(who),
			active: ledger.as_ref().map(|l| l.active).unwrap_or_else(Zero::zero),
			unlocking: ledger
				.map(|l| l.unlocking.iter().map(|c| (c.value, c.unlock_at)).collect())
				.unwrap_or_default(),
			pending_slashes: crate::PendingSlashes::<T>::iter()
				.filter(|(_, s)| &s.who == who)
				.map(|(id, s)| (id, s.fraction, s.apply_at))
				.collect(),
		}
	}
}
