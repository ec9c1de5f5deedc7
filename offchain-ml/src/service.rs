//! The ML service over JSON-RPC (jsonrpsee): runnable alone (`noderr-ml serve`) and embeddable
//! in the node.
//!
//! Methods (parameters by name or position):
//! - `ml_health` -> `{status, models, workers, feature_version}`
//! - `ml_listModels` -> models loaded, with hash, task, shapes and held-out metrics
//! - `ml_predict(model, bars)` -> fixed-point return, volatility, confidence, direction; or
//!   `ml_predict(model, features = rows)` with the model's window of 94-feature rows
//! - `ml_predictBatch(model, series)` -> one prediction per bar series (at most 64)
//! - `ml_classifyRegime(model, bars)` -> regime label and fixed-point probabilities
//! - `ml_msrr(model, bars)` -> regime probabilities, robust expected return, semivariance and
//!   allocation from the Markov-switching filter over the last 168 bars
//! - `ml_sentiment(model, text)` -> negative / neutral / positive with fixed-point
//!   probabilities; text of 1 to 1024 bytes
//! - `ml_features(bars, window?)` -> the feature rows a model would see (default 60 rows)
//!
//! Inference runs on a fixed pool of engines (one libtorch intra-op thread each), so at most
//! `workers` requests compute at once and the rest wait; bad input is a JSON-RPC error with
//! code -32602 and a message saying what is wrong, and never stops the service.

use crate::{
	engine::{Engine, InferenceError, ModelInfo},
	features::{self, Bar},
};
use jsonrpsee::{
	server::{Server, ServerHandle},
	types::{ErrorObject, ErrorObjectOwned, Params},
	RpcModule,
};
use prometheus_endpoint::{
	prometheus::{Error as PrometheusError, IntCounterVec},
	HistogramOpts, HistogramVec, Opts, Registry,
};
use serde::Deserialize;
use std::{
	net::SocketAddr,
	path::PathBuf,
	sync::{Condvar, Mutex},
	time::Instant,
};

/// Largest number of bar series in one batch request.
pub const MAX_BATCH: usize = 64;
/// Largest number of bars in one series.
pub const MAX_BARS: usize = 4096;
/// Largest request body.
pub const MAX_REQUEST_BYTES: u32 = 8 << 20;

/// Error codes beyond JSON-RPC's.
pub const UNKNOWN_MODEL: i32 = 4004;
pub const MODEL_FAILURE: i32 = 5000;

/// Service settings.
#[derive(Clone, Debug)]
pub struct Config {
	pub addr: SocketAddr,
	/// Artifacts to serve from the start (the standalone service); the node leaves this empty
	/// and loads what its model store verified.
	pub models: Option<PathBuf>,
	pub workers: usize,
	pub max_connections: u32,
	/// Test-only: answer wrongly on purpose ([`Faulty`]). `None` on every real node.
	pub faulty: Option<Faulty>,
}

/// Test-only faulty-operator mode: the service answers wrongly on purpose, so that tests can run
/// one dishonest operator among honest ones and watch the guardians catch it. A node in this
/// mode is slashed on a real network. Off unless asked for (`--test-faulty` of `noderr-ml serve`,
/// `--ml-test-faulty` of the node).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Faulty {
	/// Adds this many fixed-point units to every number it reports, and reports the next class
	/// instead of the computed one.
	Bias(i64),
	/// Reports a class drawn at random (numbers unchanged).
	RandomClass,
}

impl Faulty {
	/// Parses `bias:N` (fixed-point units) or `random-class`.
	pub fn parse(s: &str) -> Result<Self, String> {
		if s == "random-class" {
			return Ok(Faulty::RandomClass);
		}
		match s.strip_prefix("bias:").map(str::parse::<i64>) {
			Some(Ok(n)) if n != 0 => Ok(Faulty::Bias(n)),
			_ => Err(format!(
				"unknown faulty mode {s:?}: use bias:N (N fixed-point units, not 0) or random-class"
			)),
		}
	}

