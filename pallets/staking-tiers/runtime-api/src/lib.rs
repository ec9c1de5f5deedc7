//! Runtime API of the staking tiers pallet, for wallets, dashboards and the node.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

use alloc::vec::Vec;
use codec::Codec;
use noderr_primitives::Tier;
pub use pallet_staking_tiers::{OperatorState, OperatorStatus};

sp_api::decl_runtime_apis! {
	/// Queries about operators and tiers.
	pub trait StakingTiersApi<AccountId, Balance, BlockNumber>
	where
		AccountId: Codec,
		Balance: Codec,
		BlockNumber: Codec,
	{
		/// Application state, tier in force and next, bond, unbonding chunks and pending
		/// slashes of `who`.
		fn operator_status(who: AccountId) -> OperatorStatus<Balance, BlockNumber>;

		/// Operators whose tier in force is `min_tier` or higher, sorted by account.
		fn operators_of_tier(min_tier: Tier) -> Vec<AccountId>;
	}
}
