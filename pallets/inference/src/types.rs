//! The pallet's records: the configuration, feeds and their bars, tasks and their results.

// The no-bound derives need the bounds on the declarations.
#![allow(clippy::multiple_bound_locations)]

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::{pallet_prelude::*, BoundedVec};
use noderr_primitives::{Answer, InputSpec, Participation, TaskKind, Tier};
use scale_info::TypeInfo;
use sp_runtime::Perbill;

/// Identifier of a task, in creation order.
pub type TaskId = u64;
/// Identifier of a price feed.
pub type FeedId = u32;
/// Bars a model window may need beyond its rows: the feature pipeline's warm-up (its first row
/// needs this many earlier bars).
pub const FEATURE_WARMUP_BARS: u32 = 250;
/// Fields of an observed bar: open, high, low, close, volume.
pub const BAR_FIELDS: usize = 5;
/// The index key under which operators that observe markets are listed (no model has this
/// artifact hash: it is not a blake2-256 output anyone can produce on purpose).
pub const OBSERVATION_KEY: [u8; 32] = [0; 32];

/// The five kinds of work, each with its own settings.
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
pub enum TaskClass {
	/// One OHLCV bar of a feed, observed from market sources.
	Observation,
	/// A price model on the feature pipeline over the history.
	Prediction,
	/// A classifier on raw bars of the history (the regime model).
	Regime,
	/// A regression on raw bars of the history (MSRR).
	Risk,
	/// A text classifier on the requester's text (sentiment).
	Sentiment,
}

impl TaskClass {
	/// Every class, in the order of [`InferenceConfig::classes`].
	pub const ALL: [TaskClass; 5] = [
		TaskClass::Observation,
		TaskClass::Prediction,
		TaskClass::Regime,
		TaskClass::Risk,
		TaskClass::Sentiment,
	];

	/// Position in [`TaskClass::ALL`].
	pub fn index(self) -> usize {
		self as usize
	}

	/// The class of work a registered model does, from its input and task kind.
	pub fn of_model(kind: &TaskKind, input: &InputSpec) -> Self {
		match (input, kind) {
			(InputSpec::Text { .. }, _) => TaskClass::Sentiment,
			(InputSpec::Features { .. }, _) => TaskClass::Prediction,
			(InputSpec::Bars { .. }, TaskKind::Regression { .. }) => TaskClass::Risk,
			(InputSpec::Bars { .. }, _) => TaskClass::Regime,
		}
	}
}

/// Settings of one class of work.
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
	serde::Serialize,
	serde::Deserialize,
)]
pub struct ClassConfig<Balance, BlockNumber> {
	/// Operators assigned per task (k).
	pub assigned: u8,
	/// Blocks the commit phase lasts at most.
	pub commit_blocks: BlockNumber,
	/// Blocks the reveal phase lasts at most.
	pub reveal_blocks: BlockNumber,
	/// Smallest fee a requester pays (scheduled tasks pay none).
	pub min_fee: Balance,
	/// Share of the assigned stake that must reveal for the task to settle.
	pub quorum: Perbill,
}

/// The pallet's configuration: one record, set by governance.
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
	serde::Serialize,
	serde::Deserialize,
)]
pub struct InferenceConfig<Balance, BlockNumber> {
	/// Per class of work, in [`TaskClass::ALL`] order.
	pub classes: [ClassConfig<Balance, BlockNumber>; 5],
	/// Blocks between a task's creation and the beacon that seeds its assignment (D): a block
	/// author can then only choose among the beacons of the D blocks it authors.
	pub assignment_delay: BlockNumber,
	/// A heartbeat keeps an operator eligible for this many blocks.
	pub heartbeat_period: BlockNumber,
	/// Lowest tier that observes feeds.
	pub observation_tier: Tier,
	/// Relative tolerance of observed bars around the median, per field.
	pub observation_tolerance: Perbill,
	/// Paid from the treasury to the agreeing operators of each settled task.
	pub reward_per_task: Balance,
	/// Most paid from the treasury per emission epoch.
	pub emission_per_epoch: Balance,
	/// Blocks per emission epoch.
	pub emission_epoch: BlockNumber,
}

/// A market pair the chain keeps a price history of.
#[derive(
	CloneNoBound,
	PartialEqNoBound,
	EqNoBound,
	DebugNoBound,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
