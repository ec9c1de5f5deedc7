//! BERT's uncased WordPiece tokenizer, the sentiment model's input pipeline: drop control
//! characters, spaces around CJK ideographs, lower case, strip accents, split on whitespace and
//! punctuation, then greedy longest-match WordPiece with `##` continuations over the vocabulary
//! stored in the artifact. Verified against Hugging Face `tokenizers` by
//! `tests/tokenizer_reference.rs`.

use std::collections::HashMap;
use unicode_general_category::{get_general_category, GeneralCategory};
use unicode_normalization::UnicodeNormalization;

/// BERT uncased WordPiece tokenizer.
pub struct Tokenizer {
	vocab: HashMap<String, i64>,
	unk: i64,
	cls: i64,
	sep: i64,
}

fn category(c: char) -> GeneralCategory {
	get_general_category(c)
}

/// BERT's punctuation: ASCII symbols as well as Unicode P* characters.
fn is_punctuation(c: char) -> bool {
	let u = c as u32;
	(33..=47).contains(&u)
		|| (58..=64).contains(&u)
		|| (91..=96).contains(&u)
		|| (123..=126).contains(&u)
		|| matches!(
			category(c),
			GeneralCategory::ConnectorPunctuation
				| GeneralCategory::DashPunctuation
				| GeneralCategory::OpenPunctuation
				| GeneralCategory::ClosePunctuation
				| GeneralCategory::InitialPunctuation
				| GeneralCategory::FinalPunctuation
				| GeneralCategory::OtherPunctuation
		)
}

/// Removed before tokenising: control, format and private-use characters, except the
/// whitespace ones.
fn is_removed(c: char) -> bool {
	matches!(
		category(c),
		GeneralCategory::Control | GeneralCategory::Format | GeneralCategory::PrivateUse
	) && !matches!(c, '\t' | '\n' | '\r')
}

fn is_cjk(c: char) -> bool {
	let u = c as u32;
	(0x4E00..=0x9FFF).contains(&u)
		|| (0x3400..=0x4DBF).contains(&u)
		|| (0x20000..=0x2A6DF).contains(&u)
		|| (0x2A700..=0x2B81F).contains(&u)
		|| (0xF900..=0xFAFF).contains(&u)
		|| (0x2F800..=0x2FA1F).contains(&u)
}

/// Stripped with the accents: non-spacing marks (Mn) after canonical decomposition.
fn is_combining_mark(c: char) -> bool {
	category(c) == GeneralCategory::NonspacingMark
}

impl Tokenizer {
	/// From a vocabulary in id order (`vocab.txt` lines).
	pub fn new(tokens: &[String]) -> Result<Self, String> {
		let vocab: HashMap<String, i64> =
			tokens.iter().enumerate().map(|(i, t)| (t.clone(), i as i64)).collect();
		let id = |t: &str| vocab.get(t).copied().ok_or_else(|| format!("vocabulary lacks {t}"));
		Ok(Self { unk: id("[UNK]")?, cls: id("[CLS]")?, sep: id("[SEP]")?, vocab })
	}

	fn words(text: &str) -> Vec<String> {
		let mut cleaned = String::with_capacity(text.len());
		for c in text.chars() {
			let u = c as u32;
			if u == 0 || u == 0xFFFD || is_removed(c) {
				continue;
			}
			if c.is_whitespace() {
				cleaned.push(' ');
			} else if is_cjk(c) {
				cleaned.push(' ');
				cleaned.push(c);
				cleaned.push(' ');
			} else {
				cleaned.push(c);
			}
		}
		let mut words = Vec::new();
		for token in cleaned.split(' ').filter(|t| !t.is_empty()) {
			let lowered: String =
				token.to_lowercase().nfd().filter(|c| !is_combining_mark(*c)).collect();
			let mut current = String::new();
			for c in lowered.chars() {
				if is_punctuation(c) {
					if !current.is_empty() {
						words.push(std::mem::take(&mut current));
					}
					words.push(c.to_string());
				} else {
					current.push(c);
				}
			}
			if !current.is_empty() {
				words.push(current);
			}
		}
		words
	}

	/// Token ids with [CLS] and [SEP], at most `max_tokens`.
	pub fn encode(&self, text: &str, max_tokens: usize) -> Vec<i64> {
		let mut ids = vec![self.cls];
		'words: for word in Self::words(text) {
			let chars: Vec<char> = word.chars().collect();
			let mut pieces = Vec::new();
			if chars.len() > 100 {
				pieces.push(self.unk);
			} else {
				let mut start = 0;
				while start < chars.len() {
					let mut end = chars.len();
					let mut found = None;
					while start < end {
						let mut piece: String = chars[start..end].iter().collect();
						if start > 0 {
							piece.insert_str(0, "##");
						}
						if let Some(id) = self.vocab.get(&piece) {
							found = Some(*id);
							break;
						}
						end -= 1;
					}
					match found {
						Some(id) => {
							pieces.push(id);
							start = end;
						}
						None => {
							pieces = vec![self.unk];
							break;
						}
					}
				}
			}
			for id in pieces {
				if ids.len() + 1 >= max_tokens {
					break 'words;
				}
				ids.push(id);
			}
		}
		ids.push(self.sep);
		ids
	}
}