	/// Falsifies a result in place: numbers of a prediction, the class of a classification.
	pub fn falsify(self, value: &mut serde_json::Value) {
		use serde_json::Value;
		match value {
			Value::Array(items) => items.iter_mut().for_each(|v| self.falsify(v)),
			Value::Object(map) => {
				let classes =
					map.get("probabilities").and_then(|p| p.as_array()).map(|a| a.len() as u64);
				for (key, v) in map.iter_mut() {
					match (key.as_str(), self) {
						("class", _) => {
							let (Some(class), Some(n)) = (v.as_u64(), classes) else { continue };
							let n = n.max(1);
							let wrong = match self {
								Faulty::Bias(_) => (class + 1) % n,
								Faulty::RandomClass => random_u64() % n,
							};
							*v = wrong.into();
						}
						("direction" | "probabilities" | "label", _) => {}
						(_, Faulty::Bias(bias)) => {
							if let Some(x) = v.as_i64() {
								*v = x.saturating_add(bias).into();
							}
						}
						_ => {}
					}
				}
			}
			_ => {}
		}
	}
}

/// A random number for [`Faulty::RandomClass`] (std's per-process hash keys, a counter).
fn random_u64() -> u64 {
	use std::hash::{BuildHasher, Hasher};
	static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
	let mut h = std::collections::hash_map::RandomState::new().build_hasher();
	h.write_u64(COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
	h.finish()
}

struct Metrics {
	latency: HistogramVec,
	errors: IntCounterVec,
}

impl Metrics {
	fn register(registry: &Registry) -> Result<Self, PrometheusError> {
		let latency = HistogramVec::new(
			HistogramOpts::new("noderr_ml_inference_seconds", "Inference latency per model")
				.buckets(vec![
					1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2, 2.5e-2, 5e-2, 0.1, 0.5,
				]),
			&["model", "method"],
		)?;
		let errors = IntCounterVec::new(
			Opts::new("noderr_ml_errors_total", "Requests answered with an error"),
			&["method", "kind"],
		)?;
		registry.register(Box::new(latency.clone()))?;
		registry.register(Box::new(errors.clone()))?;
		Ok(Self { latency, errors })
	}
}

/// An engine and the generation of the model set it has loaded.
struct Worker {
	engine: Engine,
	generation: u64,
}

/// The artifacts every engine should have loaded, by hash; changed by [`Models`].
#[derive(Default)]
struct Wanted {
	generation: u64,
	files: std::collections::BTreeMap<[u8; 32], PathBuf>,
}

/// Engines waiting for work: bounded concurrency without sharing libtorch modules across threads.
/// An engine catches up with the wanted model set when it is next taken, so a model change
/// never waits for requests in flight.
struct Pool {
	free: Mutex<Vec<Worker>>,
	ready: Condvar,
	size: usize,
	wanted: Mutex<Wanted>,
}

impl Pool {
	fn take(&self) -> Worker {
		let mut free = self.free.lock().expect("pool lock");
		loop {
			if let Some(w) = free.pop() {
				return w;
			}
			free = self.ready.wait(free).expect("pool lock");
		}
	}

	fn put(&self, worker: Worker) {
		self.free.lock().expect("pool lock").push(worker);
		self.ready.notify_one();
	}

	/// Brings a worker's engine to the wanted model set.
	fn sync(&self, worker: &mut Worker) {
		let wanted = self.wanted.lock().expect("wanted lock");
		if worker.generation == wanted.generation {
			return;
		}
		for hash in worker.engine.hashes() {
			if !wanted.files.contains_key(&hash) {
				worker.engine.remove(&hash);
			}
		}
		for (hash, path) in &wanted.files {
			if !worker.engine.has(hash) {
				if let Err(e) = worker.engine.load_file(path, Some(*hash)) {
					// Verified when it was added; a failure now is a disk problem.
					log::error!("ML service: cannot reload {}: {e}", path.display());
				}
			}
		}
		worker.generation = wanted.generation;
	}

	fn with<R>(&self, f: impl FnOnce(&Engine) -> R) -> R {
		let mut worker = self.take();
		self.sync(&mut worker);
		let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(&worker.engine)));
		self.put(worker);
		match result {
			Ok(r) => r,
			Err(panic) => std::panic::resume_unwind(panic),
		}
	}
}

/// Changes the models a running service serves (the node's model store drives it).
#[derive(Clone)]
pub struct Models {
	ctx: std::sync::Arc<Context>,
}

