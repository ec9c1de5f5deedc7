//! Momentum: RSI, stochastics, Williams %R, rates of change, TSI, the ultimate and awesome
//! oscillators, KAMA, stochastic RSI and PPO.

use libm::fabs;

use super::series::{div, ema, lag, rolling_max, rolling_mean, rolling_min, rolling_sum, rsi};
use super::{Columns, Shared};

/// The smallest RSI range (in RSI points) over which the stochastic RSI is a position.
const FLAT_RSI_RANGE: f64 = 1e-3;

pub(super) fn columns(s: &Shared, cols: &mut Columns) {
	let Shared { h, l, c, prev_close, dc, abs_dc, tr, max_h14, min_l14, ema_c12, ema_c26, .. } = s;
	let n = s.n;
	let rsi14 = rsi(c, 14);
	cols.push("rsi_14", rsi14.clone());
	cols.push("rsi_7", rsi(c, 7));
	let stoch_k: Vec<f64> =
		(0..n).map(|t| 100.0 * div(c[t] - min_l14[t], max_h14[t] - min_l14[t])).collect();
	cols.push("stoch_k_14", stoch_k.clone());
	cols.push("stoch_d_3", rolling_mean(&stoch_k, 3));
	cols.push(
		"williams_r_14",
		(0..n).map(|t| -100.0 * div(max_h14[t] - c[t], max_h14[t] - min_l14[t])).collect(),
	);
	for (name, k) in [("roc_10", 10), ("roc_20", 20)] {
		cols.push(name, (0..n).map(|t| 100.0 * (c[t] - lag(c, t, k)) / lag(c, t, k)).collect());
	}
	let tsi_num = ema(&ema(dc, 25), 13);
	let tsi_den = ema(&ema(abs_dc, 25), 13);
	cols.push("tsi_25_13", (0..n).map(|t| 100.0 * div(tsi_num[t], tsi_den[t])).collect());
	let bp: Vec<f64> = (0..n).map(|t| c[t] - l[t].min(prev_close[t])).collect();
	let uo_avg = |w| {
		let (b, r) = (rolling_sum(&bp, w), rolling_sum(tr, w));
		(0..n).map(|t| div(b[t], r[t])).collect::<Vec<f64>>()
	};
	let (a7, a14, a28) = (uo_avg(7), uo_avg(14), uo_avg(28));
	cols.push(
		"uo_7_14_28",
		(0..n).map(|t| 100.0 * (4.0 * a7[t] + 2.0 * a14[t] + a28[t]) / 7.0).collect(),
	);
	let median: Vec<f64> = (0..n).map(|t| (h[t] + l[t]) / 2.0).collect();
	let (m5, m34) = (rolling_mean(&median, 5), rolling_mean(&median, 34));
	cols.push("ao_5_34", (0..n).map(|t| (m5[t] - m34[t]) / c[t]).collect());
	let er_den = rolling_sum(abs_dc, 10);
	let (fast, slow) = (2.0 / 3.0, 2.0 / 31.0);
	let mut kama = Vec::with_capacity(n);
	for t in 0..n {
		let er = div(fabs(c[t] - lag(c, t, 10)), er_den[t]);
		let sc = (er * (fast - slow) + slow) * (er * (fast - slow) + slow);
		let prev = if t == 0 { c[0] } else { kama[t - 1] };
		kama.push(prev + sc * (c[t] - prev));
	}
	cols.push("kama_10_2_30", (0..n).map(|t| c[t] / kama[t] - 1.0).collect());
	let (rsi_min, rsi_max) = (rolling_min(&rsi14, 14), rolling_max(&rsi14, 14));
	// Over a flat stretch the RSI's range is the rounding of its recursion, which depends on
	// where the series starts: a range under FLAT_RSI_RANGE points counts as none.
	let stochrsi: Vec<f64> = (0..n)
		.map(|t| {
			let range = rsi_max[t] - rsi_min[t];
			if range < FLAT_RSI_RANGE {
				0.0
			} else {
				(rsi14[t] - rsi_min[t]) / range
			}
		})
		.collect();
	let stochrsi_k = rolling_mean(&stochrsi, 3);
	let stochrsi_d = rolling_mean(&stochrsi_k, 3);
	cols.push("stochrsi_14", stochrsi);
	cols.push("stochrsi_k", stochrsi_k);
	cols.push("stochrsi_d", stochrsi_d);
	let ppo: Vec<f64> = (0..n).map(|t| 100.0 * (ema_c12[t] - ema_c26[t]) / ema_c26[t]).collect();
	let ppo_signal = ema(&ppo, 9);
	let ppo_hist: Vec<f64> = (0..n).map(|t| ppo[t] - ppo_signal[t]).collect();
	cols.push("ppo_12_26", ppo);
	cols.push("ppo_signal_9", ppo_signal);
	cols.push("ppo_hist", ppo_hist);
}
