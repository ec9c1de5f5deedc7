//! The feature pipeline: 94 features per OHLCV bar, computed over a whole series so that a model
//! receives a sequence (one row per bar), not a snapshot.
//!
//! Pure Rust, `f64` throughout, transcendental functions from `libm` (not the platform's C
//! library), so every node computes bit-identical features from the same bars. The catalogue
//! [`FEATURES`] documents each feature: name, group, formula and window. `docs/features.md` is
//! generated from it (`noderr-ml features --markdown`).
//!
//! Conventions: `c, o, h, l, v` are close, open, high, low and volume; `t` is the bar index;
//! EMA(x, n) is the recursive mean with `alpha = 2 / (n + 1)` started at the first value;
//! Wilder(x, n) the same with `alpha = 1 / n`; SMA, sums, standard deviations (population),
//! maxima and minima are over the last `n` bars, or over the bars available while `t < n - 1`.
//! A ratio whose denominator is zero is 0. Bars are valid when finite, positive, consistent and
//! inside [`PRICE_RANGE`] and [`MAX_VOLUME`]; every feature of valid bars is checked finite, and
//! should a pathological mix still overflow one the input is refused naming it.
//!
//! A model's input window is the last `window` rows of the pipeline run over the last
//! `window + WARMUP` bars (see [`window_features`]): the first [`WARMUP`] bars let the longest
//! windows and the recursive averages settle, and truncating the input to exactly that many
//! bars makes the result a function of those bars alone.

use libm::{fabs, log, sqrt};

/// Version of the feature definitions. Any change to a formula, window or order bumps it; model
/// manifests record the version they were trained with and the service refuses a mismatch.
pub const FEATURE_VERSION: u32 = 1;
/// Number of features per bar.
pub const FEATURE_COUNT: usize = 94;
/// Bars consumed before the first row a model sees.
pub const WARMUP: usize = 100;

/// One OHLCV bar.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Bar {
	pub open: f64,
	pub high: f64,
	pub low: f64,
	pub close: f64,
	pub volume: f64,
}

/// Why a series of bars cannot be turned into features.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FeatureError {
	#[error("bar {index}: {field} is {value}, expected a finite number")]
	NotFinite { index: usize, field: &'static str, value: f64 },
	#[error(
		"bar {index}: prices must be positive (open {open}, high {high}, low {low}, close {close})"
	)]
	NotPositive { index: usize, open: f64, high: f64, low: f64, close: f64 },
	#[error("bar {index}: high {high} and low {low} do not enclose open {open} and close {close}")]
	Inconsistent { index: usize, open: f64, high: f64, low: f64, close: f64 },
	#[error("bar {index}: volume {volume} is negative")]
	NegativeVolume { index: usize, volume: f64 },
	#[error("bar {index}: {field} is {value}, outside the accepted range [{min:e}, {max:e}]")]
	OutOfRange { index: usize, field: &'static str, value: f64, min: f64, max: f64 },
	#[error("{got} bars given, at least {needed} needed ({window} for the window plus {WARMUP} warm-up)")]
	TooShort { got: usize, needed: usize, window: usize },
	#[error("{got} bars given, at least {needed} needed")]
	TooFewBars { got: usize, needed: usize },
	#[error("feature {feature} of bar {index} is {value}: the bars are too extreme to compute it")]
	FeatureNotFinite { index: usize, feature: &'static str, value: f64 },
}

/// Prices accepted, in any unit: far beyond any traded asset's range at both ends, and narrow
/// enough that squares, products with volume and ratios of price differences stay finite
/// normal numbers (a price near 1e305 overflows a variance; one near 1e-300 underflows to zero).
pub const PRICE_RANGE: (f64, f64) = (1e-12, 1e12);
/// Largest volume accepted (volume may be zero).
pub const MAX_VOLUME: f64 = 1e18;

/// Feature groups, in catalogue order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Group {
	Returns,
	Volatility,
	Momentum,
	Trend,
	Volume,
	Range,
}

/// Documentation of one feature.
#[derive(Clone, Copy, Debug, serde::Serialize)]
pub struct FeatureDoc {
	pub name: &'static str,
	pub group: Group,
	/// Bars of history the feature looks at (its warm-up).
	pub window: usize,
	pub formula: &'static str,
}

const fn doc(name: &'static str, group: Group, window: usize, formula: &'static str) -> FeatureDoc {
	FeatureDoc { name, group, window, formula }
}

use Group::*;

