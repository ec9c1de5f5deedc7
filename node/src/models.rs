//! The node's model store: it keeps the artifacts the chain's model registry lists for its
//! operator's tier in `<base-path>/models`, verified by size and blake2-256 hash, and has the
//! embedded ML service serve exactly those.
//!
//! On start, on every new best block and every [`RETRY_TICK`], the node asks the runtime for the
//! models of its tier (`ModelRegistryApi::active_models`). A model it does not serve yet is
//! taken from, in order: the store; the operator's import directory (`--ml-models`); connected
//! peers, over the request-response protocol `/<genesis>/noderr/models/1` (chunks of
//! [`CHUNK`] bytes, resumed from what was already received); the registered HTTP(S) locations
//! (resumed with range requests). Whatever the source, bytes enter the store only if their size
//! and hash are the registered ones, and the ML service checks the hash again when it loads.
//! A failure is logged with the reason and retried with exponential backoff; the versions
//! already served keep being served. Retired versions stop being served (their files stay
//! in the store until removed by hand).

use codec::{Decode, Encode};
use futures::StreamExt;
use noderr_ml::{
	artifact::hex,
	service::Models,
	store::{Http, Store, StoreError},
};
use noderr_primitives::Tier;
use noderr_runtime::{opaque::Block, AccountId, BlockNumber};
use pallet_model_registry_runtime_api::{ModelInfo, ModelRegistryApi, Status};
use pallet_staking_tiers_runtime_api::StakingTiersApi;
use sc_client_api::{BlockchainEvents, HeaderBackend};
use sc_network::{
	config::{IncomingRequest, OutgoingResponse},
	service::traits::NetworkService,
	IfDisconnected, ProtocolName,
};
use sp_api::ProvideRuntimeApi;
use sp_consensus::SyncOracle;
use std::{
	collections::{BTreeMap, HashMap},
	path::PathBuf,
	sync::Arc,
	time::{Duration, Instant},
};

use crate::service::FullClient;

/// Largest chunk a peer sends in one response.
pub const CHUNK: usize = 1 << 20;
/// How often failed downloads are reconsidered when no block arrives.
pub const RETRY_TICK: Duration = Duration::from_secs(3);
/// First and longest wait before retrying a failed artifact.
const BACKOFF_MIN: Duration = Duration::from_secs(3);
const BACKOFF_MAX: Duration = Duration::from_secs(300);
/// Artifacts at least this large report download progress in the log.
const PROGRESS_FROM: u64 = 4 << 20;

/// Name of the artifact protocol on the chain with this genesis.
pub fn protocol_name(genesis: &[u8]) -> ProtocolName {
	format!("/{}/noderr/models/1", hex(genesis).trim_start_matches("0x")).into()
}

/// A peer's request: artifact hash, offset, most bytes wanted.
type Request = ([u8; 32], u64, u32);
/// The answer: the bytes from the offset (empty past the end), or `None` if not held.
type Response = Option<Vec<u8>>;

/// Requests one peer may make at once, and per second after that: a download (1 MiB chunks)
/// runs at up to 16 MiB/s from each peer serving it.
const PEER_BURST: f64 = 32.0;
const PEER_RATE: f64 = 16.0;
/// A downloader refused by a peer (over its rate) waits this long and asks again, up to
/// `MAX_REFUSALS` times in a row before trying another source.
const REFUSED_WAIT: Duration = Duration::from_millis(250);
const MAX_REFUSALS: u32 = 40;
/// Peers remembered by the rate limiter before idle ones are forgotten.
const PEERS_REMEMBERED: usize = 1024;

/// A token bucket per peer: `PEER_BURST` requests, refilled at `PEER_RATE` a second.
#[derive(Default)]
pub(crate) struct PeerLimiter {
	buckets: HashMap<sc_network::PeerId, (f64, Instant)>,
}

