//! Workers' submissions as authorized transactions: a commit, a reveal or a heartbeat, signed by
//! the operator's linked worker key over [`Pallet::signing_payload`], carried by the call
//! `submit` with no signer, nonce or fee. `authorize` checks the signature and runs the same
//! checks as the submission itself (in a storage transaction it rolls back), so an invalid
//! submission never enters the pool or a block, and two submissions of one worker in consecutive
//! blocks cannot collide: there is no nonce to collide on. The transaction pool tells duplicates
//! apart by their tags (operator, kind, task or heartbeat block).

use crate::*;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::{
	pallet_prelude::*,
	storage::{with_transaction, TransactionOutcome},
};
use noderr_primitives::Answer;
use scale_info::TypeInfo;
use sp_runtime::traits::{Saturating, Verify};

/// Heartbeats older than this many blocks are refused (they could be replays).
pub const HEARTBEAT_MAX_AGE: u32 = 10;
/// Domain separation of the signed payload.
const SIGNING_CONTEXT: &[u8] = b"noderr/submission/v1";

/// A worker's submission for its operator.
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
// The no-bound derives need the bounds on the declaration.
#[allow(clippy::multiple_bound_locations)]
pub enum Work<BlockNumber: Clone + PartialEq + Eq + core::fmt::Debug, MaxServed: Get<u32>> {
	/// Commit to an answer.
	Commit {
		/// The task.
		task: TaskId,
		/// `noderr_primitives::commitment(task, operator, answer, salt)`.
		commitment: [u8; 32],
	},
	/// Reveal the committed answer.
	Reveal {
		/// The task.
		task: TaskId,
		/// The answer.
		answer: Answer,
		/// The salt.
		salt: [u8; 32],
	},
	/// Declare the service keys the node serves, as of block `at` (recent, and later than the
	/// operator's previous heartbeat, so that an old one cannot be replayed).
	Heartbeat {
		/// Model artifact hashes, and [`OBSERVATION_KEY`] to observe markets.
		keys: BoundedVec<[u8; 32], MaxServed>,
		/// The block the worker signed at.
		at: BlockNumber,
	},
}

/// A submission: the operator it is for and the work.
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
#[allow(clippy::multiple_bound_locations)]
pub struct Submission<
	AccountId: Clone + PartialEq + Eq + core::fmt::Debug,
	BlockNumber: Clone + PartialEq + Eq + core::fmt::Debug,
	MaxServed: Get<u32>,
> {
	/// The operator the worker submits for.
	pub operator: AccountId,
	/// What it submits.
	pub work: Work<BlockNumber, MaxServed>,
}

/// A submission with this runtime's types.
pub type SubmissionOf<T> = Submission<
	<T as frame_system::Config>::AccountId,
	BlockNumberFor<T>,
	<T as Config>::MaxServedModels,
>;

impl<T: Config> Pallet<T> {
	/// The bytes a worker signs for `submission`: a context label, the chain's genesis hash (a
	/// signature is good on one chain only) and the submission.
	pub fn signing_payload(submission: &SubmissionOf<T>) -> alloc::vec::Vec<u8> {
		let genesis = frame_system::Pallet::<T>::block_hash(BlockNumberFor::<T>::zero());
		(SIGNING_CONTEXT, genesis, submission).encode()
	}

	/// The weight of carrying out `work`: that of the signed call doing the same.
	pub fn work_weight(work: &Work<BlockNumberFor<T>, T::MaxServedModels>) -> Weight {
		match work {
			Work::Commit { .. } => T::WeightInfo::commit(),
			Work::Reveal { .. } => T::WeightInfo::reveal(),
			Work::Heartbeat { .. } => T::WeightInfo::heartbeat(),
		}
	}

	/// Carries out a submission (already authorized).
	pub(crate) fn do_submission(s: SubmissionOf<T>) -> DispatchResult {
		match s.work {
			Work::Commit { task, commitment } => Self::do_commit(s.operator, task, commitment),
			Work::Reveal { task, answer, salt } => Self::do_reveal(s.operator, task, answer, salt),
			Work::Heartbeat { keys, at } => {
				let now = frame_system::Pallet::<T>::block_number();
				ensure!(
					at <= now && now.saturating_sub(at) <= HEARTBEAT_MAX_AGE.into(),
					Error::<T>::StaleHeartbeat
				);
				if let Some(previous) = Heartbeats::<T>::get(&s.operator) {
					ensure!(at > previous.at, Error::<T>::StaleHeartbeat);
				}
				Self::record_heartbeat(s.operator, keys, at)
			}
		}
	}

	/// Whether `submission` may enter the pool and a block: signed by the operator's linked
	/// worker key, and acceptable now (the same checks the call makes, rolled back).
	///
	/// In a block (`InBlock`) the checks are not run here: the dispatch right after runs them
	/// all, so their weight is refunded and a submission's work is paid for once.
	pub(crate) fn authorize_submission(
		source: TransactionSource,
		submission: &SubmissionOf<T>,
		signature: &T::WorkerSignature,
	) -> TransactionValidityWithRefund {
		let worker =
			WorkerOf::<T>::get(&submission.operator).ok_or(InvalidTransaction::BadSigner)?;
		let payload = Self::signing_payload(submission);
		if !signature.verify(&payload[..], &worker) {
			return Err(InvalidTransaction::BadProof.into());
		}
		let refund = if source == TransactionSource::InBlock {
			Self::work_weight(&submission.work)
		} else {
			let checked = with_transaction(|| {
				TransactionOutcome::Rollback(Ok::<_, DispatchError>(Self::do_submission(
					submission.clone(),
				)))
			});
			if let Err(e) = checked.and_then(|r| r) {
				let code = match e {
					DispatchError::Module(m) => m.error[0],
					_ => u8::MAX,
				};
				return Err(InvalidTransaction::Custom(code).into());
			}
			Weight::zero()
		};
		let tag = match &submission.work {
			Work::Commit { task, .. } => (b"commit", *task).encode(),
			Work::Reveal { task, .. } => (b"reveal", *task).encode(),
			Work::Heartbeat { at, .. } => (b"beat", *at).encode(),
		};
		let valid = ValidTransaction::with_tag_prefix("NoderrWork")
			.and_provides((submission.operator.clone(), tag))
			.priority(TransactionPriority::MAX / 2)
			.longevity(8)
			.propagate(true)
			.build()?;
		Ok((valid, refund))
	}
}
