//! Inference: loaded artifacts, addressed by hash, and the checked entry points the service and
//! the node call. Every output is quantised to fixed point with the artifact's scale.
//!
//! Every architecture meets one contract, [`Model`]: built from an artifact with everything its
//! manifest says checked, then run on the input kind the registry declares for it
//! ([`InputSpec`], shared with the chain) to fixed-point outputs in the registry's order.
//! [`Engine::run`] is that uniform entry point (the off-chain worker's only one); the typed
//! methods (`predict_batch`, `classify_regime`, ...) are conveniences with richer answers.

use crate::{
	artifact::{self, Artifact, ArtifactError, Task},
	features::{self, Bar, FeatureError, FEATURE_COUNT},
	models::{self, gaf, msrr, price, sentiment},
	pipeline::lexicon,
	runtime,
};
use noderr_primitives::InputSpec;
use serde::Serialize;
use std::{any::Any, collections::BTreeMap, path::Path, sync::Arc};
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

/// What a model reads: bars (oldest first; a model may compute features from them) or text.
#[derive(Clone, Copy, Debug)]
pub enum Input<'a> {
	Bars(&'a [Bar]),
	Text(&'a str),
}

/// The contract of a model architecture.
pub trait Model: Send + Any {
	/// Builds the network `artifact` describes, checking everything its manifest says (task,
	/// labels or outputs, input shape, parameters, tensor names and shapes) so that a wrong
	/// artifact is refused here and never makes inference panic. Variables the network keeps in
	/// `vs` are filled from the artifact's tensors afterwards when [`Model::weights_in_store`].
	fn load(artifact: &Artifact, vs: &nn::VarStore) -> Result<Self, String>
	where
		Self: Sized;

	/// Whether the artifact's tensors are the variables in the store `load` was given.
	fn weights_in_store(&self) -> bool {
		true
	}

	/// The input the registry declares for this model.
	fn input(&self) -> InputSpec;

	/// One answer to one input: fixed point with `scale`, a regression's outputs in the
	/// registry's (the manifest's) order, `[class]` for a classification.
	fn run(&self, input: Input<'_>, scale: i64) -> Result<Vec<i64>, InferenceError>;

	fn as_any(&self) -> &dyn Any;
}

type Loader = fn(&Artifact, &nn::VarStore) -> Result<Box<dyn Model>, String>;

fn loader<M: Model>(a: &Artifact, vs: &nn::VarStore) -> Result<Box<dyn Model>, String> {
	Ok(Box::new(M::load(a, vs)?))
}

/// The architectures this node runs, by the name artifacts give them.
const ARCHITECTURES: [(&str, Loader); 4] = [
	(PriceModel::NAME, loader::<PriceModel>),
	(GafModel::NAME, loader::<GafModel>),
	(MsrrModel::NAME, loader::<MsrrModel>),
	(SentimentClassifier::NAME, loader::<SentimentClassifier>),
];

/// Checks that a classification manifest lists exactly `expected`.
fn check_labels(m: &artifact::Manifest, expected: &[&str]) -> Result<(), String> {
	let given = match &m.task {
		Task::Classification { labels } | Task::TextClassification { labels, .. } => labels,
		Task::Regression { .. } => return Err("not a classification task".into()),
	};
	if given.iter().map(String::as_str).ne(expected.iter().copied()) {
		return Err(format!("labels {given:?}, this node reports {expected:?}"));
	}
	Ok(())
}

/// Checks that a regression manifest lists exactly `expected`, the order answers follow.
fn check_outputs(m: &artifact::Manifest, expected: &[&str]) -> Result<(), String> {
	match &m.task {
		Task::Regression { outputs }
			if outputs.iter().map(String::as_str).eq(expected.iter().copied()) =>
		{
			Ok(())
		}
		Task::Regression { outputs } => {
			Err(format!("outputs {outputs:?}, this node computes {expected:?}"))
		}
		_ => Err(format!("not a regression with the outputs {expected:?}")),
	}
}

/// Checks that a manifest's input is the `window` latest closes this node reads.
fn check_closes(m: &artifact::Manifest, window: usize) -> Result<(), String> {
	if m.input_shape != [window] {
		return Err(format!("input shape {:?}, this node reads [{window}] closes", m.input_shape));
	}
	Ok(())
}

fn bars_of<'a>(input: Input<'a>, name: &str) -> Result<&'a [Bar], InferenceError> {
	match input {
		Input::Bars(bars) => Ok(bars),
		Input::Text(_) => Err(InferenceError::Input(format!("{name} reads bars, not text"))),
	}
}