impl PeerLimiter {
	/// Whether `peer` may make a request at `now`; takes a token if so.
	pub(crate) fn allow(&mut self, peer: sc_network::PeerId, now: Instant) -> bool {
		if self.buckets.len() >= PEERS_REMEMBERED && !self.buckets.contains_key(&peer) {
			// Full buckets are the state of a forgotten peer: drop those.
			self.buckets.retain(|_, (tokens, at)| {
				*tokens + now.duration_since(*at).as_secs_f64() * PEER_RATE < PEER_BURST
			});
		}
		let (tokens, at) = self.buckets.entry(peer).or_insert((PEER_BURST, now));
		*tokens = (*tokens + now.duration_since(*at).as_secs_f64() * PEER_RATE).min(PEER_BURST);
		*at = now;
		if *tokens >= 1.0 {
			*tokens -= 1.0;
			true
		} else {
			false
		}
	}
}

/// Answers peers' artifact requests from the verified files in the store. Files are read on the
/// blocking pool; a peer over its request rate is refused (its downloader waits and asks
/// again), one sending a malformed request is refused and loses reputation with the peer set.
pub async fn serve_peers(requests: async_channel::Receiver<IncomingRequest>, store: Store) {
	use sc_network::ReputationChange;
	let mut limiter = PeerLimiter::default();
	while let Ok(request) = requests.recv().await {
		let mut reputation_changes = Vec::new();
		let result = if !limiter.allow(request.peer, Instant::now()) {
			// Refused without a reputation cost: an honest downloader waits and asks again.
			log::debug!("📦 {} requests artifacts too fast: refused", request.peer);
			Err(())
		} else {
			match Request::decode(&mut &request.payload[..]) {
				Ok((hash, offset, max)) => {
					let store = store.clone();
					let read = tokio::task::spawn_blocking(move || {
						store.read_chunk(&hash, offset, (max as usize).min(CHUNK))
					})
					.await;
					match read {
						Ok(Ok(chunk)) => Ok(Response::encode(&chunk)),
						Ok(Err(e)) => {
							log::warn!("📦 cannot read artifact {} for a peer: {e}", hex(&hash));
							Err(())
						}
						Err(_) => Err(()),
					}
				}
				Err(_) => {
					log::debug!("📦 malformed artifact request from {}", request.peer);
					reputation_changes
						.push(ReputationChange::new(-(1 << 12), "malformed artifact request"));
					Err(())
				}
			}
		};
		let _ = request.pending_response.send(OutgoingResponse {
			result,
			reputation_changes,
			sent_feedback: None,
		});
	}
}

/// Logs a download's progress every tenth of the way.
struct Progress {
	what: String,
	size: u64,
	next: u64,
}

impl Progress {
	fn new(info: &ModelInfo<BlockNumber>, source: &str) -> Self {
		Self {
			what: format!("{} from {source}", label(info)),
			size: info.spec.artifact_size,
			next: 0,
		}
	}

	fn update(&mut self, done: u64) {
		if self.size < PROGRESS_FROM || done < self.next {
			return;
		}
		let mib = |b: u64| b as f64 / (1u64 << 20) as f64;
		log::info!(
			"📦 {}: {:.1} of {:.1} MiB ({}%)",
			self.what,
			mib(done),
			mib(self.size),
			done * 100 / self.size
		);
		self.next = (done / (self.size / 10) + 1) * (self.size / 10);
	}
}

/// A model version as people name it: `name 1.2.3`.
pub(crate) fn label(info: &ModelInfo<BlockNumber>) -> String {
	format!("{} {}", String::from_utf8_lossy(&info.name), info.version)
}

/// The model store's Prometheus metrics.
#[derive(Clone)]
pub struct Metrics {
	fetches: prometheus_endpoint::CounterVec<prometheus_endpoint::U64>,
	wanted: prometheus_endpoint::Gauge<prometheus_endpoint::U64>,
	served: prometheus_endpoint::Gauge<prometheus_endpoint::U64>,
}