impl Models {
	/// Loads the artifact at `path`, refusing it unless it builds a model and, if `expected` is
	/// given, its bytes hash to it. On success every worker serves it; on failure nothing
	/// changes. Blocking.
	pub fn load(
		&self,
		path: &std::path::Path,
		expected: Option<[u8; 32]>,
	) -> Result<ModelInfo, String> {
		let pool = &self.ctx.pool;
		let mut worker = pool.take();
		pool.sync(&mut worker);
		let result = match expected.and_then(|h| worker.engine.info(&h)) {
			Some(info) => Ok(info),
			None => worker.engine.load_file(path, expected).map_err(|e| e.to_string()),
		};
		if let Ok(info) = &result {
			let hash = crate::artifact::parse_hex(&info.hash).expect("models are named by hash");
			let mut wanted = pool.wanted.lock().expect("wanted lock");
			wanted.files.insert(hash, path.to_path_buf());
			wanted.generation += 1;
			worker.generation = wanted.generation;
		}
		pool.put(worker);
		result
	}

	/// Stops serving `hash` (the registry retired it).
	pub fn unload(&self, hash: &[u8; 32]) {
		let mut wanted = self.ctx.pool.wanted.lock().expect("wanted lock");
		if wanted.files.remove(hash).is_some() {
			wanted.generation += 1;
		}
	}

	/// Hashes being served.
	pub fn loaded(&self) -> Vec<[u8; 32]> {
		self.ctx.pool.wanted.lock().expect("wanted lock").files.keys().copied().collect()
	}
}

struct Context {
	pool: Pool,
	metrics: Metrics,
}

fn invalid(message: impl Into<String>) -> ErrorObjectOwned {
	ErrorObject::owned(jsonrpsee::types::error::INVALID_PARAMS_CODE, message.into(), None::<()>)
}

fn rpc_error(e: InferenceError) -> ErrorObjectOwned {
	match e {
		InferenceError::UnknownModel(_) => {
			ErrorObject::owned(UNKNOWN_MODEL, e.to_string(), None::<()>)
		}
		InferenceError::Model(..) | InferenceError::Artifact { .. } => {
			ErrorObject::owned(MODEL_FAILURE, e.to_string(), None::<()>)
		}
		_ => invalid(e.to_string()),
	}
}

fn error_kind(e: &ErrorObjectOwned) -> &'static str {
	match e.code() {
		UNKNOWN_MODEL => "unknown_model",
		MODEL_FAILURE => "model",
		_ => "invalid_input",
	}
}

#[derive(Deserialize)]
struct PredictParams {
	model: String,
	#[serde(default)]
	bars: Vec<Bar>,
	/// Feature rows computed by the caller, instead of bars.
	features: Option<Vec<Vec<f64>>>,
}

#[derive(Deserialize)]
struct TextParams {
	model: String,
	text: String,
}

#[derive(Deserialize)]
struct BatchParams {
	model: String,
	series: Vec<Vec<Bar>>,
}

#[derive(Deserialize)]
struct FeatureParams {
	bars: Vec<Bar>,
	window: Option<usize>,
}

/// Parses named (object) or positional (array) parameters into `T`, with a readable error.
fn parse<T: serde::de::DeserializeOwned>(
	params: &Params,
	names: &[&str],
) -> Result<T, ErrorObjectOwned> {
	let value: serde_json::Value =
		params.parse().map_err(|e| invalid(format!("parameters are not JSON: {}", e.message())))?;
	let object = match value {
		serde_json::Value::Array(items) => {
			if items.len() > names.len() {
				return Err(invalid(format!(
					"expected at most {} parameters: {}",
					names.len(),
					names.join(", ")
				)));
			}
			serde_json::Value::Object(names.iter().map(|n| n.to_string()).zip(items).collect())
		}
		v @ serde_json::Value::Object(_) => v,
		_ => return Err(invalid(format!("expected parameters {}", names.join(", ")))),
	};
	serde_json::from_value(object).map_err(|e| invalid(format!("bad parameters: {e}")))
}

fn check_len(bars: &[Bar]) -> Result<(), ErrorObjectOwned> {
	if bars.len() > MAX_BARS {
		return Err(invalid(format!("{} bars given, at most {MAX_BARS} accepted", bars.len())));
	}
	Ok(())
}

