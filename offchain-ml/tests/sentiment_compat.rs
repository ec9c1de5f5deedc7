//! The sentiment model's artifact forms: the published one, whose head reads the embedding and
//! the features of VADER's intensity rules over the lexicon and emoji its manifest carries; the
//! earlier one with the three negation features of its lexicon; and the first, without a
//! lexicon, whose head reads the embedding alone. All must load and answer, so that a node
//! upgrade never breaks a registered model. A head that does not match the lexicon's rules, or
//! a lexicon, rule set or emoji table that is not one, is refused with an error naming what is
//! wrong.

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

/// The published artifact with its head cut to its first `columns` inputs and the named
/// manifest parameters removed.
fn cut(original: &Artifact, columns: usize, remove: &[&str]) -> Artifact {
	let mut manifest = original.manifest.clone();
	for name in remove {
		manifest.params.remove(*name);
	}
	let mut weights = original.weights.clone();
	for (name, shape, data) in weights.iter_mut() {
		if name == "head.weight" {
			let width = shape[1];
			*data = data.chunks(width).flat_map(|row| row[..columns].to_vec()).collect();
			*shape = vec![3, columns];
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
fn every_sentiment_form_answers_and_mismatches_are_refused() {
	noderr_ml::runtime::init();
	let original = published();
	let params = &original.manifest.params;
	assert_eq!(params.get("lexicon_rules"), Some(&serde_json::json!("intensity")));
	assert!(params.contains_key("lexicon") && params.contains_key("emoji"));
	let width = original.weights.iter().find(|w| w.0 == "head.weight").unwrap().1[1];
	let embedding = width - lexicon::INTENSITY_FEATURES;
	let text = "The rally was NOT good at all, and the outlook is bleak 😞!!";
	let answer = |a: Artifact| {
		let (engine, hash) = load(a).unwrap();
		let c = engine.sentiment(&hash, text).unwrap();
		assert_eq!(c.probabilities.len(), 3, "{c:?}");
		assert!((c.probabilities.iter().sum::<i64>() - 1_000_000).abs() <= 3, "{c:?}");
		c
	};
	let published = answer(original.clone());
	// The negation form: the lexicon's first three features, no rules named, no emoji.
	let negation =
		answer(cut(&original, embedding + lexicon::FEATURES, &["lexicon_rules", "emoji"]));
	// The first form: no lexicon, a head over the embedding alone.
	let plain = answer(cut(&original, embedding, &["lexicon", "lexicon_rules", "emoji"]));
	// The forms read different inputs through the same head rows, so they answer differently.
	assert!(published.probabilities != negation.probabilities, "{published:?}");
	assert!(negation.probabilities != plain.probabilities, "{negation:?}");

	let refused = |a: Artifact, what: &str| {
		let err = load(a).err().unwrap();
		assert!(err.contains(what), "{what}: {err}");
	};
	// Heads that do not read the features their rules give.
	refused(cut(&original, embedding, &[]), "head.weight");
	refused(cut(&original, embedding + lexicon::FEATURES, &[]), "head.weight");
	refused(cut(&original, width, &["lexicon_rules", "emoji"]), "head.weight");
	refused(cut(&original, width, &["lexicon"]), "without a lexicon");
	// Emoji without the rules that read them.
	refused(cut(&original, embedding + lexicon::FEATURES, &["lexicon_rules"]), "intensity");
	// Lexicons, rule sets and emoji tables that are not one.
	for (param, bad, what) in [
		("lexicon", serde_json::json!([["good", 9.0]]), "outside -4..=4"),
		("lexicon", serde_json::json!([["Good", 1.0]]), "lower case"),
		("lexicon", serde_json::json!([]), "outside 1..="),
		("lexicon", serde_json::json!({"good": 1.0}), "lexicon:"),
		("lexicon_rules", serde_json::json!("vader"), "lexicon_rules"),
		("lexicon_rules", serde_json::json!(2), "lexicon_rules"),
		("emoji", serde_json::json!([["ab", "face"]]), "one character"),
		("emoji", serde_json::json!([["😞", ""]]), "empty"),
		("emoji", serde_json::json!({"😞": "face"}), "emoji:"),
	] {
		let mut manifest = original.manifest.clone();
		manifest.params.insert(param.into(), bad);
		refused(rebuilt(&manifest, &original.weights), what);
	}
}
