//! # Staking tiers
//!
//! Operators of Noderr ML nodes apply on-chain, are approved by governance, bond NODERR with a
//! fungible hold and are ranked into tiers by their active bond:
//!
//! | tier | default bond | default reward multiplier |
//! |---|---|---|
//! | ALL | >= 1,000 NODERR | 1.0x |
//! | ORACLE | >= 5,000 NODERR | 2.0x |
//! | GUARDIAN | >= 10,000 NODERR | 5.0x |
//!
//! Thresholds, multipliers, epoch length, unbonding period and slash defer period are one
//! [`TierConfig`] record that governance sets with [`Pallet::set_config`].
//!
//! ## Tiers move at epoch boundaries
//! Bonding, unbonding and reinstatement mark an operator for re-evaluation; its tier in force
//! changes at the next epoch boundary, so task assignment never sees an eligible set move
//! mid-task. Two things act at once because they must: a suspension removes the tier, and a
//! slash that leaves the bond below the tier's threshold lowers it.
//!
//! ## Slashing
//! Other pallets call [`noderr_primitives::Slash::schedule_slash`]. The slash waits
//! `slash_defer_period` blocks, during which governance may cancel it, then takes its fraction
//! of active plus unbonding stake: active first, then the newest unbonding chunks. The
//! reporters share their part and the rest goes to the treasury. While a slash is pending the
//! operator cannot withdraw unbonded funds.
//!
//! Code layout: declarations here; calls in `dispatchables.rs`, epochs and tiers in `tiers.rs`,
//! slashing in `slashing.rs`, the traits other pallets use in `provider.rs`, invariants in
//! `invariants.rs`.

#![cfg_attr(not(feature = "std"), no_std)]
#![deny(missing_docs)]

extern crate alloc;

pub use pallet::*;
pub use types::*;
pub use weights::WeightInfo;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
mod dispatchables;
mod invariants;
#[cfg(test)]
mod mock;
#[cfg(test)]
mod property;
mod provider;
mod slashing;
#[cfg(test)]
mod tests;
mod tiers;
pub mod types;
pub mod weights;

use frame_support::traits::fungible;
use frame_system::pallet_prelude::BlockNumberFor;

/// Balance type of the pallet's currency.
pub type BalanceOf<T> =
	<<T as Config>::Currency as fungible::Inspect<<T as frame_system::Config>::AccountId>>::Balance;
/// The configuration record with this runtime's types.
pub type TierConfigOf<T> = TierConfig<BalanceOf<T>, BlockNumberFor<T>>;
/// An operator's record with this runtime's types and bounds.
pub type OperatorRecordOf<T> = OperatorRecord<
	BalanceOf<T>,
	BlockNumberFor<T>,
	<T as Config>::MaxNameLength,
	<T as Config>::MaxContactLength,
	<T as Config>::MaxRegionLength,
>;
/// Operator metadata with this runtime's bounds.
pub type MetadataOf<T> = OperatorMetadata<
	<T as Config>::MaxNameLength,
	<T as Config>::MaxContactLength,
	<T as Config>::MaxRegionLength,
>;
/// A bond ledger with this runtime's types and bounds.
pub type LedgerOf<T> = Ledger<BalanceOf<T>, BlockNumberFor<T>, <T as Config>::MaxUnlockingChunks>;
/// A pending slash with this runtime's types and bounds.
pub type PendingSlashOf<T> = PendingSlash<
	<T as frame_system::Config>::AccountId,
	BlockNumberFor<T>,
	<T as Config>::MaxReporters,
