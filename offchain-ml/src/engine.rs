//! Inference: loaded artifacts, addressed by hash, and the checked entry points the service and
//! the node call. Every output is quantised to fixed point with the artifact's scale.

use crate::{
	artifact::{self, Artifact, ArtifactError, Task},
	features::{self, Bar, FeatureError, FEATURE_COUNT},
	models::{self, gaf, msrr, price, sentiment},
	runtime,
};
use serde::Serialize;
use std::{collections::BTreeMap, path::Path};
use tch::{nn, Tensor};

/// Largest fixed-point scale an artifact may ask for.
pub const MAX_OUTPUT_SCALE: i64 = 1_000_000_000_000;

/// Why a request cannot be answered.
#[derive(Debug, thiserror::Error)]
pub enum InferenceError {
	#[error("unknown model hash {0}")]
	UnknownModel(String),
	#[error("model {hash} is a {actual} model, not {expected}")]
	WrongKind { hash: String, actual: String, expected: &'static str },
	#[error("invalid input: {0}")]
	Features(#[from] FeatureError),
	#[error("invalid input: {0}")]
	Input(String),
	#[error("artifact {path}: {source}")]
	Artifact { path: String, source: ArtifactError },
	#[error("model {0}: {1}")]
	Model(String, String),
}

enum Net {
	Price {
		model: Box<price::PriceTransformer>,
		mean: Vec<f64>,
		std: Vec<f64>,
	},
	Gaf {
		model: gaf::GafCnn,
	},
	Msrr {
		params: msrr::MsrrParams,
	},
	Sentiment {
		model: Box<sentiment::SentimentModel>,
		tokenizer: Box<sentiment::Tokenizer>,
		max_bytes: usize,
	},
}

struct Loaded {
	artifact: Artifact,
	net: Net,
	// Owns the weights the modules point into.
	_vs: nn::VarStore,
}

/// Summary of a loaded model.
#[derive(Clone, Debug, Serialize)]
pub struct ModelInfo {
	pub hash: String,
	pub name: String,
	pub version: String,
	pub task: Task,
	pub feature_version: u32,
	pub input_shape: Vec<usize>,
	pub output_scale: i64,
	pub size: u64,
	pub metrics: BTreeMap<String, serde_json::Value>,
}

/// A price prediction, fixed point with the model's scale.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PricePrediction {
	/// Next bar's log return.
	pub r#return: i64,
	/// Its standard deviation.
	pub volatility: i64,
	/// Probability that the return's sign is the predicted one (0.5 .. 1).
	pub confidence: i64,
	/// Predicted sign: 1 up, -1 down.
	pub direction: i8,
}

/// A classification, fixed point with the model's scale.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Classification {
	pub label: String,
	pub class: usize,
	pub probabilities: Vec<i64>,
}

/// MSRR outputs, fixed point with the model's scale.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MsrrPrediction {
	pub p_calm: i64,
	pub p_turbulent: i64,
	/// Probability of the turbulent state at the next bar.
	pub turbulence_next: i64,
	/// Robust expected next log return, per cent.
	pub expected_return_pct: i64,
	/// Expected downside semivariance, per cent squared.
	pub semivariance_pct2: i64,
	/// Share of capital to hold in the asset for the next bar, 0 .. 1.
	pub allocation: i64,
}

/// The loaded models.
#[derive(Default)]
pub struct Engine {
	models: BTreeMap<[u8; 32], Loaded>,
}

/// The `*.nrm` files in `dir`, sorted.
pub fn artifact_files(dir: &Path) -> std::io::Result<Vec<std::path::PathBuf>> {
	let mut paths: Vec<_> = std::fs::read_dir(dir)?
		.filter_map(|e| e.ok().map(|e| e.path()))
		.filter(|p| p.extension().is_some_and(|x| x == "nrm"))
		.collect();
	paths.sort();
	Ok(paths)
}

