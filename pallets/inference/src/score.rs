//! The live track record of every price model. A settled prediction (`[return, volatility,
//! confidence]`, fixed point 10^6: the Gaussian mean and standard deviation of the next bar's
//! log return) waits in `PendingScores` for the bar it forecast; when that bar is appended, the
//! model's Gaussian negative log-likelihood of the realised return is added to its
//! `TrackRecords` entry next to a random walk's on the same return.
//!
//! The arithmetic is pure integer code below (no floats: every node must compute the same
//! bits), the storage side at the end.
//!
//! # Logarithm
//!
//! `ln(n / d)` is `(log2 n - log2 d) * ln 2`. `log2 x` takes its integer part from the leading
//! zeros and its fraction bit by bit: with the mantissa `m = x / 2^k` in `[1, 2)`, squaring `m`
//! doubles its logarithm, so each squaring shifts the next fraction bit into the integer
//! position (1 when `m^2 >= 2`, then halved). The mantissa is kept with 62 fraction bits and
//! 50 bits of `log2` are taken; every truncation (of the mantissa, of each square, of the bits
//! not taken) only lowers the result, so `log2` is below the exact value by less than
//! `2^-50 + 2^-60` and never above it, and the difference of two is within `7e-16` nats of
//! `ln(n / d)` before the single final rounding to the output scale: the 10^6 outputs are the
//! exact value rounded to nearest, give or take those `7e-16`. `log2` is monotone in `x`.
//!
//! # Random-walk baseline
//!
//! The baseline forecasts every bar as `N(0, v)`, `v` the mean of the squared one-bar log
//! returns of all bars the feed gained before the scored one (an expanding window, kept per
//! feed as a count and a sum: O(1) per bar). It is the long-run estimate the price model's
//! training reports its `nll_random_walk` against, it uses no information the model did not
//! have, and it does not depend on `HistoryLength` (a runtime upgrade changing the ring does
//! not invalidate it). It adapts slowly to volatility regimes, which makes it the naive
//! benchmark, not a strong one. Its variance is floored like a model's: at `MIN_SIGMA^2`.

use crate::*;
use frame_support::BoundedVec;
use sp_runtime::{helpers_128bit::multiply_by_rational_with_rounding, Rounding};

/// Fixed-point scale of returns, volatilities, prices and log-likelihoods.
pub const SCALE: i64 = 1_000_000;
/// Smallest standard deviation used, fixed point (10^-6): a forecast volatility below it (zero,
/// negative) is read as this, so that the likelihood stays finite.
pub const MIN_SIGMA: i64 = 1;

/// Fraction bits of the internal `log2`.
const LOG2_FRAC_BITS: u32 = 50;
/// Fraction bits of the normalised mantissa while taking `log2`.
const MANTISSA_BITS: u32 = 62;
/// ln 2 in Q64, rounded to nearest (0.693147180559945309417232121458... * 2^64).
const LN2_Q64: u128 = 12_786_308_645_202_655_660;
/// ln(2 pi) / 2 at scale 10^12, rounded to nearest (0.918938533204672741780...).
const HALF_LN_2PI_E12: i128 = 918_938_533_205;
/// 10^12: the internal scale of the likelihood before its final rounding.
const E12: u128 = 1_000_000_000_000;
/// Internal likelihood terms above this (in 10^-12) already exceed `i64::MAX` at the output
/// scale: they saturate.
const TERM_CAP_E12: u128 = 1 << 100;

/// `log2 x` for `x >= 1`, with `LOG2_FRAC_BITS` fraction bits, below the exact value by less
/// than `2^-50 + 2^-60` and never above it. Monotone in `x`. Bounded work: `LOG2_FRAC_BITS`
/// squarings.
fn log2_q50(x: u128) -> u128 {
	debug_assert!(x > 0);
	let k = 127 - x.leading_zeros();
	// The mantissa x / 2^k in [1, 2), with MANTISSA_BITS fraction bits.
	let mut m =
		if k >= MANTISSA_BITS { x >> (k - MANTISSA_BITS) } else { x << (MANTISSA_BITS - k) };
	let mut frac = 0u128;
	for _ in 0..LOG2_FRAC_BITS {
		// m < 2^63, so m^2 < 2^126.
		m = (m * m) >> MANTISSA_BITS;
		frac <<= 1;
		if m >= 2 << MANTISSA_BITS {
			m >>= 1;
			frac |= 1;
		}
	}
	((k as u128) << LOG2_FRAC_BITS) | frac
}

