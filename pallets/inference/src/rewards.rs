//! Payment of a settled task: its fee (held from the requester) and the per-task emission (from
//! the treasury, capped per emission epoch) are split among the agreeing operators in
//! proportion to their tier multipliers (1x / 2x / 5x by default). Operators that missed or
//! answered outside the tolerance earn nothing.
//!
//! The emission is paid from the treasury rather than minted: the token's supply changes only
//! by governance (which funds the treasury), slashes flow back into it, and when it runs dry
//! operators are paid the fees alone rather than diluting every holder.

use crate::*;
use alloc::vec::Vec;
use frame_support::traits::Get;
use frame_support::traits::{
	fungible::{Inspect, Mutate, MutateHold},
	tokens::{Fortitude, Precision, Preservation, Restriction},
};
use noderr_primitives::{Tier, TierProvider};
use sp_runtime::traits::{Saturating, UniqueSaturatedInto, Zero};

impl<T: Config> Pallet<T> {
	/// `amount * weight / total`, rounded down.
	fn share(amount: BalanceOf<T>, weight: u32, total: u32) -> BalanceOf<T> {
		let a: u128 = amount.unique_saturated_into();
		let s = a.saturating_mul(weight as u128) / (total.max(1) as u128);
		s.unique_saturated_into()
	}

	/// The emission this task may draw: the configured amount, within what is left of this
	/// epoch's cap and of the treasury's spendable balance. Recorded as spent.
	fn draw_emission(now: BlockNumberFor<T>) -> BalanceOf<T> {
		let config = Configuration::<T>::get();
		let epoch_len =
			if config.emission_epoch.is_zero() { 1u32.into() } else { config.emission_epoch };
		let epoch = now / epoch_len;
		let (stored, spent) = Emission::<T>::get();
		let spent = if stored == epoch { spent } else { Zero::zero() };
		let treasury = T::Currency::reducible_balance(
			&T::Treasury::get(),
			Preservation::Preserve,
			Fortitude::Polite,
		);
		let amount = config
			.reward_per_task
			.min(config.emission_per_epoch.saturating_sub(spent))
			.min(treasury);
		Emission::<T>::put((epoch, spent.saturating_add(amount)));
		amount
	}

	/// Pays the agreeing operators `(who, tier at assignment)` their shares of the task's fee
	/// and emission. Returns what each was paid, in the same order. Rounding dust of the fee
	/// goes back to the requester; of the emission, stays in the treasury.
	pub(crate) fn pay(
		task: &TaskOf<T>,
		agreeing: &[(T::AccountId, Tier)],
		now: BlockNumberFor<T>,
	) -> Vec<BalanceOf<T>> {
		if agreeing.is_empty() {
			Self::refund(task);
			return Vec::new();
		}
		let weights: Vec<u32> =
			agreeing.iter().map(|(_, t)| T::Tiers::reward_multiplier(*t)).collect();
		let total: u32 = weights.iter().fold(0u32, |a, w| a.saturating_add(*w));
		let emission = Self::draw_emission(now);
		let treasury = T::Treasury::get();
		let mut fee_left = task.fee;
		let mut emission_spent = BalanceOf::<T>::zero();
		let mut paid = Vec::with_capacity(agreeing.len());
		for ((who, _), w) in agreeing.iter().zip(&weights) {
			let mut got = BalanceOf::<T>::zero();
			if let Some(requester) = &task.requester {
				let fee_share = Self::share(task.fee, *w, total);
				if !fee_share.is_zero()
					&& T::Currency::transfer_on_hold(
						&HoldReason::TaskFee.into(),
						requester,
						who,
						fee_share,
						Precision::Exact,
						Restriction::Free,
						Fortitude::Polite,
					)
					.is_ok()
				{
					fee_left.saturating_reduce(fee_share);
					got.saturating_accrue(fee_share);
				}
			}
			let emission_share = Self::share(emission, *w, total);
			if !emission_share.is_zero()
				&& T::Currency::transfer(&treasury, who, emission_share, Preservation::Preserve)
					.is_ok()
			{
				emission_spent.saturating_accrue(emission_share);
				got.saturating_accrue(emission_share);
			}
			paid.push(got);
		}
		// Give back what was drawn but not paid (rounding, a failed transfer).
		Emission::<T>::mutate(|(_, spent)| {
			spent.saturating_reduce(emission.saturating_sub(emission_spent))
		});
		if let Some(requester) = &task.requester {
			if !fee_left.is_zero() {
				let _ = T::Currency::release(
					&HoldReason::TaskFee.into(),
					requester,
					fee_left,
					Precision::BestEffort,
				);
			}
		}
		paid
	}
}
