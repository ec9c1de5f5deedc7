//! Unit tests: every call's success and failure paths, thresholds, epochs, unbonding timing
//! and slashing. Every test ends with the pallet's invariants checked (`run_test`).

use crate::{
	mock::*, Configuration, EffectiveTiers, Error, Event, HardwareClass, HoldReason, Ledgers,
	NextEpochAt, OperatorCount, OperatorState, Operators, PendingSlashCount, PendingSlashes,
	PerTier, SlashQueue, TierConfig, TierMembers, UnlockChunk,
};
use codec::{Decode, Encode};
use frame_support::{
	assert_noop, assert_ok,
	traits::{
		fungible::{hold::Inspect as HoldInspect, Inspect},
		Get,
	},
	BoundedVec,
};
use noderr_primitives::{Slash, Tier, TierProvider};
use sp_runtime::{DispatchError, Perbill};

/// `bytes` as a bounded text of whatever bound the call takes.
fn text<S: Get<u32>>(bytes: &[u8]) -> BoundedVec<u8, S> {
	bytes.to_vec().try_into().expect("within the bound")
}

fn apply(who: u64) -> sp_runtime::DispatchResult {
	StakingTiers::apply(
		RuntimeOrigin::signed(who),
		text(b"node"),
		text(b"ops@example.org"),
		text(b"eu-west"),
		HardwareClass::SingleGpu,
	)
}

fn approved(who: u64) {
	assert_ok!(apply(who));
	assert_ok!(StakingTiers::approve(RuntimeOrigin::root(), who));
}

fn bonded(who: u64, value: Balance) {
	approved(who);
	assert_ok!(StakingTiers::bond(RuntimeOrigin::signed(who), value));
}

fn held(who: u64) -> Balance {
	Balances::balance_on_hold(&HoldReason::Bonded.into(), &who)
}

fn tier(who: u64) -> Option<Tier> {
	<StakingTiers as TierProvider<u64, Balance>>::tier(&who)
}

fn state(who: u64) -> Option<OperatorState> {
	Operators::<Test>::get(who).map(|r| r.state)
}

fn chunks(who: u64) -> Vec<(Balance, u64)> {
	Ledgers::<Test>::get(who)
		.map(|l| l.unlocking.iter().map(|c| (c.value, c.unlock_at)).collect())
		.unwrap_or_default()
}

fn active(who: u64) -> Balance {
	Ledgers::<Test>::get(who).map(|l| l.active).unwrap_or(0)
}

/// The first epoch boundary after genesis is block `EPOCH`.
fn next_epoch() {
	let next = crate::NextEpochAt::<Test>::get();
	run_to_block(next);
}

// ---- onboarding ----

#[test]
fn apply_holds_deposit_and_records_pending_application() {
	run_test(|| {
		assert_ok!(apply(1));
		System::assert_last_event(Event::Applied { who: 1, deposit: DEPOSIT }.into());
		let record = Operators::<Test>::get(1).unwrap();
		assert_eq!(record.state, OperatorState::Pending);
		assert_eq!(record.metadata.display_name.to_vec(), b"node".to_vec());
		assert_eq!(record.metadata.hardware, HardwareClass::SingleGpu);
		assert_eq!(record.applied_at, 1);
		assert_eq!(Balances::balance_on_hold(&HoldReason::ApplicationDeposit.into(), &1), DEPOSIT);
		assert_eq!(crate::ApplicationCount::<Test>::get(), 1);
		assert_eq!(OperatorCount::<Test>::get(), 0, "an application is not an operator");
	});
}

#[test]
fn apply_rejects_bad_input() {
	run_test(|| {
		let ok = |n: usize| -> Vec<u8> { vec![b'a'; n] };
		let call = |who, name: Vec<u8>, contact: Vec<u8>, region: Vec<u8>| {
			StakingTiers::apply(
				RuntimeOrigin::signed(who),
				name.try_into().unwrap(),
				contact.try_into().unwrap(),
				region.try_into().unwrap(),
				HardwareClass::Cpu,
			)
		};
		assert_noop!(
			StakingTiers::apply(
				RuntimeOrigin::none(),
				text(b"a"),
				text(b"a"),
				text(b"a"),
				HardwareClass::Cpu
			),
			DispatchError::BadOrigin
		);
		assert_noop!(call(1, ok(0), ok(1), ok(1)), Error::<Test>::EmptyDisplayName);
		// Account 40 has no funds for the deposit.
		assert_noop!(call(40, ok(16), ok(32), ok(8)), Error::<Test>::InsufficientBalance);
		assert_ok!(call(1, ok(16), ok(32), ok(8)));
		assert_noop!(apply(1), Error::<Test>::AlreadyApplied);
	});
}

