//! Deadlines and settlement. Each block handles the tasks whose phase ends in it (queued per
//! block when the phase began, never found by scanning): assignment, the end of the commit
//! phase, settlement. Settlement aggregates the reveals, checks quorum, pays or refunds, records
//! the outcome in the bounded history, extends the feed's price history for an observation (or
//! keeps a price forecast until its bar arrives, `score.rs`) and tells the guardian hook.

use crate::{aggregate::Vote, *};
use alloc::vec::Vec;
use frame_support::traits::Get;
use frame_support::{pallet_prelude::*, BoundedVec};
use noderr_primitives::{Answer, ModelProvider, OnTaskSettled, Participation, TaskKind};
use sp_runtime::{
	traits::{Saturating, UniqueSaturatedInto, Zero},
	Perbill,
};

impl<T: Config> Pallet<T> {
	/// Handles every deadline of block `now`.
	pub(crate) fn process_deadlines(now: BlockNumberFor<T>) -> Weight {
		let queue = Deadlines::<T>::take(now);
		// Assignments and the other deadlines are charged at their own worst cases.
		let (mut assignments, mut others) = (0u64, 0u32);
		for id in queue {
			let Some(task) = Tasks::<T>::get(id) else {
				others += 1;
				continue;
			};
			// An entry left behind when a phase ended early.
			if task.phase.deadline() != now {
				others += 1;
				continue;
			}
			match task.phase {
				Phase::Waiting { .. } => {
					assignments += 1;
					Self::assign(id, task, now)
				}
				Phase::Commit { .. } => {
					others += 1;
					Self::open_reveal(id, task, now)
				}
				Phase::Reveal { .. } => {
					others += 1;
					Self::settle(id, task, now)
				}
			}
		}
		T::WeightInfo::process_deadlines(others).saturating_add(
			T::WeightInfo::assign(T::MaxAssigned::get()).saturating_mul(assignments),
		)
	}

	fn stake_of(b: BalanceOf<T>) -> u128 {
		b.unique_saturated_into()
	}

	/// Aggregates the reveals of a task whose reveal phase ended, and finishes it.
	pub(crate) fn settle(id: TaskId, task: TaskOf<T>, now: BlockNumberFor<T>) {
		let config = Configuration::<T>::get();
		let reveals: Vec<Option<Answer>> =
			task.assigned.iter().map(|a| Reveals::<T>::get(id, &a.who)).collect();
		let assigned_stake: u128 =
			task.assigned.iter().map(|a| Self::stake_of(a.stake)).fold(0, u128::saturating_add);
		let votes: Vec<Vote> = task
			.assigned
			.iter()
			.zip(&reveals)
			.filter_map(|(a, r)| {
				r.as_ref().map(|r| Vote { values: r, stake: Self::stake_of(a.stake) })
			})
			.collect();
		let revealed_stake: u128 = votes.iter().map(|v| v.stake).fold(0, u128::saturating_add);
		let quorum = config.classes[task.class.index()].quorum;
		let spec = task.model.and_then(|m| T::Models::model(&m));
		let result = if votes.is_empty() || revealed_stake < quorum_of(quorum, assigned_stake) {
			Err(FailureReason::BelowQuorum)
		} else {
			let classes = matches!(
				spec.as_ref().map(|s| &s.kind),
				Some(TaskKind::Classification { .. } | TaskKind::TextClassification { .. })
			);
			let aggregate = if classes {
				aggregate::plurality(&votes)
			} else {
				let tolerance = spec.as_ref().map(|s| s.output.tolerance);
				aggregate::numeric(&votes, |_, median| match tolerance {
					Some(t) => t,
					None => config.observation_tolerance.mul_floor(median.unsigned_abs()),
				})
			};
			aggregate.map_err(|_| FailureReason::NoMajority)
		};
		// Agreement of each revealed answer, in assignment order.
		let mut agrees = result.as_ref().ok().map(|a| a.agrees.iter());
		let participation: Vec<Participation> = task
			.assigned
			.iter()
			.zip(&reveals)
			.map(|(a, r)| match (r, &mut agrees) {
				(Some(_), Some(it)) => {
					if *it.next().unwrap_or(&false) {
						Participation::Agreed
					} else {
						Participation::Outlier
					}
				}
				(Some(_), None) => Participation::Revealed,
				(None, _) if Commitments::<T>::contains_key(id, &a.who) => {
					Participation::NotRevealed
				}
				(None, _) => Participation::NotCommitted,
			})
			.collect();
		match result {
			Ok(a) => Self::finish(id, task, now, Some(a), reveals, participation),
			Err(reason) => Self::finish_failed(id, task, now, reason, reveals, participation),
		}
	}

	/// Ends a task without an aggregate (never assigned, nobody committed, below quorum, no
	/// majority): refunds the fee.
	pub(crate) fn fail(id: TaskId, task: TaskOf<T>, reason: FailureReason, now: BlockNumberFor<T>) {
		let reveals: Vec<Option<Answer>> =
			task.assigned.iter().map(|a| Reveals::<T>::get(id, &a.who)).collect();
		let participation = task
			.assigned
			.iter()
			.map(|a| {
				if Commitments::<T>::contains_key(id, &a.who) {
					Participation::NotRevealed
				} else {
					Participation::NotCommitted
				}
			})
			.collect();
		Self::finish_failed(id, task, now, reason, reveals, participation)
	}

