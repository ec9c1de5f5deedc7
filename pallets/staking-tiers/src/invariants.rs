//! Invariants, checked by `try-runtime` and after every unit test.

use crate::{
	ApplicationCount, Config, Configuration, EffectiveTiers, HoldReason, Ledgers, OperatorCount,
	OperatorState, Operators, Pallet, PendingSlashCount, PendingSlashes, PendingTierUpdates,
	SlashQueue, SlashesAgainst, TierMembers,
};
use frame_support::{
	ensure,
	traits::{fungible::hold::Inspect as HoldInspect, Get},
};
use noderr_primitives::Tier;
use sp_runtime::{traits::Zero, TryRuntimeError};

impl<T: Config> Pallet<T> {
	/// Checks every invariant of the pallet's storage:
	/// - held `Bonded` balance equals active plus unbonding stake for every operator;
	/// - held `ApplicationDeposit` equals the recorded deposit, which only pending applicants
	///   have;
	/// - every ledger belongs to an approved or suspended operator, and is non-empty with an
	///   active bond of zero or at least the minimum;
	/// - the tier in force agrees with the member lists, is never held by a suspended operator,
	///   and equals the qualifying tier for every operator not queued for re-evaluation;
	/// - operators and pending applications are counted apart, each within its own bound;
	/// - the counters match their maps and pending slashes are queued where they say.
	pub fn do_try_state() -> Result<(), TryRuntimeError> {
		let config = Configuration::<T>::get();
		ensure!(config.is_valid(), "configuration is invalid");
		let bonded = HoldReason::Bonded.into();
		let deposit = HoldReason::ApplicationDeposit.into();

		let (mut operators, mut applications) = (0u32, 0u32);
		for (who, record) in Operators::<T>::iter() {
			if record.state == OperatorState::Pending {
				applications += 1;
			} else {
				operators += 1;
			}
			ensure!(
				T::Currency::balance_on_hold(&deposit, &who) == record.deposit,
				"application deposit hold differs from the record"
			);
			ensure!(
				record.state == OperatorState::Pending || record.deposit.is_zero(),
				"a decided application still holds a deposit"
			);
			let held = T::Currency::balance_on_hold(&bonded, &who);
			match Ledgers::<T>::get(&who) {
				Some(ledger) => {
					ensure!(
						record.state != OperatorState::Pending,
						"a pending applicant is bonded"
					);
					ensure!(held == ledger.total(), "bond hold differs from active + unbonding");
					ensure!(!ledger.is_empty(), "an empty ledger is stored");
				}
				None => ensure!(held.is_zero(), "funds held without a ledger"),
			}
			if record.state != OperatorState::Approved {
				ensure!(
					EffectiveTiers::<T>::get(&who).is_none(),
					"a pending or suspended operator has a tier"
				);
			}
		}
		ensure!(operators == OperatorCount::<T>::get(), "OperatorCount is wrong");
		ensure!(applications == ApplicationCount::<T>::get(), "ApplicationCount is wrong");
		ensure!(operators <= T::MaxOperators::get(), "more operators than MaxOperators");
		ensure!(
			applications <= T::MaxApplications::get(),
			"more applications than MaxApplications"
		);
		for (who, _) in Ledgers::<T>::iter() {
			ensure!(Operators::<T>::contains_key(&who), "a ledger without an operator");
		}

		let pending_count = PendingTierUpdates::<T>::iter_keys().count() as u32;
		ensure!(
			pending_count == PendingTierUpdates::<T>::count(),
			"pending update counter is wrong"
		);
		ensure!(pending_count <= T::MaxOperators::get(), "more pending updates than MaxOperators");
		for who in PendingTierUpdates::<T>::iter_keys() {
			ensure!(Operators::<T>::contains_key(&who), "a non-operator is queued for an update");
		}
		let mut in_lists = 0usize;
		for tier in Tier::ALL {
			for who in TierMembers::<T>::iter_key_prefix(tier) {
				ensure!(
					EffectiveTiers::<T>::get(&who) == Some(tier),
					"member list and tier disagree"
				);
				in_lists += 1;
			}
		}
		let mut with_tier = 0usize;
		for (who, tier) in EffectiveTiers::<T>::iter() {
			with_tier += 1;
			// Operators queued for the next epoch may differ until then; nobody else may.
			if !PendingTierUpdates::<T>::contains_key(&who) {
				ensure!(
					Self::qualifying_tier(&who) == Some(tier),
					"tier in force differs from the qualifying tier outside an epoch change"
				);
			}
		}
		ensure!(with_tier == in_lists, "tiers and member lists differ in size");

		let mut slashes = 0u32;
		for (id, slash) in PendingSlashes::<T>::iter() {
			slashes += 1;
			ensure!(SlashQueue::<T>::get(slash.apply_at).contains(&id), "pending slash not queued");
			ensure!(SlashesAgainst::<T>::get(&slash.who) > 0, "SlashesAgainst is missing a slash");
		}
		ensure!(slashes == PendingSlashCount::<T>::get(), "PendingSlashCount is wrong");
		let counted: u32 = SlashesAgainst::<T>::iter().map(|(_, n)| n).sum();
		ensure!(counted == slashes, "SlashesAgainst does not add up");
		Ok(())
	}
}
