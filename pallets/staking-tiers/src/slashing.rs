//! Deferred slashing: scheduling, cancellation and application.

use crate::{
	BalanceOf, Config, Configuration, Error, Event, HoldReason, Ledgers, NextSlashId, Operators,
	Pallet, PendingSlash, PendingSlashCount, PendingSlashes, SlashQueue, SlashesAgainst,
	WeightInfo,
};
use alloc::vec::Vec;
use frame_support::{
	ensure,
	traits::{
		fungible::hold::Mutate as HoldMutate,
		tokens::{Fortitude, Precision, Restriction},
		Get,
	},
	weights::Weight,
	BoundedVec,
};
use frame_system::pallet_prelude::BlockNumberFor;
use noderr_primitives::SlashId;
use sp_runtime::{
	traits::{Saturating, Zero},
	DispatchError, DispatchResult, Perbill,
};

/// How many blocks past its due block a slash may be queued when that block is full.
const QUEUE_SEARCH_BLOCKS: u32 = 16;

impl<T: Config> Pallet<T> {
	pub(crate) fn do_schedule_slash(
		who: &T::AccountId,
		fraction: Perbill,
		reporters: Vec<T::AccountId>,
		reporter_share: Perbill,
	) -> Result<SlashId, DispatchError> {
		ensure!(Operators::<T>::contains_key(who), Error::<T>::NotOperator);
		ensure!(
			PendingSlashCount::<T>::get() < T::MaxPendingSlashes::get(),
			Error::<T>::TooManyPendingSlashes
		);
		let reporters: BoundedVec<_, T::MaxReporters> =
			reporters.try_into().map_err(|_| Error::<T>::TooManyReporters)?;
		ensure!(!reporters.contains(who), Error::<T>::SelfReport);
		for (i, r) in reporters.iter().enumerate() {
			ensure!(!reporters[..i].contains(r), Error::<T>::DuplicateReporter);
		}
		let due = frame_system::Pallet::<T>::block_number()
			.saturating_add(Configuration::<T>::get().slash_defer_period);
		let id = NextSlashId::<T>::get();
		let apply_at = Self::queue_slash(id, due)?;
		PendingSlashes::<T>::insert(
			id,
			PendingSlash { who: who.clone(), fraction, reporters, reporter_share, apply_at },
		);
		NextSlashId::<T>::put(id.wrapping_add(1));
		PendingSlashCount::<T>::mutate(|n| *n += 1);
		SlashesAgainst::<T>::mutate(who, |n| *n += 1);
		Self::deposit_event(Event::SlashScheduled { id, who: who.clone(), fraction, apply_at });
		Ok(id)
	}

	/// Puts `id` into the first block from `due` whose queue has room.
	fn queue_slash(
		id: SlashId,
		due: BlockNumberFor<T>,
	) -> Result<BlockNumberFor<T>, DispatchError> {
		let mut block = due;
		for _ in 0..QUEUE_SEARCH_BLOCKS {
			if SlashQueue::<T>::mutate(block, |queue| queue.try_push(id).is_ok()) {
				return Ok(block);
			}
			block = block.saturating_add(1u32.into());
		}
		Err(Error::<T>::SlashQueueFull.into())
	}

	fn forget_slash(id: SlashId, slash: &crate::PendingSlashOf<T>) {
		PendingSlashes::<T>::remove(id);
		PendingSlashCount::<T>::mutate(|n| *n = n.saturating_sub(1));
		SlashesAgainst::<T>::mutate_exists(&slash.who, |n| {
			let left = n.unwrap_or(0).saturating_sub(1);
			*n = (left > 0).then_some(left);
		});
	}

	pub(crate) fn do_cancel_slash(id: SlashId) -> DispatchResult {
		let slash = PendingSlashes::<T>::get(id).ok_or(Error::<T>::SlashNotFound)?;
		SlashQueue::<T>::mutate_exists(slash.apply_at, |queue| {
			if let Some(q) = queue {
				q.retain(|queued| *queued != id);
				if q.is_empty() {
					*queue = None;
				}
			}
		});
		Self::forget_slash(id, &slash);
		Self::deposit_event(Event::SlashCancelled { id, who: slash.who });
		Ok(())
	}

