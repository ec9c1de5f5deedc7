//! Who may work and who is drawn. Operators' nodes declare in a heartbeat which models they
//! serve; each service key (a model's artifact hash, or [`OBSERVATION_KEY`]) keeps a dense
//! index of its listed operators, so that a draw reads one entry per candidate. A task's k
//! operators are drawn uniformly without replacement (a partial Fisher-Yates shuffle over the
//! index) from the beacon after block `created + assignment_delay`; each candidate is checked as
//! it is drawn: heartbeat not lapsed, tier in force at least the model's minimum (suspension and
//! slashing act at once through the tier provider). Lapsed or no longer eligible candidates are
//! unlisted on the way.
//!
//! Uniform rather than stake-weighted picks: stake already decides who may do a class of work
//! (the tier thresholds) and how much an answer weighs (the median) and earns (the tier
//! multiplier); weighting the draw by stake as well would hand most work to the largest
//! operators and starve the many small ones whose independent answers the median needs.

use crate::*;
use alloc::{collections::BTreeMap, vec::Vec};
use codec::Encode;
use frame_support::pallet_prelude::*;
use frame_system::pallet_prelude::OriginFor;
use noderr_primitives::{Beacon, ModelProvider, Tier, TierProvider};
use sp_runtime::traits::{BlakeTwo256, Hash, Saturating};

impl<T: Config> Pallet<T> {
	/// Links `worker` as the key `operator`'s node submits with.
	pub(crate) fn do_link_worker(operator: T::AccountId, worker: T::AccountId) -> DispatchResult {
		if let Some(existing) = OperatorOf::<T>::get(&worker) {
			ensure!(existing == operator, Error::<T>::WorkerInUse);
		}
		if let Some(old) = WorkerOf::<T>::get(&operator) {
			OperatorOf::<T>::remove(old);
		}
		WorkerOf::<T>::insert(&operator, &worker);
		OperatorOf::<T>::insert(&worker, &operator);
		Self::deposit_event(Event::WorkerLinked { operator, worker });
		Ok(())
	}

	/// The operator a signed origin's worker key submits for.
	pub(crate) fn worker_operator(origin: OriginFor<T>) -> Result<T::AccountId, DispatchError> {
		let worker = frame_system::ensure_signed(origin)?;
		Ok(OperatorOf::<T>::get(worker).ok_or(Error::<T>::NotAWorker)?)
	}

	/// A heartbeat through the signed call: as of this block.
	pub(crate) fn do_heartbeat(
		operator: T::AccountId,
		keys: BoundedVec<[u8; 32], T::MaxServedModels>,
	) -> DispatchResult {
		Self::record_heartbeat(operator, keys, frame_system::Pallet::<T>::block_number())
	}

	/// Records what the operator's node serves as of block `at` and lists it under those keys.
	/// Every key must be a registered model whose minimum tier the operator's tier in force
	/// meets, or [`OBSERVATION_KEY`] with the observation tier: nobody can crowd a model's list
	/// with accounts that could never be drawn. An unchanged declaration is accepted once per
	/// half period (heartbeats are free).
	pub(crate) fn record_heartbeat(
		operator: T::AccountId,
		keys: BoundedVec<[u8; 32], T::MaxServedModels>,
		at: BlockNumberFor<T>,
	) -> DispatchResult {
		let config = Configuration::<T>::get();
		let tier = T::Tiers::tier(&operator);
		for (i, key) in keys.iter().enumerate() {
			ensure!(!keys[..i].contains(key), Error::<T>::DuplicateKey);
			let needed = if *key == OBSERVATION_KEY {
				config.observation_tier
			} else {
				T::Models::model(key).ok_or(Error::<T>::UnknownModel)?.min_tier
			};
			ensure!(tier.is_some_and(|t| t >= needed), Error::<T>::TierTooLow);
		}
		let previous = Heartbeats::<T>::get(&operator);
		if let Some(p) = &previous {
			let half = config.heartbeat_period / 2u32.into();
			ensure!(
				p.keys != keys || at >= p.at.saturating_add(half),
				Error::<T>::HeartbeatTooSoon
			);
		}
		let old = previous.map(|h| h.keys).unwrap_or_default();
		for key in old.iter().filter(|k| !keys.contains(k)) {
			Self::unlist(key, &operator);
		}
		for key in keys.iter() {
			if !ListedAt::<T>::contains_key(key, &operator) {
				Self::list(key, &operator);
			}
		}
		Heartbeats::<T>::insert(&operator, Heartbeat { at, keys: keys.clone() });
		Self::deposit_event(Event::Heartbeat { operator, keys: keys.into_inner() });
		Ok(())
	}

	fn list(key: &[u8; 32], who: &T::AccountId) {
		let n = ListedCount::<T>::get(key);
		Listed::<T>::insert(key, n, who);
		ListedAt::<T>::insert(key, who, n);
		ListedCount::<T>::insert(key, n.saturating_add(1));
	}

	/// Removes `who` from `key`'s index, moving the last entry into its place.
	pub(crate) fn unlist(key: &[u8; 32], who: &T::AccountId) {
		let Some(at) = ListedAt::<T>::take(key, who) else { return };
		let last = ListedCount::<T>::get(key).saturating_sub(1);
		if at != last {
			if let Some(moved) = Listed::<T>::get(key, last) {
				Listed::<T>::insert(key, at, &moved);
				ListedAt::<T>::insert(key, &moved, at);
			}
		}
		Listed::<T>::remove(key, last);
		if last == 0 {
			ListedCount::<T>::remove(key);
		} else {
			ListedCount::<T>::insert(key, last);
		}
	}