/// Texts over their bound do not even decode, so an oversized call never reaches a block.
#[test]
fn oversized_texts_do_not_decode() {
	let apply = |name: usize, contact: usize, region: usize| {
		let mut bytes = vec![0u8]; // call index of `apply`
		vec![b'a'; name].encode_to(&mut bytes);
		vec![b'a'; contact].encode_to(&mut bytes);
		vec![b'a'; region].encode_to(&mut bytes);
		HardwareClass::Cpu.encode_to(&mut bytes);
		crate::Call::<Test>::decode(&mut &bytes[..]).is_ok()
	};
	assert!(apply(16, 32, 8));
	assert!(!apply(17, 32, 8));
	assert!(!apply(16, 33, 8));
	assert!(!apply(16, 32, 9));
	assert!(!apply(3_750_000, 0, 0));
	let with_reason = |index: u8, len: usize| {
		let mut bytes = vec![index];
		2u64.encode_to(&mut bytes);
		vec![b'r'; len].encode_to(&mut bytes);
		if index == 2 {
			false.encode_to(&mut bytes); // `reject`'s `forfeit`
		}
		crate::Call::<Test>::decode(&mut &bytes[..]).is_ok()
	};
	for index in [2u8, 4, 13] {
		assert!(with_reason(index, 32), "call {index} at its bound");
		assert!(!with_reason(index, 33), "call {index} over its bound");
	}
}

#[test]
fn applications_have_their_own_bound() {
	run_test(|| {
		for who in 1..=8 {
			assert_ok!(apply(who));
		}
		assert_noop!(apply(9), Error::<Test>::TooManyApplications);
		assert_eq!(crate::ApplicationCount::<Test>::get(), 8);
		assert_eq!(OperatorCount::<Test>::get(), 0);
		// Deciding one makes room for the next.
		assert_ok!(StakingTiers::approve(RuntimeOrigin::root(), 1));
		assert_ok!(apply(9));
	});
}

#[test]
fn approve_returns_deposit_and_allows_bonding() {
	run_test(|| {
		assert_ok!(apply(1));
		assert_ok!(StakingTiers::approve(RuntimeOrigin::root(), 1));
		System::assert_last_event(Event::ApplicationApproved { who: 1 }.into());
		assert_eq!(state(1), Some(OperatorState::Approved));
		assert_eq!(Balances::balance_on_hold(&HoldReason::ApplicationDeposit.into(), &1), 0);
		assert_eq!(Balances::balance(&1), ENDOWMENT);
	});
}

#[test]
fn approve_rejects_bad_input() {
	run_test(|| {
		assert_ok!(apply(1));
		assert_noop!(StakingTiers::approve(RuntimeOrigin::signed(1), 1), DispatchError::BadOrigin);
		assert_noop!(StakingTiers::approve(RuntimeOrigin::root(), 2), Error::<Test>::NotOperator);
		assert_ok!(StakingTiers::approve(RuntimeOrigin::root(), 1));
		assert_noop!(StakingTiers::approve(RuntimeOrigin::root(), 1), Error::<Test>::NotPending);
	});
}

#[test]
fn reject_removes_application_and_returns_deposit() {
	run_test(|| {
		assert_ok!(apply(1));
		assert_ok!(StakingTiers::reject(RuntimeOrigin::root(), 1, text(b"no GPU"), false));
		System::assert_last_event(
			Event::ApplicationRejected { who: 1, reason: text(b"no GPU"), forfeited: 0 }.into(),
		);
		assert_eq!(state(1), None);
		assert_eq!(OperatorCount::<Test>::get(), 0);
		assert_eq!(Balances::balance(&1), ENDOWMENT);
		// Rejected applicants may apply again.
		assert_ok!(apply(1));
	});
}

#[test]
fn reject_rejects_bad_input() {
	run_test(|| {
		approved(1);
		assert_ok!(apply(2));
		assert_noop!(
			StakingTiers::reject(RuntimeOrigin::signed(2), 2, text(b""), false),
			DispatchError::BadOrigin
		);
		assert_noop!(
			StakingTiers::reject(RuntimeOrigin::root(), 3, text(b""), false),
			Error::<Test>::NotOperator
		);
		assert_noop!(
			StakingTiers::reject(RuntimeOrigin::root(), 1, text(b""), false),
			Error::<Test>::NotPending
		);
	});
}

#[test]
fn a_spam_application_forfeits_its_deposit_to_the_treasury() {
	run_test(|| {
		let issuance = Balances::total_issuance();
		let treasury = Balances::balance(&TREASURY);
		assert_ok!(apply(1));
		assert_ok!(StakingTiers::reject(RuntimeOrigin::root(), 1, text(b"spam"), true));
		System::assert_last_event(
			Event::ApplicationRejected { who: 1, reason: text(b"spam"), forfeited: DEPOSIT }.into(),
		);
		assert_eq!(state(1), None);
		assert_eq!(crate::ApplicationCount::<Test>::get(), 0);
		assert_eq!(Balances::balance(&1), ENDOWMENT - DEPOSIT);
		assert_eq!(Balances::balance(&TREASURY), treasury + DEPOSIT);
		assert_eq!(Balances::total_issuance(), issuance, "money is conserved");
	});
}