impl Metrics {
	/// Registers `noderr_model_fetches_total{source, outcome}`, `noderr_models_wanted` and
	/// `noderr_models_served`.
	pub fn register(
		r: &prometheus_endpoint::Registry,
	) -> Result<Self, prometheus_endpoint::PrometheusError> {
		use prometheus_endpoint::{register, CounterVec, Gauge, Opts};
		Ok(Self {
			fetches: register(
				CounterVec::new(
					Opts::new(
						"noderr_model_fetches_total",
						"Artifacts obtained or refused, by source (import, peer, http) and outcome",
					),
					&["source", "outcome"],
				)?,
				r,
			)?,
			wanted: register(
				Gauge::new(
					"noderr_models_wanted",
					"Model versions the registry lists for this node's tier",
				)?,
				r,
			)?,
			served: register(
				Gauge::new("noderr_models_served", "Model versions the ML service serves")?,
				r,
			)?,
		})
	}
}

/// When to try a failed artifact again.
struct Retry {
	attempts: u32,
	next: Instant,
}

/// Keeps the store and the ML service in line with the registry.
pub struct ModelSync {
	pub client: Arc<FullClient>,
	pub network: Arc<dyn NetworkService>,
	pub sync: Arc<sc_network_sync::SyncingService<Block>>,
	pub protocol: ProtocolName,
	pub store: Store,
	pub models: Models,
	pub http: Http,
	/// The operator's own copies (`--ml-models`).
	pub import_dir: Option<PathBuf>,
	/// The operator whose tier decides the models (`--ml-operator`); every tier if `None`.
	pub operator: Option<AccountId>,
	/// Prometheus metrics, if the node exports them.
	pub metrics: Option<Metrics>,
}

/// The tier whose models this node serves; `None` if the operator holds no tier.
pub fn node_tier(
	client: &FullClient,
	at: <Block as sp_runtime::traits::Block>::Hash,
	operator: Option<&AccountId>,
) -> Result<Option<Tier>, String> {
	match operator {
		None => Ok(Some(Tier::Guardian)),
		Some(who) => client
			.runtime_api()
			.operator_status(at, who.clone())
			.map(|s| s.tier)
			.map_err(|e| e.to_string()),
	}
}

impl ModelSync {
	fn count(&self, source: &str, outcome: &str) {
		if let Some(m) = &self.metrics {
			m.fetches.with_label_values(&[source, outcome]).inc();
		}
	}

	/// Runs until the node stops.
	pub async fn run(self) {
		let mut state = State::default();
		let mut blocks = self.client.import_notification_stream();
		match &self.operator {
			Some(who) => log::info!(
				"📦 model store {}: models of operator {who}'s tier",
				self.store.dir().display()
			),
			None => log::info!(
				"📦 model store {}: no --ml-operator given, models of every tier",
				self.store.dir().display()
			),
		}
		loop {
			self.refresh(&mut state).await;
			tokio::select! {
				block = blocks.next() => if block.is_none() { return },
				_ = tokio::time::sleep(RETRY_TICK) => {}
			}
		}
	}