/// `ln(n / d)` for `n, d >= 1`, as its sign (true: negative) and magnitude in Q64, within
/// `7e-16` of the exact value. `|ln| < 89`, so the magnitude is below 2^71.
fn ln_q64(n: u128, d: u128) -> (bool, u128) {
	let (a, b) = (log2_q50(n), log2_q50(d));
	let (negative, diff) = if a >= b { (false, a - b) } else { (true, b - a) };
	// diff < 2^57 and LN2_Q64 < 2^64: the product fits.
	(negative, (diff * LN2_Q64) >> LOG2_FRAC_BITS)
}

/// A signed Q64 magnitude at `scale` (at most 10^12), rounded to nearest, halves away from
/// zero, so that `ln(d / n)` is exactly `-ln(n / d)`.
fn q64_at(negative: bool, magnitude: u128, scale: u128) -> i128 {
	// magnitude < 2^71 and scale < 2^40.
	let m = ((magnitude * scale + (1 << 63)) >> 64) as i128;
	if negative {
		-m
	} else {
		m
	}
}

/// `ln(num / den)`, fixed point 10^6, rounded to nearest (see the module's error bound); `None`
/// when either is zero.
pub fn ln_ratio(num: u128, den: u128) -> Option<i64> {
	if num == 0 || den == 0 {
		return None;
	}
	let (negative, magnitude) = ln_q64(num, den);
	// |ln| < 89: it fits.
	Some(q64_at(negative, magnitude, SCALE as u128) as i64)
}

/// The realised log return `ln(close_new / close_old)` between two fixed-point prices, fixed
/// point 10^6; `None` unless both prices are positive.
pub fn log_return(close_old: i64, close_new: i64) -> Option<i64> {
	if close_old <= 0 || close_new <= 0 {
		return None;
	}
	ln_ratio(close_new as u128, close_old as u128)
}

/// The Gaussian negative log-likelihood, at scale 10^12 before its final rounding, of a
/// deviation `d` (fixed point 10^6) under the variance `var_num / var_den` (real units; both
/// positive, `var_num <= 2^126`): `ln(2 pi) / 2 + ln(var) / 2 + d^2 / (2 var)`. Each of the three
/// terms is within half a unit of 10^-12 (plus the logarithm's `7e-16`). Saturates far above
/// the output range.
fn nll_e12(d: u128, var_num: u128, var_den: u128) -> i128 {
	let (negative, ln_var) = ln_q64(var_num, var_den);
	let half_ln_var = q64_at(negative, ln_var >> 1, E12);
	// d < 2^64, so d^2 fits; d^2 / (2 var) at 10^12 is d^2 * var_den / (2 var_num) (d^2 is
	// at 10^12 already).
	let quadratic = multiply_by_rational_with_rounding(
		d * d,
		var_den,
		var_num.saturating_mul(2),
		Rounding::NearestPrefDown,
	);
	match quadratic {
		Some(q) if q <= TERM_CAP_E12 => HALF_LN_2PI_E12 + half_ln_var + q as i128,
		_ => i128::MAX,
	}
}

/// From scale 10^12 to the output scale 10^6, rounded to nearest (halves up), saturating.
fn e12_to_output(x: i128) -> i64 {
	let rounded = x.saturating_add(500_000).div_euclid(1_000_000);
	rounded.clamp(i64::MIN as i128, i64::MAX as i128) as i64
}

/// The Gaussian negative log-likelihood of the realised log return `r` under a forecast of mean
/// `mu` and standard deviation `sigma` (all fixed point 10^6; `sigma` at least [`MIN_SIGMA`]),
/// in nats, fixed point 10^6: `ln(2 pi) / 2 + ln(sigma) + (r - mu)^2 / (2 sigma^2)`. Within
/// `0.5 + 2e-6` units of the exact value (one final rounding of a sum carried at 10^-12);
/// saturates at `i64::MAX` for absurd deviations. Non-decreasing in `|r - mu|`.
pub fn gaussian_nll(r: i64, mu: i64, sigma: i64) -> i64 {
	let sigma = sigma.max(MIN_SIGMA) as u128;
	let d = (r as i128 - mu as i128).unsigned_abs();
	e12_to_output(nll_e12(d, sigma * sigma, E12))
}

/// The random walk's negative log-likelihood of `r`: the Gaussian one under mean 0 and the
/// variance `sum_squares / count` of `count` earlier returns (`sum_squares` their squares, each
/// at scale 10^12), floored at `MIN_SIGMA^2`; without earlier returns, `MIN_SIGMA^2`. Same
/// scale and error as [`gaussian_nll`].
pub fn random_walk_nll(r: i64, sum_squares: u128, count: u32) -> i64 {
	let min_var = (MIN_SIGMA as u128) * (MIN_SIGMA as u128);
	let (num, den) = if count == 0 || sum_squares < min_var * count as u128 {
		(min_var, E12)
	} else {
		(sum_squares, E12 * count as u128)
	};
	e12_to_output(nll_e12(r.unsigned_abs() as u128, num, den))
}

