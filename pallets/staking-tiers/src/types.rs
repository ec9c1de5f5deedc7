//! The pallet's records: configuration, operator applications, bonds and slashes.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::{traits::Get, BoundedVec, CloneNoBound, DebugNoBound, PartialEqNoBound};
use noderr_primitives::Tier;
use scale_info::TypeInfo;
use sp_runtime::{traits::Zero, Perbill, Saturating};

/// A value for each tier.
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
pub struct PerTier<V> {
	/// Value for [`Tier::All`].
	pub all: V,
	/// Value for [`Tier::Oracle`].
	pub oracle: V,
	/// Value for [`Tier::Guardian`].
	pub guardian: V,
}

impl<V: Copy> PerTier<V> {
	/// The value for `tier`.
	pub fn get(&self, tier: Tier) -> V {
		match tier {
			Tier::All => self.all,
			Tier::Oracle => self.oracle,
			Tier::Guardian => self.guardian,
		}
	}
}

/// The one governance-set configuration record of the pallet.
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
pub struct TierConfig<Balance, BlockNumber> {
	/// Minimum active bond for each tier. Strictly increasing; the ALL threshold is also the
	/// minimum bond.
	pub thresholds: PerTier<Balance>,
	/// Reward multiplier of each tier in hundredths (100 = 1.0x). Non-decreasing, non-zero.
	pub reward_multipliers: PerTier<u32>,
	/// Blocks in an epoch; tier changes take effect at epoch boundaries.
	pub epoch_length: BlockNumber,
	/// Blocks from `unbond` until the funds can be withdrawn. At least `slash_defer_period`,
	/// so that stake leaving cannot outrun a slash reported while it was bonded.
	pub unbonding_period: BlockNumber,
	/// Blocks between a slash being reported and applied; governance may cancel it meanwhile.
	pub slash_defer_period: BlockNumber,
}

impl<Balance, BlockNumber> TierConfig<Balance, BlockNumber>
where
	Balance: PartialOrd + Zero + Copy,
	BlockNumber: PartialOrd + Zero + Copy,
{
	/// Whether the record is internally consistent.
	pub fn is_valid(&self) -> bool {
		let t = &self.thresholds;
		let m = &self.reward_multipliers;
		!t.all.is_zero()
			&& t.all < t.oracle
			&& t.oracle < t.guardian
			&& m.all > 0
			&& m.all <= m.oracle
			&& m.oracle <= m.guardian
			&& !self.epoch_length.is_zero()
			&& !self.slash_defer_period.is_zero()
			&& self.unbonding_period >= self.slash_defer_period
	}

	/// The tier an active bond of `stake` qualifies for.
	pub fn tier_for(&self, stake: Balance) -> Option<Tier> {
		Tier::ALL.into_iter().rev().find(|tier| stake >= self.thresholds.get(*tier))
	}
}

/// The hardware an operator runs inference on.
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
pub enum HardwareClass {
	/// CPU only.
	Cpu,
	/// One GPU.
	SingleGpu,
	/// Several GPUs.
	MultiGpu,
}

/// What an operator tells governance about itself when applying.
#[derive(CloneNoBound, PartialEqNoBound, Encode, Decode, MaxEncodedLen, TypeInfo, DebugNoBound)]
#[scale_info(skip_type_params(MaxName, MaxContact, MaxRegion))]
pub struct OperatorMetadata<MaxName: Get<u32>, MaxContact: Get<u32>, MaxRegion: Get<u32>> {
	/// Display name (UTF-8).
	pub display_name: BoundedVec<u8, MaxName>,
	/// Website or contact address (UTF-8).
	pub contact: BoundedVec<u8, MaxContact>,
	/// Region the hardware runs in (UTF-8), e.g. "eu-west".
	pub region: BoundedVec<u8, MaxRegion>,
	/// Hardware class.
	pub hardware: HardwareClass,
}

/// Where an operator stands with governance.
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
pub enum OperatorState {
	/// Applied; waiting for governance. The application deposit is held.
	Pending,
	/// Approved: may bond and work.
	Approved,
	/// Approved but suspended by governance: has no tier and may not add stake.
	Suspended,
}

