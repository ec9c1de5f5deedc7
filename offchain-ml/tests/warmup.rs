//! The feature warm-up (`features::WARMUP`) is long enough that every feature a model sees has
//! settled: a window computed over `window + WARMUP` bars matches, within a small fraction of
//! each feature's spread, the same window computed with a far longer history. Measured on the
//! real series of `scripts/setup-data.sh`.

use noderr_ml::data::{data_dir, read_bars};
use noderr_ml::features::{self, Bar, FEATURES, FEATURE_COUNT};

const WINDOW: usize = 60;
/// The reference history before the window: the slowest recursive average (an EMA over 50 bars)
/// keeps 0.961^600, about 4e-11, of its starting value after it.
const REFERENCE: usize = 600;
/// The largest deviation accepted, in units of the feature's standard deviation over the series.
const SETTLED: f64 = 1e-3;

fn series(file: &str) -> Vec<Bar> {
	read_bars(&data_dir().join(file)).unwrap().into_iter().map(|b| b.bar).collect()
}

/// Each feature's standard deviation over a whole series.
fn spreads(bars: &[Bar]) -> Vec<f64> {
	let rows = features::compute(bars).unwrap();
	let n = bars.len() as f64;
	(0..FEATURE_COUNT)
		.map(|j| {
			let col = rows.iter().skip(j).step_by(FEATURE_COUNT);
			let mean = col.clone().sum::<f64>() / n;
			(col.map(|v| (v - mean) * (v - mean)).sum::<f64>() / n).sqrt()
		})
		.collect()
}

/// For each warm-up, the largest deviation, in units of the feature's spread, of any value of a
/// `WINDOW`-row window computed after that many bars from the same window computed after
/// `REFERENCE` bars (computed once per window), over windows ending every `step` bars; with the
/// feature it occurs in. Also the number of windows compared.
fn worst<const K: usize>(
	bars: &[Bar],
	sd: &[f64],
	warmups: [usize; K],
	step: usize,
) -> ([(f64, &'static str); K], usize) {
	let mut worst = [(0.0, ""); K];
	let mut windows = 0;
	for end in (REFERENCE + WINDOW..=bars.len()).step_by(step) {
		let reference = features::compute(&bars[end - REFERENCE - WINDOW..end]).unwrap();
		let reference = &reference[REFERENCE * FEATURE_COUNT..];
		windows += 1;
		for (warmup, worst) in warmups.iter().zip(&mut worst) {
			let short = features::compute(&bars[end - warmup - WINDOW..end]).unwrap();
			let short = &short[warmup * FEATURE_COUNT..];
			for (i, (a, b)) in short.iter().zip(reference).enumerate() {
				let j = i % FEATURE_COUNT;
				let d = if sd[j] > 0.0 { (a - b).abs() / sd[j] } else { (a - b).abs() };
				if d > worst.0 {
					*worst = (d, FEATURES[j].name);
				}
			}
		}
	}
	(worst, windows)
}

#[test]
fn every_feature_has_settled_after_the_warm_up() {
	for (file, step) in [
		("btc_1h.csv", 7),
		("bitstamp_btc_1d.csv", 5),
		("bitstamp_eth_1d.csv", 2),
		("bitstamp_ltc_1d.csv", 3),
	] {
		let bars = series(file);
		let sd = spreads(&bars);
		// Beside it the former warm-up of 100 bars, for the record: its first rows had not settled.
		let ([(d, name), (before, before_name)], windows) =
			worst(&bars, &sd, [features::WARMUP, 100], step);
		println!(
			"{file}: {windows} windows; worst deviation after {} bars {d:.1e} spreads ({name}), \
			 after 100 bars {before:.1e} ({before_name})",
			features::WARMUP
		);
		assert!(windows >= 40, "{file}: only {windows} windows compared");
		assert!(d < SETTLED, "{file}: {name} is off its settled value by {d:e} spreads");
	}
}