/// Whether the forecast mean `mu` had the sign of the realised return `r`; `None` when the
/// price did not move (a zero return is neither a hit nor a miss). A zero mean misses.
pub fn direction_hit(mu: i64, r: i64) -> Option<bool> {
	(r != 0).then(|| mu.signum() == r.signum())
}

impl<T: Config> Pallet<T> {
	/// Remembers a settled prediction of `model` on the window of `feed` ending at bar `end`
	/// (`answer`: mean and standard deviation of the next bar's log return, then anything) until
	/// bar `end + 1` arrives. Kept only if that bar has not arrived yet (otherwise the operators
	/// may have seen it), once per model and bar. Beyond `MaxScheduledModels` per bar, a
	/// model of the feed's schedule replaces the oldest entry of a model outside it, and any
	/// other is refused: requesters cannot crowd the scheduled models out.
	pub(crate) fn remember_prediction(
		task: TaskId,
		model: [u8; 32],
		feed: FeedId,
		end: u32,
		answer: &[i64],
	) {
		let (Some(&mu), Some(&sigma)) = (answer.first(), answer.get(1)) else { return };
		let Some(bar) = end.checked_add(1) else { return };
		if BarCount::<T>::get(feed) != bar {
			return;
		}
		let mut pending = PendingScores::<T>::get(feed, bar);
		if pending.iter().any(|p| p.model == model) {
			return;
		}
		if pending.is_full() {
			let scheduled = Schedules::<T>::get(feed).map(|s| s.models).unwrap_or_default();
			if !scheduled.contains(&model) {
				return;
			}
			let Some(i) = pending.iter().position(|p| !scheduled.contains(&p.model)) else {
				return;
			};
			pending.remove(i);
		}
		if pending.try_push(PendingScore { task, model, mu, sigma }).is_ok() {
			PendingScores::<T>::insert(feed, bar, pending);
		}
	}

