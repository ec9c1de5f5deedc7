//! Aggregation of revealed answers into one: pure functions, no storage.
//!
//! - Numbers: the stake-weighted median of each field. While the operators who lie hold less
//!   than half of the revealed stake, each field of the median lies within the range of the
//!   honest answers for that field, whatever the liars answer.
//! - Classes: the stake-weighted plurality, elected only with a strict majority of the
//!   revealed stake.
//!
//! A reveal agrees when every field is within the tolerance of the median (numbers) or it
//! voted the winner (classes); the others are outliers.

use alloc::vec::Vec;

/// One revealed answer with the stake behind it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Vote<'a> {
	/// The answer's values.
	pub values: &'a [i64],
	/// The stake behind it (any unit; only ratios matter).
	pub stake: u128,
}

/// The outcome of aggregating the reveals.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Aggregate {
	/// The aggregated answer.
	pub answer: Vec<i64>,
	/// For numbers: the median absolute deviation of each field from the aggregate. For a
	/// class: the share of revealed stake that voted another class, in parts per million.
	pub dispersion: Vec<i64>,
	/// Per reveal, in input order: whether it agrees with the aggregate.
	pub agrees: Vec<bool>,
	/// Stake of the agreeing reveals.
	pub agreeing_stake: u128,
}

/// Why no aggregate could be formed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoAggregate {
	/// Nobody revealed.
	NoReveals,
	/// The reveals do not all have the same number of fields.
	Malformed,
	/// No class (or no median) holds a strict majority of the revealed stake.
	NoMajority,
}

/// The lower stake-weighted median of `(value, stake)` pairs: the smallest value whose
/// cumulative stake reaches half of the total. Pairs with zero stake count as one unit each so
/// that an all-zero set still has a median.
pub fn weighted_median(mut pairs: Vec<(i64, u128)>) -> Option<i64> {
	if pairs.is_empty() {
		return None;
	}
	if pairs.iter().all(|(_, s)| *s == 0) {
		pairs.iter_mut().for_each(|p| p.1 = 1);
	}
	pairs.sort_unstable();
	let total: u128 = pairs.iter().map(|(_, s)| *s).fold(0, u128::saturating_add);
	let mut acc = 0u128;
	for (value, stake) in &pairs {
		acc = acc.saturating_add(*stake);
		// acc >= total / 2, without losing the odd unit.
		if acc.saturating_mul(2) >= total {
			return Some(*value);
		}
	}
	pairs.last().map(|p| p.0)
}

/// The (unweighted, lower) median of absolute deviations from `center`.
fn median_abs_deviation(values: impl Iterator<Item = i64>, center: i64) -> i64 {
	let mut d: Vec<i64> = values.map(|v| v.abs_diff(center).min(i64::MAX as u64) as i64).collect();
	d.sort_unstable();
	if d.is_empty() {
		0
	} else {
		d[(d.len() - 1) / 2]
	}
}

/// Numbers: per-field stake-weighted median; a reveal agrees when every field is within
/// `tolerance(field, median)` of it. The aggregate needs a strict majority of the revealed stake
/// agreeing, so that a median carried by outliers alone is never published.
pub fn numeric(
	votes: &[Vote],
	tolerance: impl Fn(usize, i64) -> u64,
) -> Result<Aggregate, NoAggregate> {
	let first = votes.first().ok_or(NoAggregate::NoReveals)?;
	let fields = first.values.len();
	if fields == 0 || votes.iter().any(|v| v.values.len() != fields) {
		return Err(NoAggregate::Malformed);
	}
	let mut answer = Vec::with_capacity(fields);
	let mut dispersion = Vec::with_capacity(fields);
	for f in 0..fields {
		let median = weighted_median(votes.iter().map(|v| (v.values[f], v.stake)).collect())
			.ok_or(NoAggregate::NoReveals)?;
		dispersion.push(median_abs_deviation(votes.iter().map(|v| v.values[f]), median));
		answer.push(median);
	}
	let agrees: Vec<bool> = votes
		.iter()
		.map(|v| {
			v.values
				.iter()
				.enumerate()
				.all(|(f, x)| x.abs_diff(answer[f]) <= tolerance(f, answer[f]))
		})
		.collect();
	finish(votes, answer, dispersion, agrees)
}

/// Classes (`[class]` answers): the class with the most revealed stake (the lower class on a
/// tie), elected only with a strict majority of the revealed stake.
pub fn plurality(votes: &[Vote]) -> Result<Aggregate, NoAggregate> {
	if votes.is_empty() {
		return Err(NoAggregate::NoReveals);
	}
	if votes.iter().any(|v| v.values.len() != 1) {
		return Err(NoAggregate::Malformed);
	}
	let mut tally: Vec<(i64, u128)> = Vec::new();
	for v in votes {
		match tally.iter_mut().find(|(c, _)| *c == v.values[0]) {
			Some(entry) => entry.1 = entry.1.saturating_add(v.stake),
			None => tally.push((v.values[0], v.stake)),
		}
	}
	// Most stake first; among equals the lower class.
	tally.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
	let winner = tally[0].0;
	let agrees: Vec<bool> = votes.iter().map(|v| v.values[0] == winner).collect();
	let total: u128 = votes.iter().map(|v| v.stake).fold(0, u128::saturating_add);
	let other = total.saturating_sub(tally[0].1);
	let ppm = other.saturating_mul(1_000_000).checked_div(total).unwrap_or(0) as i64;
	finish(votes, alloc::vec![winner], alloc::vec![ppm], agrees)
}