/// More applications than their bound cannot stop governance from approving and bonding
/// operators, and spam costs its senders their deposits.
#[test]
fn spam_applications_cannot_crowd_operators_out() {
	run_test(|| {
		let issuance = Balances::total_issuance();
		// An honest applicant gets in first, then spammers (accounts 2..=20) flood.
		assert_ok!(apply(1));
		let mut refused = 0;
		for spammer in 2..=20 {
			match apply(spammer) {
				Ok(()) => {}
				Err(e) => {
					assert_eq!(e, Error::<Test>::TooManyApplications.into());
					refused += 1;
				}
			}
		}
		assert_eq!(refused, 20 - 1 - 7, "only `MaxApplications` are pending");
		// The honest one is approved and bonds although the application queue is full.
		assert_ok!(StakingTiers::approve(RuntimeOrigin::root(), 1));
		assert_ok!(StakingTiers::bond(RuntimeOrigin::signed(1), 1_000));
		// Governance clears the spam, which pays for it.
		for spammer in 2..=8 {
			assert_ok!(StakingTiers::reject(RuntimeOrigin::root(), spammer, text(b"spam"), true));
		}
		assert_eq!(Balances::balance(&TREASURY), 1 + 7 * DEPOSIT);
		assert_ok!(apply(9));
		assert_eq!(Balances::total_issuance(), issuance, "money is conserved");
	});
}

#[test]
fn governance_evicts_operators_that_never_bond() {
	run_test(|| {
		// `MaxOperators` (16) approved operators, none bonded: nobody else can be approved.
		for who in 1..=16 {
			approved(who);
		}
		assert_ok!(apply(17));
		assert_noop!(
			StakingTiers::approve(RuntimeOrigin::root(), 17),
			Error::<Test>::TooManyOperators
		);
		assert_ok!(StakingTiers::evict(RuntimeOrigin::root(), 3, text(b"never bonded")));
		System::assert_last_event(
			Event::OperatorEvicted { who: 3, reason: text(b"never bonded") }.into(),
		);
		assert_eq!(state(3), None);
		assert_eq!(OperatorCount::<Test>::get(), 15);
		assert_ok!(StakingTiers::approve(RuntimeOrigin::root(), 17));
		assert_eq!(OperatorCount::<Test>::get(), 16);
	});
}

#[test]
fn evict_rejects_bad_input() {
	run_test(|| {
		bonded(1, 1_000);
		assert_ok!(apply(2));
		approved(3);
		assert_noop!(
			StakingTiers::evict(RuntimeOrigin::signed(3), 3, text(b"")),
			DispatchError::BadOrigin
		);
		assert_noop!(
			StakingTiers::evict(RuntimeOrigin::root(), 4, text(b"")),
			Error::<Test>::NotOperator
		);
		assert_noop!(
			StakingTiers::evict(RuntimeOrigin::root(), 2, text(b"")),
			Error::<Test>::NotApproved
		);
		assert_noop!(
			StakingTiers::evict(RuntimeOrigin::root(), 1, text(b"")),
			Error::<Test>::StillBonded
		);
		// Unbonding stake still counts as stake.
		assert_ok!(StakingTiers::unbond(RuntimeOrigin::signed(1), 1_000));
		assert_noop!(
			StakingTiers::evict(RuntimeOrigin::root(), 1, text(b"")),
			Error::<Test>::StillBonded
		);
		// A suspended operator without stake can be evicted.
		assert_ok!(StakingTiers::suspend(RuntimeOrigin::root(), 3, text(b"")));
		assert_ok!(StakingTiers::evict(RuntimeOrigin::root(), 3, text(b"")));
	});
}

#[test]
fn withdraw_application_while_pending_or_unbonded() {
	run_test(|| {
		assert_ok!(apply(1));
		assert_ok!(StakingTiers::withdraw_application(RuntimeOrigin::signed(1)));
		System::assert_last_event(Event::ApplicationWithdrawn { who: 1 }.into());
		assert_eq!(state(1), None);
		assert_eq!(Balances::balance(&1), ENDOWMENT);

		approved(2);
		assert_ok!(StakingTiers::withdraw_application(RuntimeOrigin::signed(2)));
		assert_eq!(state(2), None);
		assert_eq!(OperatorCount::<Test>::get(), 0);
	});
}

#[test]
fn an_operator_that_leaves_before_the_epoch_boundary_keeps_no_tier() {
	run_test(|| {
		// Unbonding shorter than the epoch (valid: it still covers the slash defer period).
		let mut config = Configuration::<Test>::get();
		config.epoch_length = 50;
		config.unbonding_period = DEFER;
		assert_ok!(StakingTiers::set_config(RuntimeOrigin::root(), config));
		bonded(1, 1_000);
		next_epoch();
		assert_eq!(tier(1), Some(Tier::All));
		// Unbond everything, withdraw it and leave, all before the next epoch boundary.
		let start = System::block_number();
		assert_ok!(StakingTiers::unbond(RuntimeOrigin::signed(1), 1_000));
		run_to_block(start + DEFER);
		assert_ok!(StakingTiers::withdraw_unbonded(RuntimeOrigin::signed(1)));
		assert!(NextEpochAt::<Test>::get() > System::block_number(), "still inside the epoch");
		assert_eq!(tier(1), Some(Tier::All), "the tier waits for the epoch while an operator");
		assert_ok!(StakingTiers::withdraw_application(RuntimeOrigin::signed(1)));
		System::assert_has_event(
			Event::TierChanged { who: 1, from: Some(Tier::All), to: None }.into(),
		);
		assert_eq!(tier(1), None, "a non-operator holds no tier");
		assert!(!TierMembers::<Test>::contains_key(Tier::All, 1));
		assert_eq!(held(1), 0);
		assert_eq!(Balances::balance(&1), ENDOWMENT, "every unit returned");
		next_epoch();
		assert_eq!(tier(1), None);
	});
}