fn parse_hash(hash: &str) -> Result<[u8; 32], InferenceError> {
	if hash.strip_prefix("0x").unwrap_or(hash).len() != 64 {
		return Err(InferenceError::Input(format!("model hash {hash:?} is not 32 bytes of hex")));
	}
	artifact::parse_hex(hash)
		.ok_or_else(|| InferenceError::Input(format!("model hash {hash:?} is not hex")))
}

impl Engine {
	pub fn new() -> Self {
		runtime::init();
		Self::default()
	}

	/// Loads every `*.nrm` artifact in `dir`; one result per file, so that a corrupt artifact
	/// does not keep the others from loading.
	pub fn load_dir(
		&mut self,
		dir: &Path,
	) -> Result<Vec<Result<ModelInfo, InferenceError>>, InferenceError> {
		let paths = artifact_files(dir).map_err(|e| InferenceError::Artifact {
			path: dir.display().to_string(),
			source: e.into(),
		})?;
		Ok(paths.iter().map(|p| self.load_file(p, None)).collect())
	}

	/// Hashes of the loaded models.
	pub fn hashes(&self) -> Vec<[u8; 32]> {
		self.models.keys().copied().collect()
	}

	/// Whether model `hash` is loaded.
	pub fn has(&self, hash: &[u8; 32]) -> bool {
		self.models.contains_key(hash)
	}

	/// Unloads model `hash`.
	pub fn remove(&mut self, hash: &[u8; 32]) {
		self.models.remove(hash);
	}

	/// Loads one artifact file, refusing it if `expected` is given and the hash differs.
	pub fn load_file(
		&mut self,
		path: &Path,
		expected: Option<[u8; 32]>,
	) -> Result<ModelInfo, InferenceError> {
		let artifact = artifact::read(path, expected).map_err(|source| {
			InferenceError::Artifact { path: path.display().to_string(), source }
		})?;
		self.insert(artifact)
	}

