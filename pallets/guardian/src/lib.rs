//! # Guardian validation
//!
//! Commit-reveal stops operators from copying each other; it does not stop a lazy or lying one.
//! GUARDIANs audit: they re-run settled tasks and judge reports, and an offence they confirm is
//! slashed through the staking pallet's deferred, cancellable [`noderr_primitives::Slash`].
//!
//! 1. `audit.rs`: when a model task settles, a share of them (every disputed one: an outlier, or
//!    fewer than two thirds agreeing) is drawn with the beacon after the settlement's previous
//!    block (unknown when the answers were committed) and re-run as an *audit task* of the task
//!    pallet: the same model on the same input, assigned with the usual delay and beacon to g
//!    GUARDIANs who were not among its operators, answered by their workers through the usual
//!    commit-reveal, so that panel members cannot copy each other. When the audit finishes, each
//!    panel member's revealed answer is its vote on each of the task's operators: beyond the
//!    model's tolerance from the operator's answer or not. An operator whose answer is beyond
//!    tolerance of at least the panel quorum (two thirds of g) has committed an offence. Honest
//!    numeric differences between processors are far inside the tolerance (measured, see the
//!    simulation test), so an honest answer is never confirmed as wrong.
//! 2. `report.rs`: any GUARDIAN can report an operator with evidence, holding a bond: two
//!    different signed answers to one task (equivocation, proved on chain at once); a wrong
//!    answer (judged by an audit of that task with a panel that excludes the reporter);
//!    persistent non-reveal, or an answer from another model version (voted on by a panel drawn
//!    from the beacon after the report's block). A rejected report loses its bond to the
//!    treasury; a confirmed one gets it back with a share of the slash.
//! 3. `judge.rs`: a confirmed offence schedules a slash of the kind's fraction, escalated by
//!    the operator's earlier confirmed offences, deferred by the staking pallet so governance
//!    can cancel it ([`Pallet::cancel_slash`], the appeal path); the reporter and confirming
//!    panel members share the reporters' part. After `suspend_after` confirmed offences the
//!    operator is suspended. The staking pallet lowers its tier when the slash applies.
//!
//! Panel work is paid by the task pallet like any task (per-task emission, with the GUARDIAN
//! multiplier) and a drawn guardian that does not re-run it gets a strike like any worker.
//! Invariants are in `invariants.rs`.

#![cfg_attr(not(feature = "std"), no_std)]
#![deny(missing_docs)]

extern crate alloc;

pub use pallet::*;
pub use types::*;
pub use weights::WeightInfo;

mod audit;
#[cfg(feature = "runtime-benchmarks")]
pub mod benchmarking;
mod invariants;
mod judge;
pub mod measured_spread;
#[cfg(test)]
mod mock;
mod report;
#[cfg(test)]
mod simulation;
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
/// The configuration with this runtime's types.
pub type GuardianConfigOf<T> = GuardianConfig<BalanceOf<T>, BlockNumberFor<T>>;
/// A report with this runtime's types.
pub type ReportOf<T> = Report<
	<T as frame_system::Config>::AccountId,
	BalanceOf<T>,
	BlockNumberFor<T>,
	<T as Config>::MaxPanel,
