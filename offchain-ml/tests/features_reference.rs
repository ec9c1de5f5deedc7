//! The feature pipeline against an independent implementation: the Python `ta` package (plus
//! pandas and numpy for the features ta lacks), run now on the real BTC hourly series.
//!
//! Tolerance: |rust - reference| <= 1e-6 (1 + |reference|) on every bar from bar 300 on, where
//! recursive averages started at different first values have converged far below it. Needs
//! `scripts/setup-data.sh` (the README's commands run it).

use noderr_ml::{data, features};
use std::process::Command;

const FIRST_ROW: usize = 300;
const TOLERANCE: f64 = 1e-6;

#[test]
fn features_match_the_ta_package_on_btc_hourly_bars() {
	let cache = data::cache_dir();
	let bars_path = data::data_dir().join("btc_1h.csv");
	let python = cache.join("pyenv/bin/python");
	assert!(
		python.exists() && bars_path.exists(),
		"{} or {} is missing: run scripts/setup-data.sh",
		python.display(),
		bars_path.display()
	);
	let bars: Vec<_> = data::read_bars(&bars_path).unwrap().into_iter().map(|b| b.bar).collect();
	let ours = features::compute(&bars).unwrap();

	let out = std::env::temp_dir().join(format!("noderr-ref-features-{}.csv", std::process::id()));
	let script = concat!(env!("CARGO_MANIFEST_DIR"), "/python/reference_features.py");
	let status = Command::new(&python).arg(script).arg(&bars_path).arg(&out).status().unwrap();
	assert!(status.success(), "the reference script failed");
	let text = std::fs::read_to_string(&out).unwrap();
	let _ = std::fs::remove_file(&out);
	let mut lines = text.lines();
	let header: Vec<&str> = lines.next().unwrap().split(',').collect();
	let names: Vec<&str> = features::FEATURES.iter().map(|f| f.name).collect();
	assert_eq!(header, names, "the reference columns are not the catalogue's");
	let reference: Vec<Vec<Option<f64>>> = lines
		.map(|l| {
			l.split(',')
				.map(|x| if x.is_empty() { None } else { Some(x.parse().unwrap()) })
				.collect()
		})
		.collect();
	assert_eq!(reference.len(), bars.len());

	let mut failures = Vec::new();
	let last = bars.len() - 1;
	for (j, name) in names.iter().enumerate() {
		let (mut compared, mut worst, mut worst_row) = (0usize, 0.0f64, 0usize);
		for (t, row) in reference.iter().enumerate().skip(FIRST_ROW) {
			// ta leaves the last bar of its ADX series at zero (its loops stop one short).
			if name.starts_with("adx") && t == last {
				continue;
			}
			let Some(expected) = row[j] else { continue };
			let got = ours[t * features::FEATURE_COUNT + j];
			let err = (got - expected).abs() / (1.0 + expected.abs());
			if err > worst {
				(worst, worst_row) = (err, t);
			}
			compared += 1;
		}
		let rows = bars.len() - FIRST_ROW;
		println!("{name:<18} compared {compared:>6}/{rows} rows, worst scaled error {worst:.2e}");
		if worst > TOLERANCE {
			failures.push(format!(
				"{name}: scaled error {worst:.3e} at bar {worst_row} (ours {}, reference {:?})",
				ours[worst_row * features::FEATURE_COUNT + j],
				reference[worst_row][j]
			));
		}
		if compared * 100 < rows * 99 {
			failures
				.push(format!("{name}: only {compared} of {rows} rows defined in the reference"));
		}
	}
	assert!(failures.is_empty(), "features differ from the reference:\n{}", failures.join("\n"));
}
