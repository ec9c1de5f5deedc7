//! Keeps the store and the ML service in line with the registry.
//!
//! On start, on every new best block, every [`RETRY_TICK`] and whenever a download ends, the
//! loop asks the runtime for the models of the node's tier (`ModelRegistryApi::active_models`),
//! unloads what the registry no longer lists, prunes retired files, and starts a download task
//! for each listed artifact that is not served yet (at most [`MAX_DOWNLOADS`] at once). The
//! loop itself never waits on a download: one stuck artifact never holds the others, nor the
//! unloading of retired versions. A task takes its artifact from, in order: the store; the
//! operator's import directory (`--ml-models`); connected peers ([`super::download`]); the
//! registered HTTP(S) locations (resumed with range requests); then has the ML service load
//! it. Whatever the source, bytes enter the store only if their size and hash are the
//! registered ones. A failure is logged with the reason and retried with exponential backoff;
//! the versions already served keep being served.

use super::{
	download::{self, ChunkSource, Limits, Misbehaviour},
	metrics::Metrics,
	peers::PeerSource,
	status::{label, node_tier},
};
use crate::client::FullClient;
use futures::{channel::mpsc, StreamExt};
use noderr_ml::{
	artifact::hex,
	service::Models,
	store::{Http, Store, StoreError},
};
use noderr_primitives::Tier;
use noderr_runtime::{opaque::Block, AccountId, BlockNumber};
use pallet_model_registry_runtime_api::{ModelInfo, ModelRegistryApi, Status};
use sc_client_api::{BlockchainEvents, HeaderBackend};
use sc_network::{service::traits::NetworkService, ProtocolName};
use sp_api::ProvideRuntimeApi;
use sp_consensus::SyncOracle;
use std::{
	collections::{BTreeMap, BTreeSet, HashMap},
	path::PathBuf,
	sync::{Arc, Mutex},
	time::{Duration, Instant},
};

/// How often failed downloads are reconsidered when no block arrives.
pub const RETRY_TICK: Duration = Duration::from_secs(3);
/// Artifacts obtained at once.
pub const MAX_DOWNLOADS: usize = 4;
/// First and longest wait before retrying a failed artifact.
const BACKOFF_MIN: Duration = Duration::from_secs(3);
const BACKOFF_MAX: Duration = Duration::from_secs(300);
/// How long a peer that misbehaved is asked last for an artifact.
const BLAME_MEMORY: Duration = Duration::from_secs(600);
/// Artifacts at least this large report download progress in the log.
const PROGRESS_FROM: u64 = 4 << 20;

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

/// What the download tasks share.
pub(super) struct Fetcher {
	pub store: Store,
	pub models: Models,
	pub http: Http,
	/// The operator's own copies (`--ml-models`).
	pub import_dir: Option<PathBuf>,
	pub network: Arc<dyn NetworkService>,
	pub sync: Arc<sc_network_sync::SyncingService<Block>>,
	pub protocol: ProtocolName,
	pub metrics: Option<Metrics>,
	pub limits: Limits,
	/// Peers that misbehaved, per artifact, and when: asked last for a while.
	pub blamed: Mutex<HashMap<[u8; 32], HashMap<String, Instant>>>,
}

/// How obtaining one artifact ended.
enum Outcome {
	Served(String),
	/// Verified and held, but this binary cannot build it.
	Unbuildable(String),
	Failed(String),
}

/// When to try a failed artifact again.
struct Retry {
	attempts: u32,
	next: Instant,
}

#[derive(Default)]
struct State {
	/// The tier last seen (`Some(None)`: the operator holds none).
	tier: Option<Option<Tier>>,
	known: BTreeMap<[u8; 32], ModelInfo<BlockNumber>>,
	retries: HashMap<[u8; 32], Retry>,
	/// Verified artifacts this binary cannot build: kept, not fetched or loaded again.
	unbuildable: BTreeSet<[u8; 32]>,
	/// Download tasks running.
	running: HashMap<[u8; 32], tokio::task::JoinHandle<()>>,
}

/// The loop that keeps the store and the ML service in line with the registry.
pub(super) struct ModelSync {
	pub client: Arc<FullClient>,
	/// The operator whose tier decides the models (`--ml-operator`); every tier if `None`.
	pub operator: Option<AccountId>,
	pub fetcher: Arc<Fetcher>,
}

