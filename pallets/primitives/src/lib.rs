//! Types and traits shared by the Noderr pallets.
//!
//! Pallets talk to each other only through these traits, set in their `Config`: the task and
//! guardian pallets ask a [`TierProvider`] who may work, a [`ModelProvider`] what a registered
//! model reads and reports, a [`Beacon`] for unpredictable seeds, and call [`Slash`] to punish;
//! they never name another pallet. The model specification types and the commit-reveal
//! [`commitment`] live here too, so that the registry, the task pallet, the off-chain worker and
//! the ML crate share one definition.

#![cfg_attr(not(feature = "std"), no_std)]
#![deny(missing_docs)]

extern crate alloc;

use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;
use sp_runtime::{
	traits::{BlakeTwo256, ConstU32, Hash},
	BoundedVec, DispatchError, Perbill,
};

/// An operator's tier, from the bonded stake. Ordered: `All < Oracle < Guardian`.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	PartialOrd,
	Ord,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Debug,
	serde::Serialize,
	serde::Deserialize,
)]
pub enum Tier {
	/// Basic inference (price prediction).
	All,
	/// Price feeds, regime classification, sentiment.
	Oracle,
	/// Re-executes sampled tasks, reports and votes on offences.
	Guardian,
}

impl Tier {
	/// Every tier, lowest first.
	pub const ALL: [Tier; 3] = [Tier::All, Tier::Oracle, Tier::Guardian];

	/// Position in [`Tier::ALL`].
	pub const fn index(self) -> usize {
		match self {
			Tier::All => 0,
			Tier::Oracle => 1,
			Tier::Guardian => 2,
		}
	}
}

/// Who may work, at which tier, with how much stake behind them.
///
/// Answers reflect the tiers in force for the current epoch: they change only at epoch
/// boundaries (or at once when an operator is suspended or slashed below a threshold), so a
/// task never sees its eligible set move under it.
pub trait TierProvider<AccountId, Balance> {
	/// The operator's tier in force, or `None` if it has none (not bonded enough, suspended,
	/// not an operator).
	fn tier(who: &AccountId) -> Option<Tier>;

	/// The operator's active bonded stake.
	fn stake(who: &AccountId) -> Balance;

	/// The reward multiplier of a tier in hundredths: 100 is 1.0x, 500 is 5.0x.
	fn reward_multiplier(tier: Tier) -> u32;

	/// The operators whose tier in force is `min_tier` or higher, sorted by account. The
	/// length is bounded by the staking pallet's `MaxOperators`.
	fn operators(min_tier: Tier) -> Vec<AccountId>;
}

/// What the model computes.
#[derive(
	Clone,
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
pub enum TaskKind {
	/// Real-valued outputs.
	Regression {
		/// Number of outputs.
		outputs: u8,
	},
	/// One of `classes` labels.
	Classification {
		/// Number of classes.
		classes: u8,
	},
	/// One of `classes` labels, from text.
	TextClassification {
		/// Number of classes.
		classes: u8,
	},
}

/// What the model reads.
#[derive(
	Clone,
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
pub enum InputSpec {
	/// Rows of the feature pipeline over OHLCV bars.
	Features {
		/// Feature-pipeline version.
		pipeline_version: u32,
		/// Rows per input.
		window: u32,
		/// Features per row.
		feature_count: u32,
	},
	/// Raw OHLCV bars.
	Bars {
		/// Bars per input.
		window: u32,
	},
	/// UTF-8 text.
	Text {
		/// Longest accepted text in bytes.
		max_bytes: u32,
	},
}

/// How the model's outputs are reported.
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
pub struct OutputSpec {
	/// Fixed-point scale: a value x is reported as round(x * scale). A power of ten.
	pub scale: u64,
	/// Largest difference, in fixed-point units, between two nodes' outputs that still counts
	/// as agreement.
	pub tolerance: u64,
}

/// Identifier of a scheduled slash.
pub type SlashId = u32;

/// Punishment of an operator, deferred so that governance can cancel a wrong one.
pub trait Slash<AccountId> {
	/// Schedules a slash of `fraction` of `who`'s active and unbonding stake. Of the slashed
	/// amount, `reporter_share` is split equally among `reporters` and the rest goes to the
	/// treasury. Returns the id governance uses to cancel it.
	fn schedule_slash(
		who: &AccountId,
		fraction: Perbill,
		reporters: Vec<AccountId>,
		reporter_share: Perbill,
	) -> Result<SlashId, DispatchError>;

	/// Cancels a scheduled slash that has not applied yet (an error once it has applied or
	/// was cancelled).
	fn cancel_slash(id: SlashId) -> Result<(), DispatchError>;

	/// Whether slash `id` is scheduled and not yet applied or cancelled.
	fn is_pending(id: SlashId) -> bool;

	/// Suspends `who`: it loses its tier at once, until governance reinstates it.
	fn suspend(who: &AccountId) -> Result<(), DispatchError>;
}

/// Most values in one answer (the widest default model, MSRR, reports six).
pub const MAX_ANSWER_VALUES: u32 = 8;

/// An operator's answer to a task, fixed point with the model's scale: the outputs of a
/// regression in the registry's order, `[class]` for a classification, `[open, high, low, close,
/// volume]` for a feed observation.
pub type Answer = BoundedVec<i64, ConstU32<MAX_ANSWER_VALUES>>;

/// The commitment an operator submits before revealing: blake2-256 of the SCALE encoding of
/// `(task, operator, answer, salt)`. Binding the operator stops one operator from copying
/// another's commitment; the salt stops anyone from guessing the answer from the commitment.
/// The runtime and the off-chain worker both call this one function.
pub fn commitment<AccountId: Encode>(
	task: u64,
	operator: &AccountId,
	answer: &Answer,
	salt: &[u8; 32],
) -> [u8; 32] {
	BlakeTwo256::hash(&(task, operator, answer, salt).encode()).0
}