#[test]
fn withdraw_application_rejects_bad_input() {
	run_test(|| {
		assert_noop!(
			StakingTiers::withdraw_application(RuntimeOrigin::signed(1)),
			Error::<Test>::NotOperator
		);
		bonded(2, 1_000);
		assert_noop!(
			StakingTiers::withdraw_application(RuntimeOrigin::signed(2)),
			Error::<Test>::StillBonded
		);
	});
}

#[test]
fn suspend_removes_tier_at_once_and_blocks_new_stake() {
	run_test(|| {
		bonded(1, 5_000);
		next_epoch();
		assert_eq!(tier(1), Some(Tier::Oracle));
		assert_ok!(StakingTiers::suspend(RuntimeOrigin::root(), 1, text(b"late results")));
		System::assert_has_event(
			Event::TierChanged { who: 1, from: Some(Tier::Oracle), to: None }.into(),
		);
		System::assert_last_event(
			Event::OperatorSuspended { who: 1, reason: text(b"late results") }.into(),
		);
		assert_eq!(tier(1), None);
		assert!(<StakingTiers as TierProvider<u64, Balance>>::operators(Tier::All).is_empty());
		assert_noop!(
			StakingTiers::bond_extra(RuntimeOrigin::signed(1), 10),
			Error::<Test>::OperatorSuspended
		);
		// A suspended operator may still leave.
		assert_ok!(StakingTiers::unbond(RuntimeOrigin::signed(1), 1_000));
		assert_noop!(
			StakingTiers::rebond(RuntimeOrigin::signed(1), 10),
			Error::<Test>::OperatorSuspended
		);
		// Still no tier after the next boundary.
		next_epoch();
		assert_eq!(tier(1), None);
	});
}

#[test]
fn suspended_operator_cannot_bond() {
	run_test(|| {
		approved(1);
		assert_ok!(StakingTiers::suspend(RuntimeOrigin::root(), 1, text(b"")));
		assert_noop!(
			StakingTiers::bond(RuntimeOrigin::signed(1), 1_000),
			Error::<Test>::OperatorSuspended
		);
	});
}

#[test]
fn suspend_and_reinstate_reject_bad_input() {
	run_test(|| {
		assert_ok!(apply(1));
		approved(2);
		assert_noop!(
			StakingTiers::suspend(RuntimeOrigin::signed(2), 2, text(b"")),
			DispatchError::BadOrigin
		);
		assert_noop!(
			StakingTiers::suspend(RuntimeOrigin::root(), 3, text(b"")),
			Error::<Test>::NotOperator
		);
		assert_noop!(
			StakingTiers::suspend(RuntimeOrigin::root(), 1, text(b"")),
			Error::<Test>::NotApproved
		);
		assert_noop!(
			StakingTiers::reinstate(RuntimeOrigin::root(), 2),
			Error::<Test>::NotSuspended
		);
		assert_ok!(StakingTiers::suspend(RuntimeOrigin::root(), 2, text(b"")));
		assert_noop!(
			StakingTiers::suspend(RuntimeOrigin::root(), 2, text(b"")),
			Error::<Test>::OperatorSuspended
		);
		assert_noop!(
			StakingTiers::reinstate(RuntimeOrigin::signed(2), 2),
			DispatchError::BadOrigin
		);
		assert_noop!(StakingTiers::reinstate(RuntimeOrigin::root(), 3), Error::<Test>::NotOperator);
	});
}

#[test]
fn reinstated_operator_gets_its_tier_back_at_the_next_epoch() {
	run_test(|| {
		bonded(1, 10_000);
		next_epoch();
		assert_ok!(StakingTiers::suspend(RuntimeOrigin::root(), 1, text(b"")));
		assert_ok!(StakingTiers::reinstate(RuntimeOrigin::root(), 1));
		System::assert_last_event(Event::OperatorReinstated { who: 1 }.into());
		assert_eq!(tier(1), None);
		next_epoch();
		assert_eq!(tier(1), Some(Tier::Guardian));
	});
}

// ---- bonding and thresholds ----

#[test]
fn bond_holds_funds_and_records_the_ledger() {
	run_test(|| {
		approved(1);
		assert_ok!(StakingTiers::bond(RuntimeOrigin::signed(1), 1_000));
		System::assert_last_event(Event::Bonded { who: 1, amount: 1_000 }.into());
		assert_eq!(held(1), 1_000);
		assert_eq!(active(1), 1_000);
		assert_eq!(Balances::balance(&1), ENDOWMENT - 1_000);
	});
}

#[test]
fn bond_rejects_bad_input() {
	run_test(|| {
		assert_noop!(
			StakingTiers::bond(RuntimeOrigin::signed(1), 1_000),
			Error::<Test>::NotOperator
		);
		assert_ok!(apply(1));
		assert_noop!(
			StakingTiers::bond(RuntimeOrigin::signed(1), 1_000),
			Error::<Test>::NotApproved
		);
		assert_ok!(StakingTiers::approve(RuntimeOrigin::root(), 1));
		assert_noop!(
			StakingTiers::bond(RuntimeOrigin::signed(1), 999),
			Error::<Test>::BelowMinimumBond
		);
		assert_noop!(
			StakingTiers::bond(RuntimeOrigin::signed(1), ENDOWMENT + 1),
			Error::<Test>::InsufficientBalance
		);
		assert_ok!(StakingTiers::bond(RuntimeOrigin::signed(1), 1_000));
		assert_noop!(
			StakingTiers::bond(RuntimeOrigin::signed(1), 1_000),
			Error::<Test>::AlreadyBonded
		);
	});
}