>;
/// Evidence with this runtime's types.
pub type EvidenceOf<T> = Evidence<<T as frame_system::Config>::AccountId, <T as Config>::Signature>;
/// A signed answer with this runtime's types.
pub type SignedAnswerOf<T> =
	SignedAnswer<<T as frame_system::Config>::AccountId, <T as Config>::Signature>;

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use alloc::vec::Vec;
	use frame_support::pallet_prelude::*;
	use frame_system::pallet_prelude::*;
	use noderr_primitives::{Beacon, ModelProvider, Slash, SlashId, TaskResults, TierProvider};
	use sp_runtime::traits::{IdentifyAccount, Verify};
	use sp_runtime::Perbill;

	#[pallet::pallet]
	pub struct Pallet<T>(_);

	/// The pallet's configuration.
	#[pallet::config]
	pub trait Config: frame_system::Config<RuntimeEvent: From<Event<Self>>> {
		/// NODERR: report bonds are held.
		type Currency: fungible::Inspect<Self::AccountId>
			+ fungible::Mutate<Self::AccountId>
			+ fungible::hold::Inspect<Self::AccountId, Reason = Self::RuntimeHoldReason>
			+ fungible::hold::Mutate<Self::AccountId, Reason = Self::RuntimeHoldReason>;
		/// The runtime's hold reasons, which include this pallet's.
		type RuntimeHoldReason: From<HoldReason>;
		/// Operators' tiers and stakes.
		type Tiers: TierProvider<Self::AccountId, BalanceOf<Self>>;
		/// Registered models: kind and tolerance.
		type Models: ModelProvider;
		/// Finished tasks, and audit tasks on request.
		type Tasks: TaskResults<Self::AccountId>;
		/// Deferred, cancellable slashing and suspension.
		type Slash: Slash<Self::AccountId>;
		/// Unpredictable seeds for sampling and panels.
		type Beacon: Beacon<BlockNumberFor<Self>>;
		/// Sets the configuration and cancels slashes (the appeal path).
		type GovernanceOrigin: EnsureOrigin<Self::RuntimeOrigin>;
		/// Receives the bonds of rejected reports.
		type Treasury: Get<Self::AccountId>;
		/// The configuration before governance sets one.
		type DefaultConfig: Get<GuardianConfigOf<Self>>;
		/// Signatures of worker keys over answer statements.
		type Signature: Verify<Signer: IdentifyAccount<AccountId = Self::AccountId>> + Parameter;
		/// Largest panel.
		#[pallet::constant]
		type MaxPanel: Get<u32>;
		/// Most reports open at once.
		#[pallet::constant]
		type MaxOpenReports: Get<u32>;
		/// Most audits open at once; a settled task drawn beyond it is not audited.
		#[pallet::constant]
		type MaxOpenAudits: Get<u32>;
		/// Offences kept per operator (the oldest is dropped).
		#[pallet::constant]
		type MaxOffenceHistory: Get<u32>;
		/// Most report deadlines (panel draws, vote ends) queued in one block.
		#[pallet::constant]
		type MaxQueuedPerBlock: Get<u32>;
		/// Most GUARDIANs there can be (the staking pallet's `MaxOperators`): a panel draw reads
		/// them all.
		#[pallet::constant]
		type MaxGuardians: Get<u32>;
		/// Most operators one task has (the task pallet's `MaxAssigned`).
		#[pallet::constant]
		type MaxAssigned: Get<u32>;
		/// Weights of the calls and hooks.
		type WeightInfo: WeightInfo;
		/// Sets up operators, models and tasks for the benchmarks.
		#[cfg(feature = "runtime-benchmarks")]
		type BenchmarkHelper: crate::benchmarking::BenchmarkHelper<Self>;
	}

	/// Why the pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// A report's bond, until the report is judged.
		ReportBond,
	}

	/// The configuration in force.
	#[pallet::storage]
	pub type Configuration<T: Config> =
		StorageValue<_, GuardianConfigOf<T>, ValueQuery, T::DefaultConfig>;

	/// Open reports.
	#[pallet::storage]
	pub type Reports<T: Config> =
		CountedStorageMap<_, Twox64Concat, ReportId, ReportOf<T>, OptionQuery>;

	/// The next report's id.
	#[pallet::storage]
	pub type NextReportId<T: Config> = StorageValue<_, ReportId, ValueQuery>;

	/// The open report per accused, kind and task: one at a time.
	#[pallet::storage]
	pub type OpenReport<T: Config> = StorageDoubleMap<
		_,
		Blake2_128Concat,
		T::AccountId,
		Twox64Concat,
		(OffenceKind, Option<u64>),
		ReportId,
		OptionQuery,
	>;

	/// Reports whose panel is drawn, or whose vote ends, in a block.
	#[pallet::storage]
	pub type Queue<T: Config> = StorageMap<
		_,
		Twox64Concat,
		BlockNumberFor<T>,
		BoundedVec<ReportId, T::MaxQueuedPerBlock>,
		ValueQuery,
	>;

	/// Open audits, by audit task.
	#[pallet::storage]
	pub type Audits<T: Config> = CountedStorageMap<_, Twox64Concat, u64, AuditInfo, OptionQuery>;

	/// Each operator's confirmed offences (the newest `MaxOffenceHistory`).
	#[pallet::storage]
	pub type Offences<T: Config> = StorageMap<
		_,
		Blake2_128Concat,
		T::AccountId,
		BoundedVec<Offence<BlockNumberFor<T>>, T::MaxOffenceHistory>,
		ValueQuery,
	>;

	/// Each operator's confirmed offences that were not cancelled (escalation, suspension).
	#[pallet::storage]
	pub type ConfirmedCount<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AccountId, u32, ValueQuery>;

	/// Each operator's missed reveals in its current window: (window start, count).
	#[pallet::storage]
	pub type Misses<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AccountId, (BlockNumberFor<T>, MissCount), OptionQuery>;

	/// Work the task pallet's settlement hook did in a block (finished tasks seen, operators
	/// judged), charged in this pallet's `on_initialize` of the same block, which runs after the
	/// task pallet's.
	#[pallet::storage]
	pub type HookWork<T: Config> = StorageValue<_, (BlockNumberFor<T>, u32, u32), ValueQuery>;

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A settled task was drawn for re-execution.
		AuditOpened {
			/// The task re-run.
			task: u64,
			/// The audit task.
			audit: u64,
			/// The report it judges, if any.
			report: Option<ReportId>,
			/// Drawn because its outcome was disputed (otherwise by the sample share).
			disputed: bool,
		},
		/// A task drawn for audit could not be audited.
		AuditSkipped {
			/// The task.
			task: u64,
			/// Why.
			error: DispatchError,
		},
		/// An audit finished.
		AuditConcluded {
			/// The audit task.
			audit: u64,
			/// The task re-run.
			task: u64,
			/// Panel members who revealed.
			answered: u8,
			/// Operators of the task found beyond tolerance by the panel quorum.
			offenders: Vec<T::AccountId>,
		},
		/// A report was filed; the reporter's bond is held.
		Reported {
			/// The report.
			report: ReportId,
			/// Who reported.
			reporter: T::AccountId,
			/// Who is accused.
			accused: T::AccountId,
			/// Of what.
			kind: OffenceKind,
			/// The task concerned.
			task: Option<u64>,
			/// The bond held.
			bond: BalanceOf<T>,
		},
		/// A report's voting panel was drawn.
		PanelDrawn {
			/// The report.
			report: ReportId,
			/// The panel.
			panel: Vec<T::AccountId>,
			/// Votes are accepted until this block (exclusive).
			until: BlockNumberFor<T>,
		},
		/// A panel member voted.
		Voted {
			/// The report.
			report: ReportId,
			/// The panel member.
			voter: T::AccountId,
			/// Whether it confirms the offence.
			confirm: bool,
		},
		/// A report was judged.
		ReportJudged {
			/// The report.
			report: ReportId,
			/// The verdict.
			verdict: Verdict,
			/// Confirming panel members.
			ayes: u8,
			/// Rejecting panel members.
			nays: u8,
			/// Bond returned to the reporter.
			bond_returned: BalanceOf<T>,
			/// Bond taken to the treasury.
			bond_forfeited: BalanceOf<T>,
		},
		/// An offence was confirmed and its slash scheduled.
		OffenceConfirmed {
			/// The offender.
			who: T::AccountId,
			/// Of what.
			kind: OffenceKind,
			/// The task concerned.
			task: Option<u64>,
			/// Fraction of its stake to slash (after escalation).
			fraction: Perbill,
			/// The scheduled slash (none if the staking pallet could not schedule it).
			slash: Option<SlashId>,
			/// Who shares the reporters' part.
			rewarded: Vec<T::AccountId>,
		},
		/// An operator reached the suspension threshold of confirmed offences.
		OperatorSuspended {
			/// The operator.
			who: T::AccountId,
			/// Its confirmed offences.
			offences: u32,
		},
		/// Governance cancelled an offence's slash (an appeal succeeded).
		OffenceCancelled {
			/// The operator.
			who: T::AccountId,
			/// The slash cancelled.
			slash: SlashId,
		},
		/// The configuration changed.
		ConfigSet,
	}

	#[pallet::error]
	pub enum Error<T> {
		/// Only a GUARDIAN (tier in force) may report.
		NotGuardian,
		/// The accused is not an operator (no tier and no stake).
		NotOperator,
		/// Nobody reports itself.
		SelfReport,
		/// The task is unknown, not finished, or its record is no longer kept.
		UnknownTask,
		/// The task did not settle with an aggregate.
		TaskNotSettled,
		/// The accused did not reveal an answer to this task.
		NoAnswer,
		/// The same offence on the same task is already reported or confirmed.
		DuplicateReport,
		/// A signature does not check, or the signer is not the accused's worker key.
		BadSignature,
		/// The signed answers do not show the offence (same answer, other tasks, same model).
		EvidenceDoesNotCheck,
		/// Fewer missed reveals in the current window than the threshold.
		TooFewMisses,
		/// The report bond cannot be held.
		CannotHoldBond,
		/// `MaxOpenReports` reports are open.
		TooManyReports,
		/// The deadline queues of the coming blocks are full.
		Busy,
		/// No such open report.
		UnknownReport,
		/// The report is not being voted on (panel not drawn yet, or judged by re-execution).
		NotVoting,
		/// The vote of this report is over.
		VoteClosed,
		/// The voter is not on the report's panel.
		NotOnPanel,
		/// The panel member already voted.
		AlreadyVoted,
		/// No offence with this slash in the operator's history.
		UnknownOffence,
		/// The slash already applied or was cancelled: it can no longer be cancelled.
		SlashNotPending,
		/// The configuration is invalid: a panel of zero or above `MaxPanel`, a zero window.
		InvalidConfig,
		/// `MaxOpenAudits` audits are open.
		TooManyAudits,
		/// The task cannot be re-run (an observation, or itself an audit).
		NotAuditable,
	}

	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// The configuration; the runtime's default if none.
		pub config: Option<GuardianConfigOf<T>>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			if let Some(config) = self.config {
				Pallet::<T>::do_set_config(config).expect("genesis configuration is valid");
			}
		}
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn on_initialize(now: BlockNumberFor<T>) -> Weight {
			Self::process_queue(now).saturating_add(Self::hook_weight(now))
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state().map_err(Into::into)
		}
	}

	#[pallet::call(weight(<T as Config>::WeightInfo))]
	impl<T: Config> Pallet<T> {
		/// Reports `accused` with `evidence`, holding the configured bond from the signer (a
		/// GUARDIAN). Equivocation is proved at once; a wrong answer is judged by an audit of
		/// the task; persistent non-reveal and an inactive model are voted on by a panel.
		#[pallet::call_index(0)]
		#[pallet::weight(
			T::WeightInfo::report_equivocation()
				.max(T::WeightInfo::report_audit())
				.max(T::WeightInfo::report_vote())
		)]
		pub fn report(
			origin: OriginFor<T>,
			accused: T::AccountId,
			evidence: EvidenceOf<T>,
		) -> DispatchResult {
			let reporter = ensure_signed(origin)?;
			Self::do_report(reporter, accused, evidence)
		}

		/// Votes on a report as a member of its panel: `confirm` the offence or reject it.
		/// Origin: the panel member, or its linked worker key.
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::vote(T::MaxPanel::get()))]
		pub fn vote(origin: OriginFor<T>, report: ReportId, confirm: bool) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let voter = T::Tasks::operator_of(&who).unwrap_or(who);
			Self::do_vote(voter, report, confirm)
		}

		/// Cancels the slash of `who`'s offence before it applies: the appeal path. The offence
		/// stays in its history, marked cancelled, and no longer counts for escalation or
		/// suspension. Origin: governance.
		#[pallet::call_index(2)]
		pub fn cancel_slash(
			origin: OriginFor<T>,
			who: T::AccountId,
			slash: SlashId,
		) -> DispatchResult {
			T::GovernanceOrigin::ensure_origin(origin)?;
			Self::do_cancel(who, slash)
		}

		/// Replaces the configuration. Origin: governance.
		#[pallet::call_index(3)]
		pub fn set_config(origin: OriginFor<T>, config: GuardianConfigOf<T>) -> DispatchResult {
			T::GovernanceOrigin::ensure_origin(origin)?;
			Self::do_set_config(config)
		}
	}

	impl<T: Config> Pallet<T> {
		pub(crate) fn do_set_config(config: GuardianConfigOf<T>) -> DispatchResult {
			ensure!(
				config.panel_size > 0 && config.panel_size as u32 <= T::MaxPanel::get(),
				Error::<T>::InvalidConfig
			);
			ensure!(
				!config.vote_window.is_zero() && !config.miss_window.is_zero(),
				Error::<T>::InvalidConfig
			);
			Configuration::<T>::put(config);
			Self::deposit_event(Event::ConfigSet);
			Ok(())
		}

		/// Charges the settlement hook's work of this block (it ran in the task pallet's
		/// `on_initialize`, before this pallet's).
		fn hook_weight(now: BlockNumberFor<T>) -> Weight {
			let (block, finished, judged) = HookWork::<T>::get();
			if block != now {
				return T::DbWeight::get().reads(1);
			}
			HookWork::<T>::kill();
			T::WeightInfo::on_task_finished(T::MaxAssigned::get())
				.saturating_mul(finished as u64)
				.saturating_add(
					T::WeightInfo::conclude_audit(T::MaxPanel::get(), T::MaxAssigned::get())
						.saturating_mul(judged as u64),
				)
		}

		/// Whether `who` is an operator: it has a tier or a stake.
		pub(crate) fn is_operator(who: &T::AccountId) -> bool {
			T::Tiers::tier(who).is_some() || !T::Tiers::stake(who).is_zero()
		}

		/// The beacon after `block`, as a seed for `what` and `id`.
		pub(crate) fn seed(block: BlockNumberFor<T>, what: &[u8], id: u64) -> Option<[u8; 32]> {
			use sp_runtime::traits::{BlakeTwo256, Hash};
			let beacon = T::Beacon::beacon_after(block)?;
			Some(BlakeTwo256::hash(&(b"noderr/guardian", what, beacon, id).encode()).0)
		}

		/// Whether a signed answer is signed by the worker key of `accused`.
		pub(crate) fn signed_by(statement: &SignedAnswerOf<T>, accused: &T::AccountId) -> bool {
			T::Tasks::operator_of(&statement.signer).as_ref() == Some(accused)
				&& statement.signature.verify(&statement.payload()[..], &statement.signer)
		}

		/// The model's tolerance and whether it classifies.
		pub(crate) fn tolerance(model: &[u8; 32]) -> Option<(u64, bool)> {
			use noderr_primitives::TaskKind;
			let spec = T::Models::model(model)?;
			let classes = !matches!(spec.kind, TaskKind::Regression { .. });
			Some((spec.output.tolerance, classes))
		}

		/// For the runtime API: every open report, oldest first.
		pub fn open_reports() -> Vec<ReportView<T::AccountId, BalanceOf<T>, BlockNumberFor<T>>> {
			let mut all: Vec<_> = Reports::<T>::iter()
				.map(|(id, r)| ReportView {
					id,
					reporter: r.reporter,
					accused: r.accused,
					kind: r.kind,
					task: r.task,
					bond: r.bond,
					filed: r.filed,
					judging: r.judging,
					panel: r.panel.into_inner(),
					ayes: r.ayes.into_inner(),
					nays: r.nays.into_inner(),
				})
				.collect();
			all.sort_by_key(|r| r.id);
			all
		}
	}

	use sp_runtime::traits::Zero;
}