impl ModelSync {
	/// Runs until the node stops.
	pub async fn run(self) {
		let mut state = State::default();
		let mut blocks = self.client.import_notification_stream();
		let (done_tx, mut done_rx) = mpsc::unbounded();
		match &self.operator {
			Some(who) => log::info!(
				"📦 model store {}: models of operator {who}'s tier",
				self.fetcher.store.dir().display()
			),
			None => log::info!(
				"📦 model store {}: no --ml-operator given, models of every tier",
				self.fetcher.store.dir().display()
			),
		}
		let mut stopping = false;
		while !stopping {
			self.refresh(&mut state, &done_tx);
			tokio::select! {
				block = blocks.next() => stopping = block.is_none(),
				_ = tokio::time::sleep(RETRY_TICK) => {}
				Some((hash, outcome)) = done_rx.next() => self.settle(&mut state, hash, outcome),
			}
		}
		for (_, task) in state.running.drain() {
			task.abort();
		}
	}

	fn refresh(&self, state: &mut State, done: &mpsc::UnboundedSender<([u8; 32], Outcome)>) {
		let fetcher = &self.fetcher;
		if fetcher.sync.is_major_syncing() {
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
		for hash in fetcher.models.loaded() {
			if !wanted.contains_key(&hash) {
				let what = state.known.get(&hash).map(label).unwrap_or_default();
				log::info!(
					"📋 registry: {what} ({}) retired or not for this tier: unloaded",
					hex(&hash)
				);
				fetcher.models.unload(&hash);
			}
		}
		state.running.retain(|hash, task| {
			let keep = wanted.contains_key(hash);
			if !keep {
				// Retired while it was being obtained.
				task.abort();
			}
			keep
		});
		if state.known.keys().ne(wanted.keys()) {
			self.prune(best);
			fetcher.blamed.lock().expect("not poisoned").retain(|h, _| wanted.contains_key(h));
		}
		state.known = wanted.clone();
		state.retries.retain(|h, _| wanted.contains_key(h));
		let loaded = fetcher.models.loaded();
		for (hash, info) in &wanted {
			if state.running.len() >= MAX_DOWNLOADS {
				break;
			}
			if loaded.contains(hash)
				|| state.running.contains_key(hash)
				|| state.unbuildable.contains(hash)
				|| state.retries.get(hash).is_some_and(|r| r.next > Instant::now())
			{
				continue;
			}
			let (fetcher, info, done, hash) = (fetcher.clone(), info.clone(), done.clone(), *hash);
			let task = tokio::spawn(async move {
				let outcome = fetcher.obtain_and_load(&info).await;
				let _ = done.unbounded_send((hash, outcome));
			});
			state.running.insert(hash, task);
		}
		if let Some(m) = &fetcher.metrics {
			m.wanted.set(wanted.len() as u64);
			m.served.set(fetcher.models.loaded().len() as u64);
			m.downloading.set(state.running.len() as u64);
		}
	}

	/// Records how a download task ended.
	fn settle(&self, state: &mut State, hash: [u8; 32], outcome: Outcome) {
		state.running.remove(&hash);
		let Some(info) = state.known.get(&hash) else { return };
		match outcome {
			Outcome::Served(served) => {
				log::info!("🧠 serving {} ({served})", label(info));
				state.retries.remove(&hash);
			}
			Outcome::Unbuildable(e) => {
				// The bytes are the registered ones: fetching them again cannot help. Keep
				// them and stop trying until the node restarts (an upgraded binary may build
				// them).
				log::error!(
					"🧠 {} ({}) is registered, verified and held, but this node cannot build \
					 it: {e}. Not retried until restart; upgrade the node if the registry's \
					 publisher expects it",
					label(info),
					hex(&hash)
				);
				state.unbuildable.insert(hash);
			}
			Outcome::Failed(e) => {
				let retry = state
					.retries
					.entry(hash)
					.or_insert(Retry { attempts: 0, next: Instant::now() });
				let wait = (BACKOFF_MIN * 2u32.saturating_pow(retry.attempts)).min(BACKOFF_MAX);
				retry.attempts += 1;
				retry.next = Instant::now() + wait;
				log::warn!(
					"📦 {} ({}) not served: {e}; retry {} in {}s",
					label(info),
					hex(&hash),
					retry.attempts,
					wait.as_secs()
				);
			}
		}
	}

	/// Removes stored files and partial downloads of artifacts no tier's registry lists any
	/// more (retired): files of other tiers stay, for peers.
	fn prune(&self, best: <Block as sp_runtime::traits::Block>::Hash) {
		let mut registered = BTreeSet::new();
		for tier in Tier::ALL {
			match self.client.runtime_api().active_models(best, tier) {
				Ok(models) => registered.extend(models.into_iter().map(|m| m.spec.artifact_hash)),
				// Without the whole registry nothing can be called retired.
				Err(_) => return,
			}
		}
		let removed = self.fetcher.store.prune(&registered);
		if removed > 0 {
			log::info!("📦 removed {removed} retired or abandoned file(s) from the model store");
		}
	}
}

impl Fetcher {
	fn count(&self, source: &str, outcome: &str) {
		if let Some(m) = &self.metrics {
			m.fetches.with_label_values(&[source, outcome]).inc();
		}
	}

