//! Stateful property test: random sequences of every call, slashes and their cancellation,
//! under random valid configurations, with blocks (and their hooks) between steps.
//!
//! After every step: the pallet's invariants hold; a call that fails changes no storage; total
//! issuance never changes; and every unit slashed or forfeited is accounted for: what the
//! slashed operators lost equals what the treasury and the reporters gained.

use crate::{mock::*, Event, HardwareClass, PendingSlashes, PerTier, TierConfig};
use frame_support::{traits::fungible::Inspect, BoundedVec};
use noderr_primitives::Slash;
use proptest::prelude::*;
use sp_runtime::{DispatchResult, Perbill, StateVersion};

/// Operators and applicants: few, so that calls often find the state they need.
const ACCOUNTS: u64 = 4;
/// Reporters: unfunded accounts, so that each one's balance is exactly what it was paid.
const REPORTERS: [u64; 3] = [41, 42, 43];

#[derive(Clone, Debug)]
enum Step {
	Apply(u64),
	Approve(u64),
	Reject(u64, bool),
	WithdrawApplication(u64),
	Suspend(u64),
	Reinstate(u64),
	Evict(u64),
	Bond(u64, Amount),
	BondExtra(u64, Amount),
	Unbond(u64, Amount),
	WithdrawUnbonded(u64),
	Rebond(u64, Amount),
	SetConfig(TierConfig<Balance, u64>),
	ScheduleSlash { who: u64, percent: u32, reporters: usize, share: u32 },
	CancelSlash(usize),
	Blocks(u64),
}

fn config() -> impl Strategy<Value = TierConfig<Balance, u64>> {
	(1u64..=2_000, 1u64..=5_000, 1u64..=10_000, 1u32..=3, 0u32..=3, 0u32..=5, 1u64..=12, 1u64..=8)
		.prop_flat_map(|(all, d1, d2, m1, m2, m3, epoch, defer)| {
			(0u64..=30).prop_map(move |extra| TierConfig {
				thresholds: PerTier { all, oracle: all + d1, guardian: all + d1 + d2 },
				reward_multipliers: PerTier { all: m1, oracle: m1 + m2, guardian: m1 + m2 + m3 },
				epoch_length: epoch,
				slash_defer_period: defer,
				// Sometimes shorter than the epoch: the case that once left a tier behind.
				unbonding_period: defer + extra,
			})
		})
}

/// An amount, resolved against the state when the step runs so that most land near the
/// edges that matter: a tier's threshold, or a share of the operator's active bond.
#[derive(Clone, Debug)]
enum Amount {
	Raw(u64),
	/// A tier's threshold (0 ALL, 1 ORACLE, 2 GUARDIAN) plus a small offset.
	Threshold(usize, i64),
	/// A percentage of the active bond.
	OfActive(u64),
}

impl Amount {
	fn resolve(&self, who: u64) -> u64 {
		match *self {
			Amount::Raw(a) => a,
			Amount::Threshold(tier, offset) => {
				let t = crate::Configuration::<Test>::get().thresholds;
				let base = [t.all, t.oracle, t.guardian][tier] as i64;
				(base + offset).max(0) as u64
			}
			Amount::OfActive(percent) => {
				let active = crate::Ledgers::<Test>::get(who).map(|l| l.active).unwrap_or(0);
				active * percent / 100
			}
		}
	}
}

fn amount() -> impl Strategy<Value = Amount> {
	prop_oneof![
		1 => prop_oneof![Just(0u64), 1u64..=200_000].prop_map(Amount::Raw),
		3 => (0usize..3, -2i64..=3).prop_map(|(t, o)| Amount::Threshold(t, o)),
		3 => prop_oneof![Just(100u64), 1u64..=100].prop_map(Amount::OfActive),
	]
}

/// One step, or a few that belong together (applying, being approved and bonding), so that
/// sequences reach bonded operators often.
fn steps() -> impl Strategy<Value = Vec<Step>> {
	let who = 1u64..=ACCOUNTS;
	let one = prop_oneof![
		2 => who.clone().prop_map(Step::Apply),
		2 => who.clone().prop_map(Step::Approve),
		1 => (who.clone(), any::<bool>()).prop_map(|(w, f)| Step::Reject(w, f)),
		1 => who.clone().prop_map(Step::WithdrawApplication),
		1 => who.clone().prop_map(Step::Suspend),
		1 => who.clone().prop_map(Step::Reinstate),
		1 => who.clone().prop_map(Step::Evict),
		2 => (who.clone(), amount()).prop_map(|(w, a)| Step::Bond(w, a)),
		3 => (who.clone(), amount()).prop_map(|(w, a)| Step::BondExtra(w, a)),
		4 => (who.clone(), amount()).prop_map(|(w, a)| Step::Unbond(w, a)),
		3 => who.clone().prop_map(Step::WithdrawUnbonded),
		2 => (who.clone(), amount()).prop_map(|(w, a)| Step::Rebond(w, a)),
		1 => config().prop_map(Step::SetConfig),
		3 => (who.clone(), 0u32..=100, 0usize..=3, 0u32..=100).prop_map(
			|(who, percent, reporters, share)| Step::ScheduleSlash { who, percent, reporters, share }
		),
		1 => (0usize..4).prop_map(Step::CancelSlash),
		4 => (1u64..=15).prop_map(Step::Blocks),
	];
	prop_oneof![
		6 => one.prop_map(|s| vec![s]),
		1 => (who, amount()).prop_map(|(w, a)| vec![Step::Apply(w), Step::Approve(w), Step::Bond(w, a)]),
	]
}

