//! What the worker did, counted in persistent off-chain storage ([`STATS_KEY`]) so that the
//! node can publish it on its Prometheus endpoint. A run counts into a [`WorkerStats`] of its
//! own and adds it to the stored totals once, at its end.
//!
//! Per task, the worker keeps the latest outcome (`noderr/worker-seen/<operator>`): a task is
//! counted as assigned when first seen, and as missed (with that outcome as the reason) when it
//! closes without a reveal the pool accepted. The chain's own record of misses (strikes) is in
//! the runtime API's operator status.

use alloc::vec::Vec;
use codec::{Decode, Encode};
use sp_runtime::offchain::storage::{MutateStorageError, StorageValueRef};

/// Off-chain storage key of the worker's totals (a SCALE-encoded [`WorkerStats`]).
pub const STATS_KEY: &[u8] = b"noderr/worker-stats";
/// Upper bounds, in milliseconds, of the latency histograms' buckets; one more bucket holds
/// everything above the last.
pub const LATENCY_BUCKETS_MS: [u64; 11] =
	[5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000];
/// Distinct labels a labelled counter keeps; later ones count under [`OTHER`].
pub const MAX_LABELS: usize = 32;
/// The label of counts past [`MAX_LABELS`].
pub const OTHER: &[u8] = b"other";

/// A latency histogram: counts per bucket (not cumulative) and the sum.
#[derive(Clone, Default, PartialEq, Eq, Encode, Decode, Debug)]
pub struct Histogram {
	/// Observations per bucket of [`LATENCY_BUCKETS_MS`], then those above the last bound.
	pub counts: [u64; LATENCY_BUCKETS_MS.len() + 1],
	/// Sum of the observations in milliseconds.
	pub sum_ms: u64,
}

impl Histogram {
	/// Records one observation.
	pub fn observe(&mut self, ms: u64) {
		let bucket =
			LATENCY_BUCKETS_MS.iter().position(|b| ms <= *b).unwrap_or(LATENCY_BUCKETS_MS.len());
		self.counts[bucket] = self.counts[bucket].saturating_add(1);
		self.sum_ms = self.sum_ms.saturating_add(ms);
	}

	/// The number of observations.
	pub fn count(&self) -> u64 {
		self.counts.iter().fold(0u64, |a, c| a.saturating_add(*c))
	}

	fn add(&mut self, other: &Self) {
		for (a, b) in self.counts.iter_mut().zip(other.counts.iter()) {
			*a = a.saturating_add(*b);
		}
		self.sum_ms = self.sum_ms.saturating_add(other.sum_ms);
	}
}

/// Counts by label (a reason, an error, a source), at most [`MAX_LABELS`] labels.
#[derive(Clone, Default, PartialEq, Eq, Encode, Decode, Debug)]
pub struct Labelled(pub Vec<(Vec<u8>, u64)>);

impl Labelled {
	/// Adds `n` to `label`'s count.
	pub fn add(&mut self, label: &[u8], n: u64) {
		if let Some((_, c)) = self.0.iter_mut().find(|(l, _)| l == label) {
			*c = c.saturating_add(n);
		} else if self.0.len() < MAX_LABELS - 1 || label == OTHER {
			self.0.push((label.to_vec(), n));
		} else {
			self.add(OTHER, n);
		}
	}

	/// `label`'s count.
	pub fn get(&self, label: &[u8]) -> u64 {
		self.0.iter().find(|(l, _)| l == label).map_or(0, |(_, c)| *c)
	}

	fn add_all(&mut self, other: &Self) {
		for (label, n) in &other.0 {
			self.add(label, *n);
		}
	}
}

/// The worker's totals since the node's off-chain database was created.
#[derive(Clone, Default, PartialEq, Eq, Encode, Decode, Debug)]
pub struct WorkerStats {
	/// Runs that had a worker key to work for.
	pub runs: u64,
	/// Wall time of those runs.
	pub run_time: Histogram,
	/// Heartbeats the pool accepted.
	pub heartbeats: u64,
	/// Tasks assigned to the node's operators (counted when first seen).
	pub assigned: u64,
	/// Commitments the pool accepted (resubmissions included).
	pub committed: u64,
	/// Reveals the pool accepted (resubmissions included).
	pub revealed: u64,
	/// Tasks that closed without an accepted reveal, by the last reason.
	pub missed: Labelled,
	/// Submissions not made or not accepted, by the pallet's error name (`pool` when the
	/// transaction pool refused a submission the pallet's checks accepted).
	pub refused: Labelled,
	/// ML service calls, by latency (failed calls included).
	pub ml_calls: Histogram,
	/// ML service calls that failed, by reason.
	pub ml_failures: Labelled,
	/// Market-source requests that gave no usable bar, by source URL.
	pub source_failures: Labelled,
	/// Commitments and reveals submitted again because the first did not land in time, by
	/// kind (`commit`, `reveal`).
	pub resubmitted: Labelled,
}

impl WorkerStats {
	/// The stored totals.
	pub fn load() -> Self {
		StorageValueRef::persistent(STATS_KEY).get().ok().flatten().unwrap_or_default()
	}

	/// Adds `other` into `self`.
	pub fn add(&mut self, other: &Self) {
		self.runs = self.runs.saturating_add(other.runs);
		self.run_time.add(&other.run_time);
		self.heartbeats = self.heartbeats.saturating_add(other.heartbeats);
		self.assigned = self.assigned.saturating_add(other.assigned);
		self.committed = self.committed.saturating_add(other.committed);
		self.revealed = self.revealed.saturating_add(other.revealed);
		self.missed.add_all(&other.missed);
		self.refused.add_all(&other.refused);
		self.ml_calls.add(&other.ml_calls);
		self.ml_failures.add_all(&other.ml_failures);
		self.source_failures.add_all(&other.source_failures);
		self.resubmitted.add_all(&other.resubmitted);
	}

	/// Adds this run's counts to the stored totals. Overlapping runs update with
	/// compare-and-set, retried, so no count is lost to a race.
	pub fn save(&self) {
		if *self == Self::default() {
			return;
		}
		let store = StorageValueRef::persistent(STATS_KEY);
		for _ in 0..8 {
			let result = store.mutate::<WorkerStats, (), _>(|stored| {
				let mut total = stored.ok().flatten().unwrap_or_default();
				total.add(self);
				Ok(total)
			});
			match result {
				Ok(_) => return,
				Err(MutateStorageError::ConcurrentModification(_)) => continue,
				Err(MutateStorageError::ValueFunctionFailed(())) => return,
			}
		}
		log::warn!(target: super::LOG, "worker statistics not saved: storage kept changing");
	}
}