	async fn refresh(&self, state: &mut State) {
		if self.sync.is_major_syncing() {
			// The registry at an old best block is not the one to follow.
			return;
		}
		let best = self.client.info().best_hash;
		let tier = match node_tier(&self.client, best, self.operator.as_ref()) {
			Ok(t) => t,
			Err(e) => return log::warn!("📦 cannot read the operator's tier: {e}"),
		};
		if state.tier != Some(tier) {
			match tier {
				Some(t) => log::info!("📦 serving the models of tier {t:?}"),
				None => log::warn!("📦 the operator holds no tier: no models to serve"),
			}
			state.tier = Some(tier);
		}
		let listed = match tier {
			Some(t) => match self.client.runtime_api().active_models(best, t) {
				Ok(l) => l,
				Err(e) => return log::warn!("📦 cannot read the model registry: {e}"),
			},
			None => Vec::new(),
		};
		let wanted: BTreeMap<[u8; 32], ModelInfo<BlockNumber>> =
			listed.into_iter().map(|m| (m.spec.artifact_hash, m)).collect();
		for (hash, info) in &wanted {
			if !state.known.contains_key(hash) {
				let status = match info.status {
					Status::Live => "live".to_string(),
					Status::Deprecated(at) => format!("deprecated at #{at}"),
				};
				log::info!(
					"📋 registry: {} ({}, {} bytes, {status})",
					label(info),
					hex(hash),
					info.spec.artifact_size
				);
			}
		}
		for hash in self.models.loaded() {
			if !wanted.contains_key(&hash) {
				let what = state.known.get(&hash).map(label).unwrap_or_default();
				log::info!(
					"📋 registry: {what} ({}) retired or not for this tier: unloaded",
					hex(&hash)
				);
				self.models.unload(&hash);
			}
		}
		if state.known.keys().ne(wanted.keys()) {
			self.prune(best);
		}
		state.known = wanted.clone();
		state.retries.retain(|h, _| wanted.contains_key(h));
		let loaded = self.models.loaded();
		for (hash, info) in &wanted {
			if loaded.contains(hash)
				|| state.unbuildable.contains(hash)
				|| state.retries.get(hash).is_some_and(|r| r.next > Instant::now())
			{
				continue;
			}
			let outcome = match self.obtain(info).await {
				Ok(path) => {
					let (models, hash) = (self.models.clone(), *hash);
					match tokio::task::spawn_blocking(move || models.load(&path, Some(hash))).await
					{
						Ok(Ok(m)) => {
							log::info!("🧠 serving {} ({})", label(info), m.hash);
							Ok(())
						}
						Ok(Err(e)) => {
							// The bytes are the registered ones: fetching them again cannot
							// help. Keep them and stop trying until the node restarts (an
							// upgraded binary may build them).
							log::error!(
								"🧠 {} ({}) is registered, verified and held, but this node \
								 cannot build it: {e}. Not retried until restart; upgrade the \
								 node if the registry's publisher expects it",
								label(info),
								hex(&hash)
							);
							state.unbuildable.insert(hash);
							continue;
						}
						Err(e) => Err(format!("loader failed: {e}")),
					}
				}
				Err(e) => Err(e),
			};
			match outcome {
				Ok(()) => {
					state.retries.remove(hash);
				}
				Err(e) => {
					let retry = state
						.retries
						.entry(*hash)
						.or_insert(Retry { attempts: 0, next: Instant::now() });
					let wait = (BACKOFF_MIN * 2u32.saturating_pow(retry.attempts)).min(BACKOFF_MAX);
					retry.attempts += 1;
					retry.next = Instant::now() + wait;
					log::warn!(
						"📦 {} ({}) not served: {e}; retry {} in {}s",
						label(info),
						hex(hash),
						retry.attempts,
						wait.as_secs()
					);
				}
			}
		}
		if let Some(m) = &self.metrics {
			m.wanted.set(wanted.len() as u64);
			m.served.set(self.models.loaded().len() as u64);
		}
	}

	/// The artifact's path in the store, fetching it if needed.
	async fn obtain(&self, info: &ModelInfo<BlockNumber>) -> Result<PathBuf, String> {
		let (hash, size) = (info.spec.artifact_hash, info.spec.artifact_size);
		if self.store.has(&hash, size) {
			return Ok(self.store.path(&hash));
		}
		let mut tried = Vec::new();
		if let Some(dir) = &self.import_dir {
			if let Some(path) = self.import(dir, info).await {
				return Ok(path);
			}
			tried.push(format!("not in {}", dir.display()));
		}
		match self.fetch_from_peers(info).await {
			Ok(path) => return Ok(path),
			Err(e) => tried.push(e),
		}
		for url in &info.locations {
			let url = String::from_utf8_lossy(url).to_string();
			let mut progress = Progress::new(info, &url);
			match self.http.fetch(&self.store, &url, &hash, size, |d, _| progress.update(d)).await {
				Ok(path) => {
					log::info!("📦 {} fetched from {url} and verified", label(info));
					self.count("http", "ok");
					return Ok(path);
				}
				Err(e) => {
					log::warn!("📦 {}: refused or failed download: {e}", label(info));
					let refused = matches!(e, noderr_ml::store::FetchError::Refused { .. });
					self.count("http", if refused { "refused" } else { "failed" });
					tried.push(e.to_string());
				}
			}
		}
		if info.locations.is_empty() {
			tried.push("no HTTP location registered".into());
		}
		Err(tried.join("; "))
	}