	async fn obtain_and_load(&self, info: &ModelInfo<BlockNumber>) -> Outcome {
		let path = match self.obtain(info).await {
			Ok(path) => path,
			Err(e) => return Outcome::Failed(e),
		};
		let (models, hash) = (self.models.clone(), info.spec.artifact_hash);
		match tokio::task::spawn_blocking(move || models.load(&path, Some(hash))).await {
			Ok(Ok(m)) => Outcome::Served(m.hash.to_string()),
			Ok(Err(e)) => Outcome::Unbuildable(e.to_string()),
			Err(e) => Outcome::Failed(format!("loader failed: {e}")),
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

	/// Fetches the artifact from connected peers, those that misbehaved with it lately last
	/// (each such answer costs them reputation until the peer set bans them).
	async fn fetch_from_peers(&self, info: &ModelInfo<BlockNumber>) -> Result<PathBuf, String> {
		let (hash, size) = (info.spec.artifact_hash, info.spec.artifact_size);
		self.store.ensure_space(&hash, size).map_err(|e| e.to_string())?;
		let suspects: Vec<String> = {
			let mut blamed = self.blamed.lock().expect("not poisoned");
			let entry = blamed.entry(hash).or_default();
			entry.retain(|_, at| at.elapsed() < BLAME_MEMORY);
			entry.keys().cloned().collect()
		};
		let mut sources: Vec<Arc<dyn ChunkSource>> = self
			.sync
			.peers_info()
			.await
			.unwrap_or_default()
			.into_iter()
			.map(|(peer, _)| {
				Arc::new(PeerSource {
					network: self.network.clone(),
					protocol: self.protocol.clone(),
					peer,
				}) as Arc<dyn ChunkSource>
			})
			.collect();
		sources.sort_by_key(|s| suspects.contains(&s.name()));
		let mut progress: Option<(String, Progress)> = None;
		let fetched = download::fetch(
			&self.store,
			&label(info),
			hash,
			size,
			&sources,
			&self.limits,
			|source, done| {
				if progress.as_ref().is_none_or(|(s, _)| s != source) {
					progress = Some((source.to_string(), Progress::new(info, source)));
				}
				if let Some((_, p)) = &mut progress {
					p.update(done)
				}
			},
		)
		.await;
		self.record_blame(hash, &fetched.blamed);
		match fetched.result {
			Ok((path, source)) => {
				log::info!("📦 {} fetched from {source} and verified", label(info));
				self.count("peer", "ok");
				Ok(path)
			}
			Err(e) => {
				if fetched.blamed.iter().any(|(_, what)| *what == Misbehaviour::BadBytes) {
					self.count("peer", "refused");
				}
				Err(e)
			}
		}
	}

	fn record_blame(&self, hash: [u8; 32], blamed: &[(String, Misbehaviour)]) {
		if blamed.is_empty() {
			return;
		}
		let mut all = self.blamed.lock().expect("not poisoned");
		let entry = all.entry(hash).or_default();
		for (source, what) in blamed {
			entry.insert(source.clone(), Instant::now());
			if let Some(m) = &self.metrics {
				m.misbehaviour.with_label_values(&[what.label()]).inc();
			}
		}
	}
}
