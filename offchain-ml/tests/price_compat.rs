//! The price model's two artifact forms: an anchored one (`params.anchor`, two outputs, the
//! published model) and one from before the anchor (no anchor, three outputs, per-cent units),
//! which must still load and answer so that a node upgrade never breaks a registered model. A
//! form whose output count does not match its anchor is refused with an error naming both.

use noderr_ml::{
	artifact::{self, Artifact},
	engine::Engine,
	features::Bar,
};

mod common;

fn published() -> Artifact {
	common::published("price-transformer.nrm")
}

/// `original` with its anchor removed or kept and its head widened to `outputs` rows, a new
/// row's weights zero and its bias `logit_bias`.
fn variant(original: &Artifact, anchor: bool, outputs: usize, logit_bias: f32) -> Artifact {
	let mut manifest = original.manifest.clone();
	if !anchor {
		manifest.params.remove("anchor");
	}
	manifest.params.get_mut("config").unwrap()["outputs"] = outputs.into();
	let mut weights = original.weights.clone();
	for (name, shape, data) in weights.iter_mut() {
		let extra = outputs - shape[0].min(outputs);
		if name == "head.weight" {
			data.extend(std::iter::repeat_n(0.0, extra * shape[1]));
			shape[0] = outputs;
		} else if name == "head.bias" {
			data.extend(std::iter::repeat_n(logit_bias, extra));
			shape[0] = outputs;
		}
	}
	common::rebuilt(&manifest, &weights)
}

fn bars() -> Vec<Bar> {
	let csv = noderr_ml::data::data_dir().join("btc_1h.csv");
	let all = noderr_ml::data::read_bars(&csv).expect("run scripts/setup-data.sh");
	all[all.len() - 350..].iter().map(|b| b.bar).collect()
}

#[test]
fn models_from_before_the_anchor_still_answer() {
	noderr_ml::runtime::init();
	let original = published();
	let bars = bars();
	// The published, anchored model: direction, return and confidence agree.
	let mut engine = Engine::new();
	let hash = artifact::hex(&original.hash);
	engine.insert(original.clone()).unwrap();
	let p = engine.predict_batch(&hash, std::slice::from_ref(&bars)).unwrap().remove(0);
	assert!(p.volatility > 0 && p.confidence >= 500_000, "{p:?}");
	assert_eq!(p.direction > 0, p.r#return >= 0, "{p:?}");
	// The same network read the old way: its direction comes from the third output, a logit
	// whose sign the bias sets, whatever the return says.
	for (bias, direction) in [(3.0f32, 1i8), (-3.0, -1)] {
		let legacy = variant(&original, false, 3, bias);
		let hash = artifact::hex(&legacy.hash);
		let mut engine = Engine::new();
		engine.insert(legacy).unwrap();
		let p = engine.predict_batch(&hash, std::slice::from_ref(&bars)).unwrap().remove(0);
		assert_eq!(p.direction, direction, "{p:?}");
		// Confidence is the logistic of |3|, quantised at 10^6.
		assert_eq!(p.confidence, (1e6 / (1.0 + (-3.0f64).exp())).round() as i64, "{p:?}");
		assert!(p.volatility > 0, "{p:?}");
	}
	// Output counts that do not match the anchor are refused.
	for (anchor, outputs, expected) in [
		(true, 3, "config outputs = 3, a model with an anchor has 2"),
		(false, 2, "config outputs = 2, a model without an anchor has 3"),
	] {
		let err = Engine::new().insert(variant(&original, anchor, outputs, 0.0)).unwrap_err();
		assert!(err.to_string().contains(expected), "{err}");
	}
}