	/// Copies the operator's file of the right size and hash from `dir`, if there is one.
	async fn import(
		&self,
		dir: &std::path::Path,
		info: &ModelInfo<BlockNumber>,
	) -> Option<PathBuf> {
		let (hash, size) = (info.spec.artifact_hash, info.spec.artifact_size);
		for file in noderr_ml::engine::artifact_files(dir).unwrap_or_default() {
			if std::fs::metadata(&file).map(|m| m.len()).ok() != Some(size) {
				continue;
			}
			match self.store.import_async(&file, &hash, size).await {
				Ok(path) => {
					log::info!("📦 {} imported from {} and verified", label(info), file.display());
					self.count("import", "ok");
					return Some(path);
				}
				Err(StoreError::HashMismatch { .. }) => continue,
				Err(e) => {
					log::warn!("📦 {} refused: {e}", file.display());
					self.count("import", "refused");
				}
			}
		}
		None
	}

	/// Fetches the artifact from connected peers, chunk by chunk, resuming from the bytes
	/// already received; a peer whose bytes do not verify is dropped as a source.
	/// Removes stored files and partial downloads of artifacts no tier's registry lists any
	/// more (retired): files of other tiers stay, for peers.
	fn prune(&self, best: <Block as sp_runtime::traits::Block>::Hash) {
		let mut registered = std::collections::BTreeSet::new();
		for tier in Tier::ALL {
			match self.client.runtime_api().active_models(best, tier) {
				Ok(models) => registered.extend(models.into_iter().map(|m| m.spec.artifact_hash)),
				// Without the whole registry nothing can be called retired.
				Err(_) => return,
			}
		}
		let removed = self.store.prune(&registered);
		if removed > 0 {
			log::info!("📦 removed {removed} retired or abandoned file(s) from the model store");
		}
	}

	async fn fetch_from_peers(&self, info: &ModelInfo<BlockNumber>) -> Result<PathBuf, String> {
		let (hash, size) = (info.spec.artifact_hash, info.spec.artifact_size);
		self.store
			.ensure_space(&hash, size.saturating_sub(self.store.partial_len(&hash)))
			.map_err(|e| e.to_string())?;
		let peers = self.sync.peers_info().await.unwrap_or_default();
		if peers.is_empty() {
			return Err("no connected peer".into());
		}
		for (peer, _) in peers {
			let mut progress = Progress::new(info, &format!("peer {peer}"));
			let mut offset = self.store.partial_len(&hash);
			let mut refusals = 0u32;
			while offset < size {
				let request = Request::encode(&(hash, offset, CHUNK as u32));
				let answer = self
					.network
					.request(
						peer,
						self.protocol.clone(),
						request,
						None,
						IfDisconnected::ImmediateError,
					)
					.await;
				let chunk = match answer.map(|(bytes, _)| Response::decode(&mut &bytes[..])) {
					Ok(Ok(Some(chunk))) if !chunk.is_empty() => {
						refusals = 0;
						chunk
					}
					// Over the peer's request rate: wait for it rather than give up.
					Err(sc_network::RequestFailure::Refused) if refusals < MAX_REFUSALS => {
						refusals += 1;
						tokio::time::sleep(REFUSED_WAIT).await;
						continue;
					}
					Ok(Ok(_)) => break,
					Ok(Err(_)) => {
						log::warn!("📦 peer {peer} sent a malformed artifact chunk");
						break;
					}
					Err(e) => {
						log::debug!("📦 artifact request to {peer} failed: {e}");
						break;
					}
				};
				match self.store.append(&hash, size, offset, &chunk) {
					Ok(n) => offset = n,
					Err(e) => {
						log::warn!("📦 {} from peer {peer} refused: {e}", label(info));
						self.count("peer", "refused");
						break;
					}
				}
				progress.update(offset);
			}
			if offset >= size {
				match self.store.finish_async(&hash, size).await {
					Ok(path) => {
						log::info!("📦 {} fetched from peer {peer} and verified", label(info));
						self.count("peer", "ok");
						return Ok(path);
					}
					Err(e) => {
						log::warn!("📦 {} from peer {peer} refused: {e}", label(info));
						self.count("peer", "refused");
					}
				}
			}
		}
		Err("no connected peer has it".into())
	}
}

