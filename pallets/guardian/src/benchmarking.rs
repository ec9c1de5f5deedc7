//! FRAME benchmarks, each at its worst case: the largest panel, the most operators per task,
//! the most GUARDIANs to draw a panel from, a slash scheduled for every offence.

use super::*;
use crate::Pallet as Guardian;
use alloc::{vec, vec::Vec};
use frame_benchmarking::v2::*;
use frame_support::traits::{fungible::Mutate, EnsureOrigin, Get, Hooks};
use frame_system::RawOrigin;
use noderr_primitives::{Answer, OnTaskSettled, Participation, Tier};
use sp_runtime::{traits::Saturating, Perbill};

/// What the benchmarks need from the other pallets, set up directly in their storage.
pub trait BenchmarkHelper<T: Config> {
	/// Makes `who` an approved operator bonded at the threshold of `tier` (funded).
	fn operator(who: &T::AccountId, tier: Tier);
	/// A registered regression model with a tolerance, that a finished task can be audited on.
	fn model() -> [u8; 32];
	/// Records a finished task of `model` (text input) with these operators and answers, and
	/// `audit_of` for an audit; returns its id.
	fn finished_task(
		model: [u8; 32],
		answers: Vec<(T::AccountId, Participation, Option<Answer>)>,
		aggregate: Option<Answer>,
		audit_of: Option<u64>,
	) -> u64;
	/// Links `worker` as `operator`'s worker key.
	fn link_worker(operator: &T::AccountId, worker: &T::AccountId);
	/// A new worker account whose key [`Self::sign`] signs with.
	fn worker_key() -> T::AccountId;
	/// `worker`'s signature of `payload`.
	fn sign(worker: &T::AccountId, payload: &[u8]) -> T::Signature;
	/// Makes `Config::Beacon::beacon_after(block)` return a value.
	fn set_beacon_after(block: BlockNumberFor<T>);
}

fn guardians<T: Config>(n: u32) -> Vec<T::AccountId> {
	(0..n)
		.map(|i| {
			let g: T::AccountId = account("guardian", i, 0);
			T::BenchmarkHelper::operator(&g, Tier::Guardian);
			g
		})
		.collect()
}

fn fund<T: Config>(who: &T::AccountId) {
	let _ = T::Currency::mint_into(
		who,
		Configuration::<T>::get().report_bond.saturating_mul(100u32.into()),
	);
}

fn values(v: i64) -> Answer {
	Answer::truncate_from(vec![v, v])
}

/// A settled task of `k` operators, the first answering `wrong` and the rest `right`.
fn settled_task<T: Config>(k: u32, right: i64, wrong: i64) -> (u64, Vec<T::AccountId>, [u8; 32]) {
	let model = T::BenchmarkHelper::model();
	let ops: Vec<T::AccountId> = (0..k)
		.map(|i| {
			let o: T::AccountId = account("operator", i, 0);
			T::BenchmarkHelper::operator(&o, Tier::All);
			o
		})
		.collect();
	let answers = ops
		.iter()
		.enumerate()
		.map(|(i, o)| {
			let v = if i == 0 { wrong } else { right };
			(o.clone(), Participation::Agreed, Some(values(v)))
		})
		.collect();
	let id = T::BenchmarkHelper::finished_task(model, answers, Some(values(right)), None);
	(id, ops, model)
}

fn set_panel<T: Config>(p: u32) {
	let mut config = Configuration::<T>::get();
	config.panel_size = p as u8;
	config.sample_share = Perbill::one();
	Configuration::<T>::put(config);
}

/// A report of persistent non-reveal against a fresh operator by a fresh GUARDIAN, voting by
/// `panel`, none voted yet; its vote ends at `until`.
fn voting_report<T: Config>(panel: &[T::AccountId], until: BlockNumberFor<T>) -> ReportId {
	let reporter: T::AccountId = account("reporter", 0, 0);
	T::BenchmarkHelper::operator(&reporter, Tier::Guardian);
	fund::<T>(&reporter);
	let accused: T::AccountId = account("accused", 0, 0);
	T::BenchmarkHelper::operator(&accused, Tier::All);
	let now = frame_system::Pallet::<T>::block_number();
	Misses::<T>::insert(&accused, (now, Configuration::<T>::get().miss_threshold));
	Guardian::<T>::do_report(reporter, accused, Evidence::MissedReveals).expect("reported");
	let id = NextReportId::<T>::get() - 1;
	Reports::<T>::mutate(id, |r| {
		let r = r.as_mut().expect("open");
		r.panel = BoundedVec::truncate_from(panel.to_vec());
		r.judging = Judging::Voting { until };
	});
	Queue::<T>::mutate(until, |q| {
		let _ = q.try_push(id);
	});
	id
}