fn finish(
	votes: &[Vote],
	answer: Vec<i64>,
	dispersion: Vec<i64>,
	agrees: Vec<bool>,
) -> Result<Aggregate, NoAggregate> {
	let total: u128 = votes.iter().map(|v| v.stake).fold(0, u128::saturating_add);
	let agreeing_stake: u128 = votes
		.iter()
		.zip(&agrees)
		.filter(|(_, a)| **a)
		.map(|(v, _)| v.stake)
		.fold(0, u128::saturating_add);
	// Strict majority of the revealed stake (by count when nobody has stake).
	let majority = if total == 0 {
		agrees.iter().filter(|a| **a).count() * 2 > agrees.len()
	} else {
		agreeing_stake.saturating_mul(2) > total
	};
	if !majority {
		return Err(NoAggregate::NoMajority);
	}
	Ok(Aggregate { answer, dispersion, agrees, agreeing_stake })
}

#[cfg(test)]
mod tests {
	use super::*;
	use proptest::prelude::*;

	fn votes(v: &[(Vec<i64>, u128)]) -> Vec<Vote<'_>> {
		v.iter().map(|(values, stake)| Vote { values, stake: *stake }).collect()
	}

	#[test]
	fn weighted_median_follows_the_stake() {
		assert_eq!(weighted_median(vec![(1, 1), (2, 1), (3, 1)]), Some(2));
		assert_eq!(weighted_median(vec![(1, 1), (2, 1), (100, 5)]), Some(100));
		assert_eq!(weighted_median(vec![(5, 1), (7, 1)]), Some(5), "lower median");
		assert_eq!(weighted_median(vec![(3, 0), (9, 0), (4, 0)]), Some(4));
		assert_eq!(weighted_median(vec![]), None);
	}

	#[test]
	fn numbers_agree_within_the_tolerance() {
		let v = [(vec![100, 10], 1), (vec![101, 10], 1), (vec![500, 10], 1)];
		let a = numeric(&votes(&v), |_, _| 2).unwrap();
		assert_eq!(a.answer, vec![101, 10]);
		assert_eq!(a.agrees, vec![true, true, false]);
		assert_eq!(a.dispersion, vec![1, 0]);
		assert_eq!(a.agreeing_stake, 2);
	}

	#[test]
	fn a_median_without_an_agreeing_majority_is_refused() {
		let v = [(vec![100], 1), (vec![200], 1), (vec![300], 1)];
		assert_eq!(numeric(&votes(&v), |_, _| 0), Err(NoAggregate::NoMajority));
		assert_eq!(numeric(&[], |_, _| 0), Err(NoAggregate::NoReveals));
		let bad = [(vec![1, 2], 1), (vec![1], 1)];
		assert_eq!(numeric(&votes(&bad), |_, _| 0), Err(NoAggregate::Malformed));
	}

	#[test]
	fn plurality_needs_a_majority_of_the_revealed_stake() {
		let v = [(vec![2], 5), (vec![1], 2), (vec![1], 2)];
		let a = plurality(&votes(&v)).unwrap();
		assert_eq!(a.answer, vec![2]);
		assert_eq!(a.agrees, vec![true, false, false]);
		assert_eq!(a.dispersion, vec![444_444]);
		let split = [(vec![0], 1), (vec![1], 1), (vec![2], 1)];
		assert_eq!(plurality(&votes(&split)), Err(NoAggregate::NoMajority));
	}

	proptest! {
		/// Liars holding less than a third of the stake cannot move the median outside the
		/// honest answers' range, whatever they answer.
		#[test]
		fn liars_below_a_third_cannot_move_the_median(
			honest in prop::collection::vec((-1_000_000i64..1_000_000, 1u128..10_000), 3..40),
			liars in prop::collection::vec((any::<i64>(), 1u128..10_000), 0..20),
		) {
			let honest_stake: u128 = honest.iter().map(|h| h.1).sum();
			let mut liar_stake = 0u128;
			let mut kept = Vec::new();
			for l in liars {
				// Keep liars only while they stay under a third of the total stake.
				if (liar_stake + l.1) * 3 < honest_stake + liar_stake + l.1 {
					liar_stake += l.1;
					kept.push(l);
				}
			}
			let lo = honest.iter().map(|h| h.0).min().unwrap();
			let hi = honest.iter().map(|h| h.0).max().unwrap();
			let all: Vec<(Vec<i64>, u128)> =
				honest.iter().chain(&kept).map(|(v, s)| (vec![*v], *s)).collect();
			let m = weighted_median(all.iter().map(|(v, s)| (v[0], *s)).collect()).unwrap();
			prop_assert!(lo <= m && m <= hi, "median {} outside honest range {}..{}", m, lo, hi);
			// With a tolerance covering the honest range every honest reveal agrees.
			let a = numeric(&votes(&all), |_, _| (hi - lo) as u64);
			prop_assert!(a.is_ok());
			let a = a.unwrap();
			prop_assert!(a.agrees[..honest.len()].iter().all(|x| *x));
		}

		/// Plurality never elects a class that lacks a strict majority of the revealed stake.
		#[test]
		fn plurality_never_elects_without_a_majority(
			v in prop::collection::vec((0i64..4, 0u128..1_000), 1..40),
		) {
			let all: Vec<(Vec<i64>, u128)> = v.iter().map(|(c, s)| (vec![*c], *s)).collect();
			let total: u128 = v.iter().map(|x| x.1).sum();
			if let Ok(a) = plurality(&votes(&all)) {
				let for_winner: u128 = v.iter().filter(|x| x.0 == a.answer[0]).map(|x| x.1).sum();
				if total > 0 {
					prop_assert!(for_winner * 2 > total);
				} else {
					let n = v.iter().filter(|x| x.0 == a.answer[0]).count();
					prop_assert!(n * 2 > v.len());
				}
			}
		}
	}
}