/// The price Transformer over feature rows, with the training period's normalisation and, for
/// an anchored model, the window's scale ([`price::Anchor`]).
pub struct PriceModel {
	net: price::PriceNet,
	window: usize,
	mean: Vec<f64>,
	std: Vec<f64>,
	scaling: Option<price::Scaling>,
}

impl PriceModel {
	pub const NAME: &'static str = "price-transformer";
	pub const OUTPUTS: [&'static str; 3] = ["return", "volatility", "confidence"];

	fn window(&self) -> usize {
		self.window
	}

	/// Predictions for `batch` inputs of `window` feature rows each, row-major.
	fn predict(
		&self,
		batch: usize,
		rows: &[f64],
		scale: i64,
	) -> Result<Vec<PricePrediction>, InferenceError> {
		let size = self.window() * FEATURE_COUNT;
		let mut out = Vec::with_capacity(batch);
		for window in rows.chunks_exact(size) {
			let mut window = window.to_vec();
			let anchor = self.scaling.as_ref().map(|s| {
				let level = s.scale(&window);
				s.apply(&mut window, level);
				level
			});
			let xs: Vec<f32> = window
				.iter()
				.enumerate()
				.map(|(i, v)| {
					let j = i % FEATURE_COUNT;
					((v - self.mean[j]) / self.std[j]).clamp(-10.0, 10.0) as f32
				})
				.collect();
			let o = self.net.forward(&xs);
			finite_outputs(Self::NAME, &o)?;
			let (mu, sigma, p_up) = match anchor {
				Some(level) => price::anchored_answer(&o, level),
				// A model from before the anchor works in per cent and has a direction head.
				None => (
					o[0] as f64 / 100.0,
					libm::exp(o[1] as f64) / 100.0,
					1.0 / (1.0 + libm::exp(-(o[2] as f64))),
				),
			};
			out.push(PricePrediction {
				r#return: models::quantize(mu, scale),
				volatility: models::quantize(sigma, scale),
				confidence: models::quantize(p_up.max(1.0 - p_up), scale),
				direction: if p_up >= 0.5 { 1 } else { -1 },
			});
		}
		debug_assert_eq!(out.len(), batch);
		Ok(out)
	}

	fn predict_bars(
		&self,
		series: &[Vec<Bar>],
		scale: i64,
	) -> Result<Vec<PricePrediction>, InferenceError> {
		if series.is_empty() {
			return Err(InferenceError::Input("no bar series given".into()));
		}
		let window = self.window();
		let mut rows = Vec::with_capacity(series.len() * window * FEATURE_COUNT);
		for bars in series {
			rows.extend(features::window_features(bars, window)?);
		}
		self.predict(series.len(), &rows, scale)
	}
}

impl Model for PriceModel {
	fn load(a: &Artifact, _vs: &nn::VarStore) -> Result<Self, String> {
		let m = &a.manifest;
		if m.feature_version != features::FEATURE_VERSION {
			return Err(format!(
				"trained on feature pipeline v{}, this node computes v{}",
				m.feature_version,
				features::FEATURE_VERSION
			));
		}
		check_outputs(m, &Self::OUTPUTS)?;
		let config: price::PriceConfig =
			serde_json::from_value(m.params.get("config").cloned().ok_or("no config")?)
				.map_err(|e| e.to_string())?;
		config.validate()?;
		let input = [config.window as usize, FEATURE_COUNT];
		if m.input_shape != input {
			return Err(format!(
				"input shape {:?}, the configuration gives {input:?}",
				m.input_shape
			));
		}
		let stat = |k: &str| {
			m.stats
				.get(k)
				.filter(|v| v.len() == FEATURE_COUNT && v.iter().all(|x| x.is_finite()))
				.cloned()
				.ok_or_else(|| format!("normalisation {k} missing or not finite"))
		};
		let (mean, std) = (stat("mean")?, stat("std")?);
		if std.iter().any(|s| *s <= 0.0) {
			return Err("normalisation std holds a value that is not positive".into());
		}
		let scaling = match m.params.get("anchor") {
			Some(anchor) => {
				let anchor: price::Anchor =
					serde_json::from_value(anchor.clone()).map_err(|e| format!("anchor: {e}"))?;
				Some(price::Scaling::new(&anchor)?)
			}
			None => None,
		};
		let expected_outputs = if scaling.is_some() { 2 } else { 3 };
		if config.outputs != expected_outputs {
			return Err(format!(
				"config outputs = {}, a model {} an anchor has {expected_outputs}",
				config.outputs,
				if scaling.is_some() { "with" } else { "without" }
			));
		}
		let net = price::PriceNet::from_weights(&a.weights, config)?;
		Ok(Self { net, window: config.window as usize, mean, std, scaling })
	}

