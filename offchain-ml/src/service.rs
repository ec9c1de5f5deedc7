//! The ML service over JSON-RPC (jsonrpsee): runnable alone (`noderr-ml serve`) and embeddable
//! in the node.
//!
//! Methods (parameters by name or position):
//! - `ml_run(model, input)` -> `{values, outputs, classes?}`: the one uniform method, which the
//!   off-chain worker calls: any loaded model on one input of the kind the registry declares
//!   for it (`{"bars": [...]}` or `{"text": "..."}`), its fixed-point values in the registry's
//!   order (`[class]` for a classification, with `classes` the number of labels)
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
//! Inference runs on the service's own threads, one per engine (one libtorch intra-op thread
//! each), never on the caller's async runtime or its blocking pool: the node's block
//! production shares neither. At most `workers` calls compute at once; up to [`MAX_QUEUED`]
//! more wait, and beyond that a call is answered at once with [`BUSY`]. A call that has not
//! been answered within [`CALL_DEADLINE`] gets [`DEADLINE`]. One connection has at most
//! [`MAX_IN_FLIGHT_PER_CONNECTION`] calls in flight and a JSON-RPC batch at most
//! [`MAX_BATCH_REQUESTS`] calls. Parameters are parsed on the service's threads into bounded
//! types, so an oversized list fails at its first excess element. Browsers are kept out: a
//! request with an `Origin` header is refused unless that origin is allowed, and on a loopback
//! address only loopback host names are accepted (against DNS rebinding). Bad input is a
//! JSON-RPC error with code -32602 and a message saying what is wrong, and never stops the
//! service.

