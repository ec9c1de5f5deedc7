//! NLP sentiment: bounded text -> BERT WordPiece tokens -> the all-MiniLM-L6-v2 encoder
//! (Apache-2.0 weights; 6 layers, 384 wide, 12 heads) -> mean pooling over tokens, L2
//! normalisation -> a linear classifier trained here -> negative / neutral / positive.
//!
//! The tokenizer is BERT's uncased WordPiece ([`crate::pipeline::tokenizer`]), over the
//! vocabulary stored in the artifact.

use std::collections::HashMap;
use tch::{Kind, Tensor};

pub use crate::pipeline::tokenizer::Tokenizer;

pub const LABELS: [&str; 3] = ["negative", "neutral", "positive"];
/// Longest accepted input, in UTF-8 bytes.
pub const MAX_BYTES: usize = 1024;
/// Tokens given to the encoder, including [CLS] and [SEP]; longer inputs are truncated.
pub const MAX_TOKENS: usize = 128;
const HIDDEN: i64 = 384;
const HEADS: i64 = 12;
const LAYERS: usize = 6;
const LN_EPS: f64 = 1e-12;

/// How the encoder's linear layers compute: the artifact's `precision` parameter, part of its
/// hash, so every node of a model runs the same arithmetic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Precision {
	/// f32 weights and activations (artifacts without the parameter).
	F32,
	/// int8 weights and activations with integer accumulation ([`super::int8`]); the
	/// embeddings, layer norms, attention and the head stay f32.
	Int8,
}

impl Precision {
	pub fn name(self) -> &'static str {
		match self {
			Precision::F32 => "f32",
			Precision::Int8 => "int8",
		}
	}

	/// From the manifest's `precision` parameter; absent means f32.
	pub fn from_param(value: Option<&serde_json::Value>) -> Result<Self, String> {
		match value {
			None => Ok(Precision::F32),
			Some(v) => match v.as_str() {
				Some("f32") => Ok(Precision::F32),
				Some("int8") => Ok(Precision::Int8),
				_ => Err(format!("precision {v} is not one of \"f32\", \"int8\"")),
			},
		}
	}
}

/// Multi-head self-attention in Rust, every sum in a fixed order (no BLAS), on the fused
/// projections `qkv` (batch, tokens, 3 x 384: queries, keys, values) with `keep` (batch, tokens)
/// marking real tokens. Scores are `(q . k) / sqrt(32)`; their softmax
/// ([`super::int8::softmax_rows`]) gives masked tokens no weight.
fn attention(qkv: &[f32], keep: &[bool], b: usize, t: usize) -> Result<Vec<f32>, String> {
	if qkv.len() != b * t * 3 * HIDDEN as usize || keep.len() != b * t {
		return Err("attention inputs of mismatched sizes".into());
	}
	let mut probs = attention_scores(qkv, b, t);
	let per_item = HEADS as usize * t * t;
	for (bi, scores) in probs.chunks_exact_mut(per_item).enumerate() {
		super::int8::softmax_rows(scores, t, &keep[bi * t..(bi + 1) * t]);
	}
	Ok(attention_mix(&probs, qkv, b, t))
}

super::int8::with_avx2! {
	/// Scaled dot products per (batch, head, query, key), masked keys included (the softmax
	/// leaves them out).
	fn attention_scores(qkv: &[f32], b: usize, t: usize) -> Vec<f32> {
		let (h, heads) = (HIDDEN as usize, HEADS as usize);
		let (dh, stride) = (h / heads, 3 * h);
		let scale = 1.0 / (dh as f32).sqrt();
		let mut scores = vec![0f32; b * heads * t * t];
		let mut kt = vec![0f32; dh * t];
		let mut acc = vec![0f32; t];
		for bi in 0..b {
			for hd in 0..heads {
				// This head's keys, transposed: kt[d][j].
				for j in 0..t {
					let kj = &qkv[(bi * t + j) * stride + h + hd * dh..][..dh];
					for d in 0..dh {
						kt[d * t + j] = kj[d];
					}
				}
				for i in 0..t {
					acc.iter_mut().for_each(|a| *a = 0.0);
					let qi = &qkv[(bi * t + i) * stride + hd * dh..][..dh];
					for d in 0..dh {
						let qv = qi[d];
						for (a, kv) in acc.iter_mut().zip(&kt[d * t..(d + 1) * t]) {
							*a += qv * kv;
						}
					}
					let row = &mut scores[((bi * heads + hd) * t + i) * t..][..t];
					for (s, a) in row.iter_mut().zip(&acc) {
						*s = a * scale;
					}
				}
			}
		}
		scores
	}
}