#[test]
fn bond_of_the_whole_free_balance_is_refused() {
	run_test(|| {
		// Account 30 has 500: it can pay the deposit but not a bond of 1,000.
		approved(30);
		assert_noop!(
			StakingTiers::bond(RuntimeOrigin::signed(30), 1_000),
			Error::<Test>::InsufficientBalance
		);
	});
}

#[test]
fn stakes_at_and_just_under_each_threshold() {
	let cases: [(Balance, Option<Tier>); 5] = [
		(1_000, Some(Tier::All)),
		(4_999, Some(Tier::All)),
		(5_000, Some(Tier::Oracle)),
		(9_999, Some(Tier::Oracle)),
		(10_000, Some(Tier::Guardian)),
	];
	run_test(|| {
		for (i, (stake, _)) in cases.iter().enumerate() {
			bonded(i as u64 + 1, *stake);
		}
		next_epoch();
		for (i, (stake, expected)) in cases.iter().enumerate() {
			assert_eq!(tier(i as u64 + 1), *expected, "stake {stake}");
		}
		let config = Configuration::<Test>::get();
		assert_eq!(config.tier_for(999), None);
		assert_eq!(config.tier_for(0), None);
	});
}

#[test]
fn bond_extra_adds_stake_and_rejects_bad_input() {
	run_test(|| {
		assert_noop!(
			StakingTiers::bond_extra(RuntimeOrigin::signed(1), 10),
			Error::<Test>::NotOperator
		);
		approved(1);
		assert_noop!(
			StakingTiers::bond_extra(RuntimeOrigin::signed(1), 10),
			Error::<Test>::NotBonded
		);
		assert_ok!(StakingTiers::bond(RuntimeOrigin::signed(1), 1_000));
		assert_noop!(
			StakingTiers::bond_extra(RuntimeOrigin::signed(1), 0),
			Error::<Test>::ZeroAmount
		);
		assert_noop!(
			StakingTiers::bond_extra(RuntimeOrigin::signed(1), ENDOWMENT),
			Error::<Test>::InsufficientBalance
		);
		assert_ok!(StakingTiers::bond_extra(RuntimeOrigin::signed(1), 4_000));
		System::assert_last_event(Event::Bonded { who: 1, amount: 4_000 }.into());
		assert_eq!(active(1), 5_000);
		assert_eq!(held(1), 5_000);
	});
}

#[test]
fn tier_changes_wait_for_the_epoch_boundary() {
	run_test(|| {
		bonded(1, 5_000);
		assert_eq!(tier(1), None, "not before the boundary");
		run_to_block(EPOCH - 1);
		assert_eq!(tier(1), None);
		run_to_block(EPOCH);
		assert_eq!(tier(1), Some(Tier::Oracle));
		System::assert_has_event(
			Event::TierChanged { who: 1, from: None, to: Some(Tier::Oracle) }.into(),
		);
		System::assert_has_event(Event::EpochStarted { index: 1, reevaluated: 1 }.into());

		assert_ok!(StakingTiers::bond_extra(RuntimeOrigin::signed(1), 5_000));
		run_to_block(2 * EPOCH - 1);
		assert_eq!(tier(1), Some(Tier::Oracle), "upgrade waits");
		run_to_block(2 * EPOCH);
		assert_eq!(tier(1), Some(Tier::Guardian));

		assert_ok!(StakingTiers::unbond(RuntimeOrigin::signed(1), 9_000));
		assert_eq!(tier(1), Some(Tier::Guardian), "downgrade by unbonding waits too");
		run_to_block(3 * EPOCH);
		assert_eq!(tier(1), Some(Tier::All));
	});
}

// ---- unbonding, withdrawal, rebonding ----

#[test]
fn unbond_then_withdraw_after_the_unbonding_period() {
	run_test(|| {
		bonded(1, 6_000);
		run_to_block(2);
		assert_ok!(StakingTiers::unbond(RuntimeOrigin::signed(1), 2_000));
		System::assert_last_event(
			Event::Unbonded { who: 1, amount: 2_000, unlock_at: 2 + UNBONDING }.into(),
		);
		assert_eq!(active(1), 4_000);
		assert_eq!(chunks(1), vec![(2_000, 2 + UNBONDING)]);
		assert_eq!(held(1), 6_000, "unbonding stake stays held");

		run_to_block(1 + UNBONDING);
		assert_noop!(
			StakingTiers::withdraw_unbonded(RuntimeOrigin::signed(1)),
			Error::<Test>::NothingToWithdraw
		);
		run_to_block(2 + UNBONDING);
		assert_ok!(StakingTiers::withdraw_unbonded(RuntimeOrigin::signed(1)));
		System::assert_last_event(Event::Withdrawn { who: 1, amount: 2_000 }.into());
		assert_eq!(held(1), 4_000);
		assert!(chunks(1).is_empty());
		assert_eq!(Balances::balance(&1), ENDOWMENT - 4_000);
	});
}