>;

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use alloc::vec::Vec;
	use frame_support::pallet_prelude::*;
	use frame_system::pallet_prelude::*;
	use noderr_primitives::{SlashId, Tier};
	use sp_runtime::Perbill;

	/// The pallet's configuration.
	#[pallet::config]
	pub trait Config: frame_system::Config {
		/// The overarching event type.
		#[allow(deprecated)]
		type RuntimeEvent: From<Event<Self>> + IsType<<Self as frame_system::Config>::RuntimeEvent>;

		/// The staked currency (NODERR), held rather than locked.
		type Currency: fungible::Inspect<Self::AccountId>
			+ fungible::Mutate<Self::AccountId>
			+ fungible::hold::Inspect<Self::AccountId, Reason = Self::RuntimeHoldReason>
			+ fungible::hold::Mutate<Self::AccountId, Reason = Self::RuntimeHoldReason>;

		/// The runtime's hold reasons, which include this pallet's.
		type RuntimeHoldReason: From<HoldReason>;

		/// Approves, rejects, suspends and reinstates operators, sets the configuration and
		/// cancels slashes.
		type GovernanceOrigin: EnsureOrigin<Self::RuntimeOrigin>;

		/// Receives slashed stake not paid to reporters.
		type Treasury: Get<Self::AccountId>;

		/// Held from an applicant until governance decides, against application spam.
		#[pallet::constant]
		type ApplicationDeposit: Get<BalanceOf<Self>>;

		/// The configuration before governance sets one.
		type DefaultConfig: Get<TierConfigOf<Self>>;

		/// Most operators (approved or suspended) at once. Pending applications do not count:
		/// they have their own bound, so a flood of applications cannot crowd operators out.
		#[pallet::constant]
		type MaxOperators: Get<u32>;

		/// Most pending applications at once.
		#[pallet::constant]
		type MaxApplications: Get<u32>;

		/// Most unbonding chunks per operator.
		#[pallet::constant]
		type MaxUnlockingChunks: Get<u32>;

		/// Longest display name, in bytes.
		#[pallet::constant]
		type MaxNameLength: Get<u32>;

		/// Longest website or contact, in bytes.
		#[pallet::constant]
		type MaxContactLength: Get<u32>;

		/// Longest region, in bytes.
		#[pallet::constant]
		type MaxRegionLength: Get<u32>;

		/// Longest rejection or suspension reason, in bytes.
		#[pallet::constant]
		type MaxReasonLength: Get<u32>;

		/// Most reporters sharing one slash's reward.
		#[pallet::constant]
		type MaxReporters: Get<u32>;

		/// Most slashes applied in one block.
		#[pallet::constant]
		type MaxSlashesPerBlock: Get<u32>;

		/// Most slashes pending at once.
		#[pallet::constant]
		type MaxPendingSlashes: Get<u32>;

		/// Weights from this pallet's benchmarks.
		type WeightInfo: WeightInfo;
	}

	/// Why this pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// Bonded stake, active or unbonding.
		#[codec(index = 0)]
		Bonded,
		/// Deposit of a pending operator application.
		#[codec(index = 1)]
		ApplicationDeposit,
	}

	#[pallet::pallet]
	pub struct Pallet<T>(_);

	/// The configuration record in force.
	#[pallet::storage]
	pub type Configuration<T: Config> =
		StorageValue<_, TierConfigOf<T>, ValueQuery, T::DefaultConfig>;

	/// Operators and applicants.
	#[pallet::storage]
	pub type Operators<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AccountId, OperatorRecordOf<T>, OptionQuery>;

	/// Number of approved or suspended entries in [`Operators`], at most `MaxOperators`.
	#[pallet::storage]
	pub type OperatorCount<T: Config> = StorageValue<_, u32, ValueQuery>;

	/// Number of pending entries in [`Operators`], at most `MaxApplications`.
	#[pallet::storage]
	pub type ApplicationCount<T: Config> = StorageValue<_, u32, ValueQuery>;

	/// Bonds of operators.
	#[pallet::storage]
	pub type Ledgers<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AccountId, LedgerOf<T>, OptionQuery>;

	/// Tier in force of each operator that has one.
	#[pallet::storage]
	pub type EffectiveTiers<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AccountId, Tier, OptionQuery>;

	/// Operators whose tier in force is exactly this tier. Keys are operators only, so a tier
	/// holds at most `MaxOperators` entries; each change touches one entry.
	#[pallet::storage]
	pub type TierMembers<T: Config> =
		StorageDoubleMap<_, Twox64Concat, Tier, Blake2_128Concat, T::AccountId, (), OptionQuery>;

	/// Operators to re-evaluate at the next epoch boundary: at most `MaxOperators`.
	#[pallet::storage]
	pub type PendingTierUpdates<T: Config> =
		CountedStorageMap<_, Blake2_128Concat, T::AccountId, (), OptionQuery>;

	/// Index of the current epoch.
	#[pallet::storage]
	pub type CurrentEpoch<T: Config> = StorageValue<_, u32, ValueQuery>;

	/// First block of the next epoch.
	#[pallet::storage]
	pub type NextEpochAt<T: Config> = StorageValue<_, BlockNumberFor<T>, ValueQuery>;

	/// Slashes waiting out their defer period.
	#[pallet::storage]
	pub type PendingSlashes<T: Config> =
		StorageMap<_, Twox64Concat, SlashId, PendingSlashOf<T>, OptionQuery>;

	/// Number of entries in [`PendingSlashes`], at most `MaxPendingSlashes`.
	#[pallet::storage]
	pub type PendingSlashCount<T: Config> = StorageValue<_, u32, ValueQuery>;

	/// Pending slashes per operator: while non-zero the operator cannot withdraw.
	#[pallet::storage]
	pub type SlashesAgainst<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AccountId, u32, ValueQuery>;

	/// Id of the next scheduled slash.
	#[pallet::storage]
	pub type NextSlashId<T: Config> = StorageValue<_, SlashId, ValueQuery>;

	/// Slashes to apply in a block.
	#[pallet::storage]
	pub type SlashQueue<T: Config> = StorageMap<
		_,
		Twox64Concat,
		BlockNumberFor<T>,
		BoundedVec<SlashId, T::MaxSlashesPerBlock>,
		ValueQuery,
	>;

	/// Genesis: the configuration and operators approved and bonded from block 0.
	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// Configuration; `DefaultConfig` when `None`.
		pub config: Option<TierConfigOf<T>>,
		/// `(operator, display name, bond)`: approved, bonded, and in their tier at once.
		pub operators: Vec<(T::AccountId, Vec<u8>, BalanceOf<T>)>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			if let Some(config) = self.config {
				assert!(config.is_valid(), "invalid genesis staking-tiers configuration");
				Configuration::<T>::put(config);
			}
			let config = Configuration::<T>::get();
			NextEpochAt::<T>::put(config.epoch_length);
			for (who, name, bond) in &self.operators {
				Pallet::<T>::genesis_operator(who, name, *bond).expect(
					"genesis operator: unique, within bounds, funded and above the minimum",
				);
			}
		}
	}

	/// Events of this pallet.
	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// An account applied to become an operator.
		Applied {
			/// The applicant.
			who: T::AccountId,
			/// The deposit held until governance decides.
			deposit: BalanceOf<T>,
		},
		/// Governance approved an application; the operator may bond.
		ApplicationApproved {
			/// The operator.
			who: T::AccountId,
		},
		/// Governance rejected an application; the deposit was returned, or forfeited to the
		/// treasury when the application was spam.
		ApplicationRejected {
			/// The applicant.
			who: T::AccountId,
			/// Why (UTF-8).
			reason: BoundedVec<u8, T::MaxReasonLength>,
			/// The deposit paid to the treasury (zero when it was returned).
			forfeited: BalanceOf<T>,
		},
		/// An applicant withdrew its application, or an operator with nothing bonded left.
		ApplicationWithdrawn {
			/// The account.
			who: T::AccountId,
		},
		/// Governance suspended an operator: it lost its tier at once.
		OperatorSuspended {
			/// The operator.
			who: T::AccountId,
			/// Why (UTF-8).
			reason: BoundedVec<u8, T::MaxReasonLength>,
		},
		/// Governance removed an approved operator that holds no stake.
		OperatorEvicted {
			/// The former operator.
			who: T::AccountId,
			/// Why (UTF-8).
			reason: BoundedVec<u8, T::MaxReasonLength>,
		},
		/// Governance reinstated an operator; its tier returns at the next epoch.
		OperatorReinstated {
			/// The operator.
			who: T::AccountId,
		},
		/// Stake was bonded (first bond or extra).
		Bonded {
			/// The operator.
			who: T::AccountId,
			/// Amount added to the active bond.
			amount: BalanceOf<T>,
		},
		/// Stake started unbonding.
		Unbonded {
			/// The operator.
			who: T::AccountId,
			/// Amount moved out of the active bond.
			amount: BalanceOf<T>,
			/// First block it can be withdrawn.
			unlock_at: BlockNumberFor<T>,
		},
		/// Unbonded stake was released to the free balance.
		Withdrawn {
			/// The operator.
			who: T::AccountId,
			/// Amount released.
			amount: BalanceOf<T>,
		},
		/// Unbonding stake was put back into the active bond.
		Rebonded {
			/// The operator.
			who: T::AccountId,
			/// Amount moved back.
			amount: BalanceOf<T>,
		},
		/// An operator's tier in force changed.
		TierChanged {
			/// The operator.
			who: T::AccountId,
			/// Previous tier.
			from: Option<Tier>,
			/// New tier.
			to: Option<Tier>,
		},
		/// A new epoch started.
		EpochStarted {
			/// The epoch's index.
			index: u32,
			/// Operators re-evaluated at this boundary.
			reevaluated: u32,
		},
		/// Governance set a new configuration; every operator is re-evaluated at the next epoch.
		ConfigUpdated {
			/// The new record.
			config: TierConfigOf<T>,
		},
		/// A slash was reported and waits out its defer period.
		SlashScheduled {
			/// Id to cancel it by.
			id: SlashId,
			/// The operator.
			who: T::AccountId,
			/// Share of its stake to take.
			fraction: Perbill,
			/// Block it applies in.
			apply_at: BlockNumberFor<T>,
		},
		/// Governance cancelled a pending slash.
		SlashCancelled {
			/// The slash.
			id: SlashId,
			/// The operator.
			who: T::AccountId,
		},
		/// A slash was applied.
		SlashApplied {
			/// The slash.
			id: SlashId,
			/// The operator.
			who: T::AccountId,
			/// Total taken from its stake.
			amount: BalanceOf<T>,
			/// Paid to the reporters, together.
			to_reporters: BalanceOf<T>,
			/// Paid to the treasury.
			to_treasury: BalanceOf<T>,
		},
	}

	/// Errors of this pallet.
	#[pallet::error]
	pub enum Error<T> {
		/// The account has applied or is an operator already.
		AlreadyApplied,
		/// The account is neither an operator nor an applicant.
		NotOperator,
		/// The application is not pending.
		NotPending,
		/// The operator is not approved (pending, or suspended).
		NotApproved,
		/// The operator is suspended.
		OperatorSuspended,
		/// The operator is not suspended.
		NotSuspended,
		/// `MaxOperators` operators exist already.
		TooManyOperators,
		/// `MaxApplications` applications are pending already.
		TooManyApplications,
		/// The display name is empty.
		EmptyDisplayName,
		/// The display name is longer than `MaxNameLength` (genesis only: a call's texts are
		/// bounded by their type and an oversized one does not decode).
		DisplayNameTooLong,
		/// Not enough free balance for the deposit or the bond.
		InsufficientBalance,
		/// The operator has bonded already; use `bond_extra`.
		AlreadyBonded,
		/// The operator has no bond.
		NotBonded,
		/// The amount is zero.
		ZeroAmount,
		/// The active bond would be below the ALL threshold (and not zero).
		BelowMinimumBond,
		/// Unbonding more than the active bond.
		InsufficientActiveBond,
		/// `MaxUnlockingChunks` chunks are unbonding already; withdraw or rebond first.
		TooManyUnlockingChunks,
		/// No unbonding chunk has reached its unlock block.
		NothingToWithdraw,
		/// Nothing is unbonding.
		NothingToRebond,
		/// The operator still has a bond or unbonding stake.
		StillBonded,
		/// A slash against the operator is pending; withdrawals wait for it.
		SlashPending,
		/// The configuration record is inconsistent (thresholds not increasing, multipliers
		/// decreasing or zero, zero periods, unbonding shorter than the slash defer period).
		InvalidConfig,
		/// No pending slash has this id.
		SlashNotFound,
		/// `MaxPendingSlashes` slashes are pending already.
		TooManyPendingSlashes,
		/// More reporters than `MaxReporters`.
		TooManyReporters,
		/// No block in reach has room in its slash queue.
		SlashQueueFull,
		/// A reporter is listed twice: it would take two shares.
		DuplicateReporter,
		/// The slashed operator is among the reporters: it would be paid part of its own slash.
		SelfReport,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn on_initialize(now: BlockNumberFor<T>) -> Weight {
			let mut weight = Self::apply_due_slashes(now);
			if now >= NextEpochAt::<T>::get() {
				weight = weight.saturating_add(Self::start_epoch(now));
			}
			weight
		}

		fn integrity_test() {
			assert!(T::DefaultConfig::get().is_valid(), "DefaultConfig is invalid");
			assert!(T::MaxOperators::get() > 0 && T::MaxUnlockingChunks::get() > 0);
			assert!(T::MaxApplications::get() > 0);
			assert!(T::MaxSlashesPerBlock::get() > 0 && T::MaxPendingSlashes::get() > 0);
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call(weight(<T as Config>::WeightInfo))]
	impl<T: Config> Pallet<T> {
		/// Apply to become an operator, holding `ApplicationDeposit` until governance decides.
		///
		/// Origin: signed, not an operator or applicant yet. Texts are UTF-8; their bounds
		/// are part of their type, so an oversized call does not even decode. Complexity: O(1).
		#[pallet::call_index(0)]
		pub fn apply(
			origin: OriginFor<T>,
			display_name: BoundedVec<u8, T::MaxNameLength>,
			contact: BoundedVec<u8, T::MaxContactLength>,
			region: BoundedVec<u8, T::MaxRegionLength>,
			hardware: HardwareClass,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_apply(who, display_name, contact, region, hardware)
		}

		/// Approve a pending application and return its deposit. Fails with
		/// `TooManyOperators` while `MaxOperators` operators exist.
		///
		/// Origin: `GovernanceOrigin`. Complexity: O(1).
		#[pallet::call_index(1)]
		pub fn approve(origin: OriginFor<T>, who: T::AccountId) -> DispatchResult {
			T::GovernanceOrigin::ensure_origin(origin)?;
			Self::do_approve(who)
		}

		/// Reject a pending application with a reason. Its deposit is returned, or, with
		/// `forfeit` (spam), paid to the treasury.
		///
		/// Origin: `GovernanceOrigin`. Complexity: O(1).
		#[pallet::call_index(2)]
		pub fn reject(
			origin: OriginFor<T>,
			who: T::AccountId,
			reason: BoundedVec<u8, T::MaxReasonLength>,
			forfeit: bool,
		) -> DispatchResult {
			T::GovernanceOrigin::ensure_origin(origin)?;
			Self::do_reject(who, reason, forfeit)
		}

		/// Withdraw one's pending application, or leave as an operator with nothing bonded.
		///
		/// Origin: signed, the applicant or operator. Complexity: O(1).
		#[pallet::call_index(3)]
		pub fn withdraw_application(origin: OriginFor<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_withdraw_application(who)
		}

		/// Suspend an approved operator: it loses its tier at once and cannot add stake.
		///
		/// Origin: `GovernanceOrigin`. Complexity: O(O), O = operators in its tier.
		#[pallet::call_index(4)]
		pub fn suspend(
			origin: OriginFor<T>,
			who: T::AccountId,
			reason: BoundedVec<u8, T::MaxReasonLength>,
		) -> DispatchResult {
			T::GovernanceOrigin::ensure_origin(origin)?;
			Self::do_suspend(who, reason)
		}

		/// Reinstate a suspended operator; its tier returns at the next epoch boundary.
		///
		/// Origin: `GovernanceOrigin`. Complexity: O(O).
		#[pallet::call_index(5)]
		pub fn reinstate(origin: OriginFor<T>, who: T::AccountId) -> DispatchResult {
			T::GovernanceOrigin::ensure_origin(origin)?;
			Self::do_reinstate(who)
		}

		/// Bond `value` (at least the ALL threshold) with a hold on the free balance.
		///
		/// Origin: signed, an approved operator with no bond. Complexity: O(O).
		#[pallet::call_index(6)]
		pub fn bond(
			origin: OriginFor<T>,
			#[pallet::compact] value: BalanceOf<T>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_bond(who, value)
		}

		/// Add `value` to an existing bond.
		///
		/// Origin: signed, an approved, bonded operator. Complexity: O(O).
		#[pallet::call_index(7)]
		pub fn bond_extra(
			origin: OriginFor<T>,
			#[pallet::compact] value: BalanceOf<T>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_bond_extra(who, value)
		}

		/// Start unbonding `value`; it can be withdrawn after the unbonding period. What
		/// remains active must be zero or at least the ALL threshold.
		///
		/// Origin: signed, a bonded operator. Complexity: O(C + O), C = unbonding chunks.
		#[pallet::call_index(8)]
		pub fn unbond(
			origin: OriginFor<T>,
			#[pallet::compact] value: BalanceOf<T>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_unbond(who, value)
		}

		/// Release every unbonding chunk whose unlock block has come.
		///
		/// Origin: signed, a bonded operator with no pending slash. Complexity: O(C + O).
		#[pallet::call_index(9)]
		pub fn withdraw_unbonded(origin: OriginFor<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_withdraw_unbonded(who)
		}

		/// Move up to `value` of unbonding stake, newest first, back into the active bond.
		///
		/// Origin: signed, an approved operator. Complexity: O(C + O).
		#[pallet::call_index(10)]
		pub fn rebond(
			origin: OriginFor<T>,
			#[pallet::compact] value: BalanceOf<T>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_rebond(who, value)
		}

		/// Replace the configuration record; every operator is re-evaluated at the next
		/// epoch boundary.
		///
		/// Origin: `GovernanceOrigin`. Complexity: O(O).
		#[pallet::call_index(11)]
		pub fn set_config(origin: OriginFor<T>, config: TierConfigOf<T>) -> DispatchResult {
			T::GovernanceOrigin::ensure_origin(origin)?;
			Self::do_set_config(config)
		}

		/// Cancel a pending slash.
		///
		/// Origin: `GovernanceOrigin`. Complexity: O(S), S = `MaxSlashesPerBlock`.
		#[pallet::call_index(12)]
		pub fn cancel_slash(origin: OriginFor<T>, id: SlashId) -> DispatchResult {
			T::GovernanceOrigin::ensure_origin(origin)?;
			Self::do_cancel_slash(id)
		}

		/// Remove an approved or suspended operator that holds no stake (active or
		/// unbonding), freeing its place under `MaxOperators`: for operators approved but
		/// never bonded.
		///
		/// Origin: `GovernanceOrigin`. Complexity: O(1).
		#[pallet::call_index(13)]
		pub fn evict(
			origin: OriginFor<T>,
			who: T::AccountId,
			reason: BoundedVec<u8, T::MaxReasonLength>,
		) -> DispatchResult {
			T::GovernanceOrigin::ensure_origin(origin)?;
			Self::do_evict(who, reason)
		}
	}
}