#[scale_info(skip_type_params(MaxPair, MaxHints, MaxHintLength))]
pub struct Feed<MaxPair: Get<u32>, MaxHints: Get<u32>, MaxHintLength: Get<u32>> {
	/// The pair, for example `BTC/USD`.
	pub pair: BoundedVec<u8, MaxPair>,
	/// Seconds per bar.
	pub interval: u64,
	/// Open time (Unix seconds) of the next bar to observe.
	pub next_bar_time: u64,
	/// Market-source hints for the workers (symbols or URLs; workers choose their sources).
	pub sources: BoundedVec<BoundedVec<u8, MaxHintLength>, MaxHints>,
}

/// One aggregated bar, fixed point (prices and volume times the feed scale, 10^6).
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
	Default,
)]
pub struct Bar {
	/// Open time, Unix seconds.
	pub time: u64,
	/// Open price.
	pub open: i64,
	/// Highest price.
	pub high: i64,
	/// Lowest price.
	pub low: i64,
	/// Close price.
	pub close: i64,
	/// Traded volume.
	pub volume: i64,
}

impl Bar {
	/// The bar an observation answer describes, if it is one: five fields, positive prices,
	/// high and low bracketing open and close, volume not negative.
	pub fn from_answer(time: u64, a: &[i64]) -> Option<Self> {
		let [open, high, low, close, volume] = <[i64; BAR_FIELDS]>::try_from(a).ok()?;
		let ok = low > 0 && high >= open.max(close) && low <= open.min(close) && volume >= 0;
		ok.then_some(Bar { time, open, high, low, close, volume })
	}
}

/// Recurring work on a feed, set by governance: an observation every `every` blocks, and on each
/// new bar a task for every model listed.
#[derive(
	CloneNoBound,
	PartialEqNoBound,
	EqNoBound,
	DebugNoBound,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
#[scale_info(skip_type_params(MaxModels))]
pub struct Schedule<BlockNumber: Clone + PartialEq + Eq + core::fmt::Debug, MaxModels: Get<u32>> {
	/// Blocks between observation rounds.
	pub every: BlockNumber,
	/// Models (artifact hashes) run on each new bar.
	pub models: BoundedVec<[u8; 32], MaxModels>,
}

/// What a task computes on.
#[derive(
	CloneNoBound,
	PartialEqNoBound,
	EqNoBound,
	DebugNoBound,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
#[scale_info(skip_type_params(MaxText))]
pub enum TaskInput<MaxText: Get<u32>> {
	/// Observe the bar of `feed` that opens at `bar_time`.
	Observe {
		/// The feed.
		feed: FeedId,
		/// Open time of the bar, Unix seconds.
		bar_time: u64,
	},
	/// The feed's history, its window ending with bar number `end` (bars are numbered from 0 in
	/// the order they were added).
	History {
		/// The feed.
		feed: FeedId,
		/// Number of the newest bar of the window.
		end: u32,
	},
	/// The requester's text.
	Text(BoundedVec<u8, MaxText>),
}

/// Where a task is in its life.
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
pub enum Phase<BlockNumber> {
	/// Created; assigned in block `at` from the beacon of the block before.
	Waiting {
		/// Block of assignment.
		at: BlockNumber,
	},
	/// Assigned operators commit until block `until` (exclusive).
	Commit {
		/// First block in which commits are refused.
		until: BlockNumber,
	},
	/// Committed operators reveal until block `until` (exclusive); settled then.
	Reveal {
		/// First block in which reveals are refused; the task settles in it.
		until: BlockNumber,
	},
}

impl<B: Copy> Phase<B> {
	/// The block at which this phase ends.
	pub fn deadline(&self) -> B {
		match self {
			Phase::Waiting { at } => *at,
			Phase::Commit { until } | Phase::Reveal { until } => *until,
		}
	}
}

/// An assigned operator with what it was assigned with.
#[derive(
	Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Debug,
)]
pub struct Assignee<AccountId, Balance> {
	/// The operator.
	pub who: AccountId,
	/// Its stake at assignment (weights its answer).
	pub stake: Balance,
	/// Its tier at assignment (weights its reward).
	pub tier: Tier,
}

/// An open task.
#[derive(
	CloneNoBound,
	PartialEqNoBound,
	EqNoBound,
	DebugNoBound,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
