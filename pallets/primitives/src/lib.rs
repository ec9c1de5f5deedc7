//! Types and traits shared by the Noderr pallets.
//!
//! Pallets talk to each other only through these traits, set in their `Config`: the task and
//! guardian pallets ask a [`TierProvider`] who may work and call [`Slash`] to punish, and never
//! name the staking pallet itself.

#![cfg_attr(not(feature = "std"), no_std)]
#![deny(missing_docs)]

extern crate alloc;

use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;
use sp_runtime::{DispatchError, Perbill};

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
}
