//! The guardian pallet's records: its configuration, offences with their evidence, reports and
//! their panels, and each operator's offence history.

// The no-bound derives need the bounds on the declarations.
#![allow(clippy::multiple_bound_locations)]

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::{
	pallet_prelude::Get, BoundedVec, CloneNoBound, DebugNoBound, EqNoBound, PartialEqNoBound,
};
use noderr_primitives::{Answer, SlashId};
use scale_info::TypeInfo;
use sp_runtime::Perbill;

/// Identifier of a report.
pub type ReportId = u32;

/// What an operator is accused of.
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
pub enum OffenceKind {
	/// (a) Two different signed answers to one task (one of them may be its reveal on chain):
	/// provable on chain, no vote.
	Equivocation,
	/// (b) A revealed answer beyond the model's tolerance from what a guardian panel computes
	/// re-running the same model on the same input.
	OutOfTolerance,
	/// (c) Persistent non-reveal: missed reveals over a window, from the tasks' outcomes.
	MissedReveals,
	/// (d) An answer computed with a model version other than the task's, signed by the operator.
	InactiveModel,
}

impl OffenceKind {
	/// Every kind, in the order of [`GuardianConfig::slash`].
	pub const ALL: [OffenceKind; 4] = [
		OffenceKind::Equivocation,
		OffenceKind::OutOfTolerance,
		OffenceKind::MissedReveals,
		OffenceKind::InactiveModel,
	];

	/// Position in [`OffenceKind::ALL`].
	pub fn index(self) -> usize {
		self as usize
	}
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
pub struct GuardianConfig<Balance, BlockNumber> {
	/// Share of settled model tasks drawn for re-execution (disputed tasks always are).
	pub sample_share: Perbill,
	/// GUARDIANs per panel (g).
	pub panel_size: u8,
	/// Share of the panel size (not of those who answered) that must confirm an offence; the
	/// same share rejecting a report makes it false.
	pub panel_quorum: Perbill,
	/// Blocks a panel has to vote on a report of persistent non-reveal or inactive model.
	pub vote_window: BlockNumber,
	/// Held from a reporter per report; lost to the treasury if the panel rejects the report.
	pub report_bond: Balance,
	/// Slashed fraction of the stake per offence kind, in [`OffenceKind::ALL`] order.
	pub slash: [Perbill; 4],
	/// Each earlier confirmed offence adds this multiple of the base fraction (escalation).
	pub escalation: Perbill,
	/// Confirmed offences (not cancelled) after which the operator is suspended; 0: never.
	pub suspend_after: u32,
	/// Share of each slash paid to the reporter and the confirming panel members.
	pub reporter_share: Perbill,
	/// Window over which missed reveals are counted.
	pub miss_window: BlockNumber,
	/// Missed reveals within the window that make persistent non-reveal reportable.
	pub miss_threshold: u32,
}

/// An answer statement signed by an operator's worker key: what its node says it computed for a
/// task with a model. Two different ones for one task, or one that differs from the reveal, are
/// equivocation; one naming a model version other than the task's is an inactive model.
#[derive(
	Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Debug,
)]
pub struct SignedAnswer<AccountId, Signature> {
	/// The task.
	pub task: u64,
	/// The model version (artifact hash) the answer was computed with.
	pub model: [u8; 32],
	/// The answer.
	pub answer: Answer,
	/// The worker key that signed.
	pub signer: AccountId,
	/// Its signature over [`SignedAnswer::payload`].
	pub signature: Signature,
}

impl<AccountId, Signature> SignedAnswer<AccountId, Signature> {
	/// What the worker key signs: `("noderr/answer", task, model, answer)`, SCALE-encoded.
	pub fn payload(&self) -> alloc::vec::Vec<u8> {
		statement_payload(self.task, &self.model, &self.answer)
	}
}

/// The bytes a worker key signs for an answer statement.
pub fn statement_payload(task: u64, model: &[u8; 32], answer: &Answer) -> alloc::vec::Vec<u8> {
	(b"noderr/answer", task, model, answer).encode()
}

/// A report's evidence.
#[derive(
	Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Debug,
)]
pub enum Evidence<AccountId, Signature> {
	/// (a) Two signed answers to one task that differ; with `second` none, `first` differs from
	/// the accused's reveal of that task on chain.
	Equivocation {
		/// A signed answer.
		first: SignedAnswer<AccountId, Signature>,
		/// Another one for the same task, or none to compare with the reveal.
		second: Option<SignedAnswer<AccountId, Signature>>,
	},
	/// (b) The accused's reveal of `task` (settled) is wrong: a panel re-runs the model.
	OutOfTolerance {
		/// The settled task.
		task: u64,
	},
	/// (c) The accused missed at least the threshold of reveals within the current window.
	MissedReveals,
	/// (d) The accused's worker signed an answer to a task it revealed, computed with a model
	/// version other than the task's.
	InactiveModel {
		/// The signed answer.
		statement: SignedAnswer<AccountId, Signature>,
	},
}

