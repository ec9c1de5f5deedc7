//! Task creation: by a requester with a held fee, and by the feeds' schedules in
//! `on_initialize` (an observation every `every` blocks; a task per scheduled model on each new
//! bar, created when the observation settles).

use crate::*;
use frame_support::{
	pallet_prelude::*,
	traits::{fungible::MutateHold, tokens::Precision},
};
use noderr_primitives::{InputSpec, ModelProvider, ModelState};
use sp_runtime::traits::{Saturating, Zero};

/// Blocks ahead a deadline may spill into when its own block's queue is full.
const SPILL: u32 = 16;

impl<T: Config> Pallet<T> {
	/// Creates a requester's task: checks the model and the input, holds the fee, queues the
	/// assignment.
	pub(crate) fn do_create_task(
		who: T::AccountId,
		model: [u8; 32],
		input: TaskInputOf<T>,
		fee: BalanceOf<T>,
	) -> Result<TaskId, DispatchError> {
		let (class, input) = Self::check_model_input(&model, input)?;
		let config = Configuration::<T>::get();
		ensure!(fee >= config.classes[class.index()].min_fee, Error::<T>::FeeTooLow);
		// Find the assignment slot before holding anything, so that a refusal changes nothing.
		let assign_at = Self::free_deadline(Self::assignment_block())?;
		T::Currency::hold(&HoldReason::TaskFee.into(), &who, fee)
			.map_err(|_| Error::<T>::CannotPayFee)?;
		Ok(Self::insert_task(class, Some(model), input, Some(who), fee, assign_at, None))
	}

	/// Creates an audit of settled model task `of`: the same model on the same input, assigned
	/// like any task (after the delay, from the beacon) but to `panel` GUARDIANs serving the
	/// model who were not among `of`'s operators and are not `exclude`. No fee; the panel is paid
	/// the per-task emission with the GUARDIAN multiplier, and strikes as any worker would.
	pub(crate) fn do_create_audit(
		of: TaskId,
		panel: u8,
		exclude: Option<T::AccountId>,
	) -> Result<TaskId, DispatchError> {
		let record = Records::<T>::get(of).ok_or(Error::<T>::UnknownTask)?;
		ensure!(record.audit_of.is_none(), Error::<T>::AuditOfAudit);
		ensure!(matches!(record.outcome, Outcome::Settled { .. }), Error::<T>::NotSettled);
		let model = record.model.ok_or(Error::<T>::NotAuditable)?;
		ensure!(panel > 0 && panel as u32 <= T::MaxAssigned::get(), Error::<T>::InvalidPanel);
		// The model may be deprecated since (still served); retired is gone.
		let spec = T::Models::model(&model).ok_or(Error::<T>::UnknownModel)?;
		if let TaskInput::History { feed, end } = &record.input {
			let needed = Self::bars_needed(&spec.input).unwrap_or(0);
			ensure!(Self::window_available(*feed, *end, needed), Error::<T>::InsufficientHistory);
		}
		let assign_at = Self::free_deadline(Self::assignment_block())?;
		let audit = AuditSpec { of, panel, exclude };
		Ok(Self::insert_task(
			record.class,
			Some(model),
			record.input,
			None,
			Zero::zero(),
			assign_at,
			Some(audit),
		))
	}

	/// The class of work of a live model and the input checked against what it reads (a
	/// history reference is completed to the feed's newest bar).
	pub(crate) fn check_model_input(
		model: &[u8; 32],
		input: TaskInputOf<T>,
	) -> Result<(TaskClass, TaskInputOf<T>), DispatchError> {
		let spec = T::Models::model(model).ok_or(Error::<T>::UnknownModel)?;
		ensure!(spec.state == ModelState::Live, Error::<T>::ModelNotActive);
		let class = TaskClass::of_model(&spec.kind, &spec.input);
		let input = match (&spec.input, input) {
			(InputSpec::Text { max_bytes }, TaskInput::Text(text)) => {
				ensure!(!text.is_empty(), Error::<T>::EmptyText);
				ensure!(text.len() as u32 <= *max_bytes, Error::<T>::TextTooLong);
				TaskInput::Text(text)
			}
			(
				InputSpec::Features { .. } | InputSpec::Bars { .. },
				TaskInput::History { feed, .. },
			) => {
				ensure!(Feeds::<T>::contains_key(feed), Error::<T>::UnknownFeed);
				let end = Self::newest_bar(feed).ok_or(Error::<T>::InsufficientHistory)?;
				let needed = Self::bars_needed(&spec.input).unwrap_or(0);
				ensure!(Self::window_available(feed, end, needed), Error::<T>::InsufficientHistory);
				TaskInput::History { feed, end }
			}
			_ => return Err(Error::<T>::InputMismatch.into()),
		};
		Ok((class, input))
	}