	/// Whether `who`'s latest heartbeat is still in force at `now`.
	pub fn is_live(who: &T::AccountId, now: BlockNumberFor<T>) -> bool {
		let period = Configuration::<T>::get().heartbeat_period;
		Heartbeats::<T>::get(who).is_some_and(|h| h.at.saturating_add(period) > now)
	}

	/// The `n`th random number of a draw for `task` from `seed`.
	fn random(seed: &[u8; 32], task: TaskId, n: u32) -> u64 {
		let h = BlakeTwo256::hash(&(b"noderr/assign", seed, task, n).encode());
		u64::from_le_bytes(h.0[..8].try_into().expect("8 bytes"))
	}

	/// Draws up to `k` distinct eligible operators listed under `key` for `task`, none of
	/// `exclude`. Reads at most `4k + 8 + exclude.len()` index entries (each with its heartbeat,
	/// tier and stake), however many operators are listed.
	pub(crate) fn draw(
		task: TaskId,
		key: &[u8; 32],
		min_tier: Tier,
		k: u32,
		seed: &[u8; 32],
		now: BlockNumberFor<T>,
		exclude: &[T::AccountId],
	) -> Vec<Assignee<T::AccountId, BalanceOf<T>>> {
		let mut picked: Vec<Assignee<T::AccountId, BalanceOf<T>>> = Vec::new();
		let mut lapsed = Vec::new();
		// Positions already drawn hold the value of the position they were swapped with.
		let mut swapped: BTreeMap<u32, u32> = BTreeMap::new();
		let mut remaining = ListedCount::<T>::get(key);
		let max_draws = k.saturating_mul(4).saturating_add(8).saturating_add(exclude.len() as u32);
		let mut draws = 0;
		while (picked.len() as u32) < k && remaining > 0 && draws < max_draws {
			let r = (Self::random(seed, task, draws) % remaining as u64) as u32;
			draws += 1;
			let position = *swapped.get(&r).unwrap_or(&r);
			let last = remaining - 1;
			swapped.insert(r, *swapped.get(&last).unwrap_or(&last));
			remaining = last;
			let Some(who) = Listed::<T>::get(key, position) else { continue };
			if exclude.contains(&who) {
				continue;
			}
			if !Self::is_live(&who, now) {
				lapsed.push(who);
				continue;
			}
			match T::Tiers::tier(&who) {
				Some(tier) if tier >= min_tier => {
					let stake = T::Tiers::stake(&who);
					picked.push(Assignee { who, stake, tier });
				}
				// Suspended, or slashed below the model's tier: off the list until it declares
				// again with its tier back.
				_ => lapsed.push(who),
			}
		}
		for who in lapsed {
			Self::unlist(key, &who);
		}
		picked
	}

	/// Assigns a waiting task: draws its operators from the beacon, opens its commit phase.
	/// A task that cannot be assigned fails and its fee is refunded.
	pub(crate) fn assign(id: TaskId, mut task: TaskOf<T>, now: BlockNumberFor<T>) {
		let config = Configuration::<T>::get();
		let class = config.classes[task.class.index()];
		let (key, mut min_tier) = match task.model {
			None => (OBSERVATION_KEY, config.observation_tier),
			Some(model) => match T::Models::model(&model) {
				Some(spec) => (model, spec.min_tier),
				None => return Self::fail(id, task, FailureReason::ModelRetired, now),
			},
		};
		// An audit's panel: GUARDIANs who neither worked on the task nor reported it.
		let mut k = (class.assigned as u32).min(T::MaxAssigned::get());
		let mut exclude = Vec::new();
		if let Some(audit) = &task.audit {
			min_tier = Tier::Guardian;
			k = (audit.panel as u32).min(T::MaxAssigned::get());
			exclude = Records::<T>::get(audit.of)
				.map(|r| r.operators.into_iter().map(|o| o.who).collect())
				.unwrap_or_default();
			exclude.extend(audit.exclude.clone());
		}
		let Some(seed) =
			T::Beacon::beacon_after(task.created.saturating_add(config.assignment_delay))
		else {
			return Self::fail(id, task, FailureReason::NoRandomness, now);
		};
		let picked = Self::draw(id, &key, min_tier, k, &seed, now, &exclude);
		if picked.is_empty() {
			return Self::fail(id, task, FailureReason::NoOperators, now);
		}
		let Ok(until) = Self::queue_deadline(id, now.saturating_add(class.commit_blocks)) else {
			return Self::fail(id, task, FailureReason::Congested, now);
		};
		for a in &picked {
			Stats::<T>::mutate(&a.who, |s| s.assigned.saturating_inc());
		}
		let operators = picked.iter().map(|a| a.who.clone()).collect();
		task.assigned = BoundedVec::truncate_from(picked);
		task.phase = Phase::Commit { until };
		Tasks::<T>::insert(id, task);
		Self::deposit_event(Event::TaskAssigned { task: id, operators, commit_until: until });
	}
}