/// Builds the RPC module over a pool of `workers` engines, serving the artifacts in
/// `config.models` if given; [`Models`] changes the set later.
pub fn module(config: &Config, registry: &Registry) -> Result<(RpcModule<()>, Models), String> {
	let workers = config.workers.max(1);
	let engines = (0..workers).map(|_| Worker { engine: Engine::new(), generation: 0 }).collect();
	let metrics = Metrics::register(registry).map_err(|e| e.to_string())?;
	let ctx = std::sync::Arc::new(Context {
		pool: Pool {
			free: Mutex::new(engines),
			ready: Condvar::new(),
			size: workers,
			wanted: Mutex::new(Wanted::default()),
		},
		metrics,
	});
	let models = Models { ctx: ctx.clone() };
	let faulty = config.faulty;
	if let Some(mode) = faulty {
		log::warn!(
			target: "noderr-ml",
			"TEST-ONLY faulty mode {mode:?}: this service answers wrongly on purpose; an operator \
			 running it on a real network is slashed"
		);
		eprintln!("WARNING: test-only faulty mode {mode:?}: answers are wrong on purpose");
	}
	if let Some(dir) = &config.models {
		for path in crate::engine::artifact_files(dir).map_err(|e| e.to_string())? {
			match models.load(&path, None) {
				Ok(m) => println!("loaded {} {} {}", m.name, m.version, m.hash),
				Err(e) => eprintln!("refused {e}"),
			}
		}
	}
	let mut module = RpcModule::new(());

	macro_rules! method {
		($name:literal, |$params:ident, $ctx:ident| $body:expr) => {{
			let ctx = ctx.clone();
			module
				.register_blocking_method($name, move |$params, _, _| {
					let $ctx = &ctx;
					let result: Result<serde_json::Value, ErrorObjectOwned> = $body;
					if let Err(e) = &result {
						$ctx.metrics.errors.with_label_values(&[$name, error_kind(e)]).inc();
					}
					result
				})
				.map_err(|e| e.to_string())?;
		}};
	}
	let timed =
		move |ctx: &Context,
		      method: &str,
		      model: &str,
		      f: &dyn Fn(&Engine) -> Result<serde_json::Value, InferenceError>| {
			ctx.pool.with(|engine| {
				let start = Instant::now();
				let mut out = f(engine).map_err(rpc_error);
				if let (Ok(value), Some(mode)) = (&mut out, faulty) {
					mode.falsify(value);
				}
				if out.is_ok() {
					// The model answered, so it is loaded: its canonical hash is one of a bounded
					// set, whatever spelling (case, `0x`) the caller used.
					let label = crate::artifact::parse_hex(model)
						.map(|h| crate::artifact::hex(&h))
						.unwrap_or_else(|| "invalid".into());
					ctx.metrics
						.latency
						.with_label_values(&[&label, method])
						.observe(start.elapsed().as_secs_f64());
				}
				out
			})
		};

	method!("ml_health", |_params, ctx| {
		let models = ctx.pool.with(|e| e.list().len());
		Ok(serde_json::json!({
			"status": if models > 0 { "ok" } else { "no models" },
			"models": models,
			"workers": ctx.pool.size,
			"feature_version": features::FEATURE_VERSION,
		}))
	});
	method!("ml_listModels", |_params, ctx| {
		Ok(serde_json::to_value(ctx.pool.with(|e| e.list())).expect("serialisable"))
	});
	method!("ml_predict", |params, ctx| {
		let p: PredictParams = parse(&params, &["model", "bars", "features"])?;
		check_len(&p.bars)?;
		timed(ctx, "predict", &p.model.clone(), &|e| {
			let out = match &p.features {
				Some(rows) if p.bars.is_empty() => e.predict_rows(&p.model, rows)?,
				Some(_) => {
					return Err(InferenceError::Input("give bars or features, not both".into()))
				}
				None => e.predict_batch(&p.model, std::slice::from_ref(&p.bars))?.remove(0),
			};
			Ok(serde_json::to_value(&out).expect("serialisable"))
		})
	});
	method!("ml_predictBatch", |params, ctx| {
		let p: BatchParams = parse(&params, &["model", "series"])?;
		if p.series.len() > MAX_BATCH {
			return Err(invalid(format!(
				"{} series given, at most {MAX_BATCH} per batch",
				p.series.len()
			)));
		}
		for s in &p.series {
			check_len(s)?;
		}
		timed(ctx, "predictBatch", &p.model.clone(), &|e| {
			Ok(serde_json::to_value(e.predict_batch(&p.model, &p.series)?).expect("serialisable"))
		})
	});
	method!("ml_classifyRegime", |params, ctx| {
		let p: PredictParams = parse(&params, &["model", "bars"])?;
		check_len(&p.bars)?;
		timed(ctx, "classifyRegime", &p.model.clone(), &|e| {
			Ok(serde_json::to_value(e.classify_regime(&p.model, &p.bars)?).expect("serialisable"))
		})
	});
	method!("ml_msrr", |params, ctx| {
		let p: PredictParams = parse(&params, &["model", "bars"])?;
		check_len(&p.bars)?;
		timed(ctx, "msrr", &p.model.clone(), &|e| {
			Ok(serde_json::to_value(e.msrr(&p.model, &p.bars)?).expect("serialisable"))
		})
	});
	method!("ml_sentiment", |params, ctx| {
		let p: TextParams = parse(&params, &["model", "text"])?;
		timed(ctx, "sentiment", &p.model.clone(), &|e| {
			Ok(serde_json::to_value(e.sentiment(&p.model, &p.text)?).expect("serialisable"))
		})
	});
	method!("ml_features", |params, _ctx| {
		let p: FeatureParams = parse(&params, &["bars", "window"])?;
		check_len(&p.bars)?;
		let window = p.window.unwrap_or(60);
		if window == 0 || window > 1024 {
			return Err(invalid(format!("window {window} is outside 1..=1024")));
		}
		let rows =
			features::window_features(&p.bars, window).map_err(|e| invalid(e.to_string()))?;
		let names: Vec<&str> = features::FEATURES.iter().map(|f| f.name).collect();
		Ok(serde_json::json!({
			"version": features::FEATURE_VERSION,
			"names": names,
			"rows": rows.chunks(features::FEATURE_COUNT).collect::<Vec<_>>(),
		}))
	});
	let _ = ctx;
	Ok((module, models))
}

