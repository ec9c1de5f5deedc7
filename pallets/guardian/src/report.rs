//! Reports: a GUARDIAN accuses an operator with evidence. The evidence is checked before
//! anything is held or stored, so a report that does not check changes nothing.

use crate::*;
use frame_support::{pallet_prelude::*, traits::fungible::MutateHold, BoundedVec};
use noderr_primitives::{TaskResults, Tier, TierProvider};
use sp_runtime::traits::Saturating;

impl<T: Config> Pallet<T> {
	pub(crate) fn do_report(
		reporter: T::AccountId,
		accused: T::AccountId,
		evidence: EvidenceOf<T>,
	) -> DispatchResult {
		ensure!(T::Tiers::tier(&reporter) == Some(Tier::Guardian), Error::<T>::NotGuardian);
		ensure!(reporter != accused, Error::<T>::SelfReport);
		ensure!(Self::is_operator(&accused), Error::<T>::NotOperator);
		let kind = evidence.kind();
		let task = match &evidence {
			Evidence::Equivocation { first, .. } => Some(first.task),
			Evidence::OutOfTolerance { task } => Some(*task),
			Evidence::MissedReveals => None,
			Evidence::InactiveModel { statement } => Some(statement.task),
		};
		ensure!(
			!OpenReport::<T>::contains_key(&accused, (kind, task)),
			Error::<T>::DuplicateReport
		);
		ensure!(
			task.is_none()
				|| !Offences::<T>::get(&accused).iter().any(|o| o.kind == kind && o.task == task),
			Error::<T>::DuplicateReport
		);
		match evidence {
			Evidence::Equivocation { first, second } => {
				ensure!(Self::signed_by(&first, &accused), Error::<T>::BadSignature);
				let differs = match second {
					Some(second) => {
						ensure!(Self::signed_by(&second, &accused), Error::<T>::BadSignature);
						second.task == first.task
							&& (second.answer != first.answer || second.model != first.model)
					}
					None => {
						let revealed =
							T::Tasks::revealed(first.task, &accused).ok_or(Error::<T>::NoAnswer)?;
						revealed != first.answer
					}
				};
				ensure!(differs, Error::<T>::EvidenceDoesNotCheck);
				// Proved: no bond, no vote.
				Self::confirm_offence(&accused, kind, task, None, alloc::vec![reporter.clone()]);
				Ok(())
			}
			Evidence::OutOfTolerance { task } => {
				let finished = T::Tasks::finished(task).ok_or(Error::<T>::UnknownTask)?;
				ensure!(
					finished.audit_of.is_none() && finished.model.is_some(),
					Error::<T>::NotAuditable
				);
				ensure!(finished.aggregate.is_some(), Error::<T>::TaskNotSettled);
				ensure!(finished.answer_of(&accused).is_some(), Error::<T>::NoAnswer);
				let id = Self::open_report(&reporter, &accused, kind, Some(task))?;
				let audit = Self::open_audit(task, Some(id), Some(reporter.clone()), false)?;
				Reports::<T>::mutate(id, |r| {
					if let Some(r) = r {
						r.judging = Judging::ReExecution { audit };
					}
				});
				Ok(())
			}
			Evidence::MissedReveals => {
				ensure!(
					Self::misses(&accused) >= Configuration::<T>::get().miss_threshold,
					Error::<T>::TooFewMisses
				);
				let id = Self::open_report(&reporter, &accused, kind, None)?;
				Self::await_panel(id)
			}
			Evidence::InactiveModel { statement } => {
				ensure!(Self::signed_by(&statement, &accused), Error::<T>::BadSignature);
				let finished = T::Tasks::finished(statement.task).ok_or(Error::<T>::UnknownTask)?;
				let revealed = finished.answer_of(&accused).ok_or(Error::<T>::NoAnswer)?;
				ensure!(
					finished.model.is_some_and(|m| m != statement.model)
						&& *revealed == statement.answer,
					Error::<T>::EvidenceDoesNotCheck
				);
				let id = Self::open_report(&reporter, &accused, kind, task)?;
				Self::await_panel(id)
			}
		}
	}

	/// Holds the bond and stores a new report (judging set by the caller).
	fn open_report(
		reporter: &T::AccountId,
		accused: &T::AccountId,
		kind: OffenceKind,
		task: Option<u64>,
	) -> Result<ReportId, DispatchError> {
		ensure!(Reports::<T>::count() < T::MaxOpenReports::get(), Error::<T>::TooManyReports);
		let bond = Configuration::<T>::get().report_bond;
		T::Currency::hold(&HoldReason::ReportBond.into(), reporter, bond)
			.map_err(|_| Error::<T>::CannotHoldBond)?;
		let id = NextReportId::<T>::mutate(|n| {
			let id = *n;
			n.saturating_inc();
			id
		});
		let now = frame_system::Pallet::<T>::block_number();
		Reports::<T>::insert(
			id,
			Report {
				reporter: reporter.clone(),
				accused: accused.clone(),
				kind,
				task,
				bond,
				filed: now,
				judging: Judging::AwaitingPanel { at: now.saturating_add(1u32.into()) },
				panel: BoundedVec::new(),
				ayes: BoundedVec::new(),
				nays: BoundedVec::new(),
			},
		);
		OpenReport::<T>::insert(accused, (kind, task), id);
		Self::deposit_event(Event::Reported {
			report: id,
			reporter: reporter.clone(),
			accused: accused.clone(),
			kind,
			task,
			bond,
		});
		Ok(id)
	}

	/// Queues a report's panel draw for the next block with room: its beacon is unknown now.
	fn await_panel(id: ReportId) -> DispatchResult {
		let next = frame_system::Pallet::<T>::block_number().saturating_add(1u32.into());
		let at = Self::enqueue(id, next)?;
		Reports::<T>::mutate(id, |r| {
			if let Some(r) = r {
				r.judging = Judging::AwaitingPanel { at };
			}
		});
		Ok(())
	}
}