/// The 94 features, in the order of a row.
pub const FEATURES: [FeatureDoc; FEATURE_COUNT] = [
	doc("ret_1", Returns, 1, "ln(c_t / c_{t-1})"),
	doc("ret_2", Returns, 2, "ln(c_t / c_{t-2})"),
	doc("ret_3", Returns, 3, "ln(c_t / c_{t-3})"),
	doc("ret_5", Returns, 5, "ln(c_t / c_{t-5})"),
	doc("ret_8", Returns, 8, "ln(c_t / c_{t-8})"),
	doc("ret_10", Returns, 10, "ln(c_t / c_{t-10})"),
	doc("ret_15", Returns, 15, "ln(c_t / c_{t-15})"),
	doc("ret_20", Returns, 20, "ln(c_t / c_{t-20})"),
	doc("ret_30", Returns, 30, "ln(c_t / c_{t-30})"),
	doc("ret_60", Returns, 60, "ln(c_t / c_{t-60})"),
	doc("vol_5", Volatility, 5, "population std of ret_1 over 5 bars"),
	doc("vol_10", Volatility, 10, "population std of ret_1 over 10 bars"),
	doc("vol_20", Volatility, 20, "population std of ret_1 over 20 bars"),
	doc("vol_60", Volatility, 60, "population std of ret_1 over 60 bars"),
	doc("parkinson_10", Volatility, 10, "sqrt(mean(ln(h/l)^2) / (4 ln 2)) over 10 bars"),
	doc("parkinson_20", Volatility, 20, "sqrt(mean(ln(h/l)^2) / (4 ln 2)) over 20 bars"),
	doc(
		"garman_klass_20",
		Volatility,
		20,
		"sqrt(max(0, mean(0.5 ln(h/l)^2 - (2 ln 2 - 1) ln(c/o)^2))) over 20 bars",
	),
	doc("atr_14", Volatility, 14, "Wilder(TR, 14) / c, TR = max(h, c_{t-1}) - min(l, c_{t-1})"),
	doc("bb_pband_20", Volatility, 20, "(c - lower) / (upper - lower), bands SMA(c,20) +- 2 std(c,20)"),
	doc("bb_wband_20", Volatility, 20, "100 (upper - lower) / SMA(c, 20)"),
	doc(
		"kc_pband_20",
		Volatility,
		20,
		"(c - lower) / (upper - lower), upper = SMA((4h - 2l + c)/3, 20), lower = SMA((-2h + 4l + c)/3, 20)",
	),
	doc("kc_wband_20", Volatility, 20, "100 (upper - lower) / SMA((h + l + c)/3, 20)"),
	doc("dc_pband_20", Volatility, 20, "(c - min(l,20)) / (max(h,20) - min(l,20))"),
	doc("dc_wband_20", Volatility, 20, "100 (max(h,20) - min(l,20)) / SMA(c, 20)"),
	doc(
		"ulcer_14",
		Volatility,
		27,
		"sqrt(sum(d^2) / 14) over 14 bars, d = 100 (c - max(c,14)) / max(c,14)",
	),
	doc("rsi_14", Momentum, 14, "100 - 100 / (1 + Wilder(up,14) / Wilder(down,14)); 100 if no down move"),
	doc("rsi_7", Momentum, 7, "100 - 100 / (1 + Wilder(up,7) / Wilder(down,7)); 100 if no down move"),
	doc("stoch_k_14", Momentum, 14, "100 (c - min(l,14)) / (max(h,14) - min(l,14))"),
	doc("stoch_d_3", Momentum, 16, "SMA(stoch_k_14, 3)"),
	doc("williams_r_14", Momentum, 14, "-100 (max(h,14) - c) / (max(h,14) - min(l,14))"),
	doc("roc_10", Momentum, 10, "100 (c_t - c_{t-10}) / c_{t-10}"),
	doc("roc_20", Momentum, 20, "100 (c_t - c_{t-20}) / c_{t-20}"),
	doc(
		"tsi_25_13",
		Momentum,
		38,
		"100 EMA(EMA(dc, 25), 13) / EMA(EMA(|dc|, 25), 13), dc = c_t - c_{t-1}",
	),
	doc(
		"uo_7_14_28",
		Momentum,
		28,
		"100 (4 A7 + 2 A14 + A28) / 7, An = sum(c - min(l, c_{t-1}), n) / sum(TR, n)",
	),
	doc("ao_5_34", Momentum, 34, "(SMA(m, 5) - SMA(m, 34)) / c, m = (h + l) / 2"),
	doc(
		"kama_10_2_30",
		Momentum,
		10,
		"c / KAMA - 1; KAMA_t = KAMA_{t-1} + sc (c - KAMA_{t-1}), sc = (er (2/3 - 2/31) + 2/31)^2, er = |c_t - c_{t-10}| / sum(|dc|, 10)",
	),
	doc("stochrsi_14", Momentum, 28, "(rsi_14 - min(rsi_14,14)) / (max(rsi_14,14) - min(rsi_14,14))"),
	doc("stochrsi_k", Momentum, 30, "SMA(stochrsi_14, 3)"),
	doc("stochrsi_d", Momentum, 32, "SMA(stochrsi_k, 3)"),
	doc("ppo_12_26", Momentum, 26, "100 (EMA(c,12) - EMA(c,26)) / EMA(c,26)"),
	doc("ppo_signal_9", Momentum, 35, "EMA(ppo_12_26, 9)"),
	doc("ppo_hist", Momentum, 35, "ppo_12_26 - ppo_signal_9"),
	doc("sma_rel_5", Trend, 5, "c / SMA(c, 5) - 1"),
	doc("sma_rel_10", Trend, 10, "c / SMA(c, 10) - 1"),
	doc("sma_rel_20", Trend, 20, "c / SMA(c, 20) - 1"),
	doc("sma_rel_50", Trend, 50, "c / SMA(c, 50) - 1"),
	doc("ema_rel_5", Trend, 5, "c / EMA(c, 5) - 1"),
	doc("ema_rel_10", Trend, 10, "c / EMA(c, 10) - 1"),
	doc("ema_rel_20", Trend, 20, "c / EMA(c, 20) - 1"),
	doc("ema_rel_50", Trend, 50, "c / EMA(c, 50) - 1"),
	doc("macd_12_26", Trend, 26, "(EMA(c,12) - EMA(c,26)) / c"),
	doc("macd_signal_9", Trend, 35, "EMA(EMA(c,12) - EMA(c,26), 9) / c"),
	doc("macd_diff", Trend, 35, "macd_12_26 - macd_signal_9"),
	doc(
		"adx_14",
		Trend,
		28,
		"Wilder(DX, 14), DX = 100 |di_pos - di_neg| / (di_pos + di_neg)",
	),
	doc(
		"adx_pos_14",
		Trend,
		14,
		"100 Wilder(+DM, 14) / Wilder(TR, 14), +DM = h_t - h_{t-1} if it exceeds l_{t-1} - l_t and 0",
	),
	doc(
		"adx_neg_14",
		Trend,
		14,
		"100 Wilder(-DM, 14) / Wilder(TR, 14), -DM = l_{t-1} - l_t if it exceeds h_t - h_{t-1} and 0",
	),
	doc("aroon_up_25", Trend, 26, "100 (position of the first max of h over 26 bars, oldest = 0) / 25"),
	doc("aroon_down_25", Trend, 26, "100 (position of the first min of l over 26 bars, oldest = 0) / 25"),
	doc(
		"cci_20",
		Trend,
		20,
		"(tp - SMA(tp,20)) / (0.015 mean|tp - SMA(tp,20)|), tp = (h + l + c) / 3",
	),
	doc("dpo_20", Trend, 20, "(c_{t-11} - SMA(c, 20)) / c"),
	doc(
		"vortex_pos_14",
		Trend,
		14,
		"sum(|h_t - l_{t-1}|, 14) / sum(TR, 14)",
	),
	doc(
		"vortex_neg_14",
		Trend,
		14,
		"sum(|l_t - h_{t-1}|, 14) / sum(TR, 14)",
	),
	doc("trix_15", Trend, 45, "100 (E_t - E_{t-1}) / E_{t-1}, E = EMA(EMA(EMA(c,15),15),15)"),
	doc("mass_index_9_25", Trend, 41, "sum(EMA(h-l,9) / EMA(EMA(h-l,9),9), 25)"),
	doc(
		"kst",
		Trend,
		45,
		"100 (SMA(R10,10) + 2 SMA(R15,10) + 3 SMA(R20,10) + 4 SMA(R30,15)), Rk = c_t / c_{t-k} - 1",
	),
	doc("kst_signal", Trend, 54, "SMA(kst, 9)"),
	doc("ichimoku_conv_9", Trend, 9, "c / ((max(h,9) + min(l,9)) / 2) - 1"),
	doc("ichimoku_base_26", Trend, 26, "c / ((max(h,26) + min(l,26)) / 2) - 1"),
	doc("cmf_20", Volume, 20, "sum(clv v, 20) / sum(v, 20), clv = ((c - l) - (h - c)) / (h - l)"),
	doc(
		"mfi_14",
		Volume,
		15,
		"100 - 100 / (1 + P / N), P and N = sums over 14 bars of tp v where tp rose, fell",
	),
	doc("force_index_13", Volume, 20, "EMA((c_t - c_{t-1}) v, 13) / (SMA(v, 20) c)"),
	doc("obv_slope_10", Volume, 10, "(OBV_t - OBV_{t-10}) / sum(v, 10), OBV += v if c_t >= c_{t-1} else -v"),
	doc("vwap_14", Volume, 14, "c / (sum(tp v, 14) / sum(v, 14)) - 1"),
	doc("adi_slope_10", Volume, 10, "(ADI_t - ADI_{t-10}) / sum(v, 10), ADI += clv v"),
	doc("volume_z_20", Volume, 20, "(v - SMA(v, 20)) / std(v, 20)"),
	doc("volume_ratio_20", Volume, 20, "v / SMA(v, 20) - 1"),
	doc("pvo_12_26", Volume, 26, "100 (EMA(v,12) - EMA(v,26)) / EMA(v,26)"),
	doc("pvo_signal_9", Volume, 35, "EMA(pvo_12_26, 9)"),
	doc("pvo_hist", Volume, 35, "pvo_12_26 - pvo_signal_9"),
	doc("body", Range, 1, "(c - o) / (h - l)"),
	doc("upper_shadow", Range, 1, "(h - max(o, c)) / (h - l)"),
	doc("lower_shadow", Range, 1, "(min(o, c) - l) / (h - l)"),
	doc("range", Range, 1, "(h - l) / c"),
	doc("gap", Range, 2, "ln(o_t / c_{t-1})"),
	doc("clv", Range, 1, "((c - l) - (h - c)) / (h - l)"),
	doc("high_change", Range, 2, "ln(h_t / h_{t-1})"),
	doc("low_change", Range, 2, "ln(l_t / l_{t-1})"),
	doc("inside_bar", Range, 2, "1 if h_t < h_{t-1} and l_t > l_{t-1}, else 0"),
	doc("outside_bar", Range, 2, "1 if h_t > h_{t-1} and l_t < l_{t-1}, else 0"),
	doc("doji", Range, 1, "1 if |c - o| <= 0.1 (h - l), else 0"),
	doc(
		"streak",
		Range,
		11,
		"signed run length of rising (c_t > c_{t-1}) or falling closes, capped at 10, divided by 10",
	),
	doc("range_atr", Range, 14, "(h - l) / Wilder(TR, 14)"),
	doc("dist_high_20", Range, 20, "c / max(h, 20) - 1"),
	doc("dist_low_20", Range, 20, "c / min(l, 20) - 1"),
];