	fn finish_failed(
		id: TaskId,
		task: TaskOf<T>,
		now: BlockNumberFor<T>,
		reason: FailureReason,
		reveals: Vec<Option<Answer>>,
		participation: Vec<Participation>,
	) {
		Self::refund(&task);
		Self::deposit_event(Event::TaskFailed { task: id, reason });
		Self::finish(id, task, now, None, reveals, participation)
	}

	/// Pays (or not), records, cleans up and reports a finished task.
	fn finish(
		id: TaskId,
		task: TaskOf<T>,
		now: BlockNumberFor<T>,
		aggregate: Option<aggregate::Aggregate>,
		reveals: Vec<Option<Answer>>,
		participation: Vec<Participation>,
	) {
		let agreeing: Vec<(T::AccountId, noderr_primitives::Tier)> = task
			.assigned
			.iter()
			.zip(&participation)
			.filter(|(_, p)| **p == Participation::Agreed)
			.map(|(a, _)| (a.who.clone(), a.tier))
			.collect();
		let rewards = match &aggregate {
			Some(_) => Self::pay(&task, &agreeing, now),
			None => Vec::new(),
		};
		let mut paid = BalanceOf::<T>::zero();
		let mut operators = Vec::with_capacity(task.assigned.len());
		let mut agreed_count = 0u8;
		for ((a, p), answer) in task.assigned.iter().zip(&participation).zip(reveals) {
			let reward = agreeing
				.iter()
				.position(|(w, _)| *w == a.who)
				.and_then(|i| rewards.get(i).copied())
				.unwrap_or_else(Zero::zero);
			paid.saturating_accrue(reward);
			Stats::<T>::mutate(&a.who, |s| {
				if *p == Participation::Agreed {
					s.agreed.saturating_inc();
					agreed_count.saturating_inc();
				}
				if p.is_strike() {
					s.strikes.saturating_inc();
				}
				s.rewards.saturating_accrue(reward);
			});
			Commitments::<T>::remove(id, &a.who);
			Reveals::<T>::remove(id, &a.who);
			operators.push(OperatorOutcome {
				who: a.who.clone(),
				participation: *p,
				answer,
				reward,
			});
		}
		let outcome = match &aggregate {
			Some(a) => Outcome::Settled {
				answer: BoundedVec::truncate_from(a.answer.clone()),
				dispersion: BoundedVec::truncate_from(a.dispersion.clone()),
			},
			None if task.assigned.is_empty() => Outcome::Unassigned,
			None => Outcome::Failed,
		};
		if let Outcome::Settled { answer, dispersion } = &outcome {
			Self::deposit_event(Event::TaskSettled {
				task: id,
				answer: answer.clone(),
				dispersion: dispersion.clone(),
				assigned: task.assigned.len() as u8,
				revealed: task.revealed,
				agreed: agreed_count,
				paid,
			});
		}
		let hook_outcomes: Vec<(T::AccountId, Participation)> =
			operators.iter().map(|o| (o.who.clone(), o.participation)).collect();
		Tasks::<T>::remove(id);
		match (&task.input, &outcome) {
			(TaskInput::Observe { feed, bar_time }, o) => {
				Observing::<T>::remove(feed);
				if let Outcome::Settled { answer, .. } = o {
					if let Some(bar) = Bar::from_answer(*bar_time, answer) {
						let number = Self::append_bar(*feed, bar);
						Self::create_scheduled_tasks(*feed, number);
					}
				}
			}
			// An audit's answer is the panel's check, not a new result of the model.
			(_, Outcome::Settled { .. }) if task.audit.is_some() => {}
			(input, Outcome::Settled { answer, .. }) => {
				if let Some(model) = task.model {
					Latest::<T>::insert(model, id);
					if let (TaskClass::Prediction, TaskInput::History { feed, end }) =
						(task.class, input)
					{
						Self::remember_prediction(id, model, *feed, *end, answer);
					}
				}
			}
			_ => {}
		}
		let settled_answer = match &outcome {
			Outcome::Settled { answer, .. } => Some(answer.clone()),
			_ => None,
		};
		Self::store_record(
			id,
			TaskRecord {
				class: task.class,
				model: task.model,
				input: task.input,
				audit_of: task.audit.map(|a| a.of),
				created: task.created,
				settled: now,
				outcome,
				operators: BoundedVec::truncate_from(operators),
			},
		);
		T::OnSettled::on_task_settled(id, task.model, settled_answer.as_ref(), &hook_outcomes);
	}

	/// Keeps the record, pruning the oldest beyond `MaxRecords`.
	fn store_record(id: TaskId, record: TaskRecordOf<T>) {
		let n = RecordCount::<T>::get();
		let slot = n % T::MaxRecords::get().max(1);
		if let Some(old) = RecordRing::<T>::get(slot) {
			Records::<T>::remove(old);
		}
		RecordRing::<T>::insert(slot, id);
		Records::<T>::insert(id, record);
		RecordCount::<T>::put(n.wrapping_add(1));
	}
}

/// `share` of `total`, rounded up: a quorum of 2/3 of 3 units is 2.
pub(crate) fn quorum_of(share: Perbill, total: u128) -> u128 {
	let parts = share.deconstruct() as u128;
	total.saturating_mul(parts).div_ceil(1_000_000_000)
}
