//! The pallet's invariants, checked after every unit test and every simulated block, and by
//! try-runtime:
//! - every requester's held fees equal the fees of its open tasks;
//! - every commitment and reveal belongs to an assigned operator of an open task, and the
//!   tasks' counters match them;
//! - every open task's deadline is queued, in the future;
//! - the record history, the deadline queues and the price history are within their bounds;
//! - the operator index and the heartbeats agree, and worker links are one to one;
//! - pending forecasts wait only for their feed's next bar, within `MaxScheduledModels` and once
//!   per model; track records count no more hits than moves and no more moves than forecasts;
//!   a feed has counted fewer returns than bars.

use crate::*;
use alloc::collections::{BTreeMap, BTreeSet};
use frame_support::traits::fungible::InspectHold;
use frame_support::traits::Get;
use sp_runtime::traits::Zero;

impl<T: Config> Pallet<T> {
	/// Checks every invariant.
	pub fn do_try_state() -> Result<(), &'static str> {
		let now = frame_system::Pallet::<T>::block_number();
		let mut fees: BTreeMap<T::AccountId, BalanceOf<T>> = BTreeMap::new();
		let mut open = 0u32;
		for (id, task) in Tasks::<T>::iter() {
			open += 1;
			if let Some(r) = &task.requester {
				let e = fees.entry(r.clone()).or_insert_with(Zero::zero);
				*e += task.fee;
			} else if !task.fee.is_zero() {
				return Err("a scheduled task holds a fee");
			}
			let deadline = task.phase.deadline();
			if deadline <= now || !Deadlines::<T>::get(deadline).contains(&id) {
				return Err("an open task's deadline is not queued in the future");
			}
			let commits = Commitments::<T>::iter_prefix(id).count();
			let reveals = Reveals::<T>::iter_prefix(id).count();
			if commits != task.committed as usize || reveals != task.revealed as usize {
				return Err("a task's counters do not match its commitments and reveals");
			}
			if task.assigned.len() > T::MaxAssigned::get() as usize {
				return Err("a task has more operators than MaxAssigned");
			}
		}
		if open != Tasks::<T>::count() {
			return Err("the task counter is wrong");
		}
		for (who, fee) in &fees {
			if T::Currency::balance_on_hold(&HoldReason::TaskFee.into(), who) != *fee {
				return Err("held fees differ from the fees of open tasks");
			}
		}
		for (id, who, _) in Commitments::<T>::iter() {
			let task = Tasks::<T>::get(id).ok_or("a commitment of a task that is not open")?;
			if !task.assigned.iter().any(|a| a.who == who) {
				return Err("a commitment of an operator that is not assigned");
			}
		}
		for (id, who, _) in Reveals::<T>::iter() {
			if !Commitments::<T>::contains_key(id, &who) {
				return Err("a reveal without a commitment");
			}
		}
		for (feed, id) in Observing::<T>::iter() {
			match Tasks::<T>::get(id).map(|t| t.input) {
				Some(TaskInput::Observe { feed: f, .. }) if f == feed => {}
				_ => return Err("a feed's observation is not an open observation of it"),
			}
		}
		let ring = RecordRing::<T>::iter().count() as u32;
		if ring > T::MaxRecords::get() || Records::<T>::iter().count() as u32 != ring {
			return Err("the record history is not the ring's");
		}
		for (feed, count) in BarCount::<T>::iter() {
			let kept = Bars::<T>::iter_prefix(feed).count() as u32;
			if kept != count.min(T::HistoryLength::get()) {
				return Err("a feed's history does not hold its bars");
			}
		}
		let mut listed: BTreeSet<([u8; 32], T::AccountId)> = BTreeSet::new();
		for (key, count) in ListedCount::<T>::iter() {
			for i in 0..count {
				let who = Listed::<T>::get(key, i).ok_or("a hole in an operator index")?;
				if ListedAt::<T>::get(key, &who) != Some(i) {
					return Err("an operator index and its positions disagree");
				}
				let declared = Heartbeats::<T>::get(&who).is_some_and(|h| h.keys.contains(&key));
				if !declared {
					return Err("an operator is listed under a key its heartbeat does not declare");
				}
				listed.insert((key, who));
			}
		}
		if ListedAt::<T>::iter().count() != listed.len()
			|| Listed::<T>::iter().count() != listed.len()
		{
			return Err("an operator index holds entries beyond its count");
		}
		for (operator, worker) in WorkerOf::<T>::iter() {
			if OperatorOf::<T>::get(&worker) != Some(operator) {
				return Err("worker links are not one to one");
			}
		}
		if OperatorOf::<T>::iter().count() != WorkerOf::<T>::iter().count() {
			return Err("worker links are not one to one");
		}
		let mut pending = 0usize;
		for (feed, bar, scores) in PendingScores::<T>::iter() {
			pending += 1;
			if bar != BarCount::<T>::get(feed) {
				return Err("a forecast waits for a bar that is not its feed's next");
			}
			if scores.is_empty() {
				return Err("an empty list of pending forecasts is stored");
			}
			let models: BTreeSet<[u8; 32]> = scores.iter().map(|s| s.model).collect();
			if models.len() != scores.len() {
				return Err("a model has two pending forecasts of one bar");
			}
		}
		// A list beyond MaxScheduledModels does not decode, and iter() skips it.
		if PendingScores::<T>::iter_keys().count() != pending {
			return Err("a list of pending forecasts is beyond its bound");
		}
		for (_, record) in TrackRecords::<T>::iter() {
			if record.hits > record.moved || record.moved > record.count {
				return Err("a track record counts more hits than moves or moves than forecasts");
			}
		}
		for (feed, returns) in FeedReturns::<T>::iter() {
			if returns.count >= BarCount::<T>::get(feed).max(1) {
				return Err("a feed counts as many returns as bars");
			}
		}
		Ok(())
	}
}
