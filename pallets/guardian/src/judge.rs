//! Verdicts and their consequences: report bonds returned or forfeited, offences recorded and
//! slashed (deferred and cancellable, escalating with repeat offences, suspension past a
//! threshold), and the per-block queue of panel draws and vote ends.

use crate::*;
use alloc::{collections::BTreeMap, vec::Vec};
use frame_support::{
	pallet_prelude::*,
	traits::{
		fungible::MutateHold,
		tokens::{Fortitude, Precision, Restriction},
	},
};
use noderr_primitives::{Slash, SlashId, Tier, TierProvider};
use sp_runtime::{
	traits::{Saturating, Zero},
	Perbill,
};

/// Blocks ahead a queued deadline may spill into when its own block's queue is full.
const SPILL: u32 = 16;

impl<T: Config> Pallet<T> {
	/// The fraction slashed for `kind` after `prior` confirmed offences: the base fraction plus
	/// `escalation` times the base per earlier offence, at most everything.
	pub fn slash_fraction(config: &GuardianConfigOf<T>, kind: OffenceKind, prior: u32) -> Perbill {
		let base = config.slash[kind.index()].deconstruct() as u64;
		let step = config.escalation.mul_floor(base);
		let parts = base.saturating_add(step.saturating_mul(prior as u64));
		Perbill::from_parts(parts.min(1_000_000_000) as u32)
	}

	/// Records a confirmed offence and schedules its slash; `rewarded` share the reporters'
	/// part (duplicates and the offender dropped).
	pub(crate) fn confirm_offence(
		who: &T::AccountId,
		kind: OffenceKind,
		task: Option<u64>,
		report: Option<ReportId>,
		rewarded: Vec<T::AccountId>,
	) {
		let config = Configuration::<T>::get();
		let prior = ConfirmedCount::<T>::get(who);
		let fraction = Self::slash_fraction(&config, kind, prior);
		let mut shared: Vec<T::AccountId> = Vec::with_capacity(rewarded.len());
		for r in rewarded {
			if &r != who && !shared.contains(&r) {
				shared.push(r);
			}
		}
		let slash = T::Slash::schedule_slash(who, fraction, shared.clone(), config.reporter_share)
			.map_err(|e| log::warn!(target: "guardian", "slash of an offence not scheduled: {e:?}"))
			.ok();
		let now = frame_system::Pallet::<T>::block_number();
		Offences::<T>::mutate(who, |history| {
			if history.is_full() {
				history.remove(0);
			}
			let _ = history.try_push(Offence {
				kind,
				task,
				at: now,
				fraction,
				slash,
				report,
				cancelled: false,
			});
		});
		if kind == OffenceKind::MissedReveals {
			Misses::<T>::remove(who);
		}
		let count = ConfirmedCount::<T>::mutate(who, |n| {
			n.saturating_inc();
			*n
		});
		Self::deposit_event(Event::OffenceConfirmed {
			who: who.clone(),
			kind,
			task,
			fraction,
			slash,
			rewarded: shared,
		});
		if config.suspend_after > 0
			&& count >= config.suspend_after
			&& T::Slash::suspend(who).is_ok()
		{
			Self::deposit_event(Event::OperatorSuspended { who: who.clone(), offences: count });
		}
	}

	/// Closes a report with its verdict: bond, offence, events.
	pub(crate) fn judge(id: ReportId, report: ReportOf<T>, verdict: Verdict) {
		Reports::<T>::remove(id);
		OpenReport::<T>::remove(&report.accused, (report.kind, report.task));
		let reason = HoldReason::ReportBond.into();
		let (mut returned, mut forfeited) = (Zero::zero(), Zero::zero());
		match verdict {
			Verdict::Rejected => {
				let moved = T::Currency::transfer_on_hold(
					&reason,
					&report.reporter,
					&T::Treasury::get(),
					report.bond,
					Precision::BestEffort,
					Restriction::Free,
					Fortitude::Force,
				);
				match moved {
					Ok(amount) => forfeited = amount,
					// The treasury cannot receive it: burn rather than return a false report's bond.
					Err(_) => {
						forfeited = T::Currency::burn_held(
							&reason,
							&report.reporter,
							report.bond,
							Precision::BestEffort,
							Fortitude::Force,
						)
						.unwrap_or_else(|_| Zero::zero())
					}
				}
			}
			Verdict::Confirmed | Verdict::Inconclusive => {
				returned = T::Currency::release(
					&reason,
					&report.reporter,
					report.bond,
					Precision::BestEffort,
				)
				.unwrap_or_else(|_| Zero::zero());
			}
		}
		Self::deposit_event(Event::ReportJudged {
			report: id,
			verdict,
			ayes: report.ayes.len() as u8,
			nays: report.nays.len() as u8,
			bond_returned: returned,
			bond_forfeited: forfeited,
		});
		if verdict == Verdict::Confirmed {
			let mut rewarded = alloc::vec![report.reporter.clone()];
			rewarded.extend(report.ayes.iter().cloned());
			Self::confirm_offence(&report.accused, report.kind, report.task, Some(id), rewarded);
		}
	}

	/// Queues report `id` at `at` or the next block with room; the block used.
	pub(crate) fn enqueue(
		id: ReportId,
		at: BlockNumberFor<T>,
	) -> Result<BlockNumberFor<T>, DispatchError> {
		let mut block = at;
		for _ in 0..SPILL {
			if Queue::<T>::mutate(block, |q| q.try_push(id).is_ok()) {
				return Ok(block);
			}
			block.saturating_inc();
		}
		Err(Error::<T>::Busy.into())
	}