	/// The block in which a task created now is assigned: after the beacon of
	/// `now + assignment_delay` exists.
	pub(crate) fn assignment_block() -> BlockNumberFor<T> {
		let config = Configuration::<T>::get();
		frame_system::Pallet::<T>::block_number()
			.saturating_add(config.assignment_delay)
			.saturating_add(1u32.into())
	}

	/// The first block from `at` on whose deadline queue has room.
	pub(crate) fn free_deadline(at: BlockNumberFor<T>) -> Result<BlockNumberFor<T>, DispatchError> {
		let mut block = at;
		for _ in 0..SPILL {
			if (Deadlines::<T>::decode_len(block).unwrap_or(0) as u32)
				< T::MaxDeadlinesPerBlock::get()
			{
				return Ok(block);
			}
			block.saturating_inc();
		}
		Err(Error::<T>::Busy.into())
	}

	/// Queues `task`'s deadline at `at` or, when that block is full, the next block with room.
	/// Returns the block used.
	pub(crate) fn queue_deadline(
		task: TaskId,
		at: BlockNumberFor<T>,
	) -> Result<BlockNumberFor<T>, DispatchError> {
		let block = Self::free_deadline(at)?;
		Deadlines::<T>::try_mutate(block, |q| q.try_push(task)).map_err(|_| Error::<T>::Busy)?;
		Ok(block)
	}

	/// Stores a new task waiting for assignment at `assign_at` (a block with room, from
	/// [`Self::free_deadline`]) and emits its event.
	fn insert_task(
		class: TaskClass,
		model: Option<[u8; 32]>,
		input: TaskInputOf<T>,
		requester: Option<T::AccountId>,
		fee: BalanceOf<T>,
		assign_at: BlockNumberFor<T>,
		audit: Option<AuditSpec<T::AccountId>>,
	) -> TaskId {
		let id = NextTaskId::<T>::mutate(|n| {
			let id = *n;
			*n = n.saturating_add(1);
			id
		});
		let audit_of = audit.as_ref().map(|a| a.of);
		// `assign_at` came from free_deadline in this same call: the push cannot fail.
		let _ = Deadlines::<T>::try_mutate(assign_at, |q| q.try_push(id));
		Tasks::<T>::insert(
			id,
			crate::types::Task {
				class,
				model,
				input,
				requester: requester.clone(),
				fee,
				created: frame_system::Pallet::<T>::block_number(),
				phase: Phase::Waiting { at: assign_at },
				assigned: BoundedVec::new(),
				committed: 0,
				revealed: 0,
				audit,
			},
		);
		Self::deposit_event(Event::TaskCreated {
			task: id,
			class,
			model,
			requester,
			fee,
			assign_at,
			audit_of,
		});
		id
	}

	/// Scheduled work of this block: an observation of each feed whose schedule is due.
	/// Bounded by `MaxFeeds`.
	pub(crate) fn run_schedules(now: BlockNumberFor<T>) -> Weight {
		let mut created = 0u32;
		for (feed, schedule) in Schedules::<T>::iter() {
			if !(now % schedule.every).is_zero() {
				continue;
			}
			let Some(f) = Feeds::<T>::get(feed) else { continue };
			// One observation at a time per feed: the next bar waits for this one's.
			if Observing::<T>::contains_key(feed) {
				continue;
			}
			if let Ok(at) = Self::free_deadline(Self::assignment_block()) {
				let input = TaskInput::Observe { feed, bar_time: f.next_bar_time };
				let id = Self::insert_task(
					TaskClass::Observation,
					None,
					input,
					None,
					Zero::zero(),
					at,
					None,
				);
				Observing::<T>::insert(feed, id);
				created += 1;
			}
		}
		T::WeightInfo::run_schedules(created)
	}

	/// After a feed gained a bar: a task for each model its schedule lists, on the window
	/// ending at that bar. A model that cannot run (retired, deprecated, history too short)
	/// is skipped with an event.
	pub(crate) fn create_scheduled_tasks(feed: FeedId, end: u32) {
		let Some(schedule) = Schedules::<T>::get(feed) else { return };
		for model in schedule.models {
			let created = Self::check_model_input(&model, TaskInput::History { feed, end })
				.and_then(|(class, input)| {
					let at = Self::free_deadline(Self::assignment_block())?;
					Ok(Self::insert_task(class, Some(model), input, None, Zero::zero(), at, None))
				});
			if let Err(error) = created {
				Self::deposit_event(Event::ScheduledTaskSkipped { feed, model, error });
			}
		}
	}

	/// Releases a task's fee back to its requester (a failed task).
	pub(crate) fn refund(task: &TaskOf<T>) {
		if let Some(requester) = &task.requester {
			if !task.fee.is_zero() {
				let _ = T::Currency::release(
					&HoldReason::TaskFee.into(),
					requester,
					task.fee,
					Precision::BestEffort,
				);
			}
		}
	}
}
