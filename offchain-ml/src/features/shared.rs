//! The bars as columns and the intermediate series more than one feature is built from, computed
//! once per call and lent to every group.

use libm::log;

use super::series::{
	div, ema, lag, rolling_max, rolling_mean, rolling_min, rolling_std, rolling_sum, wilder,
};
use super::Bar;

pub(super) struct Shared {
	pub n: usize,
	pub o: Vec<f64>,
	pub h: Vec<f64>,
	pub l: Vec<f64>,
	pub c: Vec<f64>,
	pub v: Vec<f64>,
	/// Logarithms once per bar: log ratios are differences of these.
	pub ln_o: Vec<f64>,
	pub ln_h: Vec<f64>,
	pub ln_l: Vec<f64>,
	pub ln_c: Vec<f64>,
	/// ln(c_t / c_{t-1}).
	pub ret1: Vec<f64>,
	pub prev_close: Vec<f64>,
	/// c_t - c_{t-1} and its absolute value.
	pub dc: Vec<f64>,
	pub abs_dc: Vec<f64>,
	/// True range and its Wilder average over 14 bars.
	pub tr: Vec<f64>,
	pub atr: Vec<f64>,
	/// Typical price (h + l + c) / 3.
	pub tp: Vec<f64>,
	pub hl_range: Vec<f64>,
	/// Close location value ((c - l) - (h - c)) / (h - l).
	pub clv: Vec<f64>,
	pub max_h14: Vec<f64>,
	pub min_l14: Vec<f64>,
	pub max_h20: Vec<f64>,
	pub min_l20: Vec<f64>,
	pub sma_c20: Vec<f64>,
	pub std_c20: Vec<f64>,
	pub sum_v10: Vec<f64>,
	pub sum_v14: Vec<f64>,
	pub sum_v20: Vec<f64>,
	pub sma_v20: Vec<f64>,
	pub std_v20: Vec<f64>,
	pub ema_c12: Vec<f64>,
	pub ema_c26: Vec<f64>,
}

impl Shared {
	pub fn new(bars: &[Bar]) -> Self {
		let n = bars.len();
		let o: Vec<f64> = bars.iter().map(|b| b.open).collect();
		let h: Vec<f64> = bars.iter().map(|b| b.high).collect();
		let l: Vec<f64> = bars.iter().map(|b| b.low).collect();
		let c: Vec<f64> = bars.iter().map(|b| b.close).collect();
		let v: Vec<f64> = bars.iter().map(|b| b.volume).collect();
		let ln = |x: &[f64]| x.iter().map(|x| log(*x)).collect::<Vec<f64>>();
		let (ln_o, ln_h, ln_l, ln_c) = (ln(&o), ln(&h), ln(&l), ln(&c));
		let ret1: Vec<f64> = (0..n).map(|t| ln_c[t] - lag(&ln_c, t, 1)).collect();
		let prev_close: Vec<f64> = (0..n).map(|t| lag(&c, t, 1)).collect();
		let dc: Vec<f64> = (0..n).map(|t| c[t] - prev_close[t]).collect();
		let abs_dc: Vec<f64> = dc.iter().map(|d| libm::fabs(*d)).collect();
		let tr: Vec<f64> = (0..n)
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
		let clv: Vec<f64> =
			(0..n).map(|t| div((c[t] - l[t]) - (h[t] - c[t]), hl_range[t])).collect();
		Shared {
			max_h14: rolling_max(&h, 14),
			min_l14: rolling_min(&l, 14),
			max_h20: rolling_max(&h, 20),
			min_l20: rolling_min(&l, 20),
			sma_c20: rolling_mean(&c, 20),
			std_c20: rolling_std(&c, 20),
			sum_v10: rolling_sum(&v, 10),
			sum_v14: rolling_sum(&v, 14),
			sum_v20: rolling_sum(&v, 20),
			sma_v20: rolling_mean(&v, 20),
			std_v20: rolling_std(&v, 20),
			ema_c12: ema(&c, 12),
			ema_c26: ema(&c, 26),
			n,
			o,
			h,
			l,
			c,
			v,
			ln_o,
			ln_h,
			ln_l,
			ln_c,
			ret1,
			prev_close,
			dc,
			abs_dc,
			tr,
			atr,
			tp,
			hl_range,
			clv,
		}
	}
}
