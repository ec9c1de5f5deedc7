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
	/// Largest vocabulary accepted.
	pub const MAX_VOCAB: usize = 250_000;
	/// Widest feed-forward layer accepted.
	pub const MAX_INTERMEDIATE: usize = 8192;

	/// Encoder tensors named as in the published checkpoint (`embeddings.*`, `encoder.layer.*`)
	/// plus, once trained, `head.weight` (3 x 384) and `head.bias`. Check them with
	/// [`Self::check`] first.
	pub fn new(w: HashMap<String, Tensor>) -> Self {
		Self { w }
	}

	/// Checks that `shapes` (name to shape) are exactly the tensors the encoder and head use
	/// (and at most the checkpoint's unused pooler), each with its shape, and that the word
	/// embeddings have one row per vocabulary entry.
	pub fn check(
		shapes: &std::collections::BTreeMap<&str, &[usize]>,
		vocab: usize,
	) -> Result<(), String> {
		let h = HIDDEN as usize;
		if !(1..=Self::MAX_VOCAB).contains(&vocab) {
			return Err(format!(
				"vocabulary of {vocab} entries is outside 1..={}",
				Self::MAX_VOCAB
			));
		}
		let dim = |name: &str, axis: usize| -> Result<usize, String> {
			shapes
				.get(name)
				.and_then(|s| s.get(axis).copied())
				.ok_or_else(|| format!("tensor {name} is missing"))
		};
		let positions = dim("embeddings.position_embeddings.weight", 0)?;
		if positions < MAX_TOKENS {
			return Err(format!("{positions} position embeddings, {MAX_TOKENS} needed"));
		}
		let types = dim("embeddings.token_type_embeddings.weight", 0)?;
		let inter = dim("encoder.layer.0.intermediate.dense.weight", 0)?;
		if !(1..=Self::MAX_INTERMEDIATE).contains(&inter) || !(1..=16).contains(&types) {
			return Err(format!(
				"intermediate width {inter} or {types} token types outside their limits"
			));
		}
		let mut expected: Vec<(String, Vec<usize>)> = vec![
			("embeddings.word_embeddings.weight".into(), vec![vocab, h]),
			("embeddings.position_embeddings.weight".into(), vec![positions, h]),
			("embeddings.token_type_embeddings.weight".into(), vec![types, h]),
			("embeddings.LayerNorm.weight".into(), vec![h]),
			("embeddings.LayerNorm.bias".into(), vec![h]),
			("head.weight".into(), vec![LABELS.len(), h]),
			("head.bias".into(), vec![LABELS.len()]),
		];
		for i in 0..LAYERS {
			let p = format!("encoder.layer.{i}");
			for (name, out, inp) in [
				("attention.self.query", h, h),
				("attention.self.key", h, h),
				("attention.self.value", h, h),
				("attention.output.dense", h, h),
				("intermediate.dense", inter, h),
				("output.dense", h, inter),
			] {
				expected.push((format!("{p}.{name}.weight"), vec![out, inp]));
				expected.push((format!("{p}.{name}.bias"), vec![out]));
			}
			for norm in ["attention.output.LayerNorm", "output.LayerNorm"] {
				expected.push((format!("{p}.{norm}.weight"), vec![h]));
				expected.push((format!("{p}.{norm}.bias"), vec![h]));
			}
		}
		// The published checkpoint's pooler: unused here, accepted when shaped as published.
		for (name, shape) in [("pooler.dense.weight", vec![h, h]), ("pooler.dense.bias", vec![h])] {
			if shapes.contains_key(name) {
				expected.push((name.into(), shape));
			}
		}
		for (name, shape) in &expected {
			match shapes.get(name.as_str()) {
				None => return Err(format!("tensor {name} is missing")),
				Some(given) if *given != shape.as_slice() => {
					return Err(format!("tensor {name}: shape {given:?}, expected {shape:?}"))
				}
				Some(_) => {}
			}
		}
		if shapes.len() != expected.len() {
			let known: std::collections::BTreeSet<&str> =
				expected.iter().map(|(n, _)| n.as_str()).collect();
			let extra = shapes.keys().find(|n| !known.contains(*n)).copied().unwrap_or("?");
			return Err(format!("unexpected tensor {extra}"));
		}
		Ok(())
	}

	fn t(&self, name: &str) -> Result<&Tensor, String> {
		self.w.get(name).ok_or_else(|| format!("tensor {name} is missing"))
	}

	fn linear(&self, x: &Tensor, name: &str) -> Result<Tensor, String> {
		Ok(x.linear(self.t(&format!("{name}.weight"))?, Some(self.t(&format!("{name}.bias"))?)))
	}

	fn norm(&self, x: &Tensor, name: &str) -> Result<Tensor, String> {
		Ok(x.layer_norm(
			[HIDDEN],
			Some(self.t(&format!("{name}.weight"))?),
			Some(self.t(&format!("{name}.bias"))?),
			LN_EPS,
			false,
		))
	}

	/// Sentence embeddings (batch, 384), L2-normalised, for padded `ids` (batch, tokens) with
	/// `mask` (batch, tokens) 1 for real tokens.
	pub fn embed(&self, ids: &Tensor, mask: &Tensor) -> Result<Tensor, String> {
		let (b, t) = ids.size2().map_err(|e| e.to_string())?;
		let positions = Tensor::arange(t, (Kind::Int64, tch::Device::Cpu));
		let mut h = self
			.t("embeddings.word_embeddings.weight")?
			.index_select(0, &ids.view([-1]))
			.view([b, t, HIDDEN])
			+ self.t("embeddings.position_embeddings.weight")?.index_select(0, &positions)
			+ self.t("embeddings.token_type_embeddings.weight")?.get(0);
		h = self.norm(&h, "embeddings.LayerNorm")?;
		let attend = mask.to_kind(Kind::Bool).view([b, 1, 1, t]);
		let dh = HIDDEN / HEADS;
		for i in 0..LAYERS {
			let p = format!("encoder.layer.{i}");
			let split = |x: Tensor| x.view([b, t, HEADS, dh]).transpose(1, 2);
			let q = split(self.linear(&h, &format!("{p}.attention.self.query"))?);
			let k = split(self.linear(&h, &format!("{p}.attention.self.key"))?);
			let v = split(self.linear(&h, &format!("{p}.attention.self.value"))?);
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
				&(self.linear(&a, &format!("{p}.attention.output.dense"))? + &h),
				&format!("{p}.attention.output.LayerNorm"),
			)?;
			let f = self.linear(&h, &format!("{p}.intermediate.dense"))?.gelu("none");
			h = self.norm(
				&(self.linear(&f, &format!("{p}.output.dense"))? + &h),
				&format!("{p}.output.LayerNorm"),
			)?;
		}
		let m = mask.to_kind(Kind::Float).unsqueeze(-1);
		let pooled = (h * &m).sum_dim_intlist(1, false, Kind::Float)
			/ m.sum_dim_intlist(1, false, Kind::Float).clamp_min(1e-9);
		let norm = pooled.norm_scalaropt_dim(2, [1i64].as_slice(), true).clamp_min(1e-12);
		Ok(pooled / norm)
	}

	/// Class logits (batch, 3) from embeddings.
	pub fn classify(&self, embeddings: &Tensor) -> Result<Tensor, String> {
		Ok(embeddings.linear(self.t("head.weight")?, Some(self.t("head.bias")?)))
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