/// Starts the server; it runs until the handle is stopped or dropped.
pub async fn start(
	config: &Config,
	registry: &Registry,
) -> Result<(SocketAddr, ServerHandle, Models), String> {
	let (module, models) = module(config, registry)?;
	let (addr, handle) = serve(config, module).await?;
	Ok((addr, handle, models))
}

/// Serves a module built by [`module`] on `config.addr`.
pub async fn serve(
	config: &Config,
	module: RpcModule<()>,
) -> Result<(SocketAddr, ServerHandle), String> {
	let server = Server::builder()
		.max_request_body_size(MAX_REQUEST_BYTES)
		.max_connections(config.max_connections)
		.build(config.addr)
		.await
		.map_err(|e| format!("cannot listen on {}: {e}", config.addr))?;
	let addr = server.local_addr().map_err(|e| e.to_string())?;
	Ok((addr, server.start(module)))
}

#[cfg(test)]
mod tests {
	use super::Faulty;
	use serde_json::json;

	#[test]
	fn faulty_modes_parse_and_refuse_nonsense() {
		assert_eq!(Faulty::parse("bias:5000"), Ok(Faulty::Bias(5000)));
		assert_eq!(Faulty::parse("bias:-7"), Ok(Faulty::Bias(-7)));
		assert_eq!(Faulty::parse("random-class"), Ok(Faulty::RandomClass));
		for bad in ["bias:0", "bias:", "bias:x", "stale", ""] {
			assert!(Faulty::parse(bad).is_err(), "{bad:?}");
		}
	}

	#[test]
	fn a_biased_service_moves_every_number_and_the_class() {
		let mut prediction =
			json!({"return": 120, "volatility": 9000, "confidence": 510000, "direction": 1});
		Faulty::Bias(5000).falsify(&mut prediction);
		assert_eq!(
			prediction,
			json!({"return": 5120, "volatility": 14000, "confidence": 515000, "direction": 1})
		);
		let mut class = json!({"label": "bull", "class": 3, "probabilities": [1, 2, 3, 4]});
		Faulty::Bias(1).falsify(&mut class);
		assert_eq!(class["class"], 0, "the next class, wrapping");
		assert_eq!(class["probabilities"], json!([1, 2, 3, 4]));
		let mut batch = json!([{"return": 1}, {"return": 2}]);
		Faulty::Bias(10).falsify(&mut batch);
		assert_eq!(batch, json!([{"return": 11}, {"return": 12}]));
	}

	#[test]
	fn a_random_class_service_draws_classes_in_range_and_keeps_numbers() {
		let mut seen = std::collections::BTreeSet::new();
		for _ in 0..200 {
			let mut class = json!({"class": 1, "probabilities": [0, 0, 0], "x": 5});
			Faulty::RandomClass.falsify(&mut class);
			let c = class["class"].as_u64().unwrap();
			assert!(c < 3);
			assert_eq!(class["x"], 5);
			seen.insert(c);
		}
		assert_eq!(seen.len(), 3, "every class drawn");
	}
}
