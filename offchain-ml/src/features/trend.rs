//! Trend: price relative to simple and exponential averages, MACD, ADX, Aroon, CCI, DPO, the
//! vortex indicator, TRIX, the mass index, KST and Ichimoku.

use libm::fabs;

use super::series::{
	aroon, div, ema, lag, rolling_max, rolling_mean, rolling_min, rolling_sum, wilder, window_of,
};
use super::{Columns, Shared};

pub(super) fn columns(s: &Shared, cols: &mut Columns) {
	let Shared { h, l, c, tr, tp, hl_range, sma_c20, ema_c12, ema_c26, .. } = s;
	let n = s.n;
	for (name, w) in [("sma_rel_5", 5), ("sma_rel_10", 10), ("sma_rel_20", 20), ("sma_rel_50", 50)]
	{
		let sma = rolling_mean(c, w);
		cols.push(name, (0..n).map(|t| c[t] / sma[t] - 1.0).collect());
	}
	for (name, w) in [("ema_rel_5", 5), ("ema_rel_10", 10), ("ema_rel_20", 20), ("ema_rel_50", 50)]
	{
		let e = ema(c, w);
		cols.push(name, (0..n).map(|t| c[t] / e[t] - 1.0).collect());
	}
	let macd: Vec<f64> = (0..n).map(|t| ema_c12[t] - ema_c26[t]).collect();
	let macd_signal = ema(&macd, 9);
	cols.push("macd_12_26", (0..n).map(|t| macd[t] / c[t]).collect());
	cols.push("macd_signal_9", (0..n).map(|t| macd_signal[t] / c[t]).collect());
	cols.push("macd_diff", (0..n).map(|t| (macd[t] - macd_signal[t]) / c[t]).collect());
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
	let (s_tr, s_pos, s_neg) = (wilder(tr, 14), wilder(&dm_pos, 14), wilder(&dm_neg, 14));
	let di_pos: Vec<f64> = (0..n).map(|t| 100.0 * div(s_pos[t], s_tr[t])).collect();
	let di_neg: Vec<f64> = (0..n).map(|t| 100.0 * div(s_neg[t], s_tr[t])).collect();
	let dx: Vec<f64> =
		(0..n).map(|t| 100.0 * div(fabs(di_pos[t] - di_neg[t]), di_pos[t] + di_neg[t])).collect();
	cols.push("adx_14", wilder(&dx, 14));
	cols.push("adx_pos_14", di_pos);
	cols.push("adx_neg_14", di_neg);
	cols.push("aroon_up_25", aroon(h, 25, |a, b| a > b));
	cols.push("aroon_down_25", aroon(l, 25, |a, b| a < b));
	let sma_tp20 = rolling_mean(tp, 20);
	cols.push(
		"cci_20",
		(0..n)
			.map(|t| {
				let w = window_of(tp, t, 20);
				let mad = w.iter().map(|x| fabs(x - sma_tp20[t])).sum::<f64>() / w.len() as f64;
				div(tp[t] - sma_tp20[t], 0.015 * mad)
			})
			.collect(),
	);
	cols.push("dpo_20", (0..n).map(|t| (lag(c, t, 11) - sma_c20[t]) / c[t]).collect());
	let vm_pos: Vec<f64> = (0..n).map(|t| fabs(h[t] - lag(l, t, 1))).collect();
	let vm_neg: Vec<f64> = (0..n).map(|t| fabs(l[t] - lag(h, t, 1))).collect();
	let sum_tr14 = rolling_sum(tr, 14);
	let (sum_vp, sum_vn) = (rolling_sum(&vm_pos, 14), rolling_sum(&vm_neg, 14));
	cols.push("vortex_pos_14", (0..n).map(|t| div(sum_vp[t], sum_tr14[t])).collect());
	cols.push("vortex_neg_14", (0..n).map(|t| div(sum_vn[t], sum_tr14[t])).collect());
	let e3 = ema(&ema(&ema(c, 15), 15), 15);
	cols.push(
		"trix_15",
		(0..n).map(|t| 100.0 * (e3[t] - lag(&e3, t, 1)) / lag(&e3, t, 1)).collect(),
	);
	let amp1 = ema(hl_range, 9);
	let amp2 = ema(&amp1, 9);
	let mass: Vec<f64> = (0..n).map(|t| div(amp1[t], amp2[t])).collect();
	cols.push("mass_index_9_25", rolling_sum(&mass, 25));
	let roc_ma = |k, w| {
		let r: Vec<f64> = (0..n).map(|t| c[t] / lag(c, t, k) - 1.0).collect();
		rolling_mean(&r, w)
	};
	let (r1, r2, r3, r4) = (roc_ma(10, 10), roc_ma(15, 10), roc_ma(20, 10), roc_ma(30, 15));
	let kst: Vec<f64> =
		(0..n).map(|t| 100.0 * (r1[t] + 2.0 * r2[t] + 3.0 * r3[t] + 4.0 * r4[t])).collect();
	let kst_signal = rolling_mean(&kst, 9);
	cols.push("kst", kst);
	cols.push("kst_signal", kst_signal);
	for (name, w) in [("ichimoku_conv_9", 9), ("ichimoku_base_26", 26)] {
		let (hi, lo) = (rolling_max(h, w), rolling_min(l, w));
		cols.push(name, (0..n).map(|t| c[t] / ((hi[t] + lo[t]) / 2.0) - 1.0).collect());
	}
}
