//! The sentiment model's two artifact forms: the published one, whose head reads the
//! embedding and the lexicon features of the lexicon its manifest carries, and the earlier one
//! without a lexicon, whose head reads the embedding alone; both must load and answer, so that
//! a node upgrade never breaks a registered model. A head that does not match the lexicon, or a
//! lexicon that is not one, is refused with an error naming what is wrong.

use noderr_ml::{
	artifact::{self, Artifact},
	engine::Engine,
	pipeline::lexicon,
};

mod common;
use common::rebuilt;

fn published() -> Artifact {
	common::published("sentiment.nrm")
}

/// The published artifact with its head cut to the embedding's columns, with or without the
/// lexicon in the manifest.
fn without_lexicon_columns(original: &Artifact, keep_lexicon: bool) -> Artifact {
	let mut manifest = original.manifest.clone();
	if !keep_lexicon {
		manifest.params.remove("lexicon");
	}
	let mut weights = original.weights.clone();
	for (name, shape, data) in weights.iter_mut() {
		if name == "head.weight" {
			let width = shape[1];
			let embedding = width - lexicon::FEATURES;
			*data = data.chunks(width).flat_map(|row| row[..embedding].to_vec()).collect();
			*shape = vec![3, embedding];
		}
	}
	rebuilt(&manifest, &weights)
}

fn load(a: Artifact) -> Result<(Engine, String), String> {
	let hash = artifact::hex(&a.hash);
	let mut engine = Engine::new();
	engine.insert(a).map_err(|e| e.to_string())?;
	Ok((engine, hash))
}

#[test]
fn both_sentiment_forms_answer_and_mismatches_are_refused() {
	noderr_ml::runtime::init();
	let original = published();
	assert!(original.manifest.params.contains_key("lexicon"), "the published model has one");
	let text = "The rally was not good at all, and the outlook is bleak.";
	let (engine, hash) = load(original.clone()).unwrap();
	let c = engine.sentiment(&hash, text).unwrap();
	assert_eq!(c.probabilities.len(), 3, "{c:?}");
	// The earlier form: no lexicon, a head over the embedding alone.
	let (engine, hash) = load(without_lexicon_columns(&original, false)).unwrap();
	let old = engine.sentiment(&hash, text).unwrap();
	assert_eq!(old.probabilities.len(), 3, "{old:?}");
	assert!((old.probabilities.iter().sum::<i64>() - 1_000_000).abs() <= 3, "{old:?}");

	// A lexicon with a head that does not read its features, and features without a lexicon.
	let err = load(without_lexicon_columns(&original, true)).err().unwrap();
	assert!(err.contains("head.weight"), "{err}");
	let mut manifest = original.manifest.clone();
	manifest.params.remove("lexicon");
	let err = load(rebuilt(&manifest, &original.weights)).err().unwrap();
	assert!(err.contains("head.weight"), "{err}");
	// Lexicons that are not one.
	for (bad, what) in [
		(serde_json::json!([["good", 9.0]]), "outside -4..=4"),
		(serde_json::json!([["Good", 1.0]]), "lower case"),
		(serde_json::json!([]), "outside 1..="),
		(serde_json::json!({"good": 1.0}), "lexicon:"),
	] {
		let mut manifest = original.manifest.clone();
		manifest.params.insert("lexicon".into(), bad);
		let err = load(rebuilt(&manifest, &original.weights)).err().unwrap();
		assert!(err.contains(what), "{what}: {err}");
	}
}