	/// Handles the reports queued for `now`: draws panels, tallies votes that end.
	pub(crate) fn process_queue(now: BlockNumberFor<T>) -> Weight {
		let queue = Queue::<T>::take(now);
		let mut weight = T::DbWeight::get().reads_writes(1, 1);
		for id in queue {
			// Judged early, or moved: nothing to do.
			let Some(report) = Reports::<T>::get(id) else { continue };
			match report.judging {
				Judging::AwaitingPanel { at } if at == now => {
					weight.saturating_accrue(T::WeightInfo::draw_panel(T::MaxGuardians::get()));
					Self::draw_panel(id, report, now);
				}
				Judging::Voting { until } if until == now => {
					weight.saturating_accrue(T::WeightInfo::tally(T::MaxPanel::get()));
					let verdict = Self::verdict_of(&report);
					Self::judge(id, report, verdict);
				}
				_ => {}
			}
		}
		weight
	}

	/// The verdict of a vote's tally: the quorum of the panel size confirms or rejects.
	pub(crate) fn verdict_of(report: &ReportOf<T>) -> Verdict {
		let config = Configuration::<T>::get();
		let needed = crate::audit::quorum(config.panel_quorum, config.panel_size);
		if report.ayes.len() >= needed {
			Verdict::Confirmed
		} else if report.nays.len() >= needed {
			Verdict::Rejected
		} else {
			Verdict::Inconclusive
		}
	}

	/// Draws a report's voting panel: `panel_size` GUARDIANs other than the accused and the
	/// reporter, uniformly from the beacon after the report's block.
	fn draw_panel(id: ReportId, mut report: ReportOf<T>, now: BlockNumberFor<T>) {
		let config = Configuration::<T>::get();
		let mut candidates: Vec<T::AccountId> = T::Tiers::operators(Tier::Guardian)
			.into_iter()
			.filter(|g| *g != report.accused && *g != report.reporter)
			.collect();
		let seed = Self::seed(now.saturating_sub(1u32.into()), b"panel", id as u64);
		let mut panel = Vec::new();
		if let Some(seed) = seed {
			let want = (config.panel_size as u32).min(T::MaxPanel::get()) as usize;
			let mut n = 0u32;
			while panel.len() < want && !candidates.is_empty() {
				use codec::Encode;
				use sp_runtime::traits::{BlakeTwo256, Hash};
				let h = BlakeTwo256::hash(&(seed, n).encode());
				n += 1;
				let r = u64::from_le_bytes(h.0[..8].try_into().expect("8 bytes"));
				let i = (r % candidates.len() as u64) as usize;
				panel.push(candidates.swap_remove(i));
			}
		}
		if panel.is_empty() {
			return Self::judge(id, report, Verdict::Inconclusive);
		}
		let until = match Self::enqueue(id, now.saturating_add(config.vote_window)) {
			Ok(until) => until,
			Err(_) => return Self::judge(id, report, Verdict::Inconclusive),
		};
		report.panel = BoundedVec::truncate_from(panel.clone());
		report.judging = Judging::Voting { until };
		Reports::<T>::insert(id, report);
		Self::deposit_event(Event::PanelDrawn { report: id, panel, until });
	}

	/// A panel member's vote; the report is judged at once when the vote is decided.
	pub(crate) fn do_vote(voter: T::AccountId, id: ReportId, confirm: bool) -> DispatchResult {
		let Some(mut report) = Reports::<T>::get(id) else {
			return Err(if id < NextReportId::<T>::get() {
				Error::<T>::VoteClosed
			} else {
				Error::<T>::UnknownReport
			}
			.into());
		};
		let Judging::Voting { until } = report.judging else {
			return Err(Error::<T>::NotVoting.into());
		};
		let now = frame_system::Pallet::<T>::block_number();
		ensure!(now < until, Error::<T>::VoteClosed);
		ensure!(report.panel.contains(&voter), Error::<T>::NotOnPanel);
		ensure!(
			!report.ayes.contains(&voter) && !report.nays.contains(&voter),
			Error::<T>::AlreadyVoted
		);
		// Panel members are distinct: each list has room for all of them.
		let pushed = if confirm {
			report.ayes.try_push(voter.clone())
		} else {
			report.nays.try_push(voter.clone())
		};
		ensure!(pushed.is_ok(), Error::<T>::AlreadyVoted);
		Self::deposit_event(Event::Voted { report: id, voter, confirm });
		match Self::verdict_of(&report) {
			Verdict::Inconclusive => Reports::<T>::insert(id, report),
			decided => Self::judge(id, report, decided),
		}
		Ok(())
	}

	/// Governance cancels a confirmed offence's pending slash.
	pub(crate) fn do_cancel(who: T::AccountId, slash: SlashId) -> DispatchResult {
		Offences::<T>::try_mutate(&who, |history| -> DispatchResult {
			let offence = history
				.iter_mut()
				.find(|o| o.slash == Some(slash))
				.ok_or(Error::<T>::UnknownOffence)?;
			ensure!(!offence.cancelled && T::Slash::is_pending(slash), Error::<T>::SlashNotPending);
			T::Slash::cancel_slash(slash)?;
			offence.cancelled = true;
			Ok(())
		})?;
		ConfirmedCount::<T>::mutate_exists(&who, |n| {
			let left = n.unwrap_or(0).saturating_sub(1);
			*n = (left > 0).then_some(left);
		});
		Self::deposit_event(Event::OffenceCancelled { who, slash });
		Ok(())
	}

	/// Open reports' bonds per reporter.
	pub(crate) fn bonds_by_reporter() -> BTreeMap<T::AccountId, BalanceOf<T>> {
		let mut bonds = BTreeMap::new();
		for (_, r) in Reports::<T>::iter() {
			let e = bonds.entry(r.reporter.clone()).or_insert_with(Zero::zero);
			*e = r.bond.saturating_add(*e);
		}
		bonds
	}
}