	/// Applies the slashes queued for `now`. Returns the weight used.
	pub(crate) fn apply_due_slashes(now: BlockNumberFor<T>) -> Weight {
		let due = SlashQueue::<T>::take(now);
		let mut weight = T::DbWeight::get().reads_writes(1, 1);
		for id in due {
			weight = weight.saturating_add(T::WeightInfo::apply_slash());
			if let Some(slash) = PendingSlashes::<T>::get(id) {
				Self::forget_slash(id, &slash);
				Self::apply_slash(id, slash);
			}
		}
		weight
	}

	/// Takes the slash's fraction of active plus unbonding stake, active first, then the
	/// newest chunks; pays reporters their share and the treasury the rest.
	fn apply_slash(id: SlashId, slash: crate::PendingSlashOf<T>) {
		let who = slash.who;
		let Some(mut ledger) = Ledgers::<T>::get(&who) else {
			// Nothing bonded any more: nothing to take.
			Self::deposit_event(Event::SlashApplied {
				id,
				who,
				amount: Zero::zero(),
				to_reporters: Zero::zero(),
				to_treasury: Zero::zero(),
			});
			return;
		};
		let amount = slash.fraction.mul_floor(ledger.total());
		let mut left = amount;
		let from_active = left.min(ledger.active);
		ledger.active = ledger.active.saturating_sub(from_active);
		left = left.saturating_sub(from_active);
		for chunk in ledger.unlocking.iter_mut().rev() {
			let take = left.min(chunk.value);
			chunk.value = chunk.value.saturating_sub(take);
			left = left.saturating_sub(take);
		}
		ledger.unlocking.retain(|chunk| !chunk.value.is_zero());
		let amount = amount.saturating_sub(left);

		let reason = HoldReason::Bonded.into();
		let mut to_reporters = BalanceOf::<T>::zero();
		if !slash.reporters.is_empty() {
			let count: BalanceOf<T> = (slash.reporters.len() as u32).into();
			let each = slash.reporter_share.mul_floor(amount) / count;
			for reporter in slash.reporters.iter() {
				// A reporter account that cannot receive (e.g. below the existential deposit)
				// forfeits its part to the treasury.
				if Self::move_held(&reason, &who, reporter, each).is_ok() {
					to_reporters = to_reporters.saturating_add(each);
				}
			}
		}
		let to_treasury = amount.saturating_sub(to_reporters);
		Self::held_to_treasury(&reason, &who, to_treasury);
		Self::store_ledger(&who, ledger);
		Self::lower_tier_if_uncovered(&who);
		Self::deposit_event(Event::SlashApplied { id, who, amount, to_reporters, to_treasury });
	}

	/// Pays `amount` held from `from` to the treasury; burns it when the treasury cannot
	/// receive it, so that taken funds never stay held.
	pub(crate) fn held_to_treasury(
		reason: &T::RuntimeHoldReason,
		from: &T::AccountId,
		amount: BalanceOf<T>,
	) {
		if Self::move_held(reason, from, &T::Treasury::get(), amount).is_err() {
			let _ = T::Currency::burn_held(
				reason,
				from,
				amount,
				Precision::BestEffort,
				Fortitude::Force,
			);
		}
	}

	fn move_held(
		reason: &T::RuntimeHoldReason,
		from: &T::AccountId,
		to: &T::AccountId,
		amount: BalanceOf<T>,
	) -> DispatchResult {
		if amount.is_zero() {
			return Ok(());
		}
		T::Currency::transfer_on_hold(
			reason,
			from,
			to,
			amount,
			Precision::Exact,
			Restriction::Free,
			Fortitude::Force,
		)?;
		Ok(())
	}
}
