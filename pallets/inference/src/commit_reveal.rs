//! Commit, then reveal. A commitment binds the operator (copying another's commitment is
//! useless), the task and a secret salt; the reveal must hash to it. The commit phase closes
//! when every assigned operator committed or its window ends, the reveal phase likewise; a task
//! whose operators all revealed settles in the next block.

use crate::*;
use frame_support::pallet_prelude::*;
use noderr_primitives::{commitment, Answer, ModelProvider, TaskKind};
use sp_runtime::traits::Saturating;

impl<T: Config> Pallet<T> {
	fn assigned_index(task: &TaskOf<T>, who: &T::AccountId) -> Option<usize> {
		task.assigned.iter().position(|a| &a.who == who)
	}

	/// Records `operator`'s commitment to `id`.
	pub(crate) fn do_commit(operator: T::AccountId, id: TaskId, c: [u8; 32]) -> DispatchResult {
		let mut task = Tasks::<T>::get(id).ok_or(Error::<T>::UnknownTask)?;
		let now = frame_system::Pallet::<T>::block_number();
		match task.phase {
			Phase::Waiting { .. } => return Err(Error::<T>::NotAssignedYet.into()),
			Phase::Reveal { .. } => return Err(Error::<T>::CommitWindowClosed.into()),
			Phase::Commit { until } => ensure!(now < until, Error::<T>::CommitWindowClosed),
		}
		ensure!(Self::assigned_index(&task, &operator).is_some(), Error::<T>::NotAssigned);
		ensure!(!Commitments::<T>::contains_key(id, &operator), Error::<T>::AlreadyCommitted);
		Commitments::<T>::insert(id, &operator, c);
		task.committed.saturating_inc();
		let everyone = task.committed as usize == task.assigned.len();
		Self::deposit_event(Event::Committed { task: id, operator });
		if everyone {
			Self::open_reveal(id, task, now);
		} else {
			Tasks::<T>::insert(id, task);
		}
		Ok(())
	}

	/// Ends the commit phase (all committed, or its deadline): opens the reveal phase, or fails
	/// the task when nobody committed.
	pub(crate) fn open_reveal(id: TaskId, mut task: TaskOf<T>, now: BlockNumberFor<T>) {
		if task.committed == 0 {
			return Self::fail(id, task, FailureReason::NoCommitments, now);
		}
		let blocks = Configuration::<T>::get().classes[task.class.index()].reveal_blocks;
		let Ok(until) = Self::queue_deadline(id, now.saturating_add(blocks)) else {
			return Self::fail(id, task, FailureReason::Congested, now);
		};
		task.phase = Phase::Reveal { until };
		Tasks::<T>::insert(id, task);
		Self::deposit_event(Event::RevealPhase { task: id, reveal_until: until });
	}

	/// Checks `operator`'s reveal against its commitment and the output specification, and
	/// records it.
	pub(crate) fn do_reveal(
		operator: T::AccountId,
		id: TaskId,
		answer: Answer,
		salt: [u8; 32],
	) -> DispatchResult {
		let mut task = Tasks::<T>::get(id).ok_or(Error::<T>::UnknownTask)?;
		let now = frame_system::Pallet::<T>::block_number();
		match task.phase {
			Phase::Reveal { until } => ensure!(now < until, Error::<T>::NotInRevealPhase),
			_ => return Err(Error::<T>::NotInRevealPhase.into()),
		}
		ensure!(Self::assigned_index(&task, &operator).is_some(), Error::<T>::NotAssigned);
		let c = Commitments::<T>::get(id, &operator).ok_or(Error::<T>::NoCommitment)?;
		ensure!(!Reveals::<T>::contains_key(id, &operator), Error::<T>::AlreadyRevealed);
		ensure!(commitment(id, &operator, &answer, &salt) == c, Error::<T>::CommitmentMismatch);
		ensure!(Self::answer_in_spec(&task, &answer), Error::<T>::AnswerOutOfSpec);
		Reveals::<T>::insert(id, &operator, &answer);
		task.revealed.saturating_inc();
		if task.revealed == task.committed {
			// Everyone who committed revealed: settle in the next block.
			if let Ok(until) = Self::queue_deadline(id, now.saturating_add(1u32.into())) {
				task.phase = Phase::Reveal { until };
			}
		}
		Tasks::<T>::insert(id, task);
		Self::deposit_event(Event::Revealed { task: id, operator, answer });
		Ok(())
	}

	/// Whether `answer` has the shape the task's output specification says: a bar for an
	/// observation, one value per output for a regression, a class index for a classification.
	pub(crate) fn answer_in_spec(task: &TaskOf<T>, answer: &Answer) -> bool {
		let Some(model) = task.model else {
			return Bar::from_answer(0, answer).is_some();
		};
		let Some(spec) = T::Models::model(&model) else { return false };
		match spec.kind {
			TaskKind::Regression { outputs } => answer.len() == outputs as usize,
			TaskKind::Classification { classes } | TaskKind::TextClassification { classes } => {
				answer.len() == 1 && (0..classes as i64).contains(&answer[0])
			}
		}
	}
}
