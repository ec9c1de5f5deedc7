//! Any text → WordPiece token ids: never a panic, always [CLS] first, at most the limit, every
//! id in the vocabulary. The vocabulary is a small one made here (the real one ships with the
//! base model, outside the repository); the code under test is the same.
#![no_main]

use libfuzzer_sys::fuzz_target;
use noderr_ml::models::sentiment::Tokenizer;
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

fuzz_target!(|data: &[u8]| {
	let Ok(text) = std::str::from_utf8(data) else { return };
	let (tokenizer, vocab) = tokenizer();
	for max in [2, 16, 128] {
		let ids = tokenizer.encode(text, max);
		assert!(!ids.is_empty() && ids.len() <= max, "{} ids for at most {max}", ids.len());
		assert_eq!(ids[0], 2, "[CLS] first");
		assert!(ids.iter().all(|&id| id >= 0 && (id as usize) < *vocab));
	}
});