#[test]
fn unbonding_everything_and_withdrawing_removes_the_ledger_and_tier() {
	run_test(|| {
		bonded(1, 1_000);
		next_epoch();
		assert_eq!(tier(1), Some(Tier::All));
		assert_ok!(StakingTiers::unbond(RuntimeOrigin::signed(1), 1_000));
		run_to_block(System::block_number() + UNBONDING);
		assert_ok!(StakingTiers::withdraw_unbonded(RuntimeOrigin::signed(1)));
		assert_eq!(Ledgers::<Test>::get(1), None);
		assert_eq!(held(1), 0);
		next_epoch();
		assert_eq!(tier(1), None);
		// Leaving is now possible.
		assert_ok!(StakingTiers::withdraw_application(RuntimeOrigin::signed(1)));
	});
}

#[test]
fn unbond_rejects_bad_input() {
	run_test(|| {
		assert_noop!(StakingTiers::unbond(RuntimeOrigin::signed(1), 10), Error::<Test>::NotBonded);
		bonded(1, 2_000);
		assert_noop!(StakingTiers::unbond(RuntimeOrigin::signed(1), 0), Error::<Test>::ZeroAmount);
		assert_noop!(
			StakingTiers::unbond(RuntimeOrigin::signed(1), 2_001),
			Error::<Test>::InsufficientActiveBond
		);
		// Leaving 999 active is below the minimum; leaving 0 or 1,000 is fine.
		assert_noop!(
			StakingTiers::unbond(RuntimeOrigin::signed(1), 1_001),
			Error::<Test>::BelowMinimumBond
		);
		assert_noop!(
			StakingTiers::withdraw_unbonded(RuntimeOrigin::signed(2)),
			Error::<Test>::NotBonded
		);
	});
}

#[test]
fn unbonding_chunks_are_bounded_and_merge_within_a_block() {
	run_test(|| {
		bonded(1, 10_000);
		assert_ok!(StakingTiers::unbond(RuntimeOrigin::signed(1), 100));
		assert_ok!(StakingTiers::unbond(RuntimeOrigin::signed(1), 100));
		assert_eq!(chunks(1), vec![(200, 1 + UNBONDING)], "same block, one chunk");
		for block in 2..=4 {
			run_to_block(block);
			assert_ok!(StakingTiers::unbond(RuntimeOrigin::signed(1), 100));
		}
		assert_eq!(chunks(1).len(), 4);
		run_to_block(5);
		assert_noop!(
			StakingTiers::unbond(RuntimeOrigin::signed(1), 100),
			Error::<Test>::TooManyUnlockingChunks
		);
	});
}

#[test]
fn rebond_takes_newest_chunks_first() {
	run_test(|| {
		bonded(1, 10_000);
		assert_ok!(StakingTiers::unbond(RuntimeOrigin::signed(1), 1_000));
		run_to_block(2);
		assert_ok!(StakingTiers::unbond(RuntimeOrigin::signed(1), 2_000));
		assert_ok!(StakingTiers::rebond(RuntimeOrigin::signed(1), 2_500));
		System::assert_last_event(Event::Rebonded { who: 1, amount: 2_500 }.into());
		assert_eq!(chunks(1), vec![(500, 1 + UNBONDING)]);
		assert_eq!(active(1), 9_500);
		// Asking for more than is unbonding moves what there is.
		assert_ok!(StakingTiers::rebond(RuntimeOrigin::signed(1), 10_000));
		System::assert_last_event(Event::Rebonded { who: 1, amount: 500 }.into());
		assert_eq!(active(1), 10_000);
		assert!(chunks(1).is_empty());
		assert_eq!(held(1), 10_000);
	});
}

#[test]
fn rebond_rejects_bad_input() {
	run_test(|| {
		assert_noop!(
			StakingTiers::rebond(RuntimeOrigin::signed(1), 10),
			Error::<Test>::NotOperator
		);
		bonded(1, 1_000);
		assert_noop!(StakingTiers::rebond(RuntimeOrigin::signed(1), 0), Error::<Test>::ZeroAmount);
		assert_noop!(
			StakingTiers::rebond(RuntimeOrigin::signed(1), 10),
			Error::<Test>::NothingToRebond
		);
		assert_ok!(StakingTiers::unbond(RuntimeOrigin::signed(1), 1_000));
		assert_noop!(
			StakingTiers::rebond(RuntimeOrigin::signed(1), 999),
			Error::<Test>::BelowMinimumBond
		);
		assert_ok!(StakingTiers::rebond(RuntimeOrigin::signed(1), 1_000));
	});
}

// ---- configuration ----