	/// Bar `number` of `feed` was appended with `close` (`previous_close`: bar `number - 1`'s):
	/// scores every forecast of it against the realised log return, then adds that return to
	/// the feed's baseline. At most `MaxScheduledModels` forecasts: bounded work.
	pub(crate) fn score_bar(feed: FeedId, number: u32, previous_close: Option<i64>, close: i64) {
		let pending: BoundedVec<PendingScore, T::MaxScheduledModels> =
			PendingScores::<T>::take(feed, number);
		let Some(r) = previous_close.and_then(|p| log_return(p, close)) else { return };
		let returns = FeedReturns::<T>::get(feed);
		let baseline_nll = random_walk_nll(r, returns.sum_squares, returns.count);
		for p in pending {
			let nll = gaussian_nll(r, p.mu, p.sigma);
			let hit = direction_hit(p.mu, r);
			TrackRecords::<T>::mutate(p.model, |t| t.add(nll, baseline_nll, hit));
			Self::deposit_event(Event::PredictionScored {
				model: p.model,
				task: p.task,
				nll,
				baseline_nll,
				direction_hit: hit,
			});
		}
		FeedReturns::<T>::insert(feed, returns.with(r));
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use proptest::prelude::*;

	/// The exact value at the output scale, from f64.
	fn ln_f64(n: u128, d: u128) -> f64 {
		(n as f64 / d as f64).ln() * SCALE as f64
	}

	fn nll_f64(r: i64, mu: i64, sigma: i64) -> f64 {
		// The deviation exactly, before any rounding to f64.
		let d = (r as i128 - mu as i128) as f64 / 1e6;
		let s = sigma.max(MIN_SIGMA) as f64 / 1e6;
		(0.5 * (2.0 * core::f64::consts::PI).ln() + s.ln() + d * d / (2.0 * s * s)) * 1e6
	}

	/// Half a unit of the output scale plus the internal error, plus f64's own relative error
	/// on large values.
	fn within(got: i64, expected: f64) -> bool {
		(got as f64 - expected).abs() <= 0.5 + 1e-5 + expected.abs() * 1e-12
	}

	/// A deterministic sample of inputs of every magnitude.
	struct Lcg(u64);
	impl Lcg {
		fn next(&mut self) -> u64 {
			self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
			self.0
		}
		/// A positive number of 1 to `bits` bits, spread over magnitudes.
		fn magnitude(&mut self, bits: u32) -> u128 {
			let b = 1 + (self.next() % bits as u64) as u32;
			let x = ((self.next() as u128) << 64 | self.next() as u128) >> (128 - b);
			x.max(1)
		}
	}

	#[test]
	fn log2_of_powers_of_two_is_exact() {
		for k in 0..128u32 {
			assert_eq!(log2_q50(1u128 << k), (k as u128) << LOG2_FRAC_BITS);
		}
	}

	#[test]
	fn ln_matches_known_values() {
		assert_eq!(ln_ratio(2, 1), Some(693_147));
		assert_eq!(ln_ratio(1, 2), Some(-693_147));
		assert_eq!(ln_ratio(7, 7), Some(0));
		assert_eq!(ln_ratio(10, 1), Some(2_302_585));
		assert_eq!(ln_ratio(1, 1_000_000), Some(-13_815_511));
		assert_eq!(ln_ratio(u128::MAX, 1), Some(88_722_839));
		assert_eq!(ln_ratio(0, 1), None);
		assert_eq!(ln_ratio(1, 0), None);
		// ln(1.01) = 0.00995033...
		assert_eq!(log_return(100_000_000, 101_000_000), Some(9_950));
		assert_eq!(log_return(101_000_000, 100_000_000), Some(-9_950));
		assert_eq!(log_return(0, 1), None);
		assert_eq!(log_return(1, -1), None);
	}

	/// Measures the largest error of `ln_ratio` against f64 over a spread of inputs: within half
	/// a unit (the rounding) plus the internal error.
	#[test]
	fn ln_is_within_half_a_unit() {
		let mut rng = Lcg(1);
		let mut worst = 0f64;
		for _ in 0..200_000 {
			let (n, d) = (rng.magnitude(100), rng.magnitude(100));
			let got = ln_ratio(n, d).unwrap();
			let expected = ln_f64(n, d);
			worst = worst.max((got as f64 - expected).abs());
			assert!(within(got, expected), "ln({n} / {d}) = {got}, expected {expected}");
		}
		// Prices near each other, where returns live.
		for _ in 0..200_000 {
			let old = 1 + (rng.next() % 1_000_000_000_000) as i64;
			let new = old + (rng.next() % (old as u64 / 5 + 1)) as i64 - old / 10;
			let got = log_return(old, new.max(1)).unwrap();
			let expected = ln_f64(new.max(1) as u128, old as u128);
			worst = worst.max((got as f64 - expected).abs());
			assert!(within(got, expected), "ln({new} / {old}) = {got}, expected {expected}");
		}
		std::eprintln!("ln_ratio: largest error {worst} units of 10^-6");
	}

	#[test]
	fn nll_matches_known_values() {
		// Standard normal at its mean: ln(2 pi) / 2.
		assert_eq!(gaussian_nll(0, 0, SCALE), 918_939);
		// One standard deviation away: + 1/2.
		assert_eq!(gaussian_nll(SCALE, 0, SCALE), 1_418_939);
		assert_eq!(gaussian_nll(-SCALE, 0, SCALE), 1_418_939);
		// sigma 1% and r - mu of 2%: 0.918939 + ln(0.01) + 2.
		let expected = 0.5 * (2.0 * core::f64::consts::PI).ln() + 0.01f64.ln() + 2.0;
		assert!(within(gaussian_nll(25_000, 5_000, 10_000), expected * 1e6));
		// A zero or negative volatility is read as MIN_SIGMA.
		assert_eq!(gaussian_nll(0, 0, 0), gaussian_nll(0, 0, MIN_SIGMA));
		assert_eq!(gaussian_nll(3, 1, -5), gaussian_nll(3, 1, MIN_SIGMA));
		assert!(within(gaussian_nll(0, 0, 0), nll_f64(0, 0, 0)));
		// Two units of deviation at MIN_SIGMA: 2^2 / 2 = 2 nats on top.
		assert!(within(gaussian_nll(2, 0, 0), nll_f64(2, 0, 0)));
		// Absurd deviations saturate instead of overflowing.
		assert_eq!(gaussian_nll(i64::MAX, i64::MIN, 0), i64::MAX);
		assert!(within(
			gaussian_nll(i64::MIN, i64::MAX, i64::MAX),
			nll_f64(i64::MIN, i64::MAX, i64::MAX)
		));
	}

	/// Measures the largest error of `gaussian_nll` against f64 over a spread of inputs.
	#[test]
	fn nll_is_within_half_a_unit() {
		let mut rng = Lcg(2);
		let mut worst = 0f64;
		for i in 0..200_000 {
			// Realistic magnitudes for most, anything for some.
			let bits = if i % 4 == 0 { 62 } else { 24 };
			let signed = |rng: &mut Lcg, bits| {
				let m = rng.magnitude(bits) as i64;
				if rng.next().is_multiple_of(2) {
					m
				} else {
					-m
				}
			};
			let (r, mu) = (signed(&mut rng, bits), signed(&mut rng, bits));
			let sigma = rng.magnitude(if i % 4 == 0 { 62 } else { 20 }) as i64;
			let got = gaussian_nll(r, mu, sigma);
			let expected = nll_f64(r, mu, sigma);
			if expected < 9e18 {
				worst = worst.max((got as f64 - expected).abs() / (1.0 + expected.abs() * 1e-12));
				assert!(within(got, expected), "nll({r}, {mu}, {sigma}) = {got}, {expected}");
			}
		}
		std::eprintln!("gaussian_nll: largest error {worst} units of 10^-6");
	}

	#[test]
	fn the_random_walk_uses_the_mean_square_of_earlier_returns() {
		// 4 returns of +-1%: variance 1e-4, sigma 1%.
		let sum = 4 * 10_000u128 * 10_000;
		assert_eq!(random_walk_nll(20_000, sum, 4), gaussian_nll(20_000, 0, 10_000));
		// A quarter of that sum over the same count: variance 2.5e-5, sigma 0.5%.
		let expected = nll_f64(7_000, 0, 5_000);
		assert!(within(random_walk_nll(7_000, sum / 4, 4), expected));
		// No history, or a flat one: MIN_SIGMA.
		assert_eq!(random_walk_nll(5, 0, 0), gaussian_nll(5, 0, MIN_SIGMA));
		assert_eq!(random_walk_nll(5, 0, 100), gaussian_nll(5, 0, MIN_SIGMA));
	}

	#[test]
	fn direction_hits_need_a_move() {
		assert_eq!(direction_hit(5, 3), Some(true));
		assert_eq!(direction_hit(-5, -3), Some(true));
		assert_eq!(direction_hit(5, -3), Some(false));
		assert_eq!(direction_hit(0, 3), Some(false));
		assert_eq!(direction_hit(5, 0), None);
		assert_eq!(direction_hit(0, 0), None);
	}

	proptest! {
		/// At a fixed volatility, a forecast further from the realised return never scores a
		/// lower NLL.
		#[test]
		fn nll_grows_with_the_error(
			mu in -1_000_000_000_000i64..1_000_000_000_000,
			a in 0i64..1_000_000_000_000_000,
			b in 0i64..1_000_000_000_000_000,
			up1 in any::<bool>(),
			up2 in any::<bool>(),
			sigma in prop_oneof![any::<i64>(), 1i64..1_000_000],
		) {
			let (near, far) = (a.min(b), a.max(b));
			let r1 = if up1 { mu + near } else { mu - near };
			let r2 = if up2 { mu + far } else { mu - far };
			prop_assert!(gaussian_nll(r1, mu, sigma) <= gaussian_nll(r2, mu, sigma));
		}

		/// The same over the whole range of inputs, with no panic or overflow.
		#[test]
		fn nll_is_monotone_everywhere(
			r1 in any::<i64>(),
			r2 in any::<i64>(),
			mu in any::<i64>(),
			sigma in any::<i64>(),
		) {
			let (d1, d2) = ((r1 as i128 - mu as i128).abs(), (r2 as i128 - mu as i128).abs());
			let (n1, n2) = (gaussian_nll(r1, mu, sigma), gaussian_nll(r2, mu, sigma));
			if d1 <= d2 {
				prop_assert!(n1 <= n2);
			} else {
				prop_assert!(n1 >= n2);
			}
		}

		/// Log returns are monotone in the new close and antisymmetric.
		#[test]
		fn log_returns_are_monotone_and_antisymmetric(
			old in 1i64..i64::MAX,
			a in 1i64..i64::MAX,
			b in 1i64..i64::MAX,
		) {
			let (lo, hi) = (a.min(b), a.max(b));
			prop_assert!(log_return(old, lo) <= log_return(old, hi));
			prop_assert_eq!(log_return(old, a).map(|r| -r), log_return(a, old));
		}

		/// The random walk is the Gaussian at mean 0 with the realised standard deviation.
		#[test]
		fn the_random_walk_is_the_zero_mean_gaussian(
			r in -1_000_000i64..1_000_000,
			sigma in 1i64..1_000_000,
			count in 1u32..100_000,
		) {
			let sum = (sigma as u128 * sigma as u128) * count as u128;
			let rw = random_walk_nll(r, sum, count);
			prop_assert!(rw.abs_diff(gaussian_nll(r, 0, sigma)) <= 1);
		}
	}
}