/// Checks that every bar is usable: finite, positive prices, high and low enclosing open and
/// close, non-negative volume.
pub fn validate(bars: &[Bar]) -> Result<(), FeatureError> {
	for (index, b) in bars.iter().enumerate() {
		for (field, value) in [
			("open", b.open),
			("high", b.high),
			("low", b.low),
			("close", b.close),
			("volume", b.volume),
		] {
			if !value.is_finite() {
				return Err(FeatureError::NotFinite { index, field, value });
			}
		}
		let (open, high, low, close) = (b.open, b.high, b.low, b.close);
		if open <= 0.0 || high <= 0.0 || low <= 0.0 || close <= 0.0 {
			return Err(FeatureError::NotPositive { index, open, high, low, close });
		}
		let (min, max) = PRICE_RANGE;
		for (field, value) in [("open", open), ("high", high), ("low", low), ("close", close)] {
			if !(min..=max).contains(&value) {
				return Err(FeatureError::OutOfRange { index, field, value, min, max });
			}
		}
		if b.volume > MAX_VOLUME {
			let value = b.volume;
			return Err(FeatureError::OutOfRange {
				index,
				field: "volume",
				value,
				min: 0.0,
				max: MAX_VOLUME,
			});
		}
		if high < open.max(close) || low > open.min(close) {
			return Err(FeatureError::Inconsistent { index, open, high, low, close });
		}
		if b.volume < 0.0 {
			return Err(FeatureError::NegativeVolume { index, volume: b.volume });
		}
	}
	Ok(())
}

