//! What the guardian pallet reads of finished tasks, and how it asks for an audit: a settled
//! model task re-run by a panel of GUARDIANs through the usual assignment and commit-reveal
//! (`create.rs`, `assign.rs`).

use crate::*;
use alloc::vec::Vec;
use noderr_primitives::{Answer, FinishedTask, TaskResults};
use sp_runtime::DispatchError;

impl<T: Config> TaskResults<T::AccountId> for Pallet<T> {
	fn strikes(who: &T::AccountId) -> u32 {
		Stats::<T>::get(who).strikes
	}

	fn revealed(task: u64, who: &T::AccountId) -> Option<Answer> {
		Records::<T>::get(task)?
			.operators
			.into_iter()
			.find(|o| &o.who == who)
			.and_then(|o| o.answer)
	}

	fn finished(task: u64) -> Option<FinishedTask<T::AccountId>> {
		let record = Records::<T>::get(task)?;
		let aggregate = match &record.outcome {
			Outcome::Settled { answer, .. } => Some(answer.clone()),
			_ => None,
		};
		Some(FinishedTask {
			model: record.model,
			aggregate,
			answers: record
				.operators
				.into_iter()
				.map(|o| (o.who, o.participation, o.answer))
				.collect(),
			audit_of: record.audit_of,
		})
	}

	fn operator_of(worker: &T::AccountId) -> Option<T::AccountId> {
		OperatorOf::<T>::get(worker)
	}

	fn create_audit(
		task: u64,
		panel: u8,
		exclude: Option<T::AccountId>,
	) -> Result<u64, DispatchError> {
		Self::do_create_audit(task, panel, exclude)
	}

	fn assigned(task: u64) -> Vec<T::AccountId> {
		Tasks::<T>::get(task)
			.map(|t| t.assigned.into_iter().map(|a| a.who).collect())
			.unwrap_or_default()
	}
}