impl<A, S> Evidence<A, S> {
	/// The offence this evidence shows.
	pub fn kind(&self) -> OffenceKind {
		match self {
			Evidence::Equivocation { .. } => OffenceKind::Equivocation,
			Evidence::OutOfTolerance { .. } => OffenceKind::OutOfTolerance,
			Evidence::MissedReveals => OffenceKind::MissedReveals,
			Evidence::InactiveModel { .. } => OffenceKind::InactiveModel,
		}
	}
}

/// How a report is judged.
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
pub enum Judging<BlockNumber> {
	/// The panel is drawn in this block, from the beacon after the block of the report.
	AwaitingPanel {
		/// Block of the draw.
		at: BlockNumber,
	},
	/// The panel votes until this block (exclusive); tallied then, or earlier once decided.
	Voting {
		/// End of the vote.
		until: BlockNumber,
	},
	/// The panel re-runs the task as an audit task; judged when it finishes.
	ReExecution {
		/// The audit task.
		audit: u64,
	},
}

/// An open report.
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
#[scale_info(skip_type_params(MaxPanel))]
pub struct Report<
	AccountId: Clone + PartialEq + Eq + core::fmt::Debug,
	Balance: Clone + PartialEq + Eq + core::fmt::Debug,
	BlockNumber: Clone + PartialEq + Eq + core::fmt::Debug,
	MaxPanel: Get<u32>,
> {
	/// Who reported; its bond is held.
	pub reporter: AccountId,
	/// Who is accused.
	pub accused: AccountId,
	/// Of what.
	pub kind: OffenceKind,
	/// The task the evidence is about (none for persistent non-reveal).
	pub task: Option<u64>,
	/// The bond held from the reporter.
	pub bond: Balance,
	/// Block of the report.
	pub filed: BlockNumber,
	/// Where the judging stands.
	pub judging: Judging<BlockNumber>,
	/// The panel (for a vote; an audit's panel is the audit task's operators).
	pub panel: BoundedVec<AccountId, MaxPanel>,
	/// Panel members who confirmed.
	pub ayes: BoundedVec<AccountId, MaxPanel>,
	/// Panel members who rejected.
	pub nays: BoundedVec<AccountId, MaxPanel>,
}

/// How a report or an audit ended.
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
pub enum Verdict {
	/// The offence is confirmed: the accused is slashed, the reporter's bond returned.
	Confirmed,
	/// The panel rejected it: the reporter's bond goes to the treasury.
	Rejected,
	/// Too few panel members answered either way (or no panel could be drawn): the bond is
	/// returned, nobody is punished.
	Inconclusive,
}

/// A confirmed offence in an operator's history.
#[derive(
	Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Debug,
)]
pub struct Offence<BlockNumber> {
	/// Of what kind.
	pub kind: OffenceKind,
	/// The task it concerned (none for persistent non-reveal).
	pub task: Option<u64>,
	/// Block of confirmation.
	pub at: BlockNumber,
	/// Fraction of the stake slashed (after escalation).
	pub fraction: Perbill,
	/// The scheduled slash (none if it could not be scheduled).
	pub slash: Option<SlashId>,
	/// The report that led to it (none for an offence found by a sampled audit).
	pub report: Option<ReportId>,
	/// Governance cancelled the slash (the appeal succeeded).
	pub cancelled: bool,
}

/// An open audit: a settled task being re-run by a panel.
#[derive(
	Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Debug,
)]
pub struct AuditInfo {
	/// The task re-run.
	pub of: u64,
	/// The report it judges; none for a sampled audit (every operator of the task is checked).
	pub report: Option<ReportId>,
}

/// A guardian's pending duty, for the runtime API.
#[derive(
	Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Debug,
)]
pub enum Duty<BlockNumber> {
	/// Vote on a report until the block.
	Vote {
		/// The report.
		report: ReportId,
		/// End of the vote.
		until: BlockNumber,
	},
	/// Re-run an audit task (its worker does this by itself).
	ReExecute {
		/// The audit task.
		audit: u64,
		/// The task it re-runs.
		of: u64,
	},
}

/// Most missed reveals counted (saturates).
pub type MissCount = u32;

/// An open report, for the runtime API.
#[derive(Clone, PartialEq, Eq, Encode, Decode, TypeInfo, Debug)]
pub struct ReportView<AccountId, Balance, BlockNumber> {
	/// The report.
	pub id: ReportId,
	/// Who reported.
	pub reporter: AccountId,
	/// Who is accused.
	pub accused: AccountId,
	/// Of what.
	pub kind: OffenceKind,
	/// The task concerned.
	pub task: Option<u64>,
	/// The bond held.
	pub bond: Balance,
	/// Block of the report.
	pub filed: BlockNumber,
	/// Where the judging stands.
	pub judging: Judging<BlockNumber>,
	/// The voting panel.
	pub panel: alloc::vec::Vec<AccountId>,
	/// Who confirmed.
	pub ayes: alloc::vec::Vec<AccountId>,
	/// Who rejected.
	pub nays: alloc::vec::Vec<AccountId>,
}
