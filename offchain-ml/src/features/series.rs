//! Windowed primitives the groups are built from: recursive averages, rolling sums, means,
//! standard deviations and extremes, lags, RSI and Aroon. Every function returns one value per
//! input value; windows are shorter at the start of a series (see the module conventions).

use libm::sqrt;

pub(super) fn div(a: f64, b: f64) -> f64 {
	if b == 0.0 {
		0.0
	} else {
		a / b
	}
}

pub(super) fn ema(x: &[f64], span: usize) -> Vec<f64> {
	recursive(x, 2.0 / (span as f64 + 1.0))
}

pub(super) fn wilder(x: &[f64], n: usize) -> Vec<f64> {
	recursive(x, 1.0 / n as f64)
}

fn recursive(x: &[f64], alpha: f64) -> Vec<f64> {
	let mut out = Vec::with_capacity(x.len());
	let mut acc = 0.0;
	for (t, &v) in x.iter().enumerate() {
		acc = if t == 0 { v } else { acc + alpha * (v - acc) };
		out.push(acc);
	}
	out
}

/// Sums over the last `n` values (fewer at the start), each added up from its own values in
/// order. A running sum would carry the rounding of values that have left the window, so a
/// window's sum would depend on where the series starts: after a burst of volume, a window of
/// zero volumes would sum to a residue instead of 0, and a ratio over it to noise.
pub(super) fn rolling_sum(x: &[f64], n: usize) -> Vec<f64> {
	(0..x.len()).map(|t| window_of(x, t, n).iter().sum()).collect()
}

pub(super) fn rolling_mean(x: &[f64], n: usize) -> Vec<f64> {
	rolling_sum(x, n).into_iter().enumerate().map(|(t, s)| s / (t + 1).min(n) as f64).collect()
}

pub(super) fn window_of(x: &[f64], t: usize, n: usize) -> &[f64] {
	&x[(t + 1).saturating_sub(n)..=t]
}

/// Population standard deviation over the last `n` values, two-pass over each window's own values
/// (its mean, then the mean squared deviation from it): a function of the window alone.
pub(super) fn rolling_std(x: &[f64], n: usize) -> Vec<f64> {
	(0..x.len())
		.map(|t| {
			let w = window_of(x, t, n);
			let k = w.len() as f64;
			let mean = w.iter().sum::<f64>() / k;
			sqrt(w.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / k)
		})
		.collect()
}

/// Extreme over the last `n` values with a monotonic queue: O(1) amortised per value.
/// `keeps(a, b)` is true when `a` makes an older `b` irrelevant (a >= b for a maximum).
fn rolling_extreme(x: &[f64], n: usize, keeps: impl Fn(f64, f64) -> bool) -> Vec<f64> {
	let mut queue = std::collections::VecDeque::with_capacity(n + 1);
	let mut out = Vec::with_capacity(x.len());
	for t in 0..x.len() {
		while queue.back().is_some_and(|&i: &usize| keeps(x[t], x[i])) {
			queue.pop_back();
		}
		queue.push_back(t);
		if queue.front().is_some_and(|&i| i + n <= t) {
			queue.pop_front();
		}
		out.push(x[*queue.front().expect("holds t")]);
	}
	out
}

pub(super) fn rolling_max(x: &[f64], n: usize) -> Vec<f64> {
	rolling_extreme(x, n, |a, b| a >= b)
}

pub(super) fn rolling_min(x: &[f64], n: usize) -> Vec<f64> {
	rolling_extreme(x, n, |a, b| a <= b)
}

pub(super) fn lag(x: &[f64], t: usize, k: usize) -> f64 {
	x[t.saturating_sub(k)]
}

pub(super) fn rsi(c: &[f64], n: usize) -> Vec<f64> {
	let mut up = vec![0.0; c.len()];
	let mut down = vec![0.0; c.len()];
	for t in 1..c.len() {
		let d = c[t] - c[t - 1];
		if d > 0.0 {
			up[t] = d;
		} else {
			down[t] = -d;
		}
	}
	let (up, down) = (wilder(&up, n), wilder(&down, n));
	up.iter()
		.zip(&down)
		.map(|(u, d)| if *d == 0.0 { 100.0 } else { 100.0 - 100.0 / (1.0 + u / d) })
		.collect()
}

/// Position (oldest = 0) of the first extreme over the last `n + 1` values, scaled to 0..100.
pub(super) fn aroon(x: &[f64], n: usize, better: impl Fn(f64, f64) -> bool) -> Vec<f64> {
	(0..x.len())
		.map(|t| {
			let w = window_of(x, t, n + 1);
			let mut best = 0;
			for (i, v) in w.iter().enumerate() {
				if better(*v, w[best]) {
					best = i;
				}
			}
			// Before the window fills, place the values as if the oldest were at its start.
			let offset = n + 1 - w.len();
			100.0 * (best + offset) as f64 / n as f64
		})
		.collect()
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn rolling_extremes_match_a_direct_scan() {
		let x: Vec<f64> = (0..300).map(|i| libm::sin(i as f64 * 0.7) * (i % 13) as f64).collect();
		for n in [1, 2, 9, 14, 26] {
			let (max, min) = (rolling_max(&x, n), rolling_min(&x, n));
			for t in 0..x.len() {
				let w = window_of(&x, t, n);
				assert_eq!(max[t], w.iter().copied().fold(f64::MIN, f64::max));
				assert_eq!(min[t], w.iter().copied().fold(f64::MAX, f64::min));
			}
		}
	}

	#[test]
	fn full_windows_do_not_depend_on_where_the_series_starts() {
		// A burst of large values, then zeros: a running sum would leave a residue.
		let mut x: Vec<f64> = (0..200).map(|i| 1e6 * libm::sin(i as f64 * 0.37).abs()).collect();
		x.extend(std::iter::repeat_n(0.0, 40));
		for n in [3, 10, 14, 20] {
			let (sum, std) = (rolling_sum(&x, n), rolling_std(&x, n));
			for start in [1, 7, 13, 150] {
				let (s, d) = (rolling_sum(&x[start..], n), rolling_std(&x[start..], n));
				for t in start + n - 1..x.len() {
					assert_eq!(s[t - start].to_bits(), sum[t].to_bits(), "sum {n} at {t}");
					assert_eq!(d[t - start].to_bits(), std[t].to_bits(), "std {n} at {t}");
				}
			}
			assert!(sum[x.len() - 1] == 0.0 && std[x.len() - 1] == 0.0);
		}
	}
}
