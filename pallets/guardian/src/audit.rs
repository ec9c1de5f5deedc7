//! Sampling and audits. The task pallet tells this pallet of every finished task
//! ([`OnTaskSettled`]); this pallet counts missed reveals, concludes the audits it opened, and
//! draws settled model tasks for audit: every disputed one, and a configured share of the rest.
//!
//! The draw uses the beacon after the block before the settlement: the operators' answers were
//! fixed by their commitments in the commit phase, which ended before that beacon existed, so an
//! operator could not know whether a wrong answer would be checked.
//!
//! An audit's verdict compares each operator's answer with the answers of the panel members
//! that agreed with the panel's own aggregate (the task pallet settles the audit like any task:
//! stake-weighted median within the model's tolerance, or plurality). An operator is found
//! wrong when at least the panel quorum (of the configured panel size, not of those who
//! answered) of agreeing members are beyond the model's tolerance from its answer *and* no
//! panel member that revealed is within it. A panel member whose re-execution disagrees with
//! the rest cannot convict (and is struck by the task pallet as an outlier); one honest member
//! vetoes a conviction, so faulty guardians that happen to agree with each other cannot frame
//! an honest operator unless they fill the whole panel. The veto lets a liar escape an audit
//! only when a panel member computed what the liar did; it is caught on a later task.

use crate::*;
use alloc::vec::Vec;
use frame_support::traits::Get;
use noderr_primitives::{Answer, OnTaskSettled, Participation, TaskResults};
use sp_runtime::{traits::Saturating, DispatchError, Perbill};

/// Whether two answers differ beyond the model's tolerance: another class, or any field more
/// than `tolerance` fixed-point units apart.
pub fn beyond(a: &Answer, b: &Answer, tolerance: u64, classes: bool) -> bool {
	if a.len() != b.len() {
		return true;
	}
	if classes {
		return a != b;
	}
	a.iter().zip(b.iter()).any(|(x, y)| x.abs_diff(*y) > tolerance)
}

/// `share` of `n`, rounded up, at least 1: two thirds of a panel of 3 is 2. A share written
/// as a rounded Perbill (two thirds as 666,666,667 parts) is not pushed up a whole member by its
/// rounding.
pub fn quorum(share: Perbill, n: u8) -> usize {
	let parts = share.deconstruct() as u64 * n as u64;
	(parts.saturating_sub(n as u64).div_ceil(1_000_000_000)).max(1) as usize
}

/// A missed-reveal count `(window start, count)` if its window still runs at `now`.
fn current_window<B: Saturating + PartialOrd + Copy>(
	entry: Option<(B, MissCount)>,
	now: B,
	window: B,
) -> Option<(B, MissCount)> {
	entry.filter(|(start, _)| now < start.saturating_add(window))
}

impl<T: Config> OnTaskSettled<T::AccountId> for Pallet<T> {
	fn on_task_settled(
		task: u64,
		model: Option<[u8; 32]>,
		aggregate: Option<&Answer>,
		outcomes: &[(T::AccountId, Participation)],
	) {
		let now = frame_system::Pallet::<T>::block_number();
		HookWork::<T>::mutate(|(block, finished, _)| {
			if *block != now {
				*block = now;
				*finished = 0;
			}
			finished.saturating_inc();
		});
		Self::count_misses(outcomes, now);
		if let Some(info) = Audits::<T>::take(task) {
			HookWork::<T>::mutate(|(_, _, judged)| judged.saturating_inc());
			Self::conclude_audit(task, info);
			return;
		}
		let (Some(_), Some(_)) = (model, aggregate) else { return };
		let agreed = outcomes.iter().filter(|(_, p)| *p == Participation::Agreed).count();
		let disputed = outcomes.iter().any(|(_, p)| *p == Participation::Outlier)
			|| agreed * 3 < outcomes.len() * 2;
		let config = Configuration::<T>::get();
		let sampled = disputed
			|| Self::seed(now.saturating_sub(1u32.into()), b"sample", task).is_some_and(|seed| {
				let r = u32::from_le_bytes([seed[0], seed[1], seed[2], seed[3]]);
				(r % 1_000_000_000) < config.sample_share.deconstruct()
			});
		if !sampled {
			return;
		}
		if let Err(error) = Self::open_audit(task, None, None, disputed) {
			Self::deposit_event(Event::AuditSkipped { task, error });
		}
	}
}

impl<T: Config> Pallet<T> {
	/// Opens an audit of `task` for `report` (or a sampled one), its panel excluding `exclude`.
	pub(crate) fn open_audit(
		task: u64,
		report: Option<ReportId>,
		exclude: Option<T::AccountId>,
		disputed: bool,
	) -> Result<u64, DispatchError> {
		frame_support::ensure!(
			Audits::<T>::count() < T::MaxOpenAudits::get(),
			Error::<T>::TooManyAudits
		);
		let panel = Configuration::<T>::get().panel_size;
		let audit = T::Tasks::create_audit(task, panel, exclude)?;
		Audits::<T>::insert(audit, AuditInfo { of: task, report });
		Self::deposit_event(Event::AuditOpened { task, audit, report, disputed });
		Ok(audit)
	}

