//! What the runtime API shows: a task's full status, an operator's participation, a feed's
//! newest bars. Plain vectors, so that clients decode them without the runtime's bounds.

use crate::*;
use alloc::vec::Vec;
use codec::{Decode, Encode};
use frame_support::traits::Get;
use scale_info::TypeInfo;

/// A task's input, as clients see it.
#[derive(Clone, PartialEq, Eq, Encode, Decode, TypeInfo, Debug)]
pub enum TaskInputView {
	/// Observe the bar of `feed` opening at `bar_time`.
	Observe {
		/// The feed.
		feed: FeedId,
		/// Open time of the bar.
		bar_time: u64,
	},
	/// The history window of `feed` ending with bar number `end`.
	History {
		/// The feed.
		feed: FeedId,
		/// Newest bar of the window.
		end: u32,
	},
	/// A text.
	Text(Vec<u8>),
}

/// Everything about one task.
#[derive(Clone, PartialEq, Eq, Encode, Decode, TypeInfo, Debug)]
pub enum TaskStatus<AccountId, Balance, BlockNumber> {
	/// Not finished yet.
	Open {
		/// Class of work.
		class: TaskClass,
		/// The model; none for an observation.
		model: Option<[u8; 32]>,
		/// What it computes on.
		input: TaskInputView,
		/// Who pays; none for scheduled work.
		requester: Option<AccountId>,
		/// The fee held.
		fee: Balance,
		/// Block of creation.
		created: BlockNumber,
		/// Phase and its deadline.
		phase: Phase<BlockNumber>,
		/// Assigned operators.
		assigned: Vec<AccountId>,
		/// Those that committed.
		committed: Vec<AccountId>,
		/// Those that revealed.
		revealed: Vec<AccountId>,
	},
	/// Finished, with its record.
	Finished {
		/// Class of work.
		class: TaskClass,
		/// The model; none for an observation.
		model: Option<[u8; 32]>,
		/// Block of creation.
		created: BlockNumber,
		/// Block of settlement.
		settled: BlockNumber,
		/// How it ended.
		outcome: Outcome,
		/// Every assigned operator's part.
		operators: Vec<OperatorOutcome<AccountId, Balance>>,
	},
}

/// What an assigned operator is expected to do next for an open task.
#[derive(Clone, Copy, PartialEq, Eq, Encode, Decode, TypeInfo, Debug)]
pub enum Expected<BlockNumber> {
	/// Commit before block `until`.
	Commit {
		/// First block in which a commit is refused.
		until: BlockNumber,
	},
	/// Reveal before block `until`.
	Reveal {
		/// First block in which a reveal is refused.
		until: BlockNumber,
	},
	/// Nothing: committed, waiting for the reveal phase; or revealed; or missed the commit.
	Wait,
}

/// An operator's participation.
#[derive(Clone, PartialEq, Eq, Encode, Decode, TypeInfo, Debug)]
pub struct OperatorStatus<AccountId, Balance, BlockNumber> {
	/// The worker key its node submits with.
	pub worker: Option<AccountId>,
	/// Block of its latest heartbeat and the keys it declared.
	pub heartbeat: Option<(BlockNumber, Vec<[u8; 32]>)>,
	/// Whether that heartbeat is still in force.
	pub live: bool,
	/// Its running account: assigned, agreed, strikes, rewards.
	pub stats: OperatorStats<Balance>,
	/// Open tasks it is assigned to, with what it should do next.
	pub tasks: Vec<(TaskId, Expected<BlockNumber>)>,
}

/// A task's status with this runtime's types.
pub type TaskStatusOf<T> = TaskStatus<
	<T as frame_system::Config>::AccountId,
	BalanceOf<T>,
	frame_system::pallet_prelude::BlockNumberFor<T>,
>;

impl<T: Config> Pallet<T> {
	/// A task's status: open, finished (while its record is kept), or unknown.
	pub fn task_status(
		id: TaskId,
	) -> Option<TaskStatus<T::AccountId, BalanceOf<T>, BlockNumberFor<T>>> {
		if let Some(t) = Tasks::<T>::get(id) {
			let who = |map_has: &dyn Fn(&T::AccountId) -> bool| {
				t.assigned.iter().filter(|a| map_has(&a.who)).map(|a| a.who.clone()).collect()
			};
			return Some(TaskStatus::Open {
				class: t.class,
				model: t.model,
				input: match &t.input {
					TaskInput::Observe { feed, bar_time } => {
						TaskInputView::Observe { feed: *feed, bar_time: *bar_time }
					}
					TaskInput::History { feed, end } => {
						TaskInputView::History { feed: *feed, end: *end }
					}
					TaskInput::Text(text) => TaskInputView::Text(text.to_vec()),
				},
				requester: t.requester.clone(),
				fee: t.fee,
				created: t.created,
				phase: t.phase,
				assigned: t.assigned.iter().map(|a| a.who.clone()).collect(),
				committed: who(&|w| Commitments::<T>::contains_key(id, w)),
				revealed: who(&|w| Reveals::<T>::contains_key(id, w)),
			});
		}
		Records::<T>::get(id).map(|r| TaskStatus::Finished {
			class: r.class,
			model: r.model,
			created: r.created,
			settled: r.settled,
			outcome: r.outcome,
			operators: r.operators.into_inner(),
		})
	}

	/// The newest settled task of a model, with its status.
	pub fn latest_result(model: [u8; 32]) -> Option<(TaskId, TaskStatusOf<T>)> {
		let id = Latest::<T>::get(model)?;
		Some((id, Self::task_status(id)?))
	}

	/// A price model's live track record (zero counts until a forecast of it was scored).
	pub fn track_record(model: [u8; 32]) -> TrackRecord {
		TrackRecords::<T>::get(model)
	}

	/// A feed's newest `count` bars (at most the history kept), oldest first, with their numbers.
	pub fn newest_bars(feed: FeedId, count: u32) -> Vec<(u32, Bar)> {
		let Some(end) = Self::newest_bar(feed) else { return Vec::new() };
		let kept = BarCount::<T>::get(feed).min(T::HistoryLength::get());
		let count = count.min(kept);
		(end + 1 - count..=end)
			.filter_map(|n| Bars::<T>::get(feed, n % T::HistoryLength::get()).map(|b| (n, b)))
			.collect()
	}

	/// An operator's participation: its worker, heartbeat, account and open tasks. Reads every
	/// open task: for clients, never for the runtime's own logic.
	pub fn operator_status(
		who: T::AccountId,
	) -> OperatorStatus<T::AccountId, BalanceOf<T>, BlockNumberFor<T>> {
		let now = frame_system::Pallet::<T>::block_number();
		let mut tasks = Vec::new();
		for (id, t) in Tasks::<T>::iter() {
			if !t.assigned.iter().any(|a| a.who == who) {
				continue;
			}
			let committed = Commitments::<T>::contains_key(id, &who);
			let revealed = Reveals::<T>::contains_key(id, &who);
			let expected = match t.phase {
				Phase::Commit { until } if !committed => Expected::Commit { until },
				Phase::Reveal { until } if committed && !revealed => Expected::Reveal { until },
				_ => Expected::Wait,
			};
			tasks.push((id, expected));
		}
		tasks.sort_by_key(|(id, _)| *id);
		OperatorStatus {
			worker: WorkerOf::<T>::get(&who),
			heartbeat: Heartbeats::<T>::get(&who).map(|h| (h.at, h.keys.into_inner())),
			live: Self::is_live(&who, now),
			stats: Stats::<T>::get(&who),
			tasks,
		}
	}
}
