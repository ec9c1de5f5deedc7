//! Any text → the sentiment model's inputs: WordPiece token ids (never a panic, always [CLS]
//! first, at most the limit, every id in the vocabulary) and the lexicon features under both
//! rule sets (the right count, all finite, scores within -1 .. 1, shares within 0 .. 1 summing
//! to 1 or all 0, the same numbers twice). The vocabulary and lexicon are small ones made here
//! (the real ones ship with the base model and the artifact); the code under test is the same.
#![no_main]

use libfuzzer_sys::fuzz_target;
use noderr_ml::{
	models::sentiment::Tokenizer,
	pipeline::lexicon::{Lexicon, Rules, FEATURES, INTENSITY_FEATURES},
};
use std::sync::OnceLock;

fn tokenizer() -> &'static (Tokenizer, usize) {
	static TOKENIZER: OnceLock<(Tokenizer, usize)> = OnceLock::new();
	TOKENIZER.get_or_init(|| {
		let mut tokens: Vec<String> =
			["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"].iter().map(|t| t.to_string()).collect();
		for c in ('a'..='z').chain('0'..='9') {
			tokens.push(c.to_string());
			tokens.push(format!("##{c}"));
		}
		for w in ["market", "rally", "earn", "##ings", "strong", "bit", "##coin", "price", "的"] {
			tokens.push(w.to_string());
		}
		for p in "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~".chars() {
			tokens.push(p.to_string());
		}
		let len = tokens.len();
		(Tokenizer::new(&tokens).expect("the vocabulary has its special tokens"), len)
	})
}

fn lexicons() -> &'static [Lexicon; 2] {
	static LEXICONS: OnceLock<[Lexicon; 2]> = OnceLock::new();
	LEXICONS.get_or_init(|| {
		let words: Vec<(String, f64)> = [
			("good", 1.9),
			("bad", -2.5),
			("no", -1.2),
			("least", -0.1),
			("shit", -2.6),
			("strong", 2.3),
			(":)", 2.0),
			("é", 4.0),
			("kind", 2.4),
			("so", 0.5),
		]
		.into_iter()
		.map(|(w, v)| (w.to_string(), v))
		.collect();
		let emoji = [("😀".to_string(), "good good face".to_string())];
		[
			Lexicon::new(&words).expect("a lexicon"),
			Lexicon::with_rules(&words, &emoji, Rules::Intensity).expect("a lexicon"),
		]
	})
}

fuzz_target!(|data: &[u8]| {
	let Ok(text) = std::str::from_utf8(data) else { return };
	let (tokenizer, vocab) = tokenizer();
	for max in [2, 16, 128] {
		let ids = tokenizer.encode(text, max);
		assert!(!ids.is_empty() && ids.len() <= max, "{} ids for at most {max}", ids.len());
		assert_eq!(ids[0], 2, "[CLS] first");
		assert!(ids.iter().all(|&id| id >= 0 && (id as usize) < *vocab));
	}
	for (lexicon, count) in lexicons().iter().zip([FEATURES, INTENSITY_FEATURES]) {
		let f = lexicon.features(text);
		assert_eq!(f.len(), count);
		assert!(f.iter().all(|v| v.is_finite()), "{f:?}");
		assert!((-1.0..=1.0).contains(&f[0]) && f[1..3].iter().all(|v| (0.0..=1.0).contains(v)));
		if count == INTENSITY_FEATURES {
			assert!((-1.0..=1.0).contains(&f[3]), "{f:?}");
			let shares = &f[4..];
			assert!(shares.iter().all(|v| (0.0..=1.0).contains(v)), "{f:?}");
			let sum: f32 = shares.iter().sum();
			assert!(sum == 0.0 || (sum - 1.0).abs() < 1e-5, "{f:?}");
		}
		assert_eq!(f, lexicon.features(text), "the same text gives the same numbers");
	}
});