#[scale_info(skip_type_params(MaxText, MaxAssigned))]
pub struct Task<
	AccountId: Clone + PartialEq + Eq + core::fmt::Debug,
	Balance: Clone + PartialEq + Eq + core::fmt::Debug,
	BlockNumber: Clone + PartialEq + Eq + core::fmt::Debug,
	MaxText: Get<u32>,
	MaxAssigned: Get<u32>,
> {
	/// Class of work.
	pub class: TaskClass,
	/// The model (artifact hash); none for an observation.
	pub model: Option<[u8; 32]>,
	/// What it computes on.
	pub input: TaskInput<MaxText>,
	/// Who pays the fee; none for scheduled work.
	pub requester: Option<AccountId>,
	/// The fee held from the requester.
	pub fee: Balance,
	/// Block of creation.
	pub created: BlockNumber,
	/// Phase and its deadline.
	pub phase: Phase<BlockNumber>,
	/// Assigned operators, in the order they were drawn.
	pub assigned: BoundedVec<Assignee<AccountId, Balance>, MaxAssigned>,
	/// How many of them committed (commitments are in `Commitments`).
	pub committed: u8,
	/// How many of them revealed (answers are in `Reveals`).
	pub revealed: u8,
	/// For an audit: the settled task it re-executes, and the panel's size and exclusion.
	pub audit: Option<AuditSpec<AccountId>>,
}

/// What makes a task an audit: a re-execution of a settled task by GUARDIANs who did not work
/// on it.
#[derive(
	Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Debug,
)]
pub struct AuditSpec<AccountId> {
	/// The settled task it re-executes.
	pub of: TaskId,
	/// GUARDIANs to draw.
	pub panel: u8,
	/// Who may not sit on the panel besides the task's operators (the reporter).
	pub exclude: Option<AccountId>,
}

/// How a task ended.
#[derive(
	CloneNoBound,
	PartialEqNoBound,
	EqNoBound,
	DebugNoBound,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
pub enum Outcome {
	/// Aggregated.
	Settled {
		/// The aggregate answer.
		answer: Answer,
		/// Median absolute deviation per field (numbers) or the losing share in ppm (classes).
		dispersion: Answer,
	},
	/// Not enough eligible operators to assign.
	Unassigned,
	/// Below quorum, or without a majority: the fee was refunded.
	Failed,
}

/// One operator's part in a settled task.
#[derive(
	Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Debug,
)]
pub struct OperatorOutcome<AccountId, Balance> {
	/// The operator.
	pub who: AccountId,
	/// What it did.
	pub participation: Participation,
	/// What it revealed.
	pub answer: Option<Answer>,
	/// What it was paid.
	pub reward: Balance,
}

/// The kept record of a finished task.
#[derive(
	CloneNoBound,
	PartialEqNoBound,
	EqNoBound,
	DebugNoBound,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
#[scale_info(skip_type_params(MaxText, MaxAssigned))]
pub struct TaskRecord<
	AccountId: Clone + PartialEq + Eq + core::fmt::Debug,
	Balance: Clone + PartialEq + Eq + core::fmt::Debug,
	BlockNumber: Clone + PartialEq + Eq + core::fmt::Debug,
	MaxText: Get<u32>,
	MaxAssigned: Get<u32>,
> {
	/// Class of work.
	pub class: TaskClass,
	/// The model; none for an observation.
	pub model: Option<[u8; 32]>,
	/// What it computed on (an audit re-runs the model on it).
	pub input: TaskInput<MaxText>,
	/// For an audit, the task it re-executed.
	pub audit_of: Option<TaskId>,
	/// Block of creation.
	pub created: BlockNumber,
	/// Block of settlement.
	pub settled: BlockNumber,
	/// How it ended.
	pub outcome: Outcome,
	/// Every assigned operator's part.
	pub operators: BoundedVec<OperatorOutcome<AccountId, Balance>, MaxAssigned>,
}

/// An operator's running account of its work.
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
	Default,
)]
pub struct OperatorStats<Balance> {
	/// Tasks it was assigned.
	pub assigned: u32,
	/// Tasks in which it agreed with the aggregate.
	pub agreed: u32,
	/// Missed commits or reveals, and outlier answers.
	pub strikes: u32,
	/// Everything it was paid.
	pub rewards: Balance,
}

