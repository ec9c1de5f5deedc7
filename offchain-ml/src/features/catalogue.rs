//! The catalogue of the 94 features: name, group, window and formula of each, in row order.
//! `docs/features.md` is generated from it; the group files produce the columns under these names.

use super::FEATURE_COUNT;

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
	doc("stochrsi_14", Momentum, 28, "(rsi_14 - min(rsi_14,14)) / (max(rsi_14,14) - min(rsi_14,14)); 0 when the range is under 0.001"),
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
