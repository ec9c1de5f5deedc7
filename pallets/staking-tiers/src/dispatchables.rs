//! The logic behind each call: onboarding, bonding and configuration.

use crate::{
	ApplicationCount, BalanceOf, Config, Configuration, Error, Event, HardwareClass, HoldReason,
	Ledger, Ledgers, MetadataOf, OperatorCount, OperatorRecord, OperatorState, Operators, Pallet,
	SlashesAgainst, TierConfigOf, UnlockChunk,
};
use frame_support::{
	ensure,
	pallet_prelude::*,
	traits::{
		fungible::{hold::Mutate as HoldMutate, Inspect},
		tokens::Precision,
	},
};
use sp_runtime::{
	traits::{Saturating, Zero},
	DispatchResult,
};

impl<T: Config> Pallet<T> {
	pub(crate) fn do_apply(
		who: T::AccountId,
		display_name: BoundedVec<u8, T::MaxNameLength>,
		contact: BoundedVec<u8, T::MaxContactLength>,
		region: BoundedVec<u8, T::MaxRegionLength>,
		hardware: HardwareClass,
	) -> DispatchResult {
		ensure!(!Operators::<T>::contains_key(&who), Error::<T>::AlreadyApplied);
		ensure!(
			ApplicationCount::<T>::get() < T::MaxApplications::get(),
			Error::<T>::TooManyApplications
		);
		ensure!(!display_name.is_empty(), Error::<T>::EmptyDisplayName);
		let metadata = MetadataOf::<T> { display_name, contact, region, hardware };
		let deposit = T::ApplicationDeposit::get();
		T::Currency::hold(&HoldReason::ApplicationDeposit.into(), &who, deposit)
			.map_err(|_| Error::<T>::InsufficientBalance)?;
		let applied_at = frame_system::Pallet::<T>::block_number();
		Operators::<T>::insert(
			&who,
			OperatorRecord { metadata, state: OperatorState::Pending, deposit, applied_at },
		);
		ApplicationCount::<T>::mutate(|n| *n += 1);
		Self::deposit_event(Event::Applied { who, deposit });
		Ok(())
	}

	/// Ends a pending application: its deposit is released to the applicant, or paid to the
	/// treasury when `forfeit`. Returns the record (deposit cleared) and what was forfeited;
	/// the record is no longer counted as an application.
	fn settle_application(
		who: &T::AccountId,
		forfeit: bool,
	) -> Result<(crate::OperatorRecordOf<T>, BalanceOf<T>), DispatchError> {
		let mut record = Operators::<T>::get(who).ok_or(Error::<T>::NotOperator)?;
		ensure!(record.state == OperatorState::Pending, Error::<T>::NotPending);
		let reason = HoldReason::ApplicationDeposit.into();
		let forfeited = if forfeit {
			Self::held_to_treasury(&reason, who, record.deposit);
			record.deposit
		} else {
			T::Currency::release(&reason, who, record.deposit, Precision::BestEffort)?;
			Zero::zero()
		};
		record.deposit = Zero::zero();
		ApplicationCount::<T>::mutate(|n| *n = n.saturating_sub(1));
		Ok((record, forfeited))
	}

	pub(crate) fn do_approve(who: T::AccountId) -> DispatchResult {
		ensure!(OperatorCount::<T>::get() < T::MaxOperators::get(), Error::<T>::TooManyOperators);
		let (mut record, _) = Self::settle_application(&who, false)?;
		record.state = OperatorState::Approved;
		Operators::<T>::insert(&who, record);
		OperatorCount::<T>::mutate(|n| *n += 1);
		Self::deposit_event(Event::ApplicationApproved { who });
		Ok(())
	}

	pub(crate) fn do_reject(
		who: T::AccountId,
		reason: BoundedVec<u8, T::MaxReasonLength>,
		forfeit: bool,
	) -> DispatchResult {
		let (_, forfeited) = Self::settle_application(&who, forfeit)?;
		Operators::<T>::remove(&who);
		Self::deposit_event(Event::ApplicationRejected { who, reason, forfeited });
		Ok(())
	}

	pub(crate) fn do_withdraw_application(who: T::AccountId) -> DispatchResult {
		let record = Operators::<T>::get(&who).ok_or(Error::<T>::NotOperator)?;
		if record.state == OperatorState::Pending {
			Self::settle_application(&who, false)?;
			Operators::<T>::remove(&who);
		} else {
			ensure!(!Ledgers::<T>::contains_key(&who), Error::<T>::StillBonded);
			Self::remove_operator(&who);
		}
		Self::deposit_event(Event::ApplicationWithdrawn { who });
		Ok(())
	}

	pub(crate) fn do_evict(
		who: T::AccountId,
		reason: BoundedVec<u8, T::MaxReasonLength>,
	) -> DispatchResult {
		let record = Operators::<T>::get(&who).ok_or(Error::<T>::NotOperator)?;
		ensure!(record.state != OperatorState::Pending, Error::<T>::NotApproved);
		ensure!(!Ledgers::<T>::contains_key(&who), Error::<T>::StillBonded);
		Self::remove_operator(&who);
		Self::deposit_event(Event::OperatorEvicted { who, reason });
		Ok(())
	}