super::int8::with_avx2! {
	/// Attention outputs (batch, tokens, 384): each head's probabilities times its values.
	fn attention_mix(probs: &[f32], qkv: &[f32], b: usize, t: usize) -> Vec<f32> {
		let (h, heads) = (HIDDEN as usize, HEADS as usize);
		let (dh, stride) = (h / heads, 3 * h);
		let mut out = vec![0f32; b * t * h];
		for bi in 0..b {
			for hd in 0..heads {
				for i in 0..t {
					let p = &probs[((bi * heads + hd) * t + i) * t..][..t];
					let o = &mut out[(bi * t + i) * h + hd * dh..][..dh];
					for j in 0..t {
						let pj = p[j];
						let vj = &qkv[(bi * t + j) * stride + 2 * h + hd * dh..][..dh];
						for (od, vd) in o.iter_mut().zip(vj) {
							*od += pj * vd;
						}
					}
				}
			}
		}
		out
	}
}

/// The encoder's linear layers, by name prefix.
const LINEARS: [&str; 6] = [
	"attention.self.query",
	"attention.self.key",
	"attention.self.value",
	"attention.output.dense",
	"intermediate.dense",
	"output.dense",
];

/// The encoder and classifier weights, by name.
pub struct SentimentModel {
	w: HashMap<String, Tensor>,
	/// The encoder's linear layers in int8 (their f32 weights dropped), when quantised.
	int8: HashMap<String, super::int8::Int8Linear>,
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
		Self { w, int8: HashMap::new() }
	}

	/// The same model with the encoder's linear layers in `precision`. Quantising replaces
	/// each layer's f32 weight and bias with its int8 form (about a quarter of the memory).
	pub fn with_precision(mut self, precision: Precision) -> Result<Self, String> {
		if precision == Precision::Int8 && self.int8.is_empty() {
			for i in 0..LAYERS {
				let p = format!("encoder.layer.{i}");
				// Queries, keys and values share their input: one layer of three times the
				// outputs (per-channel weights and per-row activations quantise exactly as
				// three layers would).
				let qkv = ["query", "key", "value"].map(|n| format!("{p}.attention.self.{n}"));
				let cat = |part: &str| -> Result<Tensor, String> {
					let parts = qkv
						.iter()
						.map(|n| self.t(&format!("{n}.{part}")))
						.collect::<Result<Vec<_>, _>>()?;
					Ok(Tensor::cat(&parts, 0))
				};
				let fused = super::int8::Int8Linear::new(&cat("weight")?, &cat("bias")?)?;
				self.int8.insert(format!("{p}.attention.self.qkv"), fused);
				for name in ["attention.output.dense", "intermediate.dense", "output.dense"] {
					let n = format!("{p}.{name}");
					let layer = super::int8::Int8Linear::new(
						self.t(&format!("{n}.weight"))?,
						self.t(&format!("{n}.bias"))?,
					)?;
					self.int8.insert(n, layer);
				}
				for name in LINEARS {
					self.w.remove(&format!("{p}.{name}.weight"));
					self.w.remove(&format!("{p}.{name}.bias"));
				}
			}
		}
		Ok(self)
	}

	/// The same model with the classifier head `weight` (3 x 384) and `bias` (3).
	pub fn with_head(mut self, weight: Tensor, bias: Tensor) -> Self {
		self.w.insert("head.weight".into(), weight);
		self.w.insert("head.bias".into(), bias);
		self
	}

	pub fn precision(&self) -> Precision {
		if self.int8.is_empty() {
			Precision::F32
		} else {
			Precision::Int8
		}
	}

	/// Checks that `shapes` (name to shape) are exactly the tensors the encoder and head use
	/// (and at most the checkpoint's unused pooler), each with its shape, and that the word
	/// embeddings have one row per vocabulary entry.
	///
	/// The head reads the embedding and `extra_inputs` more numbers per text (the lexicon
	/// features, when the artifact has a lexicon).
	pub fn check(
		shapes: &std::collections::BTreeMap<&str, &[usize]>,
		vocab: usize,
		extra_inputs: usize,
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
			("head.weight".into(), vec![LABELS.len(), h + extra_inputs]),
			("head.bias".into(), vec![LABELS.len()]),
		];
		for i in 0..LAYERS {
			let p = format!("encoder.layer.{i}");
			for (name, out, inp) in LINEARS
				.into_iter()
				.zip([(h, h), (h, h), (h, h), (h, h), (inter, h), (h, inter)])
				.map(|(n, (o, i))| (n, o, i))
			{
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

	/// Word, position and token-type embeddings summed, (batch, tokens, 384), before the layer
	/// norm: a gather and additions, the same on every processor.
	fn token_embeddings(&self, ids: &Tensor) -> Result<Tensor, String> {
		let (b, t) = ids.size2().map_err(|e| e.to_string())?;
		let positions = Tensor::arange(t, (Kind::Int64, tch::Device::Cpu));
		Ok(self
			.t("embeddings.word_embeddings.weight")?
			.index_select(0, &ids.view([-1]))
			.view([b, t, HIDDEN])
			+ self.t("embeddings.position_embeddings.weight")?.index_select(0, &positions)
			+ self.t("embeddings.token_type_embeddings.weight")?.get(0))
	}

	/// Sentence embeddings (batch, 384), L2-normalised, for padded `ids` (batch, tokens) with
	/// `mask` (batch, tokens) 1 for real tokens.
	pub fn embed(&self, ids: &Tensor, mask: &Tensor) -> Result<Tensor, String> {
		if self.precision() == Precision::Int8 {
			return self.embed_int8(ids, mask);
		}
		let (b, t) = ids.size2().map_err(|e| e.to_string())?;
		let mut h = self.norm(&self.token_embeddings(ids)?, "embeddings.LayerNorm")?;
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

	/// The int8 encoder, in Rust around the exact integer products: every operation is an
	/// elementwise IEEE operation, an integer sum or a sum in an order fixed by the code
	/// ([`super::int8::sum_fixed`]), so its outputs do not depend on the processor or on which
	/// kernels libtorch, MKL or oneDNN would pick (the activations' quantisation would turn their
	/// last-bit differences into whole steps). libtorch only gathers the embedding rows. GELU is
	/// the tanh form (within 3e-4 of the erf form) on [`super::int8::exp_fixed`].
	fn embed_int8(&self, ids: &Tensor, mask: &Tensor) -> Result<Tensor, String> {
		let (b, t) = ids.size2().map_err(|e| e.to_string())?;
		let (bu, tu, h) = (b as usize, t as usize, HIDDEN as usize);
		let mut x = super::values(&self.token_embeddings(ids)?);
		let keep: Vec<bool> =
			Vec::<i64>::try_from(&mask.view([-1])).expect("i64").iter().map(|m| *m != 0).collect();
		if keep.len() != bu * tu || x.len() != bu * tu * h {
			return Err(format!("mask of {} values for {b} x {t} tokens", keep.len()));
		}
		let norm = |x: &mut [f32], name: &str| -> Result<(), String> {
			let gamma = super::values(self.t(&format!("{name}.weight"))?);
			let beta = super::values(self.t(&format!("{name}.bias"))?);
			super::int8::layer_norm_rows(x, h, &gamma, &beta, LN_EPS as f32);
			Ok(())
		};
		let layer =
			|name: &str| self.int8.get(name).ok_or_else(|| format!("int8 layer {name} is missing"));
		norm(&mut x, "embeddings.LayerNorm")?;
		for i in 0..LAYERS {
			let p = format!("encoder.layer.{i}");
			let qkv = layer(&format!("{p}.attention.self.qkv"))?.forward_rows(&x)?;
			let a = attention(&qkv, &keep, bu, tu)?;
			let mut o = layer(&format!("{p}.attention.output.dense"))?.forward_rows(&a)?;
			o.iter_mut().zip(&x).for_each(|(o, x)| *o += x);
			norm(&mut o, &format!("{p}.attention.output.LayerNorm"))?;
			x = o;
			let mut f = layer(&format!("{p}.intermediate.dense"))?.forward_rows(&x)?;
			super::int8::gelu_in_place(&mut f);
			let mut o = layer(&format!("{p}.output.dense"))?.forward_rows(&f)?;
			o.iter_mut().zip(&x).for_each(|(o, x)| *o += x);
			norm(&mut o, &format!("{p}.output.LayerNorm"))?;
			x = o;
		}
		// Mean over real tokens, in token order; then L2 normalisation.
		let mut pooled = vec![0f32; bu * h];
		for bi in 0..bu {
			let out = &mut pooled[bi * h..(bi + 1) * h];
			let mut count = 0f32;
			for ti in 0..tu {
				if keep[bi * tu + ti] {
					count += 1.0;
					out.iter_mut().zip(&x[(bi * tu + ti) * h..][..h]).for_each(|(o, v)| *o += v);
				}
			}
			let count = count.max(1.0);
			out.iter_mut().for_each(|o| *o /= count);
			let squares: Vec<f32> = out.iter().map(|v| v * v).collect();
			let length = super::int8::sum_fixed(&squares).sqrt().max(1e-12);
			out.iter_mut().for_each(|o| *o /= length);
		}
		Ok(Tensor::from_slice(&pooled).view([b, HIDDEN]))
	}

	/// Class logits (batch, 3) from the head's inputs: embeddings, followed by any extra
	/// numbers per text the head was trained with. With the int8 encoder the head's sums are
	/// [`super::int8::sum_fixed`]'s rather than a BLAS call's, for the same reason.
	pub fn classify(&self, embeddings: &Tensor) -> Result<Tensor, String> {
		let (w, bias) = (self.t("head.weight")?, self.t("head.bias")?);
		let h = w.size().last().copied().unwrap_or(0) as usize;
		let width = embeddings.size().last().copied().unwrap_or(0) as usize;
		if h != width {
			return Err(format!("the head reads {h} numbers per text, given {width}"));
		}
		if self.precision() == Precision::Int8 {
			let e = super::values(embeddings);
			let (w, bias) = (super::values(w), super::values(bias));
			let mut logits = Vec::with_capacity(e.len() / h * LABELS.len());
			for row in e.chunks_exact(h) {
				for (c, wc) in w.chunks_exact(h).enumerate() {
					let products: Vec<f32> = row.iter().zip(wc).map(|(a, b)| a * b).collect();
					logits.push(super::int8::sum_fixed(&products) + bias[c]);
				}
			}
			return Ok(Tensor::from_slice(&logits).view([-1, LABELS.len() as i64]));
		}
		Ok(embeddings.linear(w, Some(bias)))
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

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn precision_is_f32_unless_the_manifest_says_int8() {
		assert_eq!(Precision::from_param(None), Ok(Precision::F32));
		assert_eq!(Precision::from_param(Some(&serde_json::json!("f32"))), Ok(Precision::F32));
		assert_eq!(Precision::from_param(Some(&serde_json::json!("int8"))), Ok(Precision::Int8));
		for bad in [serde_json::json!("int4"), serde_json::json!(8), serde_json::json!(null)] {
			let err = Precision::from_param(Some(&bad)).unwrap_err();
			assert!(err.contains("is not one of"), "{err}");
		}
	}
}