use crate::{
	engine::{Engine, InferenceError, Input, ModelInfo},
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
use serde::{Deserialize, Deserializer};
use std::{
	net::SocketAddr,
	path::PathBuf,
	sync::{mpsc, Arc, Condvar, Mutex},
	time::{Duration, Instant},
};

/// Largest number of bar series in one batch request.
pub const MAX_BATCH: usize = 64;
/// Largest number of bars in one series.
pub const MAX_BARS: usize = 4096;
/// Largest number of feature rows, and of features in a row, a caller may give.
pub const MAX_FEATURE_ROWS: usize = 1024;
/// Largest request body.
pub const MAX_REQUEST_BYTES: u32 = 8 << 20;
/// Calls waiting for an engine, over all connections, beyond which calls are refused as busy.
pub const MAX_QUEUED: usize = 256;
/// Calls one connection may have in flight at once.
pub const MAX_IN_FLIGHT_PER_CONNECTION: usize = 16;
/// Calls in one JSON-RPC batch.
pub const MAX_BATCH_REQUESTS: u32 = 16;
/// Longest a call may take, waiting included.
pub const CALL_DEADLINE: Duration = Duration::from_secs(10);

/// Error codes beyond JSON-RPC's.
pub const UNKNOWN_MODEL: i32 = 4004;
pub const MODEL_FAILURE: i32 = 5000;
/// The service is at capacity (queue or per-connection limit): try again later.
pub const BUSY: i32 = 5003;
/// The call was not answered within [`CALL_DEADLINE`].
pub const DEADLINE: i32 = 5004;

/// Service settings.
#[derive(Clone, Debug)]
pub struct Config {
	pub addr: SocketAddr,
	/// Artifacts to serve from the start (the standalone service); the node leaves this empty
	/// and loads what its model store verified.
	pub models: Option<PathBuf>,
	pub workers: usize,
	pub max_connections: u32,
	/// Browser origins allowed to call (`http://host:port`); requests with any other `Origin`
	/// header are refused. Empty by default: the callers are off-chain workers and tools, which
	/// send no `Origin`.
	pub allowed_origins: Vec<String>,
	/// Test-only: answer wrongly on purpose ([`Faulty`]). `None` on every real node.
	pub faulty: Option<Faulty>,
}

impl Config {
	/// Settings for `addr` with `workers` engines and the defaults for everything else.
	pub fn new(addr: SocketAddr, workers: usize) -> Self {
		Self {
			addr,
			models: None,
			workers,
			max_connections: 64,
			allowed_origins: Vec::new(),
			faulty: None,
		}
	}
}

/// Refuses a non-loopback listening address unless `external` says the operator means it
/// (anyone who can reach the port can then spend this machine's inference capacity); when it
/// does, returns the warning to show.
pub fn check_exposure(addr: SocketAddr, external: bool) -> Result<Option<String>, String> {
	if addr.ip().is_loopback() {
		return Ok(None);
	}
	if !external {
		return Err(format!(
			"the ML service address {addr} is not loopback: anyone who reaches it can use this \
			 machine's inference capacity. Keep the default 127.0.0.1, or pass the external flag \
			 (`--ml-rpc-external` on the node, `--external` on `noderr-ml serve`) and firewall it"
		));
	}
	Ok(Some(format!(
		"the ML service listens on {addr}, beyond this machine: firewall it to your own hosts"
	)))
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

	/// The class a faulty service reports instead of `class`, of `n` classes: the next one
	/// (wrapping) when biased, a random one otherwise.
	fn wrong_class(self, class: u64, n: u64) -> u64 {
		let n = n.max(1);
		match self {
			Faulty::Bias(_) => (class + 1) % n,
			Faulty::RandomClass => random_u64() % n,
		}
	}

	/// Falsifies a result in place: numbers of a prediction, the class of a classification.
	pub fn falsify(self, value: &mut serde_json::Value) {
		use serde_json::Value;
		match value {
			Value::Array(items) => items.iter_mut().for_each(|v| self.falsify(v)),
			// `ml_run`'s answer: the values, a class when `classes` is given.
			Value::Object(map) if map.contains_key("values") => {
				let classes = map.get("classes").and_then(Value::as_u64);
				let Some(Value::Array(values)) = map.get_mut("values") else { return };
				for v in values.iter_mut() {
					match (classes, self) {
						(Some(n), _) => {
							let Some(class) = v.as_u64() else { continue };
							*v = self.wrong_class(class, n).into();
						}
						(None, Faulty::Bias(bias)) => {
							let Some(x) = v.as_i64() else { continue };
							*v = x.saturating_add(bias).into();
						}
						(None, Faulty::RandomClass) => {}
					}
				}
			}
			Value::Object(map) => {
				let classes =
					map.get("probabilities").and_then(|p| p.as_array()).map(|a| a.len() as u64);
				for (key, v) in map.iter_mut() {
					match (key.as_str(), self) {
						("class", _) => {
							let (Some(class), Some(n)) = (v.as_u64(), classes) else { continue };
							*v = self.wrong_class(class, n).into();
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

/// The models every engine should serve, by hash; changed by [`Models`]. Each is loaded once
/// and shared by all engines: one copy of its weights per process.
#[derive(Default)]
struct Wanted {
	generation: u64,
	files: std::collections::BTreeMap<[u8; 32], Arc<crate::engine::SharedModel>>,
}

/// Engines waiting for work: bounded concurrency, each engine serving the shared models. An
/// engine catches up with the wanted model set when it is next taken, so a model change never
/// waits for requests in flight.
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
		for (hash, model) in &wanted.files {
			if !worker.engine.has(hash) {
				worker.engine.insert_shared(model.clone());
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
			let model = worker.engine.shared(&hash).expect("just loaded");
			let mut wanted = pool.wanted.lock().expect("wanted lock");
			wanted.files.insert(hash, model);
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
	/// Jobs for the service's threads; bounded by [`MAX_QUEUED`].
	queue: mpsc::SyncSender<Job>,
}

type Job = Box<dyn FnOnce() + Send>;

/// Starts the service's `workers` threads, which take jobs from the returned queue until every
/// sender is gone.
fn start_threads(workers: usize) -> Result<mpsc::SyncSender<Job>, String> {
	let (tx, rx) = mpsc::sync_channel::<Job>(MAX_QUEUED);
	let rx = Arc::new(Mutex::new(rx));
	for i in 0..workers {
		let rx = rx.clone();
		std::thread::Builder::new()
			.name(format!("noderr-ml-{i}"))
			.spawn(move || loop {
				let job = match rx.lock() {
					Ok(rx) => rx.recv(),
					Err(_) => return,
				};
				match job {
					// A panic in one job must not take the thread (and its share of the
					// service's capacity) with it.
					Ok(job) => {
						let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
					}
					Err(_) => return,
				}
			})
			.map_err(|e| format!("cannot start ML service thread: {e}"))?;
	}
	Ok(tx)
}

fn busy(message: &str) -> ErrorObjectOwned {
	ErrorObject::owned(BUSY, format!("ML service busy: {message}; try again later"), None::<()>)
}

fn deadline_passed() -> ErrorObjectOwned {
	ErrorObject::owned(
		DEADLINE,
		format!("no answer within {} s", CALL_DEADLINE.as_secs()),
		None::<()>,
	)
}

/// Runs `f` on the service's threads: refused at once when the queue is full, skipped when
/// its caller has given up, answered with [`DEADLINE`] past the deadline.
async fn execute(
	ctx: &Arc<Context>,
	f: impl FnOnce(&Context) -> Result<serde_json::Value, ErrorObjectOwned> + Send + 'static,
) -> Result<serde_json::Value, ErrorObjectOwned> {
	let (tx, rx) = tokio::sync::oneshot::channel();
	let deadline = Instant::now() + CALL_DEADLINE;
	let job_ctx = ctx.clone();
	let job: Job = Box::new(move || {
		if tx.is_closed() || Instant::now() >= deadline {
			return;
		}
		let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(&job_ctx)))
			.unwrap_or_else(|_| {
				Err(ErrorObject::owned(MODEL_FAILURE, "inference failed", None::<()>))
			});
		let _ = tx.send(result);
	});
	ctx.queue.try_send(job).map_err(|e| match e {
		mpsc::TrySendError::Full(_) => busy(&format!("{MAX_QUEUED} calls are queued")),
		mpsc::TrySendError::Disconnected(_) => busy("shutting down"),
	})?;
	match tokio::time::timeout_at(deadline.into(), rx).await {
		Ok(Ok(result)) => result,
		Ok(Err(_)) | Err(_) => Err(deadline_passed()),
	}
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
		BUSY => "busy",
		DEADLINE => "deadline",
		_ => "invalid_input",
	}
}

/// A list of at most `N` items: decoding stops with an error at the first item over the bound,
/// so an oversized list costs no more memory than a full one.
#[derive(Debug)]
struct Bounded<T, const N: usize>(Vec<T>);

impl<T, const N: usize> Default for Bounded<T, N> {
	fn default() -> Self {
		Bounded(Vec::new())
	}
}

impl<'de, T: Deserialize<'de>, const N: usize> Deserialize<'de> for Bounded<T, N> {
	fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
		struct Visitor<T, const N: usize>(std::marker::PhantomData<T>);
		impl<'de, T: Deserialize<'de>, const N: usize> serde::de::Visitor<'de> for Visitor<T, N> {
			type Value = Bounded<T, N>;
			fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
				write!(f, "a list of at most {N} items")
			}
			fn visit_seq<A: serde::de::SeqAccess<'de>>(
				self,
				mut seq: A,
			) -> Result<Self::Value, A::Error> {
				let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(N));
				while let Some(item) = seq.next_element()? {
					if items.len() == N {
						return Err(serde::de::Error::custom(format!(
							"more than {N} items given, at most {N} accepted"
						)));
					}
					items.push(item);
				}
				Ok(Bounded(items))
			}
		}
		deserializer.deserialize_seq(Visitor::<T, N>(std::marker::PhantomData))
	}
}