#[benchmarks]
mod benchmarks {
	use super::*;

	/// Two signed answers checked, the offence confirmed, its slash scheduled.
	#[benchmark]
	fn report_equivocation() {
		let reporter = guardians::<T>(1).remove(0);
		let (task, ops, model) = settled_task::<T>(1, 1_000_000, 1_000_000);
		let accused = ops[0].clone();
		let worker = T::BenchmarkHelper::worker_key();
		T::BenchmarkHelper::link_worker(&accused, &worker);
		let statement = |v: i64| {
			let answer = values(v);
			let payload = types::statement_payload(task, &model, &answer);
			SignedAnswer {
				task,
				model,
				answer,
				signer: worker.clone(),
				signature: T::BenchmarkHelper::sign(&worker, &payload),
			}
		};
		let evidence = Evidence::Equivocation { first: statement(1), second: Some(statement(2)) };
		#[extrinsic_call]
		report(RawOrigin::Signed(reporter), accused.clone(), evidence);
		assert_eq!(Offences::<T>::get(&accused).len(), 1);
	}

	/// A report of a wrong answer on a task of `MaxAssigned` operators: an audit task created.
	#[benchmark]
	fn report_audit() {
		let reporter = guardians::<T>(1).remove(0);
		fund::<T>(&reporter);
		let (task, ops, _) = settled_task::<T>(T::MaxAssigned::get(), 1_000_000, 2_000_000);
		#[extrinsic_call]
		report(RawOrigin::Signed(reporter), ops[0].clone(), Evidence::OutOfTolerance { task });
		assert_eq!(Audits::<T>::count(), 1);
	}

	/// A report of persistent non-reveal: checked, bonded, its panel draw queued.
	#[benchmark]
	fn report_vote() {
		let reporter = guardians::<T>(1).remove(0);
		fund::<T>(&reporter);
		let accused: T::AccountId = account("accused", 0, 0);
		T::BenchmarkHelper::operator(&accused, Tier::All);
		let now = frame_system::Pallet::<T>::block_number();
		Misses::<T>::insert(&accused, (now, Configuration::<T>::get().miss_threshold));
		#[extrinsic_call]
		report(RawOrigin::Signed(reporter), accused, Evidence::MissedReveals);
		assert_eq!(Reports::<T>::count(), 1);
	}

	/// The deciding vote of a panel of `p`: the report judged, the offence confirmed, a slash
	/// scheduled with every confirming member rewarded.
	#[benchmark]
	fn vote(p: Linear<1, { T::MaxPanel::get() }>) {
		set_panel::<T>(p);
		let panel = guardians::<T>(p);
		let until = frame_system::Pallet::<T>::block_number().saturating_add(10u32.into());
		let id = voting_report::<T>(&panel, until);
		let needed = audit::quorum(Configuration::<T>::get().panel_quorum, p as u8);
		for g in panel.iter().take(needed - 1) {
			Guardian::<T>::do_vote(g.clone(), id, true).expect("voted");
		}
		let last = panel[needed - 1].clone();
		#[extrinsic_call]
		vote(RawOrigin::Signed(last), id, true);
		assert!(Reports::<T>::get(id).is_none());
	}

	#[benchmark]
	fn cancel_slash() -> Result<(), BenchmarkError> {
		let (_, ops, _) = settled_task::<T>(1, 1, 1);
		let who = ops[0].clone();
		Guardian::<T>::confirm_offence(&who, OffenceKind::OutOfTolerance, Some(0), None, vec![]);
		let slash = Offences::<T>::get(&who)[0].slash.expect("scheduled");
		let origin =
			T::GovernanceOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		#[extrinsic_call]
		cancel_slash(origin as T::RuntimeOrigin, who.clone(), slash);
		assert!(Offences::<T>::get(&who)[0].cancelled);
		Ok(())
	}

	#[benchmark]
	fn set_config() -> Result<(), BenchmarkError> {
		let origin =
			T::GovernanceOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		let config = T::DefaultConfig::get();
		#[extrinsic_call]
		set_config(origin as T::RuntimeOrigin, config);
		Ok(())
	}

