//! FRAME benchmarks, each at its worst case within the pallet's bounds.

use super::*;
use crate::Pallet as StakingTiers;
use alloc::{vec, vec::Vec};
use frame_benchmarking::v2::*;
use frame_support::{
	traits::{fungible::Mutate, EnsureOrigin, Get},
	BoundedVec,
};
use frame_system::RawOrigin;
use noderr_primitives::{Slash, Tier};
use sp_runtime::{traits::Bounded, Perbill, Saturating};

fn funded<T: Config>(name: &'static str, index: u32) -> T::AccountId {
	let who: T::AccountId = account(name, index, 0);
	let amount = BalanceOf::<T>::max_value() / 1_000_000u32.into();
	T::Currency::set_balance(&who, amount);
	who
}

fn text<S: Get<u32>>() -> BoundedVec<u8, S> {
	BoundedVec::truncate_from(vec![b'x'; S::get() as usize])
}

fn applicant<T: Config>(index: u32) -> T::AccountId {
	let who = funded::<T>("operator", index);
	StakingTiers::<T>::do_apply(
		who.clone(),
		text::<T::MaxNameLength>(),
		text::<T::MaxContactLength>(),
		text::<T::MaxRegionLength>(),
		HardwareClass::MultiGpu,
	)
	.expect("applicant");
	who
}

fn approved<T: Config>(index: u32) -> T::AccountId {
	let who = applicant::<T>(index);
	StakingTiers::<T>::do_approve(who.clone()).expect("approve");
	who
}

fn bonded<T: Config>(index: u32, tier: Tier) -> T::AccountId {
	let who = approved::<T>(index);
	let bond = Configuration::<T>::get().thresholds.get(tier);
	StakingTiers::<T>::do_bond(who.clone(), bond).expect("bond");
	who
}

/// Fills the tier member lists so that list updates shift as much as they can.
fn fill_tier<T: Config>(count: u32, tier: Tier) {
	for i in 0..count {
		let who = bonded::<T>(1_000 + i, tier);
		StakingTiers::<T>::unmark_for_update(&who);
		StakingTiers::<T>::set_effective_tier(&who, Some(tier));
	}
}

/// Unbonds 1 unit `count` times, each in its own block, so that each makes its own chunk.
fn unbond_in_separate_blocks<T: Config>(who: &T::AccountId, count: u32) {
	for _ in 0..count {
		StakingTiers::<T>::do_unbond(who.clone(), 1u32.into()).expect("unbond");
		frame_system::Pallet::<T>::set_block_number(
			frame_system::Pallet::<T>::block_number().saturating_add(1u32.into()),
		);
	}
}

fn governance<T: Config>() -> Result<T::RuntimeOrigin, BenchmarkError> {
	T::GovernanceOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)
}