/// Bars a window of `window` rows needs.
pub const fn bars_needed(window: usize) -> usize {
	window + WARMUP
}

/// The `window` rows a model consumes, computed over the last `window + WARMUP` bars. Row-major,
/// `window * FEATURE_COUNT` values.
pub fn window_features(bars: &[Bar], window: usize) -> Result<Vec<f64>, FeatureError> {
	let needed = bars_needed(window);
	if bars.len() < needed {
		return Err(FeatureError::TooShort { got: bars.len(), needed, window });
	}
	let bars = &bars[bars.len() - needed..];
	validate(bars)?;
	let all = compute_unchecked(bars);
	all_finite(&all)?;
	Ok(all[WARMUP * FEATURE_COUNT..].to_vec())
}

/// Features for every bar of a validated series. Row-major, `bars.len() * FEATURE_COUNT` values.
pub fn compute(bars: &[Bar]) -> Result<Vec<f64>, FeatureError> {
	validate(bars)?;
	let all = compute_unchecked(bars);
	all_finite(&all)?;
	Ok(all)
}

/// The guard behind "every feature is finite for every valid input": should bars inside the
/// accepted ranges still be extreme enough to overflow a feature, the caller gets an input error
/// naming it, never a NaN passed on to a model.
fn all_finite(rows: &[f64]) -> Result<(), FeatureError> {
	match rows.iter().position(|v| !v.is_finite()) {
		None => Ok(()),
		Some(i) => Err(FeatureError::FeatureNotFinite {
			index: i / FEATURE_COUNT,
			feature: FEATURES[i % FEATURE_COUNT].name,
			value: rows[i],
		}),
	}
}

fn div(a: f64, b: f64) -> f64 {
	if b == 0.0 {
		0.0
	} else {
		a / b
	}
}

fn ema(x: &[f64], span: usize) -> Vec<f64> {
	recursive(x, 2.0 / (span as f64 + 1.0))
}

