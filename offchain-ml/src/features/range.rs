//! Range and candle patterns: body and shadows, range, gap, close location, changes of high and
//! low, inside and outside bars, doji, the run of rising or falling closes, distance from the
//! 20-bar extremes.

use libm::fabs;

use super::series::{div, lag};
use super::{Columns, Shared};

pub(super) fn columns(s: &Shared, cols: &mut Columns) {
	let Shared { o, h, l, c, ln_o, ln_h, ln_l, ln_c, atr, hl_range, clv, max_h20, min_l20, .. } = s;
	let n = s.n;
	cols.push("body", (0..n).map(|t| div(c[t] - o[t], hl_range[t])).collect());
	cols.push("upper_shadow", (0..n).map(|t| div(h[t] - o[t].max(c[t]), hl_range[t])).collect());
	cols.push("lower_shadow", (0..n).map(|t| div(o[t].min(c[t]) - l[t], hl_range[t])).collect());
	cols.push("range", (0..n).map(|t| hl_range[t] / c[t]).collect());
	cols.push("gap", (0..n).map(|t| ln_o[t] - lag(ln_c, t, 1)).collect());
	cols.push("clv", clv.clone());
	cols.push("high_change", (0..n).map(|t| ln_h[t] - lag(ln_h, t, 1)).collect());
	cols.push("low_change", (0..n).map(|t| ln_l[t] - lag(ln_l, t, 1)).collect());
	let flag = |b: bool| if b { 1.0 } else { 0.0 };
	cols.push(
		"inside_bar",
		(0..n).map(|t| flag(t > 0 && h[t] < h[t - 1] && l[t] > l[t - 1])).collect(),
	);
	cols.push(
		"outside_bar",
		(0..n).map(|t| flag(t > 0 && h[t] > h[t - 1] && l[t] < l[t - 1])).collect(),
	);
	cols.push("doji", (0..n).map(|t| flag(fabs(c[t] - o[t]) <= 0.1 * hl_range[t])).collect());
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
	cols.push("streak", streak);
	cols.push("range_atr", (0..n).map(|t| div(hl_range[t], atr[t])).collect());
	cols.push("dist_high_20", (0..n).map(|t| c[t] / max_h20[t] - 1.0).collect());
	cols.push("dist_low_20", (0..n).map(|t| c[t] / min_l20[t] - 1.0).collect());
}