/// Places left under `MaxOperators`, less the two a benchmark adds itself.
fn room<T: Config>() -> u32 {
	T::MaxOperators::get().saturating_sub(OperatorCount::<T>::get()).saturating_sub(2)
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn apply() {
		let who = funded::<T>("applicant", 0);
		#[extrinsic_call]
		_(
			RawOrigin::Signed(who.clone()),
			text::<T::MaxNameLength>(),
			text::<T::MaxContactLength>(),
			text::<T::MaxRegionLength>(),
			HardwareClass::MultiGpu,
		);
		assert!(Operators::<T>::contains_key(&who));
	}

	#[benchmark]
	fn approve() -> Result<(), BenchmarkError> {
		let who = applicant::<T>(0);
		let origin = governance::<T>()?;
		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, who.clone());
		assert_eq!(Operators::<T>::get(&who).unwrap().state, OperatorState::Approved);
		Ok(())
	}

	#[benchmark]
	/// The worst case: the deposit forfeited, so it moves to the treasury.
	fn reject() -> Result<(), BenchmarkError> {
		let who = applicant::<T>(0);
		let origin = governance::<T>()?;
		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, who.clone(), text::<T::MaxReasonLength>(), true);
		assert!(!Operators::<T>::contains_key(&who));
		Ok(())
	}

	#[benchmark]
	fn evict() -> Result<(), BenchmarkError> {
		let who = approved::<T>(0);
		let origin = governance::<T>()?;
		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, who.clone(), text::<T::MaxReasonLength>());
		assert!(!Operators::<T>::contains_key(&who));
		Ok(())
	}

	#[benchmark]
	fn withdraw_application() {
		let who = applicant::<T>(0);
		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()));
		assert!(!Operators::<T>::contains_key(&who));
	}

	#[benchmark]
	fn suspend() -> Result<(), BenchmarkError> {
		fill_tier::<T>(room::<T>(), Tier::Guardian);
		let who = bonded::<T>(0, Tier::Guardian);
		StakingTiers::<T>::set_effective_tier(&who, Some(Tier::Guardian));
		let origin = governance::<T>()?;
		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, who.clone(), text::<T::MaxReasonLength>());
		assert_eq!(EffectiveTiers::<T>::get(&who), None);
		Ok(())
	}

	#[benchmark]
	fn reinstate() -> Result<(), BenchmarkError> {
		fill_tier::<T>(room::<T>(), Tier::Guardian);
		let who = bonded::<T>(0, Tier::Guardian);
		StakingTiers::<T>::do_suspend(who.clone(), Default::default()).expect("suspend");
		let origin = governance::<T>()?;
		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, who.clone());
		assert_eq!(Operators::<T>::get(&who).unwrap().state, OperatorState::Approved);
		Ok(())
	}

	#[benchmark]
	fn bond() {
		fill_tier::<T>(room::<T>(), Tier::All);
		let who = approved::<T>(0);
		let value = Configuration::<T>::get().thresholds.guardian;
		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), value);
		assert_eq!(Ledgers::<T>::get(&who).unwrap().active, value);
	}

	#[benchmark]
	fn bond_extra() {
		fill_tier::<T>(room::<T>(), Tier::All);
		let who = bonded::<T>(0, Tier::All);
		let value = Configuration::<T>::get().thresholds.guardian;
		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), value);
		assert!(Ledgers::<T>::get(&who).unwrap().active > value);
	}

	#[benchmark]
	fn unbond() {
		fill_tier::<T>(room::<T>(), Tier::All);
		let who = bonded::<T>(0, Tier::Guardian);
		let config = Configuration::<T>::get();
		// All chunks but one taken, each in its own block.
		unbond_in_separate_blocks::<T>(&who, T::MaxUnlockingChunks::get() - 1);
		let value = config.thresholds.guardian.saturating_sub(config.thresholds.oracle);
		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), value);
		assert_eq!(
			Ledgers::<T>::get(&who).unwrap().unlocking.len() as u32,
			T::MaxUnlockingChunks::get()
		);
	}

	#[benchmark]
	fn withdraw_unbonded() {
		fill_tier::<T>(room::<T>(), Tier::All);
		let who = bonded::<T>(0, Tier::Guardian);
		unbond_in_separate_blocks::<T>(&who, T::MaxUnlockingChunks::get());
		let later = frame_system::Pallet::<T>::block_number()
			.saturating_add(Configuration::<T>::get().unbonding_period);
		frame_system::Pallet::<T>::set_block_number(later);
		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()));
		assert!(Ledgers::<T>::get(&who).unwrap().unlocking.is_empty());
	}

	#[benchmark]
	fn rebond() {
		fill_tier::<T>(room::<T>(), Tier::All);
		let who = bonded::<T>(0, Tier::Guardian);
		unbond_in_separate_blocks::<T>(&who, T::MaxUnlockingChunks::get());
		let all: BalanceOf<T> = T::MaxUnlockingChunks::get().into();
		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), all);
		assert!(Ledgers::<T>::get(&who).unwrap().unlocking.is_empty());
	}

	#[benchmark]
	/// At its maximum: every place under `MaxOperators` taken by a bonded operator, each of
	/// which is queued for re-evaluation.
	fn set_config() -> Result<(), BenchmarkError> {
		fill_tier::<T>(
			T::MaxOperators::get().saturating_sub(OperatorCount::<T>::get()),
			Tier::Oracle,
		);
		let mut config = Configuration::<T>::get();
		config.epoch_length = config.epoch_length.saturating_add(1u32.into());
		let origin = governance::<T>()?;
		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, config);
		assert_eq!(Configuration::<T>::get(), config);
		Ok(())
	}

	#[benchmark]
	fn cancel_slash() -> Result<(), BenchmarkError> {
		let who = bonded::<T>(0, Tier::Guardian);
		let slots = T::MaxSlashesPerBlock::get().min(T::MaxPendingSlashes::get());
		let mut last = 0;
		for _ in 0..slots {
			last = StakingTiers::<T>::schedule_slash(
				&who,
				Perbill::from_percent(1),
				Vec::new(),
				Perbill::zero(),
			)
			.map_err(|_| BenchmarkError::Weightless)?;
		}
		let origin = governance::<T>()?;
		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, last);
		assert!(!PendingSlashes::<T>::contains_key(last));
		Ok(())
	}

	#[benchmark]
	/// Every re-evaluated operator moves from one tier to another (ALL to ORACLE): a removal
	/// from one member list and an insertion into another, the most a re-evaluation does.
	fn start_epoch(n: Linear<0, { T::MaxOperators::get().saturating_sub(1) }>) {
		// Genesis operators take some of the room on a real chain.
		let n = n.min(T::MaxOperators::get().saturating_sub(OperatorCount::<T>::get()));
		let before = PendingTierUpdates::<T>::count();
		for i in 0..n {
			let who = bonded::<T>(2_000 + i, Tier::Oracle);
			StakingTiers::<T>::set_effective_tier(&who, Some(Tier::All));
		}
		assert_eq!(PendingTierUpdates::<T>::count(), before + n);
		let now = frame_system::Pallet::<T>::block_number();
		#[block]
		{
			StakingTiers::<T>::start_epoch(now);
		}
		assert_eq!(PendingTierUpdates::<T>::count(), 0);
		assert!(TierMembers::<T>::iter_key_prefix(Tier::Oracle).count() as u32 >= n);
	}

	/// The worst case: every unbonding chunk in use, every reporter paid. (Measured over the number
	/// of chunks, the slope was within noise of zero.)
	#[benchmark]
	fn apply_slash() -> Result<(), BenchmarkError> {
		fill_tier::<T>(room::<T>(), Tier::Guardian);
		let who = bonded::<T>(0, Tier::Guardian);
		StakingTiers::<T>::unmark_for_update(&who);
		StakingTiers::<T>::set_effective_tier(&who, Some(Tier::Guardian));
		unbond_in_separate_blocks::<T>(&who, T::MaxUnlockingChunks::get());
		let reporters: Vec<T::AccountId> =
			(0..T::MaxReporters::get()).map(|i| funded::<T>("reporter", i)).collect();
		let id = StakingTiers::<T>::schedule_slash(
			&who,
			Perbill::one(),
			reporters,
			Perbill::from_percent(10),
		)
		.map_err(|_| BenchmarkError::Weightless)?;
		let apply_at = PendingSlashes::<T>::get(id).unwrap().apply_at;
		#[block]
		{
			StakingTiers::<T>::apply_due_slashes(apply_at);
		}
		assert!(Ledgers::<T>::get(&who).is_none());
		Ok(())
	}

	impl_benchmark_test_suite!(StakingTiers, crate::mock::new_test_ext(), crate::mock::Test);
}