	/// Counts the missed reveals (not revealed, not committed) of a finished task in each
	/// operator's current window.
	fn count_misses(outcomes: &[(T::AccountId, Participation)], now: BlockNumberFor<T>) {
		let window = Configuration::<T>::get().miss_window;
		for (who, p) in outcomes {
			if !matches!(p, Participation::NotRevealed | Participation::NotCommitted) {
				continue;
			}
			Misses::<T>::mutate(who, |entry| {
				let (start, count) = current_window(*entry, now, window).unwrap_or((now, 0));
				*entry = Some((start, count.saturating_add(1)));
			});
		}
	}

	/// Missed reveals of `who` in its window still running at `now`.
	pub fn misses(who: &T::AccountId) -> MissCount {
		let now = frame_system::Pallet::<T>::block_number();
		let window = Configuration::<T>::get().miss_window;
		current_window(Misses::<T>::get(who), now, window).map_or(0, |(_, count)| count)
	}

	/// Judges a finished audit: every operator of the task (sampled) or the accused (report).
	fn conclude_audit(audit: u64, info: AuditInfo) {
		let config = Configuration::<T>::get();
		let needed = quorum(config.panel_quorum, config.panel_size);
		let original = T::Tasks::finished(info.of);
		let panel = T::Tasks::finished(audit);
		let tolerance = original.as_ref().and_then(|o| o.model).and_then(|m| Self::tolerance(&m));
		// The panel members that revealed, and among them the agreeing re-executions: members
		// whose answer is within the audit's aggregate (none when the audit failed: below
		// quorum, no majority, no panel).
		let revealed: Vec<(&T::AccountId, Participation, &Answer)> = panel
			.iter()
			.flat_map(|p| p.answers.iter())
			.filter_map(|(w, part, a)| a.as_ref().map(|a| (w, *part, a)))
			.collect();
		let answered = revealed.len() as u8;
		let agreeing: Vec<(&T::AccountId, &Answer)> = revealed
			.iter()
			.filter(|(_, part, _)| *part == Participation::Agreed)
			.map(|(w, _, a)| (*w, *a))
			.collect();
		// The judgement of `answer`: agreeing members beyond its tolerance (ayes), agreeing
		// members within it, and whether any member that revealed is within it (a veto).
		let judge = |answer: &Answer| -> (Vec<T::AccountId>, Vec<T::AccountId>, bool) {
			let Some((tolerance, classes)) = tolerance else {
				return (Vec::new(), Vec::new(), true);
			};
			let (ayes, nays): (Vec<_>, Vec<_>) =
				agreeing.iter().partition(|(_, mine)| beyond(answer, mine, tolerance, classes));
			let vetoed =
				revealed.iter().any(|(_, _, mine)| !beyond(answer, mine, tolerance, classes));
			(
				ayes.into_iter().map(|(w, _)| (*w).clone()).collect(),
				nays.into_iter().map(|(w, _)| (*w).clone()).collect(),
				vetoed,
			)
		};
		let mut offenders = Vec::new();
		match info.report {
			None => {
				for (who, _, answer) in original.iter().flat_map(|o| o.answers.iter()) {
					let Some(answer) = answer else { continue };
					let (ayes, _, vetoed) = judge(answer);
					if ayes.len() >= needed && !vetoed {
						offenders.push(who.clone());
						Self::confirm_offence(
							who,
							OffenceKind::OutOfTolerance,
							Some(info.of),
							None,
							ayes,
						);
					}
				}
			}
			Some(id) => {
				let Some(mut report) = Reports::<T>::get(id) else { return };
				let answer = original.as_ref().and_then(|o| o.answer_of(&report.accused));
				let (ayes, nays, vetoed) =
					answer.map(judge).unwrap_or((Vec::new(), Vec::new(), true));
				let verdict = if ayes.len() >= needed && !vetoed {
					offenders.push(report.accused.clone());
					Verdict::Confirmed
				} else if nays.len() >= needed {
					Verdict::Rejected
				} else {
					Verdict::Inconclusive
				};
				report.ayes = BoundedVec::truncate_from(ayes);
				report.nays = BoundedVec::truncate_from(nays);
				Self::judge(id, report, verdict);
			}
		}
		Self::deposit_event(Event::AuditConcluded { audit, task: info.of, answered, offenders });
	}
}

use frame_support::BoundedVec;
use frame_system::pallet_prelude::BlockNumberFor;