#[test]
fn set_config_validates_and_reevaluates_at_the_next_epoch() {
	run_test(|| {
		bonded(1, 5_000);
		next_epoch();
		assert_eq!(tier(1), Some(Tier::Oracle));
		let mut config = Configuration::<Test>::get();
		assert_noop!(
			StakingTiers::set_config(RuntimeOrigin::signed(1), config),
			DispatchError::BadOrigin
		);
		let invalid = |f: &dyn Fn(&mut TierConfig<Balance, u64>)| {
			let mut c = Configuration::<Test>::get();
			f(&mut c);
			c
		};
		for bad in [
			invalid(&|c| c.thresholds.all = 0),
			invalid(&|c| c.thresholds.oracle = c.thresholds.all),
			invalid(&|c| c.thresholds.guardian = c.thresholds.oracle),
			invalid(&|c| c.reward_multipliers.all = 0),
			invalid(&|c| c.reward_multipliers.guardian = 150),
			invalid(&|c| c.epoch_length = 0),
			invalid(&|c| c.slash_defer_period = 0),
			invalid(&|c| c.unbonding_period = DEFER - 1),
		] {
			assert_noop!(
				StakingTiers::set_config(RuntimeOrigin::root(), bad),
				Error::<Test>::InvalidConfig
			);
		}
		config.thresholds = PerTier { all: 2_000, oracle: 6_000, guardian: 20_000 };
		assert_ok!(StakingTiers::set_config(RuntimeOrigin::root(), config));
		System::assert_last_event(Event::ConfigUpdated { config }.into());
		assert_eq!(tier(1), Some(Tier::Oracle), "waits for the boundary");
		next_epoch();
		assert_eq!(tier(1), Some(Tier::All));
		assert_eq!(
			<StakingTiers as TierProvider<u64, Balance>>::reward_multiplier(Tier::Guardian),
			500
		);
	});
}

// ---- slashing ----

fn slash(who: u64, percent: u32, reporters: Vec<u64>, share: u32) -> u32 {
	<StakingTiers as Slash<u64>>::schedule_slash(
		&who,
		Perbill::from_percent(percent),
		reporters,
		Perbill::from_percent(share),
	)
	.expect("slash scheduled")
}

#[test]
fn slash_is_deferred_then_pays_reporters_and_treasury() {
	run_test(|| {
		bonded(1, 10_000);
		next_epoch();
		let start = System::block_number();
		let id = slash(1, 10, vec![2, 3], 50);
		System::assert_last_event(
			Event::SlashScheduled {
				id,
				who: 1,
				fraction: Perbill::from_percent(10),
				apply_at: start + DEFER,
			}
			.into(),
		);
		run_to_block(start + DEFER - 1);
		assert_eq!(held(1), 10_000, "nothing happens before the defer period ends");
		run_to_block(start + DEFER);
		System::assert_has_event(
			Event::SlashApplied { id, who: 1, amount: 1_000, to_reporters: 500, to_treasury: 500 }
				.into(),
		);
		assert_eq!(held(1), 9_000);
		assert_eq!(active(1), 9_000);
		assert_eq!(Balances::balance(&2), ENDOWMENT + 250);
		assert_eq!(Balances::balance(&3), ENDOWMENT + 250);
		assert_eq!(Balances::balance(&TREASURY), 1 + 500);
		// 9,000 no longer covers GUARDIAN: the tier drops at once.
		assert_eq!(tier(1), Some(Tier::Oracle));
		assert_eq!(PendingSlashCount::<Test>::get(), 0);
	});
}

#[test]
fn cancelled_slash_takes_nothing() {
	run_test(|| {
		bonded(1, 10_000);
		let id = slash(1, 50, vec![], 0);
		assert_noop!(
			StakingTiers::cancel_slash(RuntimeOrigin::signed(1), id),
			DispatchError::BadOrigin
		);
		assert_noop!(
			StakingTiers::cancel_slash(RuntimeOrigin::root(), id + 1),
			Error::<Test>::SlashNotFound
		);
		assert_ok!(StakingTiers::cancel_slash(RuntimeOrigin::root(), id));
		System::assert_last_event(Event::SlashCancelled { id, who: 1 }.into());
		assert_eq!(PendingSlashes::<Test>::get(id), None);
		run_to_block(1 + DEFER + 1);
		assert_eq!(held(1), 10_000);
		assert_eq!(Balances::balance(&TREASURY), 1);
	});
}

#[test]
fn slash_larger_than_the_bond_takes_everything_and_no_more() {
	run_test(|| {
		bonded(1, 5_000);
		next_epoch();
		let start = System::block_number();
		slash(1, 70, vec![], 0);
		slash(1, 70, vec![], 0);
		run_to_block(start + DEFER);
		// 70% of 5,000, then 70% of the remaining 1,500.
		assert_eq!(active(1), 450);
		assert_eq!(tier(1), None, "below ALL: no tier at once");
		let id = slash(1, 100, vec![], 0);
		run_to_block(System::block_number() + DEFER);
		System::assert_has_event(
			Event::SlashApplied { id, who: 1, amount: 450, to_reporters: 0, to_treasury: 450 }
				.into(),
		);
		assert_eq!(Ledgers::<Test>::get(1), None);
		assert_eq!(held(1), 0);
		assert_eq!(Balances::balance(&1), ENDOWMENT - 5_000);
		assert_eq!(Balances::balance(&TREASURY), 1 + 5_000);
	});
}

#[test]
fn slash_reaches_unbonding_chunks_newest_first() {
	run_test(|| {
		bonded(1, 10_000);
		assert_ok!(StakingTiers::unbond(RuntimeOrigin::signed(1), 3_000));
		run_to_block(2);
		assert_ok!(StakingTiers::unbond(RuntimeOrigin::signed(1), 6_000));
		assert_eq!(active(1), 1_000);
		slash(1, 50, vec![], 0); // 50% of 10,000 total = 5,000
		run_to_block(2 + DEFER);
		assert_eq!(active(1), 0);
		assert_eq!(
			Ledgers::<Test>::get(1).unwrap().unlocking.into_inner(),
			vec![
				UnlockChunk { value: 3_000, unlock_at: 1 + UNBONDING },
				UnlockChunk { value: 2_000, unlock_at: 2 + UNBONDING },
			]
		);
		assert_eq!(held(1), 5_000);
	});
}

