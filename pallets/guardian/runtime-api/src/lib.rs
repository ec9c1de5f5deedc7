//! Runtime API of the guardian pallet, for guardians' tools, dashboards and operators.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

use alloc::vec::Vec;
use codec::Codec;
pub use pallet_guardian::{Duty, GuardianConfig, Judging, Offence, OffenceKind, ReportView};

sp_api::decl_runtime_apis! {
	/// Queries about reports, panels and offences.
	pub trait GuardianApi<AccountId, Balance, BlockNumber>
	where
		AccountId: Codec,
		Balance: Codec,
		BlockNumber: Codec,
	{
		/// Every open report with its panel and votes, oldest first.
		fn open_reports() -> Vec<ReportView<AccountId, Balance, BlockNumber>>;

		/// What `guardian` has to do now: votes to cast, audit tasks to re-run.
		fn duties(guardian: AccountId) -> Vec<Duty<BlockNumber>>;

		/// `who`'s confirmed offences (oldest first) and how many count (not cancelled).
		fn offences(who: AccountId) -> (Vec<Offence<BlockNumber>>, u32);

		/// `who`'s missed reveals in its current window.
		fn misses(who: AccountId) -> u32;

		/// The configuration in force.
		fn config() -> GuardianConfig<Balance, BlockNumber>;
	}
}
