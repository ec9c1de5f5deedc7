//! NLP sentiment: bounded text -> BERT WordPiece tokens -> the all-MiniLM-L6-v2 encoder
//! (Apache-2.0 weights; 6 layers, 384 wide, 12 heads) -> mean pooling over tokens, L2
//! normalisation -> a linear classifier trained here -> negative / neutral / positive.
//!
//! The tokenizer follows BERT's uncased basic tokenizer (drop control characters, spaces around
//! CJK ideographs, lower case, strip accents, split on whitespace and punctuation) and greedy
//! longest-match WordPiece with `##` continuations, over the vocabulary stored in the artifact.

use std::collections::HashMap;
use tch::{Kind, Tensor};
use unicode_general_category::{get_general_category, GeneralCategory};
use unicode_normalization::UnicodeNormalization;

pub const LABELS: [&str; 3] = ["negative", "neutral", "positive"];
/// Longest accepted input, in UTF-8 bytes.
pub const MAX_BYTES: usize = 1024;
/// Tokens given to the encoder, including [CLS] and [SEP]; longer inputs are truncated.
pub const MAX_TOKENS: usize = 128;
const HIDDEN: i64 = 384;
const HEADS: i64 = 12;
const LAYERS: usize = 6;
const LN_EPS: f64 = 1e-12;

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

/// The encoder and classifier weights, by name.
pub struct SentimentModel {
	w: HashMap<String, Tensor>,
}

impl SentimentModel {
	/// Encoder tensors named as in the published checkpoint (`embeddings.*`, `encoder.layer.*`)
	/// plus, once trained, `head.weight` (3 x 384) and `head.bias`.
	pub fn new(w: HashMap<String, Tensor>) -> Result<Self, String> {
		let model = Self { w };
		for name in ["embeddings.word_embeddings.weight", "encoder.layer.5.output.dense.weight"] {
			model.get(name)?;
		}
		Ok(model)
	}

	fn get(&self, name: &str) -> Result<&Tensor, String> {
		self.w.get(name).ok_or_else(|| format!("tensor {name} is missing"))
	}

	fn t(&self, name: &str) -> &Tensor {
		self.w.get(name).expect("checked when loaded")
	}

	fn linear(&self, x: &Tensor, name: &str) -> Tensor {
		x.linear(self.t(&format!("{name}.weight")), Some(self.t(&format!("{name}.bias"))))
	}

	fn norm(&self, x: &Tensor, name: &str) -> Tensor {
		x.layer_norm(
			[HIDDEN],
			Some(self.t(&format!("{name}.weight"))),
			Some(self.t(&format!("{name}.bias"))),
			LN_EPS,
			false,
		)
	}

	/// Sentence embeddings (batch, 384), L2-normalised, for padded `ids` (batch, tokens) with
	/// `mask` (batch, tokens) 1 for real tokens.
	pub fn embed(&self, ids: &Tensor, mask: &Tensor) -> Tensor {
		let (b, t) = ids.size2().expect("batch, tokens");
		let positions = Tensor::arange(t, (Kind::Int64, tch::Device::Cpu));
		let mut h = self
			.t("embeddings.word_embeddings.weight")
			.index_select(0, &ids.view([-1]))
			.view([b, t, HIDDEN])
			+ self.t("embeddings.position_embeddings.weight").index_select(0, &positions)
			+ self.t("embeddings.token_type_embeddings.weight").get(0);
		h = self.norm(&h, "embeddings.LayerNorm");
		let attend = mask.to_kind(Kind::Bool).view([b, 1, 1, t]);
		let dh = HIDDEN / HEADS;
		for i in 0..LAYERS {
			let p = format!("encoder.layer.{i}");
			let split = |x: Tensor| x.view([b, t, HEADS, dh]).transpose(1, 2);
			let q = split(self.linear(&h, &format!("{p}.attention.self.query")));
			let k = split(self.linear(&h, &format!("{p}.attention.self.key")));
			let v = split(self.linear(&h, &format!("{p}.attention.self.value")));
			let a = Tensor::scaled_dot_product_attention(
				&q,
				&k,
				&v,
				Some(&attend),
				0.0,
				false,
				None,
				false,
			);
			let a = a.transpose(1, 2).contiguous().view([b, t, HIDDEN]);
			h = self.norm(
				&(self.linear(&a, &format!("{p}.attention.output.dense")) + &h),
				&format!("{p}.attention.output.LayerNorm"),
			);
			let f = self.linear(&h, &format!("{p}.intermediate.dense")).gelu("none");
			h = self.norm(
				&(self.linear(&f, &format!("{p}.output.dense")) + &h),
				&format!("{p}.output.LayerNorm"),
			);
		}
		let m = mask.to_kind(Kind::Float).unsqueeze(-1);
		let pooled = (h * &m).sum_dim_intlist(1, false, Kind::Float)
			/ m.sum_dim_intlist(1, false, Kind::Float).clamp_min(1e-9);
		let norm = pooled.norm_scalaropt_dim(2, [1i64].as_slice(), true).clamp_min(1e-12);
		pooled / norm
	}

	/// Class logits (batch, 3) from embeddings.
	pub fn classify(&self, embeddings: &Tensor) -> Tensor {
		embeddings.linear(self.t("head.weight"), Some(self.t("head.bias")))
	}

	/// Pads token id lists into (ids, mask) tensors.
	pub fn batch(ids: &[Vec<i64>]) -> (Tensor, Tensor) {
		let t = ids.iter().map(Vec::len).max().unwrap_or(1);
		let mut flat = Vec::with_capacity(ids.len() * t);
		let mut mask = Vec::with_capacity(ids.len() * t);
		for row in ids {
			flat.extend(row.iter().copied().chain(std::iter::repeat_n(0, t - row.len())));
			mask.extend(
				std::iter::repeat_n(1i64, row.len()).chain(std::iter::repeat_n(0, t - row.len())),
			);
		}
		let shape = [ids.len() as i64, t as i64];
		(Tensor::from_slice(&flat).view(shape), Tensor::from_slice(&mask).view(shape))
	}
}