type Bars = Bounded<Bar, MAX_BARS>;

#[derive(Deserialize)]
struct PredictParams {
	model: String,
	#[serde(default)]
	bars: Bars,
	/// Feature rows computed by the caller, instead of bars.
	features: Option<Bounded<Bounded<f64, MAX_FEATURE_ROWS>, MAX_FEATURE_ROWS>>,
}

#[derive(Deserialize)]
struct RunParams {
	model: String,
	input: RunInput,
}

/// One input of a model's registered kind: bars or text, exactly one of them.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RunInput {
	bars: Option<Bars>,
	text: Option<String>,
}

#[derive(Deserialize)]
struct TextParams {
	model: String,
	text: String,
}

#[derive(Deserialize)]
struct BatchParams {
	model: String,
	series: Bounded<Bars, MAX_BATCH>,
}

#[derive(Deserialize)]
struct FeatureParams {
	bars: Bars,
	window: Option<usize>,
}

/// Parses named (object) or positional (array) parameters, given as their raw JSON text, into
/// `T`, with a readable error. Positional ones are split into their raw items and named, never
/// built into a generic JSON tree, so every list goes through its bound.
fn parse<T: serde::de::DeserializeOwned>(
	raw: Option<&str>,
	names: &[&str],
) -> Result<T, ErrorObjectOwned> {
	let text = raw.unwrap_or("{}").trim_start();
	let named = if text.starts_with('[') {
		let items: Vec<&serde_json::value::RawValue> = serde_json::from_str(text)
			.map_err(|e| invalid(format!("parameters are not JSON: {e}")))?;
		if items.len() > names.len() {
			return Err(invalid(format!(
				"expected at most {} parameters: {}",
				names.len(),
				names.join(", ")
			)));
		}
		let mut object = String::with_capacity(text.len() + 16 * names.len());
		object.push('{');
		for (i, (name, item)) in names.iter().zip(items).enumerate() {
			if i > 0 {
				object.push(',');
			}
			object.push_str(&format!("\"{name}\":"));
			object.push_str(item.get());
		}
		object.push('}');
		std::borrow::Cow::Owned(object)
	} else if text.starts_with('{') {
		std::borrow::Cow::Borrowed(text)
	} else {
		return Err(invalid(format!("expected parameters {}", names.join(", "))));
	};
	serde_json::from_str(&named).map_err(|e| invalid(format!("bad parameters: {e}")))
}