#[derive(Default)]
struct State {
	/// The tier last seen (`Some(None)`: the operator holds none).
	tier: Option<Option<Tier>>,
	known: BTreeMap<[u8; 32], ModelInfo<BlockNumber>>,
	retries: HashMap<[u8; 32], Retry>,
	/// Verified artifacts this binary cannot build: kept, not fetched or loaded again.
	unbuildable: std::collections::BTreeSet<[u8; 32]>,
}

/// The local store against the registry, for the `models_status` RPC method and the
/// `noderr-node models` command: every active registered version with its state on this node
/// (`present`, `missing`, `partial`, `wrong hash`), whether this node's tier serves it and
/// whether the ML service serves it now, then the files in the store the registry no longer
/// lists. Re-hashes the stored files.
pub fn status(
	client: &FullClient,
	store: &Store,
	models: &Models,
	operator: Option<&AccountId>,
) -> Result<serde_json::Value, String> {
	use serde_json::json;
	let best = client.info().best_hash;
	let tier = node_tier(client, best, operator)?;
	let all =
		client.runtime_api().active_models(best, Tier::Guardian).map_err(|e| e.to_string())?;
	let loaded = models.loaded();
	let held = store.list().map_err(|e| e.to_string())?;
	let mut rows = Vec::new();
	for m in &all {
		let hash = m.spec.artifact_hash;
		let local = if held.iter().any(|(h, _)| *h == hash) {
			match noderr_ml::store::hash_file(&store.path(&hash)) {
				Ok((got, len)) if got == hash && len == m.spec.artifact_size => {
					"present".to_string()
				}
				Ok(_) => "wrong hash".to_string(),
				Err(e) => format!("unreadable: {e}"),
			}
		} else {
			match store.partial_len(&hash) {
				0 => "missing".to_string(),
				got => format!("partial ({got} of {} bytes)", m.spec.artifact_size),
			}
		};
		rows.push(json!({
			"name": String::from_utf8_lossy(&m.name),
			"version": m.version.to_string(),
			"hash": hex(&hash),
			"size": m.spec.artifact_size,
			"minTier": format!("{:?}", m.spec.min_tier),
			"status": match m.status {
				Status::Live => "live".to_string(),
				Status::Deprecated(at) => format!("deprecated at #{at}"),
			},
			"forThisNode": tier.is_some_and(|t| m.spec.min_tier <= t),
			"local": local,
			"served": loaded.contains(&hash),
		}));
	}
	let unlisted: Vec<_> = held
		.iter()
		.filter(|(h, _)| !all.iter().any(|m| m.spec.artifact_hash == *h))
		.map(|(h, size)| json!({ "hash": hex(h), "size": size }))
		.collect();
	Ok(json!({
		"tier": tier.map(|t| format!("{t:?}")),
		"store": store.dir().display().to_string(),
		"models": rows,
		"unlisted": unlisted,
	}))
}