/// Where a registered model version is in its life cycle, at a given block.
#[derive(Clone, Copy, PartialEq, Eq, Encode, Decode, TypeInfo, Debug)]
pub enum ModelState {
	/// Registered, activation block not reached.
	NotYetActive,
	/// Active and chosen for new work.
	Live,
	/// Still served, no longer chosen for new work.
	Deprecated,
}

/// What the task pallet needs to know of a registered model version.
#[derive(Clone, PartialEq, Eq, Encode, Decode, TypeInfo, Debug)]
pub struct ModelSpec {
	/// What it computes.
	pub kind: TaskKind,
	/// Lowest tier whose nodes serve it.
	pub min_tier: Tier,
	/// What it reads.
	pub input: InputSpec,
	/// How it reports, with the agreement tolerance.
	pub output: OutputSpec,
	/// Its life-cycle state now.
	pub state: ModelState,
}

/// The model registry, as other pallets see it: a version by its artifact hash.
pub trait ModelProvider {
	/// The version whose artifact hashes to `artifact_hash`, if registered and not retired.
	fn model(artifact_hash: &[u8; 32]) -> Option<ModelSpec>;
}

/// Randomness that nobody could predict before a given block and that no single block author
/// could choose: the value of the chain's beacon once `block` is built.
pub trait Beacon<BlockNumber> {
	/// The beacon after `block`, once known (`None` for a block not built yet or pruned).
	fn beacon_after(block: BlockNumber) -> Option<[u8; 32]>;
}

/// How one assigned operator did on a settled task.
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
pub enum Participation {
	/// Revealed an answer that agrees with the aggregate.
	Agreed,
	/// Revealed an answer outside the tolerance of the aggregate (or another class).
	Outlier,
	/// Revealed, but the task ended without an aggregate to compare with (below quorum, or no
	/// majority): neither agreement nor a strike.
	Revealed,
	/// Committed but did not reveal.
	NotRevealed,
	/// Did not commit.
	NotCommitted,
}

impl Participation {
	/// Whether this outcome counts as a strike.
	pub fn is_strike(self) -> bool {
		!matches!(self, Participation::Agreed | Participation::Revealed)
	}
}

/// A finished task as the guardian pallet reads it.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct FinishedTask<AccountId> {
	/// Its model (none for a feed observation).
	pub model: Option<[u8; 32]>,
	/// The aggregate, when it settled with one.
	pub aggregate: Option<Answer>,
	/// Each assigned operator with how it did and what it revealed, in assignment order.
	pub answers: Vec<(AccountId, Participation, Option<Answer>)>,
	/// The task it re-executed, for an audit.
	pub audit_of: Option<u64>,
}

impl<AccountId: PartialEq> FinishedTask<AccountId> {
	/// What `who` revealed, if it was assigned and revealed.
	pub fn answer_of(&self, who: &AccountId) -> Option<&Answer> {
		self.answers.iter().find(|(w, _, _)| w == who).and_then(|(_, _, a)| a.as_ref())
	}
}

/// Results of finished tasks and re-execution of settled ones, as the guardian pallet uses them.
pub trait TaskResults<AccountId> {
	/// Strikes recorded against `who` (missed reveals and outliers), over its history.
	fn strikes(who: &AccountId) -> u32;
	/// What `who` revealed for `task`, if the task's record is still kept.
	fn revealed(task: u64, who: &AccountId) -> Option<Answer>;
	/// A finished task, if its record is still kept.
	fn finished(task: u64) -> Option<FinishedTask<AccountId>>;
	/// The operator a worker key submits for.
	fn operator_of(worker: &AccountId) -> Option<AccountId>;
	/// Creates an audit of settled model task `task`: the same model on the same input, assigned
	/// (with the usual delay and beacon) to `panel` GUARDIANs serving the model who were not
	/// among the task's operators and are not `exclude`, through the usual commit-reveal.
	/// Returns the audit task's id.
	fn create_audit(task: u64, panel: u8, exclude: Option<AccountId>)
		-> Result<u64, DispatchError>;
	/// The operators assigned to an open task (empty when not assigned yet or finished).
	fn assigned(task: u64) -> Vec<AccountId>;
}

/// Called when a task settles, with its id, the model (none for a feed observation), the
/// aggregate (none when the task failed quorum) and how each assigned operator did.
pub trait OnTaskSettled<AccountId> {
	/// The task settled.
	fn on_task_settled(
		task: u64,
		model: Option<[u8; 32]>,
		aggregate: Option<&Answer>,
		outcomes: &[(AccountId, Participation)],
	);
}

impl<AccountId> OnTaskSettled<AccountId> for () {
	fn on_task_settled(
		_: u64,
		_: Option<[u8; 32]>,
		_: Option<&Answer>,
		_: &[(AccountId, Participation)],
	) {
	}
}

/// Key type of the workers' keys in a node's keystore (`key insert --key-type nwrk`): sr25519
/// keys whose accounts operators link with `inference.linkWorker`; the node's off-chain worker
/// signs its submissions with them.
pub const WORKER_KEY_TYPE: sp_runtime::KeyTypeId = sp_runtime::KeyTypeId(*b"nwrk");

/// The workers' application crypto: sr25519 under [`WORKER_KEY_TYPE`].
pub mod worker_crypto {
	use sp_runtime::app_crypto::{app_crypto, sr25519};
	app_crypto!(sr25519, super::WORKER_KEY_TYPE);
}