	/// A panel drawn from `n` GUARDIANs (up to `MaxGuardians` less room for the chain's other
	/// operators, the reporter and the accused; charged at `MaxGuardians` from the slope).
	#[benchmark]
	fn draw_panel(n: Linear<1, { T::MaxGuardians::get().saturating_sub(16).max(1) }>) {
		set_panel::<T>(T::MaxPanel::get());
		guardians::<T>(n);
		let reporter: T::AccountId = account("reporter", 0, 0);
		T::BenchmarkHelper::operator(&reporter, Tier::Guardian);
		fund::<T>(&reporter);
		let accused: T::AccountId = account("accused", 0, 0);
		T::BenchmarkHelper::operator(&accused, Tier::All);
		let now = frame_system::Pallet::<T>::block_number();
		Misses::<T>::insert(&accused, (now, Configuration::<T>::get().miss_threshold));
		Guardian::<T>::do_report(reporter, accused, Evidence::MissedReveals).expect("reported");
		let next = now.saturating_add(1u32.into());
		T::BenchmarkHelper::set_beacon_after(now);
		frame_system::Pallet::<T>::set_block_number(next);
		#[block]
		{
			Guardian::<T>::process_queue(next);
		}
		let id = NextReportId::<T>::get() - 1;
		assert!(matches!(Reports::<T>::get(id).map(|r| r.judging), Some(Judging::Voting { .. })));
	}

	/// A vote of a panel of `p` tallied at its end: confirmed, slash scheduled.
	#[benchmark]
	fn tally(p: Linear<1, { T::MaxPanel::get() }>) {
		set_panel::<T>(p);
		let panel = guardians::<T>(p);
		let now = frame_system::Pallet::<T>::block_number();
		let until = now.saturating_add(10u32.into());
		let id = voting_report::<T>(&panel, until);
		// Every member but one confirms without deciding early: write the votes directly.
		Reports::<T>::mutate(id, |r| {
			let r = r.as_mut().expect("open");
			r.ayes = BoundedVec::truncate_from(panel.clone());
		});
		frame_system::Pallet::<T>::set_block_number(until);
		#[block]
		{
			Guardian::<T>::process_queue(until);
		}
		assert!(Reports::<T>::get(id).is_none());
	}

	/// The settlement hook for a disputed task of `k` operators, all missing their reveals but
	/// one: misses counted, an audit opened.
	#[benchmark]
	fn on_task_finished(k: Linear<2, { T::MaxAssigned::get() }>) {
		set_panel::<T>(T::MaxPanel::get());
		let (task, ops, model) = settled_task::<T>(k, 1_000_000, 1_000_000);
		let outcomes: Vec<(T::AccountId, Participation)> = ops
			.iter()
			.enumerate()
			.map(|(i, o)| {
				(o.clone(), if i == 0 { Participation::Agreed } else { Participation::NotRevealed })
			})
			.collect();
		let aggregate = values(1_000_000);
		let now = frame_system::Pallet::<T>::block_number();
		T::BenchmarkHelper::set_beacon_after(now.saturating_sub(1u32.into()));
		#[block]
		{
			Guardian::<T>::on_task_settled(task, Some(model), Some(&aggregate), &outcomes);
		}
		assert_eq!(Audits::<T>::count(), 1);
	}

	/// An audit of a panel of `p` concluded on a task of `k` operators, every one of them found
	/// wrong: `k` offences confirmed and slashed, each rewarding the whole panel.
	#[benchmark]
	fn conclude_audit(
		p: Linear<1, { T::MaxPanel::get() }>,
		k: Linear<1, { T::MaxAssigned::get() }>,
	) {
		set_panel::<T>(p);
		let (task, _, model) = settled_task::<T>(k, 2_000_000, 2_000_000);
		let panel = guardians::<T>(p);
		let answers: Vec<_> = panel
			.iter()
			.map(|g| (g.clone(), Participation::Agreed, Some(values(1_000_000))))
			.collect();
		let outcomes: Vec<_> = answers.iter().map(|(g, p, _)| (g.clone(), *p)).collect();
		let audit =
			T::BenchmarkHelper::finished_task(model, answers, Some(values(1_000_000)), Some(task));
		Audits::<T>::insert(audit, AuditInfo { of: task, report: None });
		let aggregate = values(1_000_000);
		#[block]
		{
			Guardian::<T>::on_task_settled(audit, Some(model), Some(&aggregate), &outcomes);
		}
		assert_eq!(Audits::<T>::count(), 0);
	}

	impl_benchmark_test_suite!(Guardian, crate::mock::build(), crate::mock::Test);
}

#[allow(unused_imports)]
use frame_support::BoundedVec;
#[allow(unused_imports)]
use frame_system::pallet_prelude::BlockNumberFor;
#[allow(unused_imports)]
use Hooks as _;
