//! The regime classifier's two artifact forms: the published volatility outlook (three labels, a
//! positional head reading the whole last map and the volatility profile) and the first one
//! (bull / bear / sideways / volatile, a head over the map's global average), which must still
//! load, answer and be evaluated by its own rule so that a node upgrade never breaks a
//! registered model. A head that does not match the labels is refused with an error naming the
//! tensor.

use noderr_ml::{
	artifact::{self, Artifact, Task},
	engine::Engine,
	evaluate,
	features::Bar,
	models::gaf,
};

mod common;
use common::rebuilt;

fn published() -> Artifact {
	common::published("gaf-regime.nrm")
}

fn classification(labels: &[&str]) -> Task {
	Task::Classification { labels: labels.iter().map(|s| s.to_string()).collect() }
}

/// The published network in the legacy form: its convolutions, a pooled head answering
/// `bias` whatever the window, the legacy labels and thresholds.
fn legacy(original: &Artifact, bias: [f32; 4]) -> Artifact {
	let mut manifest = original.manifest.clone();
	manifest.task = classification(&gaf::LEGACY_LABELS);
	manifest.stats.clear();
	manifest.stats.insert("volatility_threshold".into(), vec![0.012]);
	manifest.stats.insert("tau".into(), vec![0.008]);
	let mut weights = original.weights.clone();
	for (name, shape, data) in weights.iter_mut() {
		if name == "head.weight" {
			*shape = vec![4, 32];
			*data = vec![0.0; 4 * 32];
		} else if name == "head.bias" {
			*shape = vec![4];
			*data = bias.to_vec();
		}
	}
	rebuilt(&manifest, &weights)
}

fn bars() -> Vec<Bar> {
	let csv = noderr_ml::data::data_dir().join("btc_1h.csv");
	let all = noderr_ml::data::read_bars(&csv).expect("run scripts/setup-data.sh");
	all.iter().map(|b| b.bar).collect()
}

#[test]
fn the_first_regime_classifier_still_answers() {
	noderr_ml::runtime::init();
	let original = published();
	let bars = bars();
	let window = &bars[bars.len() - gaf::WINDOW..];
	// The published model answers one of the outlook's classes.
	let mut engine = Engine::new();
	let hash = artifact::hex(&original.hash);
	engine.insert(original.clone()).unwrap();
	let c = engine.classify_regime(&hash, window).unwrap();
	assert!(gaf::LABELS.contains(&c.label.as_str()) && c.probabilities.len() == 3, "{c:?}");
	// The legacy form answers its own labels, the class its bias picks.
	for (bias, label) in [([0.0, 0.0, 0.0, 3.0], "volatile"), ([0.0, 3.0, 0.0, 0.0], "bear")] {
		let old = legacy(&original, bias);
		let hash = artifact::hex(&old.hash);
		let mut engine = Engine::new();
		engine.insert(old).unwrap();
		let c = engine.classify_regime(&hash, window).unwrap();
		assert_eq!(c.label, label, "{c:?}");
		assert_eq!(c.probabilities.len(), 4, "{c:?}");
		assert!((c.probabilities.iter().sum::<i64>() - 1_000_000).abs() <= 4, "{c:?}");
		// And is scored by its own rule, without the outlook's rule baseline.
		let reports = evaluate::regime(&engine, &hash, &bars).unwrap();
		let hourly = &reports[0];
		assert!(hourly["accuracy_majority"].as_f64().unwrap() > 0.0, "{hourly}");
		assert!(hourly.get("accuracy_volatility_ratio_rule").is_none(), "{hourly}");
		assert_eq!(hourly["class_counts"].as_array().unwrap().len(), 4, "{hourly}");
	}
	// Labels and head must match: the outlook's labels over a pooled head, and the legacy
	// labels over the positional head, are refused by the tensor that does not fit.
	let pooled = legacy(&original, [0.0; 4]);
	let mut mixed = pooled.manifest.clone();
	mixed.task = classification(&gaf::LABELS);
	mixed.stats = original.manifest.stats.clone();
	let err = Engine::new().insert(rebuilt(&mixed, &pooled.weights)).unwrap_err().to_string();
	assert!(err.contains("tensor head."), "{err}");
	let mut relabelled = original.manifest.clone();
	relabelled.task = classification(&gaf::LEGACY_LABELS);
	let err =
		Engine::new().insert(rebuilt(&relabelled, &original.weights)).unwrap_err().to_string();
	assert!(err.contains("tensor head."), "{err}");
	// Labels of neither form are refused by name.
	let mut other = original.manifest.clone();
	other.task = classification(&["up", "down"]);
	let err = Engine::new().insert(rebuilt(&other, &original.weights)).unwrap_err().to_string();
	assert!(err.contains("\"up\"") && err.contains("calming"), "{err}");
}
