//! # Inference tasks
//!
//! The network's core loop: tasks go in, one aggregated answer comes out, operators are paid by
//! tier. One task's life, a file per step:
//!
//! 1. `create.rs`: a requester creates a task for a live registered model and holds a fee, or
//!    a governance schedule creates feed observations and, on each new bar, model tasks on the
//!    price history (`feeds.rs` keeps that history: a bounded ring of aggregated bars per feed).
//! 2. `assign.rs`: `assignment_delay` blocks later, k operators are drawn from those whose
//!    latest heartbeat lists the task's model, with the chain's beacon after the creation block
//!    plus the delay ([`noderr_primitives::Beacon`]): nobody knew it when the task was created,
//!    and a block author chooses among at most 2^j seeds by withholding j of those blocks. The
//!    draw reads O(k) storage items, never the whole operator set.
//! 3. `commit_reveal.rs`: each assigned operator's worker commits
//!    [`noderr_primitives::commitment`] of its answer, then reveals answer and salt.
//! 4. `settle.rs`: when the reveal phase ends (at once when everyone was prompt), the reveals
//!    are aggregated (`aggregate.rs`: stake-weighted median per field, or stake-weighted
//!    plurality), checked against quorum, recorded in a bounded history and reported to
//!    [`Config::OnSettled`].
//! 5. `rewards.rs`: the fee and the per-task emission are split among the agreeing operators in
//!    proportion to their tier multipliers; the others get a strike.
//! 6. `score.rs`: a settled price forecast waits for the bar it forecast; when the bar arrives,
//!    the model's Gaussian log-likelihood of it joins the model's track record, next to a random
//!    walk's.
//!
//! Deadlines are queued per block (`Deadlines`), never found by scanning; a full block's queue
//! spills into the next. Invariants are in `invariants.rs`.

#![cfg_attr(not(feature = "std"), no_std)]
#![deny(missing_docs)]

extern crate alloc;

pub use offchain::WorkerKeys;
pub use pallet::*;
pub use submit::*;
pub use types::*;
pub use view::*;
pub use weights::WeightInfo;

pub mod aggregate;
mod assign;
mod audit;
#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
mod commit_reveal;
mod create;
mod feeds;
mod invariants;
#[cfg(test)]
mod mock;
pub mod offchain;
mod rewards;
pub mod score;
mod settle;
mod submit;
#[cfg(test)]
mod tests;
pub mod types;
mod view;
pub mod weights;

use frame_support::traits::fungible;
use frame_system::pallet_prelude::BlockNumberFor;

/// Balance type of the pallet's currency.
pub type BalanceOf<T> =
	<<T as Config>::Currency as fungible::Inspect<<T as frame_system::Config>::AccountId>>::Balance;
/// The configuration record with this runtime's types.
pub type InferenceConfigOf<T> = InferenceConfig<BalanceOf<T>, BlockNumberFor<T>>;
/// A feed with this runtime's bounds.
pub type FeedOf<T> = Feed<
	<T as Config>::MaxPairLength,
	<T as Config>::MaxSourceHints,
	<T as Config>::MaxSourceHintLength,
>;
/// A schedule with this runtime's bounds.
pub type ScheduleOf<T> = Schedule<BlockNumberFor<T>, <T as Config>::MaxScheduledModels>;
/// A task input with this runtime's bounds.
pub type TaskInputOf<T> = TaskInput<<T as Config>::MaxTextLength>;
/// An open task with this runtime's types.
pub type TaskOf<T> = Task<
	<T as frame_system::Config>::AccountId,
	BalanceOf<T>,
	BlockNumberFor<T>,
	<T as Config>::MaxTextLength,
	<T as Config>::MaxAssigned,
>;
/// A finished task's record with this runtime's types.
pub type TaskRecordOf<T> = TaskRecord<
	<T as frame_system::Config>::AccountId,
	BalanceOf<T>,
	BlockNumberFor<T>,
	<T as Config>::MaxTextLength,
	<T as Config>::MaxAssigned,
>;
/// A feed in the genesis: (id, pair, interval in seconds, first bar's open time, source hints).
pub type GenesisFeed =
	(FeedId, alloc::vec::Vec<u8>, u64, u64, alloc::vec::Vec<alloc::vec::Vec<u8>>);