	/// Builds the network an artifact describes and keeps it under its hash. Everything the
	/// artifact says is checked first (every tensor's name and shape against the architecture,
	/// sizes against their limits, labels and outputs against the task), so that a registered
	/// artifact with the right hash but wrong contents is refused with an error and never makes
	/// inference panic.
	pub fn insert(&mut self, mut artifact: Artifact) -> Result<ModelInfo, InferenceError> {
		let m = &artifact.manifest;
		let fail = |e: String| InferenceError::Model(m.name.clone(), e);
		if !(1..=MAX_OUTPUT_SCALE).contains(&m.output_scale) {
			return Err(fail(format!(
				"output scale {} is outside 1..={MAX_OUTPUT_SCALE}",
				m.output_scale
			)));
		}
		let labels = |expected: &[&str]| -> Result<(), InferenceError> {
			let given = match &m.task {
				Task::Classification { labels } | Task::TextClassification { labels, .. } => labels,
				Task::Regression { .. } => return Err(fail("not a classification task".into())),
			};
			if given.iter().map(String::as_str).ne(expected.iter().copied()) {
				return Err(fail(format!("labels {given:?}, this node reports {expected:?}")));
			}
			Ok(())
		};
		let mut vs = nn::VarStore::new(tch::Device::Cpu);
		let net = match m.name.as_str() {
			"price-transformer" => {
				if m.feature_version != features::FEATURE_VERSION {
					return Err(fail(format!(
						"trained on feature pipeline v{}, this node computes v{}",
						m.feature_version,
						features::FEATURE_VERSION
					)));
				}
				match &m.task {
					Task::Regression { outputs } if outputs.len() == 3 => {}
					_ => return Err(fail("not a regression with 3 outputs".into())),
				}
				let config: price::PriceConfig = serde_json::from_value(
					m.params.get("config").cloned().ok_or_else(|| fail("no config".into()))?,
				)
				.map_err(|e| fail(e.to_string()))?;
				config.validate().map_err(fail)?;
				let input = [config.window as usize, FEATURE_COUNT];
				if m.input_shape != input {
					return Err(fail(format!(
						"input shape {:?}, the configuration gives {input:?}",
						m.input_shape
					)));
				}
				let stat = |k: &str| {
					m.stats
						.get(k)
						.filter(|v| v.len() == FEATURE_COUNT && v.iter().all(|x| x.is_finite()))
						.cloned()
						.ok_or_else(|| fail(format!("normalisation {k} missing or not finite")))
				};
				let (mean, std) = (stat("mean")?, stat("std")?);
				if std.iter().any(|s| *s <= 0.0) {
					return Err(fail(
						"normalisation std holds a value that is not positive".into(),
					));
				}
				let model = Box::new(price::PriceTransformer::new(&vs.root(), config));
				Net::Price { model, mean, std }
			}
			"gaf-regime" => {
				labels(&gaf::LABELS)?;
				Net::Gaf { model: gaf::GafCnn::new(&vs.root()) }
			}
			"msrr" => Net::Msrr {
				params: m
					.stats
					.get("params")
					.and_then(|v| msrr::MsrrParams::from_vec(v))
					.ok_or_else(|| fail("parameters missing or out of range".into()))?,
			},
			"sentiment" => {
				labels(&sentiment::LABELS)?;
				let vocab: Vec<String> = serde_json::from_value(
					m.params.get("vocab").cloned().ok_or_else(|| fail("no vocabulary".into()))?,
				)
				.map_err(|e| fail(e.to_string()))?;
				let max_bytes = match &m.task {
					Task::TextClassification { max_bytes, .. } => *max_bytes,
					_ => return Err(fail("not a text classification task".into())),
				};
				if !(1..=sentiment::MAX_BYTES).contains(&max_bytes) {
					return Err(fail(format!(
						"max_bytes {max_bytes} is outside 1..={}",
						sentiment::MAX_BYTES
					)));
				}
				let shapes: BTreeMap<&str, &[usize]> = artifact
					.weights
					.iter()
					.map(|(name, shape, _)| (name.as_str(), shape.as_slice()))
					.collect();
				sentiment::SentimentModel::check(&shapes, vocab.len()).map_err(fail)?;
				let tensors = artifact
					.weights
					.iter()
					.map(|(name, shape, values)| {
						let dims: Vec<i64> = shape.iter().map(|d| *d as i64).collect();
						(name.clone(), Tensor::from_slice(values).view(dims.as_slice()))
					})
					.collect();
				Net::Sentiment {
					model: Box::new(sentiment::SentimentModel::new(tensors)),
					tokenizer: Box::new(sentiment::Tokenizer::new(&vocab).map_err(fail)?),
					max_bytes,
				}
			}
			other => return Err(fail(format!("unknown architecture {other:?}"))),
		};
		if !matches!(net, Net::Sentiment { .. } | Net::Msrr { .. }) {
			models::load_weights(&mut vs, &artifact.weights).map_err(fail)?;
		} else if matches!(net, Net::Msrr { .. }) && !artifact.weights.is_empty() {
			return Err(fail("the MSRR model has no tensors".into()));
		}
		let info = info(&artifact);
		// The tensors hold their own copies now.
		artifact.weights = Vec::new();
		self.models.insert(artifact.hash, Loaded { artifact, net, _vs: vs });
		Ok(info)
	}

	/// What model `hash` is, if loaded.
	pub fn info(&self, hash: &[u8; 32]) -> Option<ModelInfo> {
		self.models.get(hash).map(|l| info(&l.artifact))
	}

	pub fn list(&self) -> Vec<ModelInfo> {
		self.models.values().map(|l| info(&l.artifact)).collect()
	}

	fn get(&self, hash: &str) -> Result<&Loaded, InferenceError> {
		let key = parse_hash(hash)?;
		self.models.get(&key).ok_or_else(|| InferenceError::UnknownModel(hash.to_string()))
	}

