//! Arbitrary bars (any f64 bit patterns: NaN, infinities, extremes, zeros) → validation → the
//! 94-feature pipeline: an error or a full table, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use noderr_ml::features::{self, Bar, FEATURE_COUNT};

fuzz_target!(|data: &[u8]| {
	// The first byte picks how the rest reads: raw f64s, or prices built from small steps
	// (which reach the deep parts of the indicators far more often than random bits do).
	let Some((&mode, rest)) = data.split_first() else { return };
	let bars: Vec<Bar> = if mode & 1 == 0 {
		rest.chunks_exact(40)
			.map(|c| {
				let f = |i: usize| f64::from_le_bytes(c[i * 8..i * 8 + 8].try_into().unwrap());
				Bar { open: f(0), high: f(1), low: f(2), close: f(3), volume: f(4) }
			})
			.collect()
	} else {
		let mut close = 100.0f64;
		rest.chunks_exact(4)
			.map(|c| {
				close = (close * (1.0 + (c[0] as i8) as f64 / 500.0)).max(1e-9);
				let spread = close * c[1] as f64 / 2_000.0;
				Bar {
					open: close - spread / 2.0,
					high: close + spread,
					low: (close - spread).max(1e-12),
					close,
					volume: c[2] as f64 * c[3] as f64,
				}
			})
			.collect()
	};
	if features::validate(&bars).is_err() {
		return;
	}
	// Valid bars give a full table of finite features, or, for a pathological mix the ranges
	// still admit, an error naming the feature: never a NaN or an infinity passed on.
	match features::compute(&bars) {
		Ok(table) => {
			assert_eq!(table.len(), bars.len() * FEATURE_COUNT);
			assert!(table.iter().all(|v| v.is_finite()));
		}
		Err(e) => assert!(matches!(e, features::FeatureError::FeatureNotFinite { .. }), "{e}"),
	}
	if let Ok(rows) = features::window_features(&bars, 24) {
		assert!(rows.iter().all(|v| v.is_finite()));
	}
});
