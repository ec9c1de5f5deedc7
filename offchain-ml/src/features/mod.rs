//! The feature pipeline: 94 features per OHLCV bar, computed over a whole series so that a model
//! receives a sequence (one row per bar), not a snapshot.
//!
//! Pure Rust, `f64` throughout, transcendental functions from `libm` (not the platform's C
//! library), so every node computes bit-identical features from the same bars. The catalogue
//! [`FEATURES`] documents each feature: name, group, formula and window. `docs/features.md` is
//! generated from it (`noderr-ml features --markdown`).
//!
//! Layout: the catalogue (`catalogue.rs`), the windowed primitives (`series.rs`), the series
//! shared between groups (`shared.rs`) and one file per group that produces its columns under
//! their catalogue names; a unit test holds the produced names and groups to the catalogue.
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

mod catalogue;
mod momentum;
mod range;
mod returns;
mod series;
mod shared;
mod trend;
mod volatility;
mod volume;

pub use catalogue::{FeatureDoc, Group, FEATURES};
use shared::Shared;

/// Version of the feature definitions. Any change to a formula, window or order bumps it; model
/// manifests record the version they were trained with and the service refuses a mismatch.
pub const FEATURE_VERSION: u32 = 2;
/// Number of features per bar.
pub const FEATURE_COUNT: usize = 94;
/// Bars consumed before the first row a model sees.
pub const WARMUP: usize = 250;

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

/// The columns of the feature matrix in the order the groups produce them, each under its
/// catalogue name and group.
struct Columns {
	group: Group,
	cols: Vec<(&'static str, Group, Vec<f64>)>,
}

impl Columns {
	fn push(&mut self, name: &'static str, col: Vec<f64>) {
		self.cols.push((name, self.group, col));
	}
}

/// What produces one group's columns.
type Fill = fn(&Shared, &mut Columns);

/// The groups in catalogue order, each with the function that produces its columns.
const GROUPS: [(Group, Fill); 6] = [
	(Group::Returns, returns::columns),
	(Group::Volatility, volatility::columns),
	(Group::Momentum, momentum::columns),
	(Group::Trend, trend::columns),
	(Group::Volume, volume::columns),
	(Group::Range, range::columns),
];

fn columns(bars: &[Bar]) -> Columns {
	let shared = Shared::new(bars);
	let mut cols = Columns { group: Group::Returns, cols: Vec::with_capacity(FEATURE_COUNT) };
	for (group, fill) in GROUPS {
		cols.group = group;
		fill(&shared, &mut cols);
	}
	debug_assert!(cols
		.cols
		.iter()
		.map(|(name, group, _)| (*name, *group))
		.eq(FEATURES.iter().map(|f| (f.name, f.group))));
	cols
}

fn compute_unchecked(bars: &[Bar]) -> Vec<f64> {
	let n = bars.len();
	let mut rows = vec![0.0; n * FEATURE_COUNT];
	for (j, (_, _, col)) in columns(bars).cols.iter().enumerate() {
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
	fn every_group_produces_its_catalogue_features_by_name_in_order() {
		let n = 150;
		let cols = columns(&series(n));
		let produced: Vec<_> = cols.cols.iter().map(|(name, group, _)| (*name, *group)).collect();
		let catalogue: Vec<_> = FEATURES.iter().map(|f| (f.name, f.group)).collect();
		assert_eq!(produced, catalogue);
		assert!(cols.cols.iter().all(|(_, _, col)| col.len() == n));
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
			Err(FeatureError::TooShort { got: 100, needed: 310, window: 60 })
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
		let bars = series(bars_needed(60));
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