fn wilder(x: &[f64], n: usize) -> Vec<f64> {
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

/// Sums over the last `n` values (fewer at the start). Recomputed from scratch every `n` steps
/// to keep rounding from drifting over long series.
fn rolling_sum(x: &[f64], n: usize) -> Vec<f64> {
	let mut out = Vec::with_capacity(x.len());
	let mut acc = 0.0;
	for t in 0..x.len() {
		if t % n == 0 {
			let start = (t + 1).saturating_sub(n);
			acc = x[start..=t].iter().sum();
		} else {
			acc += x[t];
			if t >= n {
				acc -= x[t - n];
			}
		}
		out.push(acc);
	}
	out
}

fn rolling_mean(x: &[f64], n: usize) -> Vec<f64> {
	rolling_sum(x, n).into_iter().enumerate().map(|(t, s)| s / (t + 1).min(n) as f64).collect()
}

fn window_of(x: &[f64], t: usize, n: usize) -> &[f64] {
	&x[(t + 1).saturating_sub(n)..=t]
}

/// Population standard deviation over the last `n` values, from running sums of the values
/// shifted by the first one (which keeps the cancellation in `E[d^2] - E[d]^2` small).
fn rolling_std(x: &[f64], n: usize) -> Vec<f64> {
	let shift = x.first().copied().unwrap_or(0.0);
	let d: Vec<f64> = x.iter().map(|v| v - shift).collect();
	let d2: Vec<f64> = d.iter().map(|v| v * v).collect();
	let (s1, s2) = (rolling_sum(&d, n), rolling_sum(&d2, n));
	(0..x.len())
		.map(|t| {
			let k = (t + 1).min(n) as f64;
			let mean = s1[t] / k;
			sqrt((s2[t] / k - mean * mean).max(0.0))
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

fn rolling_max(x: &[f64], n: usize) -> Vec<f64> {
	rolling_extreme(x, n, |a, b| a >= b)
}

fn rolling_min(x: &[f64], n: usize) -> Vec<f64> {
	rolling_extreme(x, n, |a, b| a <= b)
}

fn lag(x: &[f64], t: usize, k: usize) -> f64 {
	x[t.saturating_sub(k)]
}

fn rsi(c: &[f64], n: usize) -> Vec<f64> {
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
fn aroon(x: &[f64], n: usize, better: impl Fn(f64, f64) -> bool) -> Vec<f64> {
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

fn compute_unchecked(bars: &[Bar]) -> Vec<f64> {
	let n = bars.len();
	let o: Vec<f64> = bars.iter().map(|b| b.open).collect();
	let h: Vec<f64> = bars.iter().map(|b| b.high).collect();
	let l: Vec<f64> = bars.iter().map(|b| b.low).collect();
	let c: Vec<f64> = bars.iter().map(|b| b.close).collect();
	let v: Vec<f64> = bars.iter().map(|b| b.volume).collect();
	let ln2 = core::f64::consts::LN_2;

	// Shared series. Logarithms once per bar: log ratios are differences of these.
	let (ln_o, ln_h, ln_l, ln_c): (Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>) = (
		o.iter().map(|x| log(*x)).collect(),
		h.iter().map(|x| log(*x)).collect(),
		l.iter().map(|x| log(*x)).collect(),
		c.iter().map(|x| log(*x)).collect(),
	);
	let ret1: Vec<f64> = (0..n).map(|t| ln_c[t] - lag(&ln_c, t, 1)).collect();
	let prev_close: Vec<f64> = (0..n).map(|t| lag(&c, t, 1)).collect();
	let tr: Vec<f64> =
		(0..n)
			.map(|t| {
				if t == 0 {
					h[0] - l[0]
				} else {
					h[t].max(prev_close[t]) - l[t].min(prev_close[t])
				}
			})
			.collect();
	let atr = wilder(&tr, 14);
	let tp: Vec<f64> = (0..n).map(|t| (h[t] + l[t] + c[t]) / 3.0).collect();
	let hl_range: Vec<f64> = (0..n).map(|t| h[t] - l[t]).collect();
	let clv: Vec<f64> = (0..n).map(|t| div((c[t] - l[t]) - (h[t] - c[t]), hl_range[t])).collect();
	let max_h = |w| rolling_max(&h, w);
	let min_l = |w| rolling_min(&l, w);
	let (max_h14, min_l14, max_h20, min_l20) = (max_h(14), min_l(14), max_h(20), min_l(20));
	let sma_c20 = rolling_mean(&c, 20);
	let std_c20 = rolling_std(&c, 20);
	let sum_v10 = rolling_sum(&v, 10);
	let sum_v14 = rolling_sum(&v, 14);
	let sum_v20 = rolling_sum(&v, 20);
	let sma_v20 = rolling_mean(&v, 20);
	let std_v20 = rolling_std(&v, 20);
	let ema_c12 = ema(&c, 12);
	let ema_c26 = ema(&c, 26);

	let mut cols: Vec<Vec<f64>> = Vec::with_capacity(FEATURE_COUNT);

	// Returns.
	for k in [1, 2, 3, 5, 8, 10, 15, 20, 30, 60] {
		cols.push((0..n).map(|t| ln_c[t] - lag(&ln_c, t, k)).collect());
	}

	// Volatility.
	for w in [5, 10, 20, 60] {
		cols.push(rolling_std(&ret1, w));
	}
	let hl2: Vec<f64> = (0..n).map(|t| (ln_h[t] - ln_l[t]) * (ln_h[t] - ln_l[t])).collect();
	for w in [10, 20] {
		cols.push(
			rolling_mean(&hl2, w).into_iter().map(|m| sqrt(m.max(0.0) / (4.0 * ln2))).collect(),
		);
	}
	let gk: Vec<f64> = (0..n)
		.map(|t| 0.5 * hl2[t] - (2.0 * ln2 - 1.0) * (ln_c[t] - ln_o[t]) * (ln_c[t] - ln_o[t]))
		.collect();
	cols.push(rolling_mean(&gk, 20).into_iter().map(|m| sqrt(m.max(0.0))).collect());
	cols.push((0..n).map(|t| atr[t] / c[t]).collect());
	let bb_up: Vec<f64> = (0..n).map(|t| sma_c20[t] + 2.0 * std_c20[t]).collect();
	let bb_lo: Vec<f64> = (0..n).map(|t| sma_c20[t] - 2.0 * std_c20[t]).collect();
	cols.push((0..n).map(|t| div(c[t] - bb_lo[t], bb_up[t] - bb_lo[t])).collect());
	cols.push((0..n).map(|t| 100.0 * (bb_up[t] - bb_lo[t]) / sma_c20[t]).collect());
	let kc_mid = rolling_mean(&tp, 20);
	let kc_up = rolling_mean(
		&(0..n).map(|t| (4.0 * h[t] - 2.0 * l[t] + c[t]) / 3.0).collect::<Vec<_>>(),
		20,
	);
	let kc_lo = rolling_mean(
		&(0..n).map(|t| (-2.0 * h[t] + 4.0 * l[t] + c[t]) / 3.0).collect::<Vec<_>>(),
		20,
	);
	cols.push((0..n).map(|t| div(c[t] - kc_lo[t], kc_up[t] - kc_lo[t])).collect());
	cols.push((0..n).map(|t| 100.0 * (kc_up[t] - kc_lo[t]) / kc_mid[t]).collect());
	cols.push((0..n).map(|t| div(c[t] - min_l20[t], max_h20[t] - min_l20[t])).collect());
	cols.push((0..n).map(|t| 100.0 * (max_h20[t] - min_l20[t]) / sma_c20[t]).collect());
	let max_c14 = rolling_max(&c, 14);
	let drawdown: Vec<f64> = (0..n).map(|t| 100.0 * (c[t] - max_c14[t]) / max_c14[t]).collect();
	cols.push(
		(0..n)
			.map(|t| sqrt(window_of(&drawdown, t, 14).iter().map(|d| d * d).sum::<f64>() / 14.0))
			.collect(),
	);

	// Momentum.
	let rsi14 = rsi(&c, 14);
	cols.push(rsi14.clone());
	cols.push(rsi(&c, 7));
	let stoch_k: Vec<f64> =
		(0..n).map(|t| 100.0 * div(c[t] - min_l14[t], max_h14[t] - min_l14[t])).collect();
	cols.push(stoch_k.clone());
	cols.push(rolling_mean(&stoch_k, 3));
	cols.push((0..n).map(|t| -100.0 * div(max_h14[t] - c[t], max_h14[t] - min_l14[t])).collect());
	for k in [10, 20] {
		cols.push((0..n).map(|t| 100.0 * (c[t] - lag(&c, t, k)) / lag(&c, t, k)).collect());
	}
	let dc: Vec<f64> = (0..n).map(|t| c[t] - prev_close[t]).collect();
	let abs_dc: Vec<f64> = dc.iter().map(|d| fabs(*d)).collect();
	let tsi_num = ema(&ema(&dc, 25), 13);
	let tsi_den = ema(&ema(&abs_dc, 25), 13);
	cols.push((0..n).map(|t| 100.0 * div(tsi_num[t], tsi_den[t])).collect());
	let bp: Vec<f64> = (0..n).map(|t| c[t] - l[t].min(prev_close[t])).collect();
	let uo_avg = |w| {
		let (b, r) = (rolling_sum(&bp, w), rolling_sum(&tr, w));
		(0..n).map(|t| div(b[t], r[t])).collect::<Vec<f64>>()
	};
	let (a7, a14, a28) = (uo_avg(7), uo_avg(14), uo_avg(28));
	cols.push((0..n).map(|t| 100.0 * (4.0 * a7[t] + 2.0 * a14[t] + a28[t]) / 7.0).collect());
	let median: Vec<f64> = (0..n).map(|t| (h[t] + l[t]) / 2.0).collect();
	let (m5, m34) = (rolling_mean(&median, 5), rolling_mean(&median, 34));
	cols.push((0..n).map(|t| (m5[t] - m34[t]) / c[t]).collect());
	let er_den = rolling_sum(&abs_dc, 10);
	let (fast, slow) = (2.0 / 3.0, 2.0 / 31.0);
	let mut kama = Vec::with_capacity(n);
	for t in 0..n {
		let er = div(fabs(c[t] - lag(&c, t, 10)), er_den[t]);
		let sc = (er * (fast - slow) + slow) * (er * (fast - slow) + slow);
		let prev = if t == 0 { c[0] } else { kama[t - 1] };
		kama.push(prev + sc * (c[t] - prev));
	}
	cols.push((0..n).map(|t| c[t] / kama[t] - 1.0).collect());
	let (rsi_min, rsi_max) = (rolling_min(&rsi14, 14), rolling_max(&rsi14, 14));
	let stochrsi: Vec<f64> =
		(0..n).map(|t| div(rsi14[t] - rsi_min[t], rsi_max[t] - rsi_min[t])).collect();
	let stochrsi_k = rolling_mean(&stochrsi, 3);
	let stochrsi_d = rolling_mean(&stochrsi_k, 3);
	cols.push(stochrsi);
	cols.push(stochrsi_k);
	cols.push(stochrsi_d);
	let ppo: Vec<f64> = (0..n).map(|t| 100.0 * (ema_c12[t] - ema_c26[t]) / ema_c26[t]).collect();
	let ppo_signal = ema(&ppo, 9);
	cols.push(ppo.clone());
	cols.push(ppo_signal.clone());
	cols.push((0..n).map(|t| ppo[t] - ppo_signal[t]).collect());

	// Trend.
	for w in [5, 10, 20, 50] {
		let s = rolling_mean(&c, w);
		cols.push((0..n).map(|t| c[t] / s[t] - 1.0).collect());
	}
	for w in [5, 10, 20, 50] {
		let e = ema(&c, w);
		cols.push((0..n).map(|t| c[t] / e[t] - 1.0).collect());
	}
	let macd: Vec<f64> = (0..n).map(|t| ema_c12[t] - ema_c26[t]).collect();
	let macd_signal = ema(&macd, 9);
	cols.push((0..n).map(|t| macd[t] / c[t]).collect());
	cols.push((0..n).map(|t| macd_signal[t] / c[t]).collect());
	cols.push((0..n).map(|t| (macd[t] - macd_signal[t]) / c[t]).collect());
	let mut dm_pos = vec![0.0; n];
	let mut dm_neg = vec![0.0; n];
	for t in 1..n {
		let (up, down) = (h[t] - h[t - 1], l[t - 1] - l[t]);
		if up > down && up > 0.0 {
			dm_pos[t] = up;
		}
		if down > up && down > 0.0 {
			dm_neg[t] = down;
		}
	}
	let (s_tr, s_pos, s_neg) = (wilder(&tr, 14), wilder(&dm_pos, 14), wilder(&dm_neg, 14));
	let di_pos: Vec<f64> = (0..n).map(|t| 100.0 * div(s_pos[t], s_tr[t])).collect();
	let di_neg: Vec<f64> = (0..n).map(|t| 100.0 * div(s_neg[t], s_tr[t])).collect();
	let dx: Vec<f64> =
		(0..n).map(|t| 100.0 * div(fabs(di_pos[t] - di_neg[t]), di_pos[t] + di_neg[t])).collect();
	cols.push(wilder(&dx, 14));
	cols.push(di_pos);
	cols.push(di_neg);
	cols.push(aroon(&h, 25, |a, b| a > b));
	cols.push(aroon(&l, 25, |a, b| a < b));
	let sma_tp20 = rolling_mean(&tp, 20);
	cols.push(
		(0..n)
			.map(|t| {
				let w = window_of(&tp, t, 20);
				let mad = w.iter().map(|x| fabs(x - sma_tp20[t])).sum::<f64>() / w.len() as f64;
				div(tp[t] - sma_tp20[t], 0.015 * mad)
			})
			.collect(),
	);
	cols.push((0..n).map(|t| (lag(&c, t, 11) - sma_c20[t]) / c[t]).collect());
	let vm_pos: Vec<f64> = (0..n).map(|t| fabs(h[t] - lag(&l, t, 1))).collect();
	let vm_neg: Vec<f64> = (0..n).map(|t| fabs(l[t] - lag(&h, t, 1))).collect();
	let sum_tr14 = rolling_sum(&tr, 14);
	let (sum_vp, sum_vn) = (rolling_sum(&vm_pos, 14), rolling_sum(&vm_neg, 14));
	cols.push((0..n).map(|t| div(sum_vp[t], sum_tr14[t])).collect());
	cols.push((0..n).map(|t| div(sum_vn[t], sum_tr14[t])).collect());
	let e3 = ema(&ema(&ema(&c, 15), 15), 15);
	cols.push((0..n).map(|t| 100.0 * (e3[t] - lag(&e3, t, 1)) / lag(&e3, t, 1)).collect());
	let amp1 = ema(&hl_range, 9);
	let amp2 = ema(&amp1, 9);
	let mass: Vec<f64> = (0..n).map(|t| div(amp1[t], amp2[t])).collect();
	cols.push(rolling_sum(&mass, 25));
	let roc_ma = |k, w| {
		let r: Vec<f64> = (0..n).map(|t| c[t] / lag(&c, t, k) - 1.0).collect();
		rolling_mean(&r, w)
	};
	let (r1, r2, r3, r4) = (roc_ma(10, 10), roc_ma(15, 10), roc_ma(20, 10), roc_ma(30, 15));
	let kst: Vec<f64> =
		(0..n).map(|t| 100.0 * (r1[t] + 2.0 * r2[t] + 3.0 * r3[t] + 4.0 * r4[t])).collect();
	cols.push(kst.clone());
	cols.push(rolling_mean(&kst, 9));
	for w in [9, 26] {
		let (hi, lo) = (max_h(w), min_l(w));
		cols.push((0..n).map(|t| c[t] / ((hi[t] + lo[t]) / 2.0) - 1.0).collect());
	}

	// Volume.
	let clv_v: Vec<f64> = (0..n).map(|t| clv[t] * v[t]).collect();
	let sum_clv_v20 = rolling_sum(&clv_v, 20);
	cols.push((0..n).map(|t| div(sum_clv_v20[t], sum_v20[t])).collect());
	let mut flow_pos = vec![0.0; n];
	let mut flow_neg = vec![0.0; n];
	for t in 1..n {
		if tp[t] > tp[t - 1] {
			flow_pos[t] = tp[t] * v[t];
		} else if tp[t] < tp[t - 1] {
			flow_neg[t] = tp[t] * v[t];
		}
	}
	let (p14, n14) = (rolling_sum(&flow_pos, 14), rolling_sum(&flow_neg, 14));
	cols.push(
		(0..n)
			.map(|t| if n14[t] == 0.0 { 100.0 } else { 100.0 - 100.0 / (1.0 + p14[t] / n14[t]) })
			.collect(),
	);
	let force: Vec<f64> = (0..n).map(|t| dc[t] * v[t]).collect();
	let force = ema(&force, 13);
	cols.push((0..n).map(|t| div(force[t], sma_v20[t] * c[t])).collect());
	let mut obv = Vec::with_capacity(n);
	let mut adi = Vec::with_capacity(n);
	let (mut obv_acc, mut adi_acc) = (0.0, 0.0);
	for t in 0..n {
		obv_acc += if t > 0 && c[t] < c[t - 1] { -v[t] } else { v[t] };
		adi_acc += clv_v[t];
		obv.push(obv_acc);
		adi.push(adi_acc);
	}
	let slope = |x: &[f64], t: usize| {
		// Difference over 10 bars; the first bars compare with a zero level before the series.
		let before = if t >= 10 { x[t - 10] } else { 0.0 };
		div(x[t] - before, sum_v10[t])
	};
	cols.push((0..n).map(|t| slope(&obv, t)).collect());
	let tpv: Vec<f64> = (0..n).map(|t| tp[t] * v[t]).collect();
	let sum_tpv14 = rolling_sum(&tpv, 14);
	cols.push(
		(0..n)
			.map(
				|t| {
					if sum_tpv14[t] == 0.0 {
						0.0
					} else {
						c[t] / (sum_tpv14[t] / sum_v14[t]) - 1.0
					}
				},
			)
			.collect(),
	);
	cols.push((0..n).map(|t| slope(&adi, t)).collect());
	cols.push((0..n).map(|t| div(v[t] - sma_v20[t], std_v20[t])).collect());
	cols.push(
		(0..n).map(|t| if sma_v20[t] == 0.0 { 0.0 } else { v[t] / sma_v20[t] - 1.0 }).collect(),
	);
	let (ev12, ev26) = (ema(&v, 12), ema(&v, 26));
	let pvo: Vec<f64> = (0..n).map(|t| 100.0 * div(ev12[t] - ev26[t], ev26[t])).collect();
	let pvo_signal = ema(&pvo, 9);
	cols.push(pvo.clone());
	cols.push(pvo_signal.clone());
	cols.push((0..n).map(|t| pvo[t] - pvo_signal[t]).collect());

	// Range and candle patterns.
	cols.push((0..n).map(|t| div(c[t] - o[t], hl_range[t])).collect());
	cols.push((0..n).map(|t| div(h[t] - o[t].max(c[t]), hl_range[t])).collect());
	cols.push((0..n).map(|t| div(o[t].min(c[t]) - l[t], hl_range[t])).collect());
	cols.push((0..n).map(|t| hl_range[t] / c[t]).collect());
	cols.push((0..n).map(|t| ln_o[t] - lag(&ln_c, t, 1)).collect());
	cols.push(clv.clone());
	cols.push((0..n).map(|t| ln_h[t] - lag(&ln_h, t, 1)).collect());
	cols.push((0..n).map(|t| ln_l[t] - lag(&ln_l, t, 1)).collect());
	let flag = |b: bool| if b { 1.0 } else { 0.0 };
	cols.push((0..n).map(|t| flag(t > 0 && h[t] < h[t - 1] && l[t] > l[t - 1])).collect());
	cols.push((0..n).map(|t| flag(t > 0 && h[t] > h[t - 1] && l[t] < l[t - 1])).collect());
	cols.push((0..n).map(|t| flag(fabs(c[t] - o[t]) <= 0.1 * hl_range[t])).collect());
	let mut streak = Vec::with_capacity(n);
	let mut run: i32 = 0;
	for t in 0..n {
		run = if t == 0 {
			0
		} else if c[t] > c[t - 1] {
			if run > 0 {
				(run + 1).min(10)
			} else {
				1
			}
		} else if c[t] < c[t - 1] {
			if run < 0 {
				(run - 1).max(-10)
			} else {
				-1
			}
		} else {
			0
		};
		streak.push(run as f64 / 10.0);
	}
	cols.push(streak);
	cols.push((0..n).map(|t| div(hl_range[t], atr[t])).collect());
	cols.push((0..n).map(|t| c[t] / max_h20[t] - 1.0).collect());
	cols.push((0..n).map(|t| c[t] / min_l20[t] - 1.0).collect());

	debug_assert_eq!(cols.len(), FEATURE_COUNT);
	let mut rows = vec![0.0; n * FEATURE_COUNT];
	for (j, col) in cols.iter().enumerate() {
		for (t, value) in col.iter().enumerate() {
			rows[t * FEATURE_COUNT + j] = *value;
		}
	}
	rows
}

#[cfg(test)]
mod tests {
	use super::*;

	fn series(n: usize) -> Vec<Bar> {
		(0..n)
			.map(|t| {
				let x = t as f64;
				let close = 100.0 + 10.0 * libm::sin(x / 7.0) + x * 0.05;
				let open = close - libm::cos(x / 3.0);
				Bar {
					open,
					high: open.max(close) + 0.5 + libm::sin(x) * 0.2,
					low: open.min(close) - 0.5 - libm::cos(x) * 0.2,
					close,
					volume: 1000.0 + 300.0 * libm::sin(x / 5.0),
				}
			})
			.collect()
	}

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
	fn catalogue_names_are_unique() {
		let mut names: Vec<_> = FEATURES.iter().map(|f| f.name).collect();
		names.sort();
		names.dedup();
		assert_eq!(names.len(), FEATURE_COUNT);
	}

	#[test]
	fn every_feature_is_finite_including_flat_bars() {
		let mut bars = series(300);
		// Flat bars: zero range and zero volume must not divide by zero.
		for b in bars.iter_mut().skip(120).take(40) {
			*b = Bar { open: 50.0, high: 50.0, low: 50.0, close: 50.0, volume: 0.0 };
		}
		let rows = compute(&bars).unwrap();
		assert_eq!(rows.len(), 300 * FEATURE_COUNT);
		for (i, v) in rows.iter().enumerate() {
			assert!(v.is_finite(), "{} at bar {} is {v}", FEATURES[i % FEATURE_COUNT].name, i / 94);
		}
	}

	#[test]
	fn a_window_depends_only_on_its_bars() {
		let bars = series(400);
		let a = window_features(&bars, 60).unwrap();
		let b = window_features(&bars[400 - bars_needed(60)..], 60).unwrap();
		assert_eq!(a.len(), 60 * FEATURE_COUNT);
		assert_eq!(a, b);
	}

	#[test]
	fn bad_bars_are_refused_with_their_index() {
		let mut bars = series(200);
		bars[7].close = f64::NAN;
		assert!(matches!(
			compute(&bars),
			Err(FeatureError::NotFinite { index: 7, field: "close", .. })
		));
		let mut bars = series(200);
		bars[3].high = bars[3].low - 1.0;
		assert!(matches!(compute(&bars), Err(FeatureError::Inconsistent { index: 3, .. })));
		let mut bars = series(200);
		bars[9].volume = -1.0;
		assert!(matches!(compute(&bars), Err(FeatureError::NegativeVolume { index: 9, .. })));
		let mut bars = series(200);
		bars[0].low = 0.0;
		assert!(matches!(compute(&bars), Err(FeatureError::NotPositive { index: 0, .. })));
		assert_eq!(
			window_features(&series(100), 60),
			Err(FeatureError::TooShort { got: 100, needed: 160, window: 60 })
		);
	}

	fn scaled(bars: &[Bar], k: f64) -> Vec<Bar> {
		bars.iter()
			.map(|b| Bar {
				open: b.open * k,
				high: b.high * k,
				low: b.low * k,
				close: b.close * k,
				volume: b.volume,
			})
			.collect()
	}

	#[test]
	fn extreme_prices_are_an_input_error_never_nan_features() {
		let bars = series(300);
		// Finite but extreme: the variance of prices near 1e305 overflows and the squares of
		// prices near 1e-300 underflow, so both are refused before any feature is computed.
		for k in [1e305 / 100.0, 1e-300 / 100.0] {
			let err = window_features(&scaled(&bars, k), 60).unwrap_err();
			assert!(
				matches!(err, FeatureError::OutOfRange { index: 0, field: "open", .. }),
				"{err}"
			);
			assert!(err.to_string().contains("outside the accepted range [1e-12, 1e12]"), "{err}");
		}
		let mut big = series(300);
		big[250].volume = 1e300;
		let err = compute(&big).unwrap_err();
		assert_eq!(
			err,
			FeatureError::OutOfRange {
				index: 250,
				field: "volume",
				value: 1e300,
				min: 0.0,
				max: MAX_VOLUME
			}
		);
		// At the edges of the accepted range every feature is finite.
		let lowest = scaled(&bars, PRICE_RANGE.0 / 50.0);
		let highest = scaled(&bars, PRICE_RANGE.1 / 200.0);
		for b in [&lowest, &highest] {
			let mut b = b.clone();
			for x in b.iter_mut().skip(100).step_by(7) {
				x.volume = MAX_VOLUME;
			}
			validate(&b).unwrap();
			assert!(compute(&b).unwrap().iter().all(|v| v.is_finite()));
		}
	}

	#[test]
	fn a_non_finite_feature_is_named() {
		let mut rows = vec![0.0; 3 * FEATURE_COUNT];
		rows[2 * FEATURE_COUNT + 5] = f64::INFINITY;
		assert_eq!(
			all_finite(&rows),
			Err(FeatureError::FeatureNotFinite {
				index: 2,
				feature: FEATURES[5].name,
				value: f64::INFINITY
			})
		);
	}
}