/// The `models_status` RPC method: [`status`]. Unsafe (it re-hashes the store), so only on
/// a node started with `--rpc-methods unsafe` or listening on localhost with the default
/// policy.
pub fn rpc(
	client: Arc<FullClient>,
	store: Store,
	models: Models,
	operator: Option<AccountId>,
) -> jsonrpsee::RpcModule<()> {
	let mut module = jsonrpsee::RpcModule::new(());
	module
		.register_blocking_method("models_status", move |_, _, ext| {
			sc_rpc_api::check_if_safe(&ext)?;
			status(&client, &store, &models, operator.as_ref())
				.map_err(|e| jsonrpsee::types::ErrorObject::owned(5000, e, None::<()>))
		})
		.expect("a fresh module has no methods");
	module
}

/// `noderr-node models`: asks a running node for [`status`] and prints it as a table.
pub fn print_status(cmd: &crate::cli::ModelsCmd) -> Result<(), String> {
	let runtime = tokio::runtime::Builder::new_current_thread()
		.enable_all()
		.build()
		.map_err(|e| e.to_string())?;
	let http = Http::new()?;
	let status =
		runtime.block_on(http.json_rpc(&cmd.rpc_url, "models_status", serde_json::json!([])))?;
	if cmd.json {
		println!("{}", serde_json::to_string_pretty(&status).map_err(|e| e.to_string())?);
		return Ok(());
	}
	let text = |v: &serde_json::Value| match v {
		serde_json::Value::String(s) => s.clone(),
		serde_json::Value::Bool(true) => "yes".into(),
		serde_json::Value::Bool(false) => "no".into(),
		serde_json::Value::Null => "-".into(),
		other => other.to_string(),
	};
	println!("store {}; this node serves tier {}", text(&status["store"]), text(&status["tier"]));
	let header =
		["MODEL", "VERSION", "MIN TIER", "REGISTRY", "FOR NODE", "LOCAL", "SERVED", "HASH"];
	let keys = ["name", "version", "minTier", "status", "forThisNode", "local", "served", "hash"];
	let rows: Vec<Vec<String>> = status["models"]
		.as_array()
		.into_iter()
		.flatten()
		.map(|m| keys.iter().map(|k| text(&m[*k])).collect())
		.collect();
	let widths: Vec<usize> = (0..header.len())
		.map(|i| rows.iter().map(|r| r[i].len()).chain([header[i].len()]).max().unwrap_or(0))
		.collect();
	let line = |cells: Vec<String>| {
		cells.iter().zip(&widths).map(|(c, w)| format!("{c:<w$}")).collect::<Vec<_>>().join("  ")
	};
	println!("{}", line(header.iter().map(|h| h.to_string()).collect()));
	for row in rows {
		println!("{}", line(row));
	}
	for file in status["unlisted"].as_array().into_iter().flatten() {
		println!("not in the registry: {} ({} bytes)", text(&file["hash"]), text(&file["size"]));
	}
	Ok(())
}

#[cfg(test)]
mod tests {
	use super::{PeerLimiter, PEER_BURST};
	use std::time::{Duration, Instant};

	#[test]
	fn a_peer_gets_its_burst_then_its_rate_and_others_are_unaffected() {
		let mut limiter = PeerLimiter::default();
		let (a, b) = (sc_network::PeerId::random(), sc_network::PeerId::random());
		let now = Instant::now();
		let burst = (0..100).filter(|_| limiter.allow(a, now)).count();
		assert_eq!(burst, PEER_BURST as usize);
		assert!(!limiter.allow(a, now), "over its burst");
		assert!(limiter.allow(b, now), "another peer still served");
		// One second later: `PEER_RATE` more.
		let later = now + Duration::from_secs(1);
		let refilled = (0..100).filter(|_| limiter.allow(a, later)).count();
		assert_eq!(refilled, super::PEER_RATE as usize);
	}
}