	/// Price predictions for several bar series with one model, batched.
	pub fn predict_batch(
		&self,
		hash: &str,
		series: &[Vec<Bar>],
	) -> Result<Vec<PricePrediction>, InferenceError> {
		let loaded = self.get(hash)?;
		let Net::Price { model, mean, std } = &loaded.net else {
			return Err(wrong_kind(hash, loaded, "price-transformer"));
		};
		if series.is_empty() {
			return Err(InferenceError::Input("no bar series given".into()));
		}
		let window = model.config.window as usize;
		let mut rows = Vec::with_capacity(series.len() * window * FEATURE_COUNT);
		for bars in series {
			rows.extend(features::window_features(bars, window)?);
		}
		self.predict_features(loaded, model, mean, std, series.len(), &rows)
	}

	/// A price prediction from feature rows computed elsewhere: `window` rows of
	/// `FEATURE_COUNT` finite values.
	pub fn predict_rows(
		&self,
		hash: &str,
		rows: &[Vec<f64>],
	) -> Result<PricePrediction, InferenceError> {
		let loaded = self.get(hash)?;
		let Net::Price { model, mean, std } = &loaded.net else {
			return Err(wrong_kind(hash, loaded, "price-transformer"));
		};
		let window = model.config.window as usize;
		if rows.len() != window {
			return Err(InferenceError::Input(format!(
				"expected {window} feature rows, got {}",
				rows.len()
			)));
		}
		let mut flat = Vec::with_capacity(window * FEATURE_COUNT);
		for (i, row) in rows.iter().enumerate() {
			if row.len() != FEATURE_COUNT {
				return Err(InferenceError::Input(format!(
					"row {i}: expected {FEATURE_COUNT} features, got {}",
					row.len()
				)));
			}
			if let Some(j) = row.iter().position(|v| !v.is_finite()) {
				return Err(InferenceError::Input(format!(
					"row {i}, feature {j}: {} is not finite",
					row[j]
				)));
			}
			flat.extend_from_slice(row);
		}
		Ok(self.predict_features(loaded, model, mean, std, 1, &flat)?.remove(0))
	}

	fn predict_features(
		&self,
		loaded: &Loaded,
		model: &price::PriceTransformer,
		mean: &[f64],
		std: &[f64],
		batch: usize,
		rows: &[f64],
	) -> Result<Vec<PricePrediction>, InferenceError> {
		let window = model.config.window as usize;
		let xs: Vec<f32> = rows
			.iter()
			.enumerate()
			.map(|(i, v)| {
				let j = i % FEATURE_COUNT;
				((v - mean[j]) / std[j]).clamp(-10.0, 10.0) as f32
			})
			.collect();
		let input =
			Tensor::from_slice(&xs).view([batch as i64, window as i64, FEATURE_COUNT as i64]);
		let out = {
			let _guard = runtime::InferenceMode::enter();
			models::values(&model.forward(&input))
		};
		let scale = loaded.artifact.manifest.output_scale;
		Ok(out
			.chunks_exact(3)
			.map(|o| {
				// The model works in per cent; report log-return units.
				let p_up = 1.0 / (1.0 + libm::exp(-(o[2] as f64)));
				PricePrediction {
					r#return: models::quantize(o[0] as f64 / 100.0, scale),
					volatility: models::quantize(libm::exp(o[1] as f64) / 100.0, scale),
					confidence: models::quantize(p_up.max(1.0 - p_up), scale),
					direction: if p_up >= 0.5 { 1 } else { -1 },
				}
			})
			.collect())
	}

	/// The regime of the latest `gaf::WINDOW` closes of `bars`.
	pub fn classify_regime(
		&self,
		hash: &str,
		bars: &[Bar],
	) -> Result<Classification, InferenceError> {
		let loaded = self.get(hash)?;
		let Net::Gaf { model } = &loaded.net else {
			return Err(wrong_kind(hash, loaded, "gaf-regime"));
		};
		let closes = latest_closes(bars, gaf::WINDOW)?;
		let w = gaf::WINDOW as i64;
		let input = Tensor::from_slice(&gaf::gaf_images(&closes)).view([1, 2, w, w]);
		let probs = {
			let _guard = runtime::InferenceMode::enter();
			models::values(&model.forward(&input).softmax(1, tch::Kind::Float))
		};
		Ok(classification(&probs, loaded.artifact.manifest.output_scale, &gaf::LABELS))
	}
}