/// An operator or applicant.
#[derive(CloneNoBound, PartialEqNoBound, Encode, Decode, MaxEncodedLen, TypeInfo, DebugNoBound)]
#[scale_info(skip_type_params(MaxName, MaxContact, MaxRegion))]
pub struct OperatorRecord<
	Balance: Clone + PartialEq + core::fmt::Debug,
	BlockNumber: Clone + PartialEq + core::fmt::Debug,
	MaxName: Get<u32>,
	MaxContact: Get<u32>,
	MaxRegion: Get<u32>,
> {
	/// What the operator said about itself.
	pub metadata: OperatorMetadata<MaxName, MaxContact, MaxRegion>,
	/// Governance state.
	pub state: OperatorState,
	/// Application deposit held while the application is pending; zero afterwards.
	pub deposit: Balance,
	/// Block the application was made in.
	pub applied_at: BlockNumber,
}

/// Stake on its way out: withdrawable from `unlock_at`.
#[derive(Clone, Copy, PartialEq, Eq, Encode, Decode, MaxEncodedLen, TypeInfo, Debug)]
pub struct UnlockChunk<Balance, BlockNumber> {
	/// Amount still held.
	pub value: Balance,
	/// First block at which it can be withdrawn.
	pub unlock_at: BlockNumber,
}

/// An operator's bond. The held balance under `HoldReason::Bonded` always equals
/// `active + sum(unlocking)`.
#[derive(CloneNoBound, PartialEqNoBound, Encode, Decode, MaxEncodedLen, TypeInfo, DebugNoBound)]
#[scale_info(skip_type_params(MaxChunks))]
pub struct Ledger<
	Balance: Clone + PartialEq + core::fmt::Debug,
	BlockNumber: Clone + PartialEq + core::fmt::Debug,
	MaxChunks: Get<u32>,
> {
	/// Stake that counts for the tier.
	pub active: Balance,
	/// Unbonding chunks, oldest first.
	pub unlocking: BoundedVec<UnlockChunk<Balance, BlockNumber>, MaxChunks>,
}

impl<Balance, BlockNumber, MaxChunks> Ledger<Balance, BlockNumber, MaxChunks>
where
	Balance: Clone + PartialEq + core::fmt::Debug + Saturating + Zero + Copy,
	BlockNumber: Clone + PartialEq + core::fmt::Debug,
	MaxChunks: Get<u32>,
{
	/// Active plus unbonding stake: what the hold must cover and what a slash reaches.
	pub fn total(&self) -> Balance {
		self.unlocking.iter().fold(self.active, |sum, chunk| sum.saturating_add(chunk.value))
	}

	/// Whether nothing is bonded or unbonding.
	pub fn is_empty(&self) -> bool {
		self.active.is_zero() && self.unlocking.is_empty()
	}
}

/// A reported slash waiting out its defer period.
#[derive(CloneNoBound, PartialEqNoBound, Encode, Decode, MaxEncodedLen, TypeInfo, DebugNoBound)]
#[scale_info(skip_type_params(MaxReporters))]
pub struct PendingSlash<
	AccountId: Clone + PartialEq + core::fmt::Debug,
	BlockNumber: Clone + PartialEq + core::fmt::Debug,
	MaxReporters: Get<u32>,
> {
	/// The operator to slash.
	pub who: AccountId,
	/// Share of active plus unbonding stake to take.
	pub fraction: Perbill,
	/// Accounts that share `reporter_share` of the slashed amount.
	pub reporters: BoundedVec<AccountId, MaxReporters>,
	/// Share of the slashed amount paid to the reporters.
	pub reporter_share: Perbill,
	/// Block in which the slash is applied unless cancelled.
	pub apply_at: BlockNumber,
}

/// Everything about one operator, for the runtime API and wallets.
#[derive(Clone, PartialEq, Eq, Encode, Decode, TypeInfo, Debug)]
pub struct OperatorStatus<Balance, BlockNumber> {
	/// Governance state; `None` if the account never applied (or left).
	pub state: Option<OperatorState>,
	/// Tier in force this epoch.
	pub tier: Option<Tier>,
	/// Tier the active bond qualifies for at the next epoch boundary.
	pub next_tier: Option<Tier>,
	/// Active bond.
	pub active: Balance,
	/// Unbonding chunks `(value, unlock_at)`.
	pub unlocking: alloc::vec::Vec<(Balance, BlockNumber)>,
	/// Pending slashes `(id, fraction, apply_at)`.
	pub pending_slashes: alloc::vec::Vec<(noderr_primitives::SlashId, Perbill, BlockNumber)>,
}
