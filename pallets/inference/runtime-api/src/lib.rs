//! Runtime API of the inference tasks pallet, for the off-chain worker's node, operators'
//! tooling, dashboards and polkadot.js (Developer > Runtime calls > `inferenceApi`).

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

use alloc::vec::Vec;
use codec::Codec;
pub use pallet_inference::{
	Bar, Expected, FeedId, OperatorStatus, Outcome, TaskId, TaskInputView, TaskStatus, TrackRecord,
};

sp_api::decl_runtime_apis! {
	/// Queries about tasks, results, feeds and operators.
	pub trait InferenceApi<AccountId, Balance, BlockNumber>
	where
		AccountId: Codec,
		Balance: Codec,
		BlockNumber: Codec,
	{
		/// A task's status: open (phase, assigned, committed, revealed) or finished (outcome
		/// and each operator's part, while the record is kept).
		fn task(id: TaskId) -> Option<TaskStatus<AccountId, Balance, BlockNumber>>;

		/// The newest settled task of a model (artifact hash) and its status.
		fn latest_result(model: [u8; 32]) -> Option<(TaskId, TaskStatus<AccountId, Balance, BlockNumber>)>;

		/// A price model's live out-of-sample record (artifact hash): forecasts scored, summed
		/// Gaussian negative log-likelihood (nats, 10^6) beside a constant-variance random
		/// walk's on the same bars, and direction hits among the bars that moved.
		fn track_record(model: [u8; 32]) -> TrackRecord;

		/// A feed's newest `count` aggregated bars, oldest first, with their numbers.
		fn bars(feed: FeedId, count: u32) -> Vec<(u32, Bar)>;

		/// An operator's worker key, heartbeat, running account (assigned, agreed, strikes,
		/// rewards) and open tasks with what it should do next.
		fn operator(who: AccountId) -> OperatorStatus<AccountId, Balance, BlockNumber>;
	}
}
