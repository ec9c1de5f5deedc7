//! Artifact bytes → decode → full validation at load → one inference of every method, and of
//! the uniform `run` on both input kinds. A
//! registered artifact is trusted by hash only, so any bytes must give an error, never a panic
//! (in the node a panic exits the process). Seeds: the committed default artifacts.
#![no_main]

use libfuzzer_sys::fuzz_target;
use noderr_ml::{
	artifact,
	engine::{Engine, Input},
	features::Bar,
};
use std::sync::OnceLock;

/// 400 hourly bars of a made-up but plausible market (the price model needs 310).
fn bars() -> &'static [Bar] {
	static BARS: OnceLock<Vec<Bar>> = OnceLock::new();
	BARS.get_or_init(|| {
		(0..400)
			.map(|i| {
				let t = i as f64;
				let close = 100.0 + 10.0 * (t / 17.0).sin() + t / 30.0;
				Bar {
					open: close - 0.3 * (t / 5.0).cos(),
					high: close + 1.0,
					low: close - 1.0,
					close,
					volume: 1_000.0 + 100.0 * (t / 7.0).sin(),
				}
			})
			.collect()
	})
}

fuzz_target!(|data: &[u8]| {
	noderr_ml::runtime::init();
	let Ok(artifact) = artifact::decode(data) else { return };
	let hash = artifact::hex(&artifact.hash);
	let mut engine = Engine::new();
	if engine.insert(artifact).is_err() {
		return;
	}
	let bars = bars();
	let _ = engine.predict_batch(&hash, std::slice::from_ref(&bars.to_vec()));
	let _ = engine.classify_regime(&hash, bars);
	let _ = engine.msrr(&hash, bars);
	let _ = engine.sentiment(&hash, "markets rally on strong earnings");
	// The uniform method on both input kinds: an answer has as many values as the registry
	// would declare for it.
	for input in [Input::Bars(bars), Input::Text("markets rally on strong earnings")] {
		if let Ok(values) = engine.run(&hash, input) {
			assert!(!values.is_empty() && values.len() <= 8, "{values:?}");
		}
	}
});