/// Builds the RPC module over a pool of `workers` engines, serving the artifacts in
/// `config.models` if given; [`Models`] changes the set later.
pub fn module(config: &Config, registry: &Registry) -> Result<(RpcModule<()>, Models), String> {
	let workers = config.workers.max(1);
	let engines = (0..workers).map(|_| Worker { engine: Engine::new(), generation: 0 }).collect();
	let metrics = Metrics::register(registry).map_err(|e| e.to_string())?;
	let ctx = Arc::new(Context {
		pool: Pool {
			free: Mutex::new(engines),
			ready: Condvar::new(),
			size: workers,
			wanted: Mutex::new(Wanted::default()),
		},
		metrics,
		queue: start_threads(workers)?,
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

	// Every method parses and computes on the service's threads (`execute`); the async side
	// only queues the call and waits for its answer.
	macro_rules! method {
		($name:literal, |$params:ident, $ctx:ident| $body:expr) => {{
			let ctx = ctx.clone();
			module
				.register_async_method($name, move |params: Params<'static>, _, _| {
					let ctx = ctx.clone();
					let raw = params.as_str().map(str::to_owned);
					async move {
						let result = execute(&ctx, move |$ctx: &Context| {
							let $params = raw.as_deref();
							$body
						})
						.await;
						if let Err(e) = &result {
							ctx.metrics.errors.with_label_values(&[$name, error_kind(e)]).inc();
						}
						result
					}
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

	method!("ml_run", |params, ctx| {
		let p: RunParams = parse(params, &["model", "input"])?;
		let input = match (&p.input.bars, &p.input.text) {
			(Some(bars), None) => Input::Bars(&bars.0),
			(None, Some(text)) => Input::Text(text),
			_ => {
				return Err(invalid(r#"input is {"bars": [...]} or {"text": "..."}, one of them"#))
			}
		};
		timed(ctx, "run", &p.model, &|e| {
			let values = e.run(&p.model, input)?;
			let manifest = e.manifest(&p.model).expect("it just ran");
			let (outputs, classes) = match &manifest.task {
				crate::artifact::Task::Regression { outputs } => (outputs.clone(), None),
				crate::artifact::Task::Classification { labels }
				| crate::artifact::Task::TextClassification { labels, .. } => {
					(vec!["class".to_string()], Some(labels.len()))
				}
			};
			let mut out = serde_json::json!({ "values": values, "outputs": outputs });
			if let Some(n) = classes {
				out["classes"] = n.into();
			}
			Ok(out)
		})
	});
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
		let p: PredictParams = parse(params, &["model", "bars", "features"])?;
		let rows: Option<Vec<Vec<f64>>> =
			p.features.map(|rows| rows.0.into_iter().map(|r| r.0).collect());
		let bars = p.bars.0;
		timed(ctx, "predict", &p.model, &|e| {
			let out = match &rows {
				Some(rows) if bars.is_empty() => e.predict_rows(&p.model, rows)?,
				Some(_) => {
					return Err(InferenceError::Input("give bars or features, not both".into()))
				}
				None => e.predict_batch(&p.model, std::slice::from_ref(&bars))?.remove(0),
			};
			Ok(serde_json::to_value(&out).expect("serialisable"))
		})
	});
	method!("ml_predictBatch", |params, ctx| {
		let p: BatchParams = parse(params, &["model", "series"])?;
		let series: Vec<Vec<Bar>> = p.series.0.into_iter().map(|s| s.0).collect();
		timed(ctx, "predictBatch", &p.model, &|e| {
			Ok(serde_json::to_value(e.predict_batch(&p.model, &series)?).expect("serialisable"))
		})
	});
	method!("ml_classifyRegime", |params, ctx| {
		let p: PredictParams = parse(params, &["model", "bars"])?;
		timed(ctx, "classifyRegime", &p.model, &|e| {
			Ok(serde_json::to_value(e.classify_regime(&p.model, &p.bars.0)?).expect("serialisable"))
		})
	});
	method!("ml_msrr", |params, ctx| {
		let p: PredictParams = parse(params, &["model", "bars"])?;
		timed(ctx, "msrr", &p.model, &|e| {
			Ok(serde_json::to_value(e.msrr(&p.model, &p.bars.0)?).expect("serialisable"))
		})
	});
	method!("ml_sentiment", |params, ctx| {
		let p: TextParams = parse(params, &["model", "text"])?;
		timed(ctx, "sentiment", &p.model, &|e| {
			Ok(serde_json::to_value(e.sentiment(&p.model, &p.text)?).expect("serialisable"))
		})
	});
	method!("ml_features", |params, _ctx| {
		let p: FeatureParams = parse(params, &["bars", "window"])?;
		let window = p.window.unwrap_or(60);
		if window == 0 || window > 1024 {
			return Err(invalid(format!("window {window} is outside 1..=1024")));
		}
		let rows =
			features::window_features(&p.bars.0, window).map_err(|e| invalid(e.to_string()))?;
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
	let hosts = if config.addr.ip().is_loopback() {
		// Only loopback names: a web page that rebinds its own domain to 127.0.0.1 still
		// sends its domain as the host.
		limits::HostFilterLayer::new(["localhost:*", "127.0.0.1:*", "[::1]:*"])
			.map_err(|e| e.to_string())?
	} else {
		// Reachable from other machines by whatever name they use; the operator chose that.
		limits::HostFilterLayer::disable()
	};
	let http = tower::ServiceBuilder::new()
		.layer(hosts)
		.layer(limits::OriginFilterLayer::new(config.allowed_origins.clone()));
	let rpc = jsonrpsee::server::RpcServiceBuilder::new().layer_fn(limits::InFlight::new);
	let server = Server::builder()
		.max_request_body_size(MAX_REQUEST_BYTES)
		.max_connections(config.max_connections)
		.set_batch_request_config(jsonrpsee::server::BatchRequestConfig::Limit(MAX_BATCH_REQUESTS))
		.set_http_middleware(http)
		.set_rpc_middleware(rpc)
		.build(config.addr)
		.await
		.map_err(|e| format!("cannot listen on {}: {e}", config.addr))?;
	let addr = server.local_addr().map_err(|e| e.to_string())?;
	Ok((addr, server.start(module)))
}

/// Limits applied before a call reaches the service: hosts, origins, calls in flight.
mod limits {
	use super::{busy, MAX_IN_FLIGHT_PER_CONNECTION};
	pub use jsonrpsee::server::middleware::http::HostFilterLayer;
	use jsonrpsee::{
		server::{middleware::rpc::RpcServiceT, HttpBody, HttpRequest, HttpResponse},
		types::Request,
		MethodResponse,
	};
	use std::{
		future::Future,
		pin::Pin,
		sync::Arc,
		task::{Context, Poll},
	};
	use tokio::sync::Semaphore;

	/// Refuses requests whose `Origin` header (which browsers send, and tools do not) is not
	/// allowed.
	#[derive(Clone)]
	pub struct OriginFilterLayer(Arc<Vec<String>>);

	impl OriginFilterLayer {
		pub fn new(allowed: Vec<String>) -> Self {
			Self(Arc::new(allowed))
		}
	}

	impl<S> tower::Layer<S> for OriginFilterLayer {
		type Service = OriginFilter<S>;
		fn layer(&self, inner: S) -> Self::Service {
			OriginFilter { inner, allowed: self.0.clone() }
		}
	}

	#[derive(Clone)]
	pub struct OriginFilter<S> {
		inner: S,
		allowed: Arc<Vec<String>>,
	}

	impl<S> tower::Service<HttpRequest> for OriginFilter<S>
	where
		S: tower::Service<HttpRequest, Response = HttpResponse>,
		S::Future: Send + 'static,
	{
		type Response = HttpResponse;
		type Error = S::Error;
		type Future =
			Pin<Box<dyn Future<Output = Result<HttpResponse, S::Error>> + Send + 'static>>;

		fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
			self.inner.poll_ready(cx)
		}

		fn call(&mut self, request: HttpRequest) -> Self::Future {
			let allowed = match request.headers().get("origin") {
				None => true,
				Some(origin) => origin
					.to_str()
					.map(|o| self.allowed.iter().any(|a| a.eq_ignore_ascii_case(o)))
					.unwrap_or(false),
			};
			if allowed {
				Box::pin(self.inner.call(request))
			} else {
				let response = HttpResponse::builder()
					.status(403)
					.header("content-type", "text/plain")
					.body(HttpBody::from("origin not allowed"))
					.expect("a static response");
				Box::pin(async move { Ok(response) })
			}
		}
	}

	/// Caps the calls of one connection in flight; the RPC middleware is built per
	/// connection, so each connection gets its own permits.
	#[derive(Clone)]
	pub struct InFlight<S> {
		inner: S,
		permits: Arc<Semaphore>,
	}

	impl<S> InFlight<S> {
		pub fn new(inner: S) -> Self {
			Self { inner, permits: Arc::new(Semaphore::new(MAX_IN_FLIGHT_PER_CONNECTION)) }
		}
	}

	impl<'a, S> RpcServiceT<'a> for InFlight<S>
	where
		S: RpcServiceT<'a> + Clone + Send + Sync + 'static,
		S::Future: Send + 'a,
	{
		type Future = Pin<Box<dyn Future<Output = MethodResponse> + Send + 'a>>;

		fn call(&self, request: Request<'a>) -> Self::Future {
			match self.permits.clone().try_acquire_owned() {
				Ok(permit) => {
					let inner = self.inner.clone();
					Box::pin(async move {
						let response = inner.call(request).await;
						drop(permit);
						response
					})
				}
				Err(_) => {
					let id = request.id.clone().into_owned();
					let error = busy(&format!(
						"{MAX_IN_FLIGHT_PER_CONNECTION} calls of this connection are in flight"
					));
					Box::pin(async move { MethodResponse::error(id, error) })
				}
			}
		}
	}
}

#[cfg(test)]
mod tests {
	use super::{check_exposure, parse, BatchParams, Faulty, PredictParams, MAX_BARS};
	use serde_json::json;

	#[test]
	fn a_non_loopback_address_needs_the_external_flag() {
		assert_eq!(check_exposure("127.0.0.1:9955".parse().unwrap(), false), Ok(None));
		assert_eq!(check_exposure("[::1]:9955".parse().unwrap(), false), Ok(None));
		let err = check_exposure("0.0.0.0:9955".parse().unwrap(), false).unwrap_err();
		assert!(err.contains("not loopback") && err.contains("--ml-rpc-external"), "{err}");
		let warning = check_exposure("10.1.2.3:9955".parse().unwrap(), true).unwrap().unwrap();
		assert!(warning.contains("firewall"), "{warning}");
	}

	fn bars(n: usize) -> serde_json::Value {
		let bar =
			json!({"time": 0, "open": 1.0, "high": 1.0, "low": 1.0, "close": 1.0, "volume": 1.0});
		json!(vec![bar; n])
	}

	#[test]
	fn lists_are_bounded_while_parsing_by_name_and_by_position() {
		let named = json!({"model": "m", "bars": bars(MAX_BARS)}).to_string();
		let p: PredictParams = parse(Some(&named), &["model", "bars", "features"]).unwrap();
		assert_eq!(p.bars.0.len(), MAX_BARS);
		let over = json!({"model": "m", "bars": bars(MAX_BARS + 1)}).to_string();
		let e = parse::<PredictParams>(Some(&over), &["model", "bars"]).err().unwrap();
		assert!(e.message().contains("at most 4096"), "{}", e.message());
		let positional = json!(["m", bars(3)]).to_string();
		let p: PredictParams = parse(Some(&positional), &["model", "bars", "features"]).unwrap();
		assert_eq!((p.model.as_str(), p.bars.0.len()), ("m", 3));
		let series = json!(["m", vec![bars(1); 65]]).to_string();
		let e = parse::<BatchParams>(Some(&series), &["model", "series"]).err().unwrap();
		assert!(e.message().contains("at most 64"), "{}", e.message());
		let too_many = json!(["m", [], null, 4]).to_string();
		let e =
			parse::<PredictParams>(Some(&too_many), &["model", "bars", "features"]).err().unwrap();
		assert!(e.message().contains("at most 3 parameters"), "{}", e.message());
		for bad in ["", "7", "[", "{\"model\": 1}"] {
			assert!(parse::<PredictParams>(Some(bad), &["model", "bars"]).is_err(), "{bad:?}");
		}
		assert!(parse::<PredictParams>(None, &["model", "bars"]).is_err(), "no parameters");
	}

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
		// The uniform method's answers, as the off-chain worker reads them.
		let mut run = json!({"values": [1, -2, 3], "outputs": ["a", "b", "c"]});
		Faulty::Bias(10).falsify(&mut run);
		assert_eq!(run["values"], json!([11, 8, 13]));
		let mut run = json!({"values": [3], "outputs": ["class"], "classes": 4});
		Faulty::Bias(10).falsify(&mut run);
		assert_eq!(run["values"], json!([0]), "the next class, wrapping");
		let mut run = json!({"values": [1], "outputs": ["class"], "classes": 3});
		Faulty::RandomClass.falsify(&mut run);
		assert!(run["values"][0].as_u64().unwrap() < 3);
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