	/// Removes an approved or suspended operator, with its tier in force: an operator that
	/// leaves (or is evicted) keeps no tier, whatever the epoch.
	fn remove_operator(who: &T::AccountId) {
		Self::set_effective_tier(who, None);
		Operators::<T>::remove(who);
		OperatorCount::<T>::mutate(|n| *n = n.saturating_sub(1));
		Self::unmark_for_update(who);
	}

	pub(crate) fn do_suspend(
		who: T::AccountId,
		reason: BoundedVec<u8, T::MaxReasonLength>,
	) -> DispatchResult {
		Operators::<T>::try_mutate(&who, |record| -> DispatchResult {
			let record = record.as_mut().ok_or(Error::<T>::NotOperator)?;
			match record.state {
				OperatorState::Approved => {}
				OperatorState::Suspended => return Err(Error::<T>::OperatorSuspended.into()),
				OperatorState::Pending => return Err(Error::<T>::NotApproved.into()),
			}
			record.state = OperatorState::Suspended;
			Ok(())
		})?;
		Self::set_effective_tier(&who, None);
		Self::deposit_event(Event::OperatorSuspended { who, reason });
		Ok(())
	}

	pub(crate) fn do_reinstate(who: T::AccountId) -> DispatchResult {
		Operators::<T>::try_mutate(&who, |record| -> DispatchResult {
			let record = record.as_mut().ok_or(Error::<T>::NotOperator)?;
			ensure!(record.state == OperatorState::Suspended, Error::<T>::NotSuspended);
			record.state = OperatorState::Approved;
			Ok(())
		})?;
		Self::mark_for_update(&who);
		Self::deposit_event(Event::OperatorReinstated { who });
		Ok(())
	}

	/// Fails unless `who` is an approved (not pending, not suspended) operator.
	fn ensure_approved(who: &T::AccountId) -> DispatchResult {
		match Operators::<T>::get(who).map(|r| r.state) {
			None => Err(Error::<T>::NotOperator.into()),
			Some(OperatorState::Pending) => Err(Error::<T>::NotApproved.into()),
			Some(OperatorState::Suspended) => Err(Error::<T>::OperatorSuspended.into()),
			Some(OperatorState::Approved) => Ok(()),
		}
	}

	fn hold_stake(who: &T::AccountId, value: BalanceOf<T>) -> DispatchResult {
		T::Currency::hold(&HoldReason::Bonded.into(), who, value)
			.map_err(|_| Error::<T>::InsufficientBalance.into())
	}

	pub(crate) fn do_bond(who: T::AccountId, value: BalanceOf<T>) -> DispatchResult {
		Self::ensure_approved(&who)?;
		ensure!(!Ledgers::<T>::contains_key(&who), Error::<T>::AlreadyBonded);
		ensure!(value >= Self::minimum_bond(), Error::<T>::BelowMinimumBond);
		Self::hold_stake(&who, value)?;
		Self::store_ledger(&who, Ledger { active: value, unlocking: Default::default() });
		Self::deposit_event(Event::Bonded { who, amount: value });
		Ok(())
	}

	pub(crate) fn do_bond_extra(who: T::AccountId, value: BalanceOf<T>) -> DispatchResult {
		ensure!(!value.is_zero(), Error::<T>::ZeroAmount);
		Self::ensure_approved(&who)?;
		let mut ledger = Ledgers::<T>::get(&who).ok_or(Error::<T>::NotBonded)?;
		let active = ledger.active.saturating_add(value);
		ensure!(active >= Self::minimum_bond(), Error::<T>::BelowMinimumBond);
		Self::hold_stake(&who, value)?;
		ledger.active = active;
		Self::store_ledger(&who, ledger);
		Self::deposit_event(Event::Bonded { who, amount: value });
		Ok(())
	}

	pub(crate) fn do_unbond(who: T::AccountId, value: BalanceOf<T>) -> DispatchResult {
		ensure!(!value.is_zero(), Error::<T>::ZeroAmount);
		let mut ledger = Ledgers::<T>::get(&who).ok_or(Error::<T>::NotBonded)?;
		ensure!(value <= ledger.active, Error::<T>::InsufficientActiveBond);
		let remaining = ledger.active.saturating_sub(value);
		ensure!(
			remaining.is_zero() || remaining >= Self::minimum_bond(),
			Error::<T>::BelowMinimumBond
		);
		let unlock_at = frame_system::Pallet::<T>::block_number()
			.saturating_add(Configuration::<T>::get().unbonding_period);
		match ledger.unlocking.last_mut() {
			// Unbonding twice in one block makes one chunk, not two.
			Some(last) if last.unlock_at == unlock_at => {
				last.value = last.value.saturating_add(value)
			}
			_ => ledger
				.unlocking
				.try_push(UnlockChunk { value, unlock_at })
				.map_err(|_| Error::<T>::TooManyUnlockingChunks)?,
		}
		ledger.active = remaining;
		Self::store_ledger(&who, ledger);
		Self::deposit_event(Event::Unbonded { who, amount: value, unlock_at });
		Ok(())
	}