	fn weights_in_store(&self) -> bool {
		false
	}

	fn input(&self) -> InputSpec {
		InputSpec::Features {
			pipeline_version: features::FEATURE_VERSION,
			window: self.window() as u32,
			feature_count: FEATURE_COUNT as u32,
		}
	}

	fn run(&self, input: Input<'_>, scale: i64) -> Result<Vec<i64>, InferenceError> {
		let bars = bars_of(input, Self::NAME)?;
		let p = self.predict_bars(&[bars.to_vec()], scale)?.remove(0);
		Ok(vec![p.r#return, p.volatility, p.confidence])
	}

	fn as_any(&self) -> &dyn Any {
		self
	}
}

/// The GAF regime classifier over the latest closes.
pub struct GafModel {
	net: gaf::GafNet,
	head: gaf::Head,
}

impl GafModel {
	pub const NAME: &'static str = "gaf-regime";

	fn classify(&self, bars: &[Bar], scale: i64) -> Result<Classification, InferenceError> {
		let closes = latest_closes(bars, gaf::WINDOW)?;
		let probs = self.net.probabilities(&closes);
		finite_outputs(Self::NAME, &probs)?;
		Ok(classification(&probs, scale, self.head.labels()))
	}
}

impl Model for GafModel {
	fn load(a: &Artifact, _vs: &nn::VarStore) -> Result<Self, String> {
		let head = match &a.manifest.task {
			Task::Classification { labels } => gaf::Head::of_labels(labels)?,
			_ => return Err("not a classification task".into()),
		};
		check_closes(&a.manifest, gaf::WINDOW)?;
		Ok(Self { net: gaf::GafNet::from_weights(&a.weights, head)?, head })
	}

	fn weights_in_store(&self) -> bool {
		false
	}

	fn input(&self) -> InputSpec {
		InputSpec::Bars { window: gaf::WINDOW as u32 }
	}

	fn run(&self, input: Input<'_>, scale: i64) -> Result<Vec<i64>, InferenceError> {
		Ok(vec![self.classify(bars_of(input, Self::NAME)?, scale)?.class as i64])
	}

	fn as_any(&self) -> &dyn Any {
		self
	}
}

/// The MSRR regime filter and allocation (no tensors: its parameters are in the manifest).
pub struct MsrrModel {
	params: msrr::MsrrParams,
}

impl MsrrModel {
	pub const NAME: &'static str = "msrr";
	pub const OUTPUTS: [&'static str; 6] = [
		"p_calm",
		"p_turbulent",
		"turbulence_next",
		"expected_return_pct",
		"semivariance_pct2",
		"allocation",
	];

	fn evaluate(&self, bars: &[Bar], scale: i64) -> Result<MsrrPrediction, InferenceError> {
		let closes = latest_closes(bars, msrr::WINDOW)?;
		let o = self.params.evaluate(&msrr::returns_of(&closes));
		let all = [o.turbulence_next, o.expected_return, o.semivariance, o.allocation];
		if let Some(v) = o.filtered.iter().chain(&all).find(|v| !v.is_finite()) {
			return Err(InferenceError::Model(
				Self::NAME.into(),
				format!("output {v} is not finite"),
			));
		}
		let q = |x: f64| models::quantize(x, scale);
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

impl Model for MsrrModel {
	fn load(a: &Artifact, _vs: &nn::VarStore) -> Result<Self, String> {
		let m = &a.manifest;
		check_outputs(m, &Self::OUTPUTS)?;
		if !a.weights.is_empty() {
			return Err("the MSRR model has no tensors".into());
		}
		check_closes(m, msrr::WINDOW)?;
		let params = m
			.stats
			.get("params")
			.and_then(|v| msrr::MsrrParams::from_vec(v))
			.ok_or("parameters missing or out of range")?;
		Ok(Self { params })
	}

	fn weights_in_store(&self) -> bool {
		false
	}

	fn input(&self) -> InputSpec {
		InputSpec::Bars { window: msrr::WINDOW as u32 }
	}

	fn run(&self, input: Input<'_>, scale: i64) -> Result<Vec<i64>, InferenceError> {
		let p = self.evaluate(bars_of(input, Self::NAME)?, scale)?;
		Ok(vec![
			p.p_calm,
			p.p_turbulent,
			p.turbulence_next,
			p.expected_return_pct,
			p.semivariance_pct2,
			p.allocation,
		])
	}

	fn as_any(&self) -> &dyn Any {
		self
	}
}

/// The sentiment classifier: the MiniLM encoder and a linear head, with its own tokenizer and,
/// in artifacts that carry one, a lexicon whose features (under the rules the manifest names)
/// the head reads beside the embedding.
pub struct SentimentClassifier {
	model: sentiment::SentimentModel,
	tokenizer: sentiment::Tokenizer,
	lexicon: Option<lexicon::Lexicon>,
	max_bytes: usize,
}

impl SentimentClassifier {
	pub const NAME: &'static str = "sentiment";

	fn classify(&self, text: &str, scale: i64) -> Result<Classification, InferenceError> {
		if text.trim().is_empty() {
			return Err(InferenceError::Input("text is empty".into()));
		}
		if text.len() > self.max_bytes {
			return Err(InferenceError::Input(format!(
				"text is {} bytes, at most {} accepted",
				text.len(),
				self.max_bytes
			)));
		}
		let ids = self.tokenizer.encode(text, sentiment::MAX_TOKENS);
		let (x, mask) = sentiment::SentimentModel::batch(&[ids]);
		let probs = {
			let _guard = runtime::InferenceMode::enter();
			let fail = |e: String| InferenceError::Model(Self::NAME.into(), e);
			let mut inputs = self.model.embed(&x, &mask).map_err(fail)?;
			if let Some(lexicon) = &self.lexicon {
				let extra = Tensor::from_slice(&lexicon.features(text)).view([1, -1]);
				inputs = Tensor::cat(&[inputs, extra], 1);
			}
			let logits = self.model.classify(&inputs).map_err(fail)?;
			models::values(&logits.softmax(1, tch::Kind::Float))
		};
		finite_outputs(Self::NAME, &probs)?;
		Ok(classification(&probs, scale, &sentiment::LABELS))
	}
}

impl Model for SentimentClassifier {
	fn load(a: &Artifact, _vs: &nn::VarStore) -> Result<Self, String> {
		let m = &a.manifest;
		check_labels(m, &sentiment::LABELS)?;
		let vocab: Vec<String> =
			serde_json::from_value(m.params.get("vocab").cloned().ok_or("no vocabulary")?)
				.map_err(|e| e.to_string())?;
		let max_bytes = match &m.task {
			Task::TextClassification { max_bytes, .. } => *max_bytes,
			_ => return Err("not a text classification task".into()),
		};
		if !(1..=sentiment::MAX_BYTES).contains(&max_bytes) {
			return Err(format!("max_bytes {max_bytes} is outside 1..={}", sentiment::MAX_BYTES));
		}
		let shapes: BTreeMap<&str, &[usize]> =
			a.weights.iter().map(|(name, shape, _)| (name.as_str(), shape.as_slice())).collect();
		let rules = lexicon::Rules::from_param(m.params.get("lexicon_rules"))?;
		let emoji: Vec<(String, String)> = match m.params.get("emoji") {
			None => Vec::new(),
			Some(v) => serde_json::from_value(v.clone()).map_err(|e| format!("emoji: {e}"))?,
		};
		let lexicon = match m.params.get("lexicon") {
			None if m.params.contains_key("lexicon_rules") || !emoji.is_empty() => {
				return Err("lexicon rules or emoji without a lexicon".into())
			}
			None => None,
			Some(v) => {
				let entries: Vec<(String, f64)> =
					serde_json::from_value(v.clone()).map_err(|e| format!("lexicon: {e}"))?;
				Some(lexicon::Lexicon::with_rules(&entries, &emoji, rules)?)
			}
		};
		let extra = lexicon.as_ref().map_or(0, |l| l.rules().features());
		sentiment::SentimentModel::check(&shapes, vocab.len(), extra)?;
		let tensors = a
			.weights
			.iter()
			.map(|(name, shape, values)| {
				let dims: Vec<i64> = shape.iter().map(|d| *d as i64).collect();
				(name.clone(), Tensor::from_slice(values).view(dims.as_slice()))
			})
			.collect();
		let precision = sentiment::Precision::from_param(m.params.get("precision"))?;
		Ok(Self {
			model: sentiment::SentimentModel::new(tensors).with_precision(precision)?,
			tokenizer: sentiment::Tokenizer::new(&vocab)?,
			lexicon,
			max_bytes,
		})
	}

	fn weights_in_store(&self) -> bool {
		false
	}

	fn input(&self) -> InputSpec {
		InputSpec::Text { max_bytes: self.max_bytes as u32 }
	}

	fn run(&self, input: Input<'_>, scale: i64) -> Result<Vec<i64>, InferenceError> {
		match input {
			Input::Text(text) => Ok(vec![self.classify(text, scale)?.class as i64]),
			Input::Bars(_) => {
				Err(InferenceError::Input(format!("{} reads text, not bars", Self::NAME)))
			}
		}
	}

	fn as_any(&self) -> &dyn Any {
		self
	}
}

struct Loaded {
	artifact: Artifact,
	model: Box<dyn Model>,
	// Owns the weights the modules point into.
	_vs: nn::VarStore,
}

/// A loaded model, shareable by every engine of a pool: one copy of its weights however many
/// threads infer with it.
pub struct SharedModel(Loaded);

// SAFETY: a loaded model is immutable after `Engine::insert`: its variable store is frozen
// (no gradients), no model keeps interior mutability, and inference only reads the weight
// tensors (every operation allocates new output tensors; none is in place). libtorch allows
// concurrent reads of a tensor from several threads (its reference counts are atomic), which is
// all that sharing `&SharedModel` across threads permits.
unsafe impl Sync for SharedModel {}

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
	models: BTreeMap<[u8; 32], Arc<SharedModel>>,
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

	/// Unloads model `hash` (its weights are freed once no engine shares them).
	pub fn remove(&mut self, hash: &[u8; 32]) {
		self.models.remove(hash);
	}

	/// Model `hash`, to be served by another engine without a second copy of its weights.
	pub fn shared(&self, hash: &[u8; 32]) -> Option<Arc<SharedModel>> {
		self.models.get(hash).cloned()
	}

	/// Serves a model another engine loaded (see [`Engine::shared`]).
	pub fn insert_shared(&mut self, model: Arc<SharedModel>) -> ModelInfo {
		let info = info(&model.0.artifact);
		self.models.insert(model.0.artifact.hash, model);
		info
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
	/// artifact says is checked first (see [`Model::load`]), so that a registered artifact with
	/// the right hash but wrong contents is refused with an error and never makes inference
	/// panic.
	pub fn insert(&mut self, mut artifact: Artifact) -> Result<ModelInfo, InferenceError> {
		let m = &artifact.manifest;
		let fail = |e: String| InferenceError::Model(m.name.clone(), e);
		if !(1..=MAX_OUTPUT_SCALE).contains(&m.output_scale) {
			return Err(fail(format!(
				"output scale {} is outside 1..={MAX_OUTPUT_SCALE}",
				m.output_scale
			)));
		}
		let load = ARCHITECTURES
			.iter()
			.find(|(name, _)| *name == m.name)
			.map(|(_, load)| *load)
			.ok_or_else(|| fail(format!("unknown architecture {:?}", m.name)))?;
		let mut vs = nn::VarStore::new(tch::Device::Cpu);
		let model = load(&artifact, &vs).map_err(fail)?;
		if model.weights_in_store() {
			models::load_weights(&mut vs, &artifact.weights).map_err(fail)?;
		}
		let info = info(&artifact);
		// The tensors hold their own copies now.
		artifact.weights = Vec::new();
		let loaded = Loaded { artifact, model, _vs: vs };
		self.models.insert(loaded.artifact.hash, Arc::new(SharedModel(loaded)));
		runtime::release_freed_memory();
		Ok(info)
	}

	/// What model `hash` is, if loaded.
	pub fn info(&self, hash: &[u8; 32]) -> Option<ModelInfo> {
		self.models.get(hash).map(|l| info(&l.0.artifact))
	}

	pub fn list(&self) -> Vec<ModelInfo> {
		self.models.values().map(|l| info(&l.0.artifact)).collect()
	}

	/// A loaded model's manifest.
	pub fn manifest(&self, hash: &str) -> Option<&crate::artifact::Manifest> {
		Some(&self.get(hash).ok()?.artifact.manifest)
	}

	/// The input the registry declares for model `hash`.
	pub fn input_spec(&self, hash: &str) -> Result<InputSpec, InferenceError> {
		Ok(self.get(hash)?.model.input())
	}

	/// The uniform entry point: model `hash` on one input of its kind, fixed point, outputs in
	/// the registry's order (`[class]` for a classification): exactly the answer a task takes.
	pub fn run(&self, hash: &str, input: Input<'_>) -> Result<Vec<i64>, InferenceError> {
		let loaded = self.get(hash)?;
		loaded.model.run(input, loaded.artifact.manifest.output_scale)
	}

	fn get(&self, hash: &str) -> Result<&Loaded, InferenceError> {
		let key = parse_hash(hash)?;
		self.models
			.get(&key)
			.map(|m| &m.0)
			.ok_or_else(|| InferenceError::UnknownModel(hash.to_string()))
	}

	/// Model `hash` as architecture `M`, with its output scale.
	fn typed<M: Model>(
		&self,
		hash: &str,
		expected: &'static str,
	) -> Result<(&M, i64), InferenceError> {
		let loaded = self.get(hash)?;
		match loaded.model.as_any().downcast_ref::<M>() {
			Some(model) => Ok((model, loaded.artifact.manifest.output_scale)),
			None => Err(InferenceError::WrongKind {
				hash: hash.to_string(),
				actual: loaded.artifact.manifest.name.clone(),
				expected,
			}),
		}
	}

	/// Price predictions for several bar series with one model, batched.
	pub fn predict_batch(
		&self,
		hash: &str,
		series: &[Vec<Bar>],
	) -> Result<Vec<PricePrediction>, InferenceError> {
		let (model, scale) = self.typed::<PriceModel>(hash, PriceModel::NAME)?;
		model.predict_bars(series, scale)
	}

	/// A price prediction from feature rows computed elsewhere: `window` rows of
	/// `FEATURE_COUNT` finite values.
	pub fn predict_rows(
		&self,
		hash: &str,
		rows: &[Vec<f64>],
	) -> Result<PricePrediction, InferenceError> {
		let (model, scale) = self.typed::<PriceModel>(hash, PriceModel::NAME)?;
		let window = model.window();
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
		Ok(model.predict(1, &flat, scale)?.remove(0))
	}

	/// The regime of the latest `gaf::WINDOW` closes of `bars`.
	pub fn classify_regime(
		&self,
		hash: &str,
		bars: &[Bar],
	) -> Result<Classification, InferenceError> {
		let (model, scale) = self.typed::<GafModel>(hash, GafModel::NAME)?;
		model.classify(bars, scale)
	}

	/// Sentiment of a text: negative, neutral or positive.
	pub fn sentiment(&self, hash: &str, text: &str) -> Result<Classification, InferenceError> {
		let (model, scale) = self.typed::<SentimentClassifier>(hash, SentimentClassifier::NAME)?;
		model.classify(text, scale)
	}

	/// The MSRR regime filter and allocation over the latest `msrr::WINDOW` bars.
	pub fn msrr(&self, hash: &str, bars: &[Bar]) -> Result<MsrrPrediction, InferenceError> {
		let (model, scale) = self.typed::<MsrrModel>(hash, MsrrModel::NAME)?;
		model.evaluate(bars, scale)
	}
}

/// Closes of the latest `window` bars, after checking there are enough and they are valid.
fn latest_closes(bars: &[Bar], window: usize) -> Result<Vec<f64>, InferenceError> {
	if bars.len() < window {
		// These models read closes only: no indicator warm-up, so none is claimed.
		return Err(FeatureError::TooFewBars { got: bars.len(), needed: window }.into());
	}
	let bars = &bars[bars.len() - window..];
	features::validate(bars)?;
	Ok(bars.iter().map(|b| b.close).collect())
}

/// A model's raw outputs must all be finite: a NaN or an infinity is an error, never rounded
/// to an answer of zeros.
fn finite_outputs(model: &str, out: &[f32]) -> Result<(), InferenceError> {
	match out.iter().position(|v| !v.is_finite()) {
		None => Ok(()),
		Some(i) => Err(InferenceError::Model(
			model.into(),
			format!("output {i} is {}: no answer is given for this input", out[i]),
		)),
	}
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
