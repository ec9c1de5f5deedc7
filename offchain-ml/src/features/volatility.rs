//! Volatility: standard deviations of returns, range-based estimators, ATR, Bollinger, Keltner
//! and Donchian bands, the ulcer index.

use libm::sqrt;

use super::series::{div, rolling_max, rolling_mean, rolling_std, window_of};
use super::{Columns, Shared};

pub(super) fn columns(s: &Shared, cols: &mut Columns) {
	let Shared { h, l, c, ln_o, ln_h, ln_l, ln_c, ret1, atr, tp, .. } = s;
	let Shared { max_h20, min_l20, sma_c20, std_c20, .. } = s;
	let n = s.n;
	let ln2 = core::f64::consts::LN_2;
	for (name, w) in [("vol_5", 5), ("vol_10", 10), ("vol_20", 20), ("vol_60", 60)] {
		cols.push(name, rolling_std(ret1, w));
	}
	let hl2: Vec<f64> = (0..n).map(|t| (ln_h[t] - ln_l[t]) * (ln_h[t] - ln_l[t])).collect();
	for (name, w) in [("parkinson_10", 10), ("parkinson_20", 20)] {
		cols.push(
			name,
			rolling_mean(&hl2, w).into_iter().map(|m| sqrt(m.max(0.0) / (4.0 * ln2))).collect(),
		);
	}
	let gk: Vec<f64> = (0..n)
		.map(|t| 0.5 * hl2[t] - (2.0 * ln2 - 1.0) * (ln_c[t] - ln_o[t]) * (ln_c[t] - ln_o[t]))
		.collect();
	cols.push(
		"garman_klass_20",
		rolling_mean(&gk, 20).into_iter().map(|m| sqrt(m.max(0.0))).collect(),
	);
	cols.push("atr_14", (0..n).map(|t| atr[t] / c[t]).collect());
	let bb_up: Vec<f64> = (0..n).map(|t| sma_c20[t] + 2.0 * std_c20[t]).collect();
	let bb_lo: Vec<f64> = (0..n).map(|t| sma_c20[t] - 2.0 * std_c20[t]).collect();
	cols.push("bb_pband_20", (0..n).map(|t| div(c[t] - bb_lo[t], bb_up[t] - bb_lo[t])).collect());
	cols.push("bb_wband_20", (0..n).map(|t| 100.0 * (bb_up[t] - bb_lo[t]) / sma_c20[t]).collect());
	let kc_mid = rolling_mean(tp, 20);
	let kc_up = rolling_mean(
		&(0..n).map(|t| (4.0 * h[t] - 2.0 * l[t] + c[t]) / 3.0).collect::<Vec<_>>(),
		20,
	);
	let kc_lo = rolling_mean(
		&(0..n).map(|t| (-2.0 * h[t] + 4.0 * l[t] + c[t]) / 3.0).collect::<Vec<_>>(),
		20,
	);
	cols.push("kc_pband_20", (0..n).map(|t| div(c[t] - kc_lo[t], kc_up[t] - kc_lo[t])).collect());
	cols.push("kc_wband_20", (0..n).map(|t| 100.0 * (kc_up[t] - kc_lo[t]) / kc_mid[t]).collect());
	cols.push(
		"dc_pband_20",
		(0..n).map(|t| div(c[t] - min_l20[t], max_h20[t] - min_l20[t])).collect(),
	);
	cols.push(
		"dc_wband_20",
		(0..n).map(|t| 100.0 * (max_h20[t] - min_l20[t]) / sma_c20[t]).collect(),
	);
	let max_c14 = rolling_max(c, 14);
	let drawdown: Vec<f64> = (0..n).map(|t| 100.0 * (c[t] - max_c14[t]) / max_c14[t]).collect();
	cols.push(
		"ulcer_14",
		(0..n)
			.map(|t| sqrt(window_of(&drawdown, t, 14).iter().map(|d| d * d).sum::<f64>() / 14.0))
			.collect(),
	);
}