	pub(crate) fn do_withdraw_unbonded(who: T::AccountId) -> DispatchResult {
		let mut ledger = Ledgers::<T>::get(&who).ok_or(Error::<T>::NotBonded)?;
		ensure!(SlashesAgainst::<T>::get(&who) == 0, Error::<T>::SlashPending);
		let now = frame_system::Pallet::<T>::block_number();
		let mut amount = BalanceOf::<T>::zero();
		ledger.unlocking.retain(|chunk| {
			let due = chunk.unlock_at <= now;
			if due {
				amount = amount.saturating_add(chunk.value);
			}
			!due
		});
		ensure!(!amount.is_zero(), Error::<T>::NothingToWithdraw);
		T::Currency::release(&HoldReason::Bonded.into(), &who, amount, Precision::Exact)?;
		Self::store_ledger(&who, ledger);
		Self::deposit_event(Event::Withdrawn { who, amount });
		Ok(())
	}

	pub(crate) fn do_rebond(who: T::AccountId, value: BalanceOf<T>) -> DispatchResult {
		ensure!(!value.is_zero(), Error::<T>::ZeroAmount);
		Self::ensure_approved(&who)?;
		let mut ledger = Ledgers::<T>::get(&who).ok_or(Error::<T>::NotBonded)?;
		ensure!(!ledger.unlocking.is_empty(), Error::<T>::NothingToRebond);
		let mut left = value;
		while let Some(last) = ledger.unlocking.last_mut() {
			if left.is_zero() {
				break;
			}
			let take = left.min(last.value);
			last.value = last.value.saturating_sub(take);
			left = left.saturating_sub(take);
			if last.value.is_zero() {
				ledger.unlocking.pop();
			}
		}
		let moved = value.saturating_sub(left);
		ledger.active = ledger.active.saturating_add(moved);
		ensure!(ledger.active >= Self::minimum_bond(), Error::<T>::BelowMinimumBond);
		Self::store_ledger(&who, ledger);
		Self::deposit_event(Event::Rebonded { who, amount: moved });
		Ok(())
	}

	pub(crate) fn do_set_config(config: TierConfigOf<T>) -> DispatchResult {
		ensure!(config.is_valid(), Error::<T>::InvalidConfig);
		Configuration::<T>::put(config);
		// New thresholds can move anyone with a bond. Ledgers exist only for operators, so
		// this visits at most `MaxOperators` entries (the benchmark's worst case).
		for (who, _) in Ledgers::<T>::iter() {
			Self::mark_for_update(&who);
		}
		Self::deposit_event(Event::ConfigUpdated { config });
		Ok(())
	}

	/// Stores a ledger, or removes it when nothing is left in it; marks the operator for
	/// re-evaluation.
	pub(crate) fn store_ledger(who: &T::AccountId, ledger: crate::LedgerOf<T>) {
		if ledger.is_empty() {
			Ledgers::<T>::remove(who);
		} else {
			Ledgers::<T>::insert(who, ledger);
		}
		Self::mark_for_update(who);
	}

	/// The smallest active bond allowed: the ALL threshold.
	pub(crate) fn minimum_bond() -> BalanceOf<T> {
		Configuration::<T>::get().thresholds.all
	}

	/// Genesis: an approved operator bonded with `bond`, in its tier at once.
	pub fn genesis_operator(who: &T::AccountId, name: &[u8], bond: BalanceOf<T>) -> DispatchResult {
		ensure!(!Operators::<T>::contains_key(who), Error::<T>::AlreadyApplied);
		ensure!(OperatorCount::<T>::get() < T::MaxOperators::get(), Error::<T>::TooManyOperators);
		ensure!(T::Currency::balance(who) > bond, Error::<T>::InsufficientBalance);
		ensure!(!name.is_empty(), Error::<T>::EmptyDisplayName);
		let metadata = MetadataOf::<T> {
			display_name: name.to_vec().try_into().map_err(|_| Error::<T>::DisplayNameTooLong)?,
			contact: Default::default(),
			region: Default::default(),
			hardware: HardwareClass::Cpu,
		};
		Operators::<T>::insert(
			who,
			OperatorRecord {
				metadata,
				state: OperatorState::Approved,
				deposit: Zero::zero(),
				applied_at: Zero::zero(),
			},
		);
		OperatorCount::<T>::mutate(|n| *n += 1);
		Self::do_bond(who.clone(), bond)?;
		Self::unmark_for_update(who);
		let tier = Configuration::<T>::get().tier_for(bond);
		Self::set_effective_tier(who, tier);
		Ok(())
	}
}