/// What an operator's node last declared: when, and which models it serves.
#[derive(
	CloneNoBound,
	PartialEqNoBound,
	EqNoBound,
	DebugNoBound,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
#[scale_info(skip_type_params(MaxServed))]
pub struct Heartbeat<BlockNumber: Clone + PartialEq + Eq + core::fmt::Debug, MaxServed: Get<u32>> {
	/// Block of the declaration; it lapses `heartbeat_period` blocks later.
	pub at: BlockNumber,
	/// Service keys it is listed under: model artifact hashes, and [`OBSERVATION_KEY`] if it
	/// observes markets.
	pub keys: BoundedVec<[u8; 32], MaxServed>,
}

/// A settled price forecast waiting for the bar it forecast.
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
pub struct PendingScore {
	/// The prediction task.
	pub task: TaskId,
	/// Its model.
	pub model: [u8; 32],
	/// Forecast mean of the bar's log return, fixed point 10^6.
	pub mu: i64,
	/// Forecast standard deviation of it, fixed point 10^6.
	pub sigma: i64,
}

/// A price model's live track record: its forecasts scored against the bars they forecast, next
/// to a random walk's on the same bars.
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
	Default,
)]
pub struct TrackRecord {
	/// Forecasts scored.
	pub count: u32,
	/// Sum of their Gaussian negative log-likelihoods of the realised log returns, nats, fixed
	/// point 10^6 (lower is better).
	pub nll_sum: i128,
	/// Sum of the random walk's on the same returns.
	pub baseline_nll_sum: i128,
	/// Forecasts whose bar moved (non-zero return): the direction's trials.
	pub moved: u32,
	/// Of those, forecasts whose mean had the return's sign.
	pub hits: u32,
}

impl TrackRecord {
	/// Adds one scored forecast (`hit`: none when the price did not move).
	pub fn add(&mut self, nll: i64, baseline_nll: i64, hit: Option<bool>) {
		self.count = self.count.saturating_add(1);
		self.nll_sum = self.nll_sum.saturating_add(nll as i128);
		self.baseline_nll_sum = self.baseline_nll_sum.saturating_add(baseline_nll as i128);
		if let Some(hit) = hit {
			self.moved = self.moved.saturating_add(1);
			self.hits = self.hits.saturating_add(hit as u32);
		}
	}
}

/// A feed's one-bar log returns so far, as the random-walk baseline needs them.
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
	Default,
)]
pub struct SquaredReturns {
	/// Returns counted.
	pub count: u32,
	/// Sum of their squares, fixed point 10^12.
	pub sum_squares: u128,
}

impl SquaredReturns {
	/// These returns and `r` (fixed point 10^6).
	/// Unchanged once the count is full, so that count and sum stay each other's.
	pub fn with(self, r: i64) -> Self {
		let square = (r.unsigned_abs() as u128) * (r.unsigned_abs() as u128);
		match (self.count.checked_add(1), self.sum_squares.checked_add(square)) {
			(Some(count), Some(sum_squares)) => SquaredReturns { count, sum_squares },
			_ => self,
		}
	}
}

/// What the benchmarks need set up in the runtime under benchmark, outside this pallet: eligible
/// operators, registered models and beacon values. Implemented by the runtime (and the test
/// mock) with whatever its tier provider, registry and beacon store.
#[cfg(feature = "runtime-benchmarks")]
pub trait BenchmarkHelper<AccountId, Balance, BlockNumber, Signature> {
	/// Makes `who` an operator whose tier in force is `tier`, with at least `stake` active
	/// (more if the tier's threshold needs it). `who` is funded. The `assign` benchmark calls
	/// this for up to 10,000 accounts, more than a staking pallet may admit through its calls.
	fn set_operator(who: &AccountId, tier: Tier, stake: Balance);
	/// Registers `spec` under the artifact hash `hash`, in the state `spec.state`.
	fn register_model(hash: [u8; 32], spec: noderr_primitives::ModelSpec);
	/// Makes `Config::Beacon::beacon_after(block)` return a value. Called only for blocks
	/// before the current one.
	fn set_beacon_after(block: BlockNumber);
	/// A new worker account whose key [`Self::sign`] signs with.
	fn worker_key() -> AccountId;
	/// `worker`'s signature of `payload`.
	fn sign(worker: &AccountId, payload: &[u8]) -> Signature;
}
