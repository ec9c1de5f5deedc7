//! Volume: Chaikin money flow, the money flow index, force index, on-balance volume, VWAP,
//! accumulation/distribution, volume z-score and ratio, PVO.

use super::series::{div, ema, rolling_sum};
use super::{Columns, Shared};

pub(super) fn columns(s: &Shared, cols: &mut Columns) {
	let Shared { c, v, dc, tp, clv, sum_v10, sum_v14, sum_v20, sma_v20, std_v20, .. } = s;
	let n = s.n;
	let clv_v: Vec<f64> = (0..n).map(|t| clv[t] * v[t]).collect();
	let sum_clv_v20 = rolling_sum(&clv_v, 20);
	cols.push("cmf_20", (0..n).map(|t| div(sum_clv_v20[t], sum_v20[t])).collect());
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
		"mfi_14",
		(0..n)
			.map(|t| if n14[t] == 0.0 { 100.0 } else { 100.0 - 100.0 / (1.0 + p14[t] / n14[t]) })
			.collect(),
	);
	let force: Vec<f64> = (0..n).map(|t| dc[t] * v[t]).collect();
	let force = ema(&force, 13);
	cols.push("force_index_13", (0..n).map(|t| div(force[t], sma_v20[t] * c[t])).collect());
	// On-balance volume and accumulation/distribution change over 10 bars: the sums of their
	// last 10 increments (the level before the series counts as zero).
	let obv_step: Vec<f64> =
		(0..n).map(|t| if t > 0 && c[t] < c[t - 1] { -v[t] } else { v[t] }).collect();
	let (obv_10, adi_10) = (rolling_sum(&obv_step, 10), rolling_sum(&clv_v, 10));
	let slope = |change: &[f64], t: usize| div(change[t], sum_v10[t]);
	cols.push("obv_slope_10", (0..n).map(|t| slope(&obv_10, t)).collect());
	let tpv: Vec<f64> = (0..n).map(|t| tp[t] * v[t]).collect();
	let sum_tpv14 = rolling_sum(&tpv, 14);
	cols.push(
		"vwap_14",
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
	cols.push("adi_slope_10", (0..n).map(|t| slope(&adi_10, t)).collect());
	cols.push("volume_z_20", (0..n).map(|t| div(v[t] - sma_v20[t], std_v20[t])).collect());
	cols.push(
		"volume_ratio_20",
		(0..n).map(|t| if sma_v20[t] == 0.0 { 0.0 } else { v[t] / sma_v20[t] - 1.0 }).collect(),
	);
	let (ev12, ev26) = (ema(v, 12), ema(v, 26));
	let pvo: Vec<f64> = (0..n).map(|t| 100.0 * div(ev12[t] - ev26[t], ev26[t])).collect();
	let pvo_signal = ema(&pvo, 9);
	let pvo_hist: Vec<f64> = (0..n).map(|t| pvo[t] - pvo_signal[t]).collect();
	cols.push("pvo_12_26", pvo);
	cols.push("pvo_signal_9", pvo_signal);
	cols.push("pvo_hist", pvo_hist);
}
