//! The price Transformer: a window of the feature pipeline, shape (batch, 60, 94), to the next
//! bar's log return (mean and volatility of a Gaussian) and a confidence (probability that the
//! return's sign is the one predicted).
//!
//! Architecture: standardised features (training mean and std, clipped to +-10) -> linear
//! projection to `d_model` plus a learned position embedding -> `layers` pre-norm Transformer
//! encoder blocks (multi-head self-attention with `heads` heads, GELU feed-forward of width
//! `ff`) -> final layer norm -> the last position and the mean over positions, concatenated ->
//! linear head with three outputs: mean `mu` (per cent), `log_sigma` (per cent, clamped to
//! [-6, 4]) and the logit of `P(return > 0)`.
//!
//! Training loss: Gaussian negative log-likelihood of the realised return plus half the binary
//! cross-entropy of its sign.

use tch::{nn, nn::Module, Tensor};

#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PriceConfig {
	pub window: i64,
	pub features: i64,
	pub d_model: i64,
	pub heads: i64,
	pub layers: i64,
	pub ff: i64,
}

impl PriceConfig {
	/// Checks that the architecture is buildable and of a sane size, before anything is
	/// allocated: an artifact's configuration is untrusted input.
	pub fn validate(&self) -> Result<(), String> {
		let within = |name: &str, v: i64, max: i64| {
			if (1..=max).contains(&v) {
				Ok(())
			} else {
				Err(format!("config {name} = {v} is outside 1..={max}"))
			}
		};
		within("window", self.window, 1024)?;
		within("d_model", self.d_model, 1024)?;
		within("heads", self.heads, 64)?;
		within("layers", self.layers, 16)?;
		within("ff", self.ff, 8192)?;
		if self.features != crate::features::FEATURE_COUNT as i64 {
			return Err(format!(
				"config features = {}, the pipeline computes {}",
				self.features,
				crate::features::FEATURE_COUNT
			));
		}
		if self.d_model % self.heads != 0 {
			return Err(format!(
				"d_model {} is not a multiple of heads {}",
				self.d_model, self.heads
			));
		}
		Ok(())
	}
}

impl Default for PriceConfig {
	fn default() -> Self {
		Self { window: 60, features: 94, d_model: 32, heads: 4, layers: 2, ff: 64 }
	}
}

#[derive(Debug)]
struct Block {
	ln1: nn::LayerNorm,
	qkv: nn::Linear,
	out: nn::Linear,
	ln2: nn::LayerNorm,
	ff1: nn::Linear,
	ff2: nn::Linear,
	heads: i64,
}

impl Block {
	fn new(p: nn::Path, d: i64, heads: i64, ff: i64) -> Self {
		let ln = || nn::LayerNormConfig::default();
		Self {
			ln1: nn::layer_norm(&p / "ln1", vec![d], ln()),
			qkv: nn::linear(&p / "qkv", d, 3 * d, Default::default()),
			out: nn::linear(&p / "out", d, d, Default::default()),
			ln2: nn::layer_norm(&p / "ln2", vec![d], ln()),
			ff1: nn::linear(&p / "ff1", d, ff, Default::default()),
			ff2: nn::linear(&p / "ff2", ff, d, Default::default()),
			heads,
		}
	}

	fn forward(&self, x: &Tensor) -> Tensor {
		let (b, t, d) = x.size3().expect("batch, time, model");
		let dh = d / self.heads;
		let qkv = self.qkv.forward(&self.ln1.forward(x)).view([b, t, 3, self.heads, dh]);
		let qkv = qkv.permute([2, 0, 3, 1, 4]);
		let (q, k, v) = (qkv.get(0), qkv.get(1), qkv.get(2));
		let attn = Tensor::scaled_dot_product_attention(
			&q,
			&k,
			&v,
			None::<Tensor>,
			0.0,
			false,
			None,
			false,
		);
		let attn = attn.transpose(1, 2).contiguous().view([b, t, d]);
		let x = x + self.out.forward(&attn);
		let y = self.ff2.forward(&self.ff1.forward(&self.ln2.forward(&x)).gelu("none"));
		x + y
	}
}

/// The price Transformer.
#[derive(Debug)]
pub struct PriceTransformer {
	pub config: PriceConfig,
	input: nn::Linear,
	position: Tensor,
	blocks: Vec<Block>,
	norm: nn::LayerNorm,
	head: nn::Linear,
}

impl PriceTransformer {
	pub fn new(p: &nn::Path, config: PriceConfig) -> Self {
		let d = config.d_model;
		Self {
			config,
			input: nn::linear(p / "input", config.features, d, Default::default()),
			position: p.var(
				"position",
				&[config.window, d],
				nn::Init::Randn { mean: 0.0, stdev: 0.02 },
			),
			blocks: (0..config.layers)
				.map(|i| Block::new(p / format!("block{i}"), d, config.heads, config.ff))
				.collect(),
			norm: nn::layer_norm(p / "norm", vec![d], Default::default()),
			head: nn::linear(p / "head", 2 * d, 3, Default::default()),
		}
	}

	/// Standardised input (batch, window, features) to raw outputs (batch, 3):
	/// `mu`, `log_sigma`, `logit_up`.
	pub fn forward(&self, x: &Tensor) -> Tensor {
		let mut h = self.input.forward(x) + &self.position;
		for block in &self.blocks {
			h = block.forward(&h);
		}
		let h = self.norm.forward(&h);
		let last = h.select(1, -1);
		let mean = h.mean_dim(1, false, h.kind());
		let out = self.head.forward(&Tensor::cat(&[last, mean], 1));
		let mu = out.narrow(1, 0, 1);
		let log_sigma = out.narrow(1, 1, 1).clamp(-6.0, 4.0);
		Tensor::cat(&[mu, log_sigma, out.narrow(1, 2, 1)], 1)
	}
}

/// Per-sample training loss: Gaussian NLL of `target` (per cent) plus half the BCE of its sign.
pub fn loss(out: &Tensor, target: &Tensor) -> Tensor {
	let mu = out.select(1, 0);
	let log_sigma = out.select(1, 1);
	let var2 = (&log_sigma * 2.0).exp() * 2.0;
	let nll = &log_sigma + (target - &mu).square() / var2;
	let up = target.gt(0.0).to_kind(tch::Kind::Float);
	let bce = out.select(1, 2).binary_cross_entropy_with_logits::<Tensor>(
		&up,
		None,
		None,
		tch::Reduction::None,
	);
	(nll + bce * 0.5).mean(tch::Kind::Float)
}