#[test]
fn pending_slash_blocks_withdrawal_until_applied() {
	run_test(|| {
		bonded(1, 2_000);
		assert_ok!(StakingTiers::unbond(RuntimeOrigin::signed(1), 1_000));
		run_to_block(1 + UNBONDING);
		let id = slash(1, 10, vec![], 0);
		assert_noop!(
			StakingTiers::withdraw_unbonded(RuntimeOrigin::signed(1)),
			Error::<Test>::SlashPending
		);
		run_to_block(PendingSlashes::<Test>::get(id).unwrap().apply_at);
		// 10% of 2,000 came out of the active 1,000: the unbonding chunk is whole.
		assert_eq!(active(1), 800);
		assert_ok!(StakingTiers::withdraw_unbonded(RuntimeOrigin::signed(1)));
		System::assert_last_event(Event::Withdrawn { who: 1, amount: 1_000 }.into());
	});
}

#[test]
fn slash_queue_and_pending_slashes_are_bounded() {
	run_test(|| {
		bonded(1, 10_000);
		let a = slash(1, 1, vec![], 0);
		let b = slash(1, 1, vec![], 0);
		let c = slash(1, 1, vec![], 0);
		let due = 1 + DEFER;
		assert_eq!(SlashQueue::<Test>::get(due).into_inner(), vec![a, b]);
		assert_eq!(
			SlashQueue::<Test>::get(due + 1).into_inner(),
			vec![c],
			"a full block spills over"
		);
		for _ in 3..8 {
			slash(1, 1, vec![], 0);
		}
		assert_eq!(
			<StakingTiers as Slash<u64>>::schedule_slash(
				&1,
				Perbill::one(),
				vec![],
				Perbill::zero()
			),
			Err(Error::<Test>::TooManyPendingSlashes.into())
		);
		assert_eq!(
			<StakingTiers as Slash<u64>>::schedule_slash(
				&2,
				Perbill::one(),
				vec![],
				Perbill::zero()
			),
			Err(Error::<Test>::NotOperator.into())
		);
	});
}

#[test]
fn too_many_reporters_is_refused() {
	run_test(|| {
		bonded(1, 10_000);
		assert_eq!(
			<StakingTiers as Slash<u64>>::schedule_slash(
				&1,
				Perbill::one(),
				vec![2, 3, 4, 5],
				Perbill::one()
			),
			Err(Error::<Test>::TooManyReporters.into())
		);
	});
}

#[test]
fn a_reporter_listed_twice_or_the_slashed_operator_as_reporter_is_refused() {
	run_test(|| {
		bonded(1, 10_000);
		let schedule = |reporters: Vec<u64>| {
			<StakingTiers as Slash<u64>>::schedule_slash(
				&1,
				Perbill::from_percent(10),
				reporters,
				Perbill::from_percent(50),
			)
		};
		assert_eq!(schedule(vec![2, 2]), Err(Error::<Test>::DuplicateReporter.into()));
		assert_eq!(schedule(vec![2, 1]), Err(Error::<Test>::SelfReport.into()));
		assert_eq!(PendingSlashCount::<Test>::get(), 0, "nothing scheduled");
		assert!(schedule(vec![2, 3]).is_ok());
	});
}

// ---- provider and genesis ----

#[test]
fn genesis_operators_are_in_their_tiers_from_the_start() {
	run_test_with(vec![(3, 10_000), (1, 1_000), (2, 5_000)], || {
		assert_eq!(tier(1), Some(Tier::All));
		assert_eq!(tier(2), Some(Tier::Oracle));
		assert_eq!(tier(3), Some(Tier::Guardian));
		let provider = |t| <StakingTiers as TierProvider<u64, Balance>>::operators(t);
		assert_eq!(provider(Tier::All), vec![1, 2, 3]);
		assert_eq!(provider(Tier::Oracle), vec![2, 3]);
		assert_eq!(provider(Tier::Guardian), vec![3]);
		assert_eq!(<StakingTiers as TierProvider<u64, Balance>>::stake(&2), 5_000);
		assert_eq!(EffectiveTiers::<Test>::iter().count(), 3);
	});
}

#[test]
fn operator_status_reports_everything() {
	run_test(|| {
		bonded(1, 6_000);
		assert_ok!(StakingTiers::unbond(RuntimeOrigin::signed(1), 1_000));
		let id = slash(1, 10, vec![], 0);
		let status = StakingTiers::operator_status(&1);
		assert_eq!(status.state, Some(OperatorState::Approved));
		assert_eq!(status.tier, None);
		assert_eq!(status.next_tier, Some(Tier::Oracle));
		assert_eq!(status.active, 5_000);
		assert_eq!(status.unlocking, vec![(1_000, 1 + UNBONDING)]);
		assert_eq!(status.pending_slashes, vec![(id, Perbill::from_percent(10), 1 + DEFER)]);
		assert_eq!(StakingTiers::operator_status(&9).state, None);
	});
}