/// A heartbeat with this runtime's bounds.
pub type HeartbeatOf<T> = Heartbeat<BlockNumberFor<T>, <T as Config>::MaxServedModels>;

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use alloc::vec::Vec;
	use frame_support::pallet_prelude::*;
	use frame_system::pallet_prelude::*;
	use noderr_primitives::{Answer, Beacon, ModelProvider, OnTaskSettled, TierProvider};
	use sp_runtime::traits::{IdentifyAccount, Verify};

	#[pallet::pallet]
	pub struct Pallet<T>(_);

	/// The pallet's configuration.
	#[pallet::config]
	pub trait Config:
		frame_system::Config<RuntimeEvent: From<Event<Self>>>
		+ frame_system::offchain::CreateAuthorizedTransaction<Call<Self>>
	{
		/// NODERR: task fees are held from requesters, rewards paid to operators.
		type Currency: fungible::Inspect<Self::AccountId>
			+ fungible::Mutate<Self::AccountId>
			+ fungible::hold::Inspect<Self::AccountId, Reason = Self::RuntimeHoldReason>
			+ fungible::hold::Mutate<Self::AccountId, Reason = Self::RuntimeHoldReason>;
		/// The runtime's hold reasons, which include this pallet's.
		type RuntimeHoldReason: From<HoldReason>;
		/// Operators' tiers, stakes and reward multipliers.
		type Tiers: TierProvider<Self::AccountId, BalanceOf<Self>>;
		/// Registered models by artifact hash.
		type Models: ModelProvider;
		/// Unpredictable seeds for assignment.
		type Beacon: Beacon<BlockNumberFor<Self>>;
		/// Told of every settled task (the guardian pallet).
		type OnSettled: OnTaskSettled<Self::AccountId>;
		/// Sets the configuration, feeds and schedules.
		type GovernanceOrigin: EnsureOrigin<Self::RuntimeOrigin>;
		/// Pays the per-task emission.
		type Treasury: Get<Self::AccountId>;
		/// The configuration before governance sets one.
		type DefaultConfig: Get<InferenceConfigOf<Self>>;
		/// Most operators assigned to one task.
		#[pallet::constant]
		type MaxAssigned: Get<u32>;
		/// Longest text of a text task, in bytes.
		#[pallet::constant]
		type MaxTextLength: Get<u32>;
		/// Most feeds.
		#[pallet::constant]
		type MaxFeeds: Get<u32>;
		/// Longest pair name.
		#[pallet::constant]
		type MaxPairLength: Get<u32>;
		/// Most market-source hints per feed.
		#[pallet::constant]
		type MaxSourceHints: Get<u32>;
		/// Longest market-source hint.
		#[pallet::constant]
		type MaxSourceHintLength: Get<u32>;
		/// Bars kept per feed (at least the longest model window with its warm-up).
		#[pallet::constant]
		type HistoryLength: Get<u32>;
		/// Most models run on each new bar of a feed.
		#[pallet::constant]
		type MaxScheduledModels: Get<u32>;
		/// Most deadlines handled in one block (assignments, phase ends, settlements); more
		/// spill into the next block.
		#[pallet::constant]
		type MaxDeadlinesPerBlock: Get<u32>;
		/// Records of finished tasks kept; the oldest is pruned.
		#[pallet::constant]
		type MaxRecords: Get<u32>;
		/// Most service keys (models, observation) one heartbeat lists.
		#[pallet::constant]
		type MaxServedModels: Get<u32>;
		/// Signatures of worker keys over authorized submissions.
		type WorkerSignature: Verify<Signer: IdentifyAccount<AccountId = Self::AccountId>>
			+ Parameter;
		/// The worker keys the node holds, for the off-chain worker (`()`: none).
		type WorkerKeys: WorkerKeys<Self::AccountId, Self::WorkerSignature>;
		/// Weights of the calls and hooks.
		type WeightInfo: WeightInfo;
		/// Sets up operators, models and beacon values for the benchmarks.
		#[cfg(feature = "runtime-benchmarks")]
		type BenchmarkHelper: BenchmarkHelper<
			Self::AccountId,
			BalanceOf<Self>,
			BlockNumberFor<Self>,
			Self::WorkerSignature,
		>;
	}

	/// Why the pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// A task's fee, until the task settles or fails.
		TaskFee,
	}

	/// The configuration in force.
	#[pallet::storage]
	pub type Configuration<T: Config> =
		StorageValue<_, InferenceConfigOf<T>, ValueQuery, T::DefaultConfig>;

	/// The feeds.
	#[pallet::storage]
	pub type Feeds<T: Config> = CountedStorageMap<_, Twox64Concat, FeedId, FeedOf<T>, OptionQuery>;

	/// Each feed's history: bar number `n` is at slot `n % HistoryLength`.
	#[pallet::storage]
	pub type Bars<T: Config> =
		StorageDoubleMap<_, Twox64Concat, FeedId, Twox64Concat, u32, Bar, OptionQuery>;

	/// Bars added to each feed so far (the next bar's number).
	#[pallet::storage]
	pub type BarCount<T: Config> = StorageMap<_, Twox64Concat, FeedId, u32, ValueQuery>;

	/// The open observation task of each feed (one at a time).
	#[pallet::storage]
	pub type Observing<T: Config> = StorageMap<_, Twox64Concat, FeedId, TaskId, OptionQuery>;

	/// Recurring work per feed.
	#[pallet::storage]
	pub type Schedules<T: Config> = StorageMap<_, Twox64Concat, FeedId, ScheduleOf<T>, OptionQuery>;

	/// The next task's id.
	#[pallet::storage]
	pub type NextTaskId<T: Config> = StorageValue<_, TaskId, ValueQuery>;

	/// Open tasks.
	#[pallet::storage]
	pub type Tasks<T: Config> = CountedStorageMap<_, Twox64Concat, TaskId, TaskOf<T>, OptionQuery>;

	/// Commitments of open tasks, by task and operator.
	#[pallet::storage]
	pub type Commitments<T: Config> = StorageDoubleMap<
		_,
		Twox64Concat,
		TaskId,
		Blake2_128Concat,
		T::AccountId,
		[u8; 32],
		OptionQuery,
	>;

	/// Revealed answers of open tasks, by task and operator.
	#[pallet::storage]
	pub type Reveals<T: Config> = StorageDoubleMap<
		_,
		Twox64Concat,
		TaskId,
		Blake2_128Concat,
		T::AccountId,
		Answer,
		OptionQuery,
	>;

	/// Tasks whose phase ends in a block.
	#[pallet::storage]
	pub type Deadlines<T: Config> = StorageMap<
		_,
		Twox64Concat,
		BlockNumberFor<T>,
		BoundedVec<TaskId, T::MaxDeadlinesPerBlock>,
		ValueQuery,
	>;

	/// Records of finished tasks (the newest `MaxRecords`).
	#[pallet::storage]
	pub type Records<T: Config> = StorageMap<_, Twox64Concat, TaskId, TaskRecordOf<T>, OptionQuery>;

	/// Which task's record sits in each slot of the record ring, and how many were written.
	#[pallet::storage]
	pub type RecordRing<T: Config> = StorageMap<_, Twox64Concat, u32, TaskId, OptionQuery>;

	/// Records written so far (the next ring slot is this modulo `MaxRecords`).
	#[pallet::storage]
	pub type RecordCount<T: Config> = StorageValue<_, u32, ValueQuery>;

	/// The newest settled task per feed (observations) and per model.
	#[pallet::storage]
	pub type Latest<T: Config> = StorageMap<_, Identity, [u8; 32], TaskId, OptionQuery>;

	/// Each operator's running account.
	#[pallet::storage]
	pub type Stats<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AccountId, OperatorStats<BalanceOf<T>>, ValueQuery>;

	/// The worker key each operator's node submits with.
	#[pallet::storage]
	pub type WorkerOf<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AccountId, T::AccountId, OptionQuery>;

	/// The operator each worker key submits for.
	#[pallet::storage]
	pub type OperatorOf<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AccountId, T::AccountId, OptionQuery>;

	/// Each operator's latest heartbeat.
	#[pallet::storage]
	pub type Heartbeats<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AccountId, HeartbeatOf<T>, OptionQuery>;

	/// Operators listed per service key, densely indexed from 0 so that a draw reads one entry.
	#[pallet::storage]
	pub type Listed<T: Config> =
		StorageDoubleMap<_, Identity, [u8; 32], Twox64Concat, u32, T::AccountId, OptionQuery>;

	/// Number of operators listed per service key.
	#[pallet::storage]
	pub type ListedCount<T: Config> = StorageMap<_, Identity, [u8; 32], u32, ValueQuery>;

	/// Where an operator is listed under a key.
	#[pallet::storage]
	pub type ListedAt<T: Config> =
		StorageDoubleMap<_, Identity, [u8; 32], Blake2_128Concat, T::AccountId, u32, OptionQuery>;

	/// Emission paid in the current emission epoch, and the epoch's number.
	#[pallet::storage]
	pub type Emission<T: Config> = StorageValue<_, (BlockNumberFor<T>, BalanceOf<T>), ValueQuery>;

	/// Settled price forecasts waiting for the bar they forecast, by feed and bar number: only
	/// the feed's next bar, at most one forecast per model.
	#[pallet::storage]
	pub type PendingScores<T: Config> = StorageDoubleMap<
		_,
		Twox64Concat,
		FeedId,
		Twox64Concat,
		u32,
		BoundedVec<PendingScore, T::MaxScheduledModels>,
		ValueQuery,
	>;

	/// Each price model's live track record.
	#[pallet::storage]
	pub type TrackRecords<T: Config> = StorageMap<_, Identity, [u8; 32], TrackRecord, ValueQuery>;

	/// Each feed's one-bar log returns so far (the random-walk baseline's variance).
	#[pallet::storage]
	pub type FeedReturns<T: Config> =
		StorageMap<_, Twox64Concat, FeedId, SquaredReturns, ValueQuery>;

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A task was created.
		TaskCreated {
			/// The task.
			task: TaskId,
			/// Its class of work.
			class: TaskClass,
			/// Its model; none for an observation.
			model: Option<[u8; 32]>,
			/// Who pays; none for scheduled work.
			requester: Option<T::AccountId>,
			/// The fee held.
			fee: BalanceOf<T>,
			/// Block of assignment.
			assign_at: BlockNumberFor<T>,
			/// For an audit, the settled task it re-executes.
			audit_of: Option<TaskId>,
		},
		/// Operators were assigned to a task.
		TaskAssigned {
			/// The task.
			task: TaskId,
			/// The operators, in draw order.
			operators: Vec<T::AccountId>,
			/// Commits are accepted until this block (exclusive).
			commit_until: BlockNumberFor<T>,
		},
		/// An assigned operator committed.
		Committed {
			/// The task.
			task: TaskId,
			/// The operator.
			operator: T::AccountId,
		},
		/// The commit phase ended and the reveal phase began.
		RevealPhase {
			/// The task.
			task: TaskId,
			/// Reveals are accepted until this block (exclusive).
			reveal_until: BlockNumberFor<T>,
		},
		/// An operator revealed its answer.
		Revealed {
			/// The task.
			task: TaskId,
			/// The operator.
			operator: T::AccountId,
			/// Its answer.
			answer: Answer,
		},
		/// A task settled with an aggregate answer.
		TaskSettled {
			/// The task.
			task: TaskId,
			/// The aggregate.
			answer: Answer,
			/// Its dispersion.
			dispersion: Answer,
			/// Operators assigned.
			assigned: u8,
			/// Operators that revealed.
			revealed: u8,
			/// Operators that agreed.
			agreed: u8,
			/// Fee and emission paid out.
			paid: BalanceOf<T>,
		},
		/// A task ended without an aggregate; its fee was refunded.
		TaskFailed {
			/// The task.
			task: TaskId,
			/// Why.
			reason: FailureReason,
		},
		/// A new bar was added to a feed's history.
		BarAdded {
			/// The feed.
			feed: FeedId,
			/// The bar's number.
			number: u32,
			/// The bar.
			bar: Bar,
		},
		/// A scheduled model task could not be created.
		ScheduledTaskSkipped {
			/// The feed.
			feed: FeedId,
			/// The model.
			model: [u8; 32],
			/// Why.
			error: DispatchError,
		},
		/// An operator linked a worker key.
		WorkerLinked {
			/// The operator.
			operator: T::AccountId,
			/// The worker key.
			worker: T::AccountId,
		},
		/// An operator's node declared what it serves.
		Heartbeat {
			/// The operator.
			operator: T::AccountId,
			/// The service keys it listed.
			keys: Vec<[u8; 32]>,
		},
		/// The configuration changed.
		ConfigSet,
		/// A feed's history was seeded from an archive.
		HistorySeeded {
			/// The feed.
			feed: FeedId,
			/// Bars added.
			bars: u32,
		},
		/// A feed was added or changed.
		FeedSet {
			/// The feed.
			feed: FeedId,
		},
		/// A feed's schedule was set or removed.
		ScheduleSet {
			/// The feed.
			feed: FeedId,
			/// Whether a schedule is in force now.
			active: bool,
		},
		/// A price forecast was scored against the bar it forecast.
		PredictionScored {
			/// The model.
			model: [u8; 32],
			/// The prediction task.
			task: TaskId,
			/// The forecast's Gaussian negative log-likelihood of the realised log return, nats,
			/// fixed point 10^6.
			nll: i64,
			/// The random walk's on the same return.
			baseline_nll: i64,
			/// Whether the forecast mean had the return's sign; none when the price did not move.
			direction_hit: Option<bool>,
		},
	}

	/// Why a task ended without an aggregate.
	#[derive(
		Clone,
		Copy,
		PartialEq,
		Eq,
		Encode,
		Decode,
		DecodeWithMemTracking,
		MaxEncodedLen,
		TypeInfo,
		Debug,
	)]
	pub enum FailureReason {
		/// No eligible operator was live.
		NoOperators,
		/// The model was retired before the task was assigned.
		ModelRetired,
		/// The beacon that seeds the assignment was not available.
		NoRandomness,
		/// The deadline queues of the coming blocks were full.
		Congested,
		/// Nobody committed.
		NoCommitments,
		/// Less than the quorum of assigned stake revealed.
		BelowQuorum,
		/// The reveals had no majority.
		NoMajority,
	}

	#[pallet::error]
	pub enum Error<T> {
		/// No model is registered under this artifact hash.
		UnknownModel,
		/// The model is registered but not active (not yet activated, or deprecated).
		ModelNotActive,
		/// The input is not the kind the model reads.
		InputMismatch,
		/// The text is empty.
		EmptyText,
		/// The text is longer than the model (or the chain) accepts.
		TextTooLong,
		/// No such feed.
		UnknownFeed,
		/// The feed's history does not yet hold the model's window.
		InsufficientHistory,
		/// The fee is below the minimum of this class of work.
		FeeTooLow,
		/// The fee cannot be held (free balance too low).
		CannotPayFee,
		/// Deadline queues of the coming blocks are all full.
		Busy,
		/// No such open task.
		UnknownTask,
		/// The signer is not a linked worker key.
		NotAWorker,
		/// The operator is not assigned to this task.
		NotAssigned,
		/// The task is not assigned yet.
		NotAssignedYet,
		/// The commit phase of this task is over.
		CommitWindowClosed,
		/// The operator already committed to this task.
		AlreadyCommitted,
		/// The task is not in its reveal phase yet.
		NotInRevealPhase,
		/// The operator made no commitment to this task.
		NoCommitment,
		/// The operator already revealed.
		AlreadyRevealed,
		/// The answer and salt do not hash to the commitment.
		CommitmentMismatch,
		/// The answer is outside the model's output specification.
		AnswerOutOfSpec,
		/// The worker key is linked to another operator.
		WorkerInUse,
		/// A heartbeat listed a key twice.
		DuplicateKey,
		/// The configuration is invalid (k of zero or above `MaxAssigned`, an empty window, a
		/// zero emission epoch or heartbeat period).
		InvalidConfig,
		/// A feed's pair is empty or its interval zero.
		InvalidFeed,
		/// `MaxFeeds` feeds exist.
		TooManyFeeds,
		/// A schedule's period is zero.
		InvalidSchedule,
		/// A heartbeat signed too long ago, or not after the operator's previous one.
		StaleHeartbeat,
		/// The operator's tier in force is below what a declared model (or observing) needs.
		TierTooLow,
		/// The keys are unchanged and the previous heartbeat is less than half a period old.
		HeartbeatTooSoon,
		/// Only a feed without history and without an open observation can be seeded.
		FeedHasHistory,
		/// No bars given.
		NoBars,
		/// A seeded bar does not open one interval after the previous one (the first at the
		/// feed's next bar time).
		BarOutOfSequence,
		/// A seeded bar's prices are not positive, or high and low do not bracket open and close.
		InvalidBar,
		/// An audit's task is itself an audit.
		AuditOfAudit,
		/// The task did not settle with an aggregate.
		NotSettled,
		/// The task has no model to re-run (a feed observation).
		NotAuditable,
		/// An audit panel of zero, or above `MaxAssigned`.
		InvalidPanel,
	}

	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// The configuration; the runtime's default if none.
		pub config: Option<InferenceConfigOf<T>>,
		/// Feeds: (id, pair, interval in seconds, first bar's open time, source hints).
		pub feeds: Vec<GenesisFeed>,
		/// Schedules: (feed, every n blocks, models).
		pub schedules: Vec<(FeedId, BlockNumberFor<T>, Vec<[u8; 32]>)>,
		/// Linked worker keys: (operator, worker).
		pub workers: Vec<(T::AccountId, T::AccountId)>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			if let Some(config) = self.config {
				Pallet::<T>::do_set_config(config).expect("genesis configuration is valid");
			}
			for (id, pair, interval, first, sources) in &self.feeds {
				let sources: Vec<BoundedVec<u8, T::MaxSourceHintLength>> = sources
					.iter()
					.map(|s| s.clone().try_into().expect("genesis source hints are within bounds"))
					.collect();
				Pallet::<T>::do_set_feed(
					*id,
					pair.clone().try_into().expect("genesis pairs are within bounds"),
					*interval,
					*first,
					sources.try_into().expect("genesis source hints are within bounds"),
				)
				.expect("genesis feeds are valid");
			}
			for (feed, every, models) in &self.schedules {
				let models =
					models.clone().try_into().expect("genesis schedules are within bounds");
				Pallet::<T>::do_set_schedule(*feed, Some(Schedule { every: *every, models }))
					.expect("genesis schedules are valid");
			}
			for (operator, worker) in &self.workers {
				Pallet::<T>::do_link_worker(operator.clone(), worker.clone())
					.expect("genesis workers are unique");
			}
		}
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn on_initialize(now: BlockNumberFor<T>) -> Weight {
			Self::run_schedules(now).saturating_add(Self::process_deadlines(now))
		}

		fn offchain_worker(now: BlockNumberFor<T>) {
			Self::offchain_work(now)
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state().map_err(Into::into)
		}
	}

	#[pallet::call(weight(<T as Config>::WeightInfo))]
	impl<T: Config> Pallet<T> {
		/// Creates a task for the model with artifact hash `model`, holding `fee` (at least the
		/// class's minimum) from the signer until the task settles (paid to the agreeing
		/// operators) or fails (refunded). `input`: the feed's history for price models (the
		/// window ends at the newest bar), the text for text models. Origin: signed.
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::create_task().max(T::WeightInfo::create_task_history()))]
		pub fn create_task(
			origin: OriginFor<T>,
			model: [u8; 32],
			input: TaskInputOf<T>,
			fee: BalanceOf<T>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_create_task(who, model, input, fee).map(|_| ())
		}

		/// Commits to an answer for `task`: `commitment` is
		/// `noderr_primitives::commitment(task, operator, answer, salt)`. Origin: the operator's
		/// linked worker key; free when accepted.
		#[pallet::call_index(1)]
		pub fn commit(
			origin: OriginFor<T>,
			task: TaskId,
			commitment: [u8; 32],
		) -> DispatchResultWithPostInfo {
			let operator = Self::worker_operator(origin)?;
			Self::do_commit(operator, task, commitment)?;
			Ok(Pays::No.into())
		}

		/// Reveals the committed answer and salt of `task`. Origin: the operator's linked worker
		/// key; free when accepted.
		#[pallet::call_index(2)]
		pub fn reveal(
			origin: OriginFor<T>,
			task: TaskId,
			answer: Answer,
			salt: [u8; 32],
		) -> DispatchResultWithPostInfo {
			let operator = Self::worker_operator(origin)?;
			Self::do_reveal(operator, task, answer, salt)?;
			Ok(Pays::No.into())
		}

		/// Declares which models (artifact hashes) the operator's node serves now, and
		/// [`OBSERVATION_KEY`] if it observes markets; the operator is eligible for their tasks
		/// for `heartbeat_period` blocks. Origin: the operator's linked worker key; free when
		/// accepted.
		#[pallet::call_index(3)]
		pub fn heartbeat(
			origin: OriginFor<T>,
			keys: BoundedVec<[u8; 32], T::MaxServedModels>,
		) -> DispatchResultWithPostInfo {
			let operator = Self::worker_operator(origin)?;
			Self::do_heartbeat(operator, keys)?;
			Ok(Pays::No.into())
		}

		/// Links the worker key the operator's node submits with (replacing the previous one).
		/// Origin: signed by the operator.
		#[pallet::call_index(4)]
		pub fn link_worker(origin: OriginFor<T>, worker: T::AccountId) -> DispatchResult {
			let operator = ensure_signed(origin)?;
			Self::do_link_worker(operator, worker)
		}

		/// Replaces the configuration. Origin: governance.
		#[pallet::call_index(5)]
		pub fn set_config(origin: OriginFor<T>, config: InferenceConfigOf<T>) -> DispatchResult {
			T::GovernanceOrigin::ensure_origin(origin)?;
			Self::do_set_config(config)
		}

		/// Adds or changes a feed. Origin: governance.
		#[pallet::call_index(6)]
		pub fn set_feed(
			origin: OriginFor<T>,
			feed: FeedId,
			pair: BoundedVec<u8, T::MaxPairLength>,
			interval: u64,
			next_bar_time: u64,
			sources: BoundedVec<BoundedVec<u8, T::MaxSourceHintLength>, T::MaxSourceHints>,
		) -> DispatchResult {
			T::GovernanceOrigin::ensure_origin(origin)?;
			Self::do_set_feed(feed, pair, interval, next_bar_time, sources)
		}

		/// Sets (or with `None` removes) a feed's schedule: an observation every `every` blocks
		/// and a task for each of `models` on each new bar. Origin: governance.
		#[pallet::call_index(7)]
		pub fn set_schedule(
			origin: OriginFor<T>,
			feed: FeedId,
			schedule: Option<ScheduleOf<T>>,
		) -> DispatchResult {
			T::GovernanceOrigin::ensure_origin(origin)?;
			Self::do_set_schedule(feed, schedule)
		}

		/// Seeds an empty feed's history from an archive: `bars` open one interval apart, the
		/// first at the feed's next bar time; observation rounds continue after the last. For
		/// bootstrapping a network's feeds (the models need their windows of history before their
		/// first task). Origin: governance.
		#[pallet::call_index(9)]
		#[pallet::weight(T::WeightInfo::seed_bars(bars.len() as u32))]
		pub fn seed_bars(
			origin: OriginFor<T>,
			feed: FeedId,
			bars: BoundedVec<Bar, T::HistoryLength>,
		) -> DispatchResult {
			T::GovernanceOrigin::ensure_origin(origin)?;
			Self::do_seed_bars(feed, bars)
		}

		/// A worker's signed submission (commit, reveal or heartbeat) for its operator, as an
		/// authorized transaction: no signer, nonce or fee. It enters the pool only if signed by
		/// the operator's linked worker key and acceptable as the corresponding call would be.
		#[pallet::call_index(8)]
		#[pallet::authorize(|source, submission, signature| {
			Pallet::<T>::authorize_submission(source, submission, signature)
		})]
		#[pallet::weight_of_authorize(
			T::WeightInfo::authorize_submit().saturating_add(Pallet::<T>::work_weight(&submission.work))
		)]
		#[pallet::weight(Pallet::<T>::work_weight(&submission.work))]
		pub fn submit(
			origin: OriginFor<T>,
			submission: SubmissionOf<T>,
			signature: T::WorkerSignature,
		) -> DispatchResult {
			ensure_authorized(origin)?;
			let _ = signature;
			Self::do_submission(submission)
		}
	}
}