impl Engine {
	/// Sentiment of a text: negative, neutral or positive.
	pub fn sentiment(&self, hash: &str, text: &str) -> Result<Classification, InferenceError> {
		let loaded = self.get(hash)?;
		let Net::Sentiment { model, tokenizer, max_bytes } = &loaded.net else {
			return Err(wrong_kind(hash, loaded, "sentiment"));
		};
		if text.trim().is_empty() {
			return Err(InferenceError::Input("text is empty".into()));
		}
		if text.len() > *max_bytes {
			return Err(InferenceError::Input(format!(
				"text is {} bytes, at most {max_bytes} accepted",
				text.len()
			)));
		}
		let ids = tokenizer.encode(text, sentiment::MAX_TOKENS);
		let (x, mask) = sentiment::SentimentModel::batch(&[ids]);
		let probs = {
			let _guard = runtime::InferenceMode::enter();
			let fail = |e: String| InferenceError::Model("sentiment".into(), e);
			let logits = model.classify(&model.embed(&x, &mask).map_err(fail)?).map_err(fail)?;
			models::values(&logits.softmax(1, tch::Kind::Float))
		};
		Ok(classification(&probs, loaded.artifact.manifest.output_scale, &sentiment::LABELS))
	}

	/// The MSRR regime filter and allocation over the latest `msrr::WINDOW` bars.
	pub fn msrr(&self, hash: &str, bars: &[Bar]) -> Result<MsrrPrediction, InferenceError> {
		let loaded = self.get(hash)?;
		let Net::Msrr { params } = &loaded.net else {
			return Err(wrong_kind(hash, loaded, "msrr"));
		};
		let closes = latest_closes(bars, msrr::WINDOW)?;
		let o = params.evaluate(&msrr::returns_of(&closes));
		let q = |x: f64| models::quantize(x, loaded.artifact.manifest.output_scale);
		Ok(MsrrPrediction {
			p_calm: q(o.filtered[0]),
			p_turbulent: q(o.filtered[1]),
			turbulence_next: q(o.turbulence_next),
			expected_return_pct: q(o.expected_return),
			semivariance_pct2: q(o.semivariance),
			allocation: q(o.allocation),
		})
	}
}

/// Closes of the latest `window` bars, after checking there are enough and they are valid.
fn latest_closes(bars: &[Bar], window: usize) -> Result<Vec<f64>, InferenceError> {
	if bars.len() < window {
		return Err(FeatureError::TooShort { got: bars.len(), needed: window, window }.into());
	}
	let bars = &bars[bars.len() - window..];
	features::validate(bars)?;
	Ok(bars.iter().map(|b| b.close).collect())
}

/// Quantised class probabilities and the class they pick. The class is decided on the
/// quantised values (ties to the lowest index) so that every node picks the same one.
fn classification(probs: &[f32], scale: i64, labels: &[&str]) -> Classification {
	let probabilities: Vec<i64> =
		probs.iter().map(|p| models::quantize(*p as f64, scale)).collect();
	let class = (0..probabilities.len())
		.max_by_key(|&i| (probabilities[i], std::cmp::Reverse(i)))
		.unwrap_or(0);
	Classification { label: labels[class].to_string(), class, probabilities }
}

fn wrong_kind(hash: &str, loaded: &Loaded, expected: &'static str) -> InferenceError {
	InferenceError::WrongKind {
		hash: hash.to_string(),
		actual: loaded.artifact.manifest.name.clone(),
		expected,
	}
}

fn info(a: &Artifact) -> ModelInfo {
	let m = &a.manifest;
	ModelInfo {
		hash: artifact::hex(&a.hash),
		name: m.name.clone(),
		version: m.version.clone(),
		task: m.task.clone(),
		feature_version: m.feature_version,
		input_shape: m.input_shape.clone(),
		output_scale: m.output_scale,
		size: a.size,
		metrics: m.metrics.clone(),
	}
}