fn reason() -> BoundedVec<u8, frame_support::traits::ConstU32<32>> {
	BoundedVec::truncate_from(b"property test".to_vec())
}

fn run(step: &Step) -> DispatchResult {
	let signed = RuntimeOrigin::signed;
	let root = RuntimeOrigin::root;
	match step.clone() {
		Step::Apply(w) => StakingTiers::apply(
			signed(w),
			BoundedVec::truncate_from(b"node".to_vec()),
			Default::default(),
			Default::default(),
			HardwareClass::Cpu,
		),
		Step::Approve(w) => StakingTiers::approve(root(), w),
		Step::Reject(w, forfeit) => StakingTiers::reject(root(), w, reason(), forfeit),
		Step::WithdrawApplication(w) => StakingTiers::withdraw_application(signed(w)),
		Step::Suspend(w) => StakingTiers::suspend(root(), w, reason()),
		Step::Reinstate(w) => StakingTiers::reinstate(root(), w),
		Step::Evict(w) => StakingTiers::evict(root(), w, reason()),
		Step::Bond(w, a) => StakingTiers::bond(signed(w), a.resolve(w)),
		Step::BondExtra(w, a) => StakingTiers::bond_extra(signed(w), a.resolve(w)),
		Step::Unbond(w, a) => StakingTiers::unbond(signed(w), a.resolve(w)),
		Step::WithdrawUnbonded(w) => StakingTiers::withdraw_unbonded(signed(w)),
		Step::Rebond(w, a) => StakingTiers::rebond(signed(w), a.resolve(w)),
		Step::SetConfig(c) => StakingTiers::set_config(root(), c),
		Step::ScheduleSlash { who, percent, reporters, share } => {
			<StakingTiers as Slash<u64>>::schedule_slash(
				&who,
				Perbill::from_percent(percent),
				REPORTERS[..reporters].to_vec(),
				Perbill::from_percent(share),
			)
			.map(|_| ())
		}
		Step::CancelSlash(n) => {
			let mut ids: Vec<_> = PendingSlashes::<Test>::iter_keys().collect();
			ids.sort();
			match ids.get(n) {
				Some(id) => StakingTiers::cancel_slash(root(), *id),
				None => StakingTiers::cancel_slash(root(), u32::MAX),
			}
		}
		Step::Blocks(n) => {
			run_to_block(System::block_number() + n);
			Ok(())
		}
	}
}

/// What operators hold in total, free and held.
fn operators_total() -> u64 {
	(1..=ACCOUNTS).map(|w| Balances::total_balance(&w)).sum()
}

fn reporters_total() -> u64 {
	REPORTERS.iter().map(Balances::total_balance).sum()
}

proptest! {
	#![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

	#[test]
	fn every_sequence_keeps_the_invariants_and_conserves_money(
		genesis in config(),
		steps in prop::collection::vec(steps(), 1..60).prop_map(|s| s.concat()),
	) {
		build(Vec::new()).execute_with(|| {
			prop_assert!(StakingTiers::set_config(RuntimeOrigin::root(), genesis).is_ok());
			let issuance = Balances::total_issuance();
			let (operators, treasury, reporters) =
				(operators_total(), Balances::total_balance(&TREASURY), reporters_total());
			let (mut to_treasury, mut to_reporters) = (0u64, 0u64);
			for step in &steps {
				System::reset_events();
				let root = sp_io::storage::root(StateVersion::V1);
				let result = run(step);
				if let Err(e) = result {
					prop_assert_eq!(
						sp_io::storage::root(StateVersion::V1),
						root,
						"{:?} failed with {:?} and changed storage",
						step,
						e
					);
				}
				for record in System::events() {
					match record.event {
						RuntimeEvent::StakingTiers(Event::SlashApplied {
							amount, to_reporters: r, to_treasury: t, ..
						}) => {
							prop_assert_eq!(amount, r + t, "a slash's parts add up");
							to_reporters += r;
							to_treasury += t;
						}
						RuntimeEvent::StakingTiers(Event::ApplicationRejected {
							forfeited, ..
						}) => to_treasury += forfeited,
						_ => {}
					}
				}
				StakingTiers::do_try_state()
					.map_err(|e| TestCaseError::fail(format!("after {step:?}: {e:?}")))?;
				prop_assert_eq!(Balances::total_issuance(), issuance, "issuance changed");
				prop_assert_eq!(Balances::total_balance(&TREASURY), treasury + to_treasury);
				prop_assert_eq!(reporters_total(), reporters + to_reporters);
				prop_assert_eq!(
					operators_total(),
					operators - to_treasury - to_reporters,
					"operators lost exactly what the treasury and the reporters gained"
				);
			}
			Ok(())
		})?;
	}
}
