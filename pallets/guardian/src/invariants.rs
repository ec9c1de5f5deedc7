//! The pallet's invariants, checked after every unit test and every simulated round, and by
//! try-runtime:
//! - every reporter's held report bonds equal the bonds of its open reports;
//! - no panel contains the accused: a vote's panel never, an audit task's operators never
//!   include the audited task's operators or the reporter;
//! - open reports, their one-per-offence index, the queue and the open audits agree and are
//!   within their bounds;
//! - each operator's count of confirmed offences equals its offences not cancelled (while its
//!   history is not truncated).

use crate::*;
use frame_support::traits::{fungible::InspectHold, Get};
use noderr_primitives::TaskResults;

impl<T: Config> Pallet<T> {
	/// Checks every invariant.
	pub fn do_try_state() -> Result<(), &'static str> {
		let reason = HoldReason::ReportBond.into();
		for (reporter, bonds) in Self::bonds_by_reporter() {
			if T::Currency::balance_on_hold(&reason, &reporter) != bonds {
				return Err("a reporter's held bonds differ from its open reports' bonds");
			}
		}
		let mut count = 0u32;
		for (id, r) in Reports::<T>::iter() {
			count += 1;
			if r.panel.contains(&r.accused) || r.panel.contains(&r.reporter) {
				return Err("a panel contains the accused or the reporter");
			}
			if OpenReport::<T>::get(&r.accused, (r.kind, r.task)) != Some(id) {
				return Err("an open report is not indexed under its offence");
			}
			match r.judging {
				Judging::AwaitingPanel { at } | Judging::Voting { until: at } => {
					if at <= frame_system::Pallet::<T>::block_number()
						|| !Queue::<T>::get(at).contains(&id)
					{
						return Err("a report's panel draw or vote end is not queued ahead");
					}
				}
				Judging::ReExecution { audit } => {
					if Audits::<T>::get(audit).and_then(|a| a.report) != Some(id) {
						return Err("a report judged by re-execution has no audit");
					}
				}
			}
			if r.ayes.iter().chain(r.nays.iter()).any(|v| !r.panel.contains(v)) {
				return Err("a vote from outside the panel");
			}
		}
		if count != Reports::<T>::count() || count > T::MaxOpenReports::get() {
			return Err("the report count is wrong or beyond its bound");
		}
		if OpenReport::<T>::iter().count() as u32 != count {
			return Err("the offence index holds closed reports");
		}
		let mut audits = 0u32;
		for (audit, info) in Audits::<T>::iter() {
			audits += 1;
			let panel = T::Tasks::assigned(audit);
			let mut excluded: alloc::vec::Vec<T::AccountId> = T::Tasks::finished(info.of)
				.map(|f| f.answers.into_iter().map(|(w, _, _)| w).collect())
				.unwrap_or_default();
			if let Some(r) = info.report.and_then(Reports::<T>::get) {
				excluded.push(r.accused);
				excluded.push(r.reporter);
			}
			if panel.iter().any(|p| excluded.contains(p)) {
				return Err("an audit's panel contains an operator of the task or the reporter");
			}
		}
		if audits != Audits::<T>::count() || audits > T::MaxOpenAudits::get() {
			return Err("the audit count is wrong or beyond its bound");
		}
		for (who, history) in Offences::<T>::iter() {
			let live = history.iter().filter(|o| !o.cancelled).count() as u32;
			if !history.is_full() && ConfirmedCount::<T>::get(&who) != live {
				return Err("an operator's confirmed count differs from its offences");
			}
		}
		Ok(())
	}
}
