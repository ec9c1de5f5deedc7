//! The off-chain worker: the node half of the core loop.
//!
//! On each imported block, for each worker key the node's keystore holds ([`WorkerKeys`]), the
//! worker finds its operator (`OperatorOf`) and, under a per-operator storage lock so that two
//! overlapping runs never both submit:
//! 1. declares the models the node's ML service serves (a heartbeat) when none is in force, the
//!    set changed, or half the heartbeat period passed;
//! 2. for each open task assigned to the operator in its commit phase, computes the answer
//!    (the ML service over loopback HTTP for model tasks, market sources for observations),
//!    writes answer and salt to persistent off-chain storage, then submits the commitment;
//! 3. for each task in its reveal phase that the operator committed to, reveals what was
//!    persisted. A restarted node therefore reveals what it committed and never commits twice.
//!
//! Submissions are authorized transactions ([`Call::submit`]) signed by the worker key: no nonce
//! to collide on. Everything that can go wrong (no ML service, a slow or failing one, a model
//! not served, market sources down or wrong, a key with no operator link) is a log line and a
//! skipped submission, never a panic and never a commitment without a persisted reveal.
//!
//! The node writes two values into persistent off-chain storage at start: the ML service's URL
//! ([`ML_URL_KEY`]) and the market sources ([`MARKET_SOURCES_KEY`], `format=base-url` lines;
//! formats [`SourceFormat`]).

mod stats;

pub use stats::{Histogram, Labelled, WorkerStats, LATENCY_BUCKETS_MS, MAX_LABELS, STATS_KEY};

use crate::*;
use alloc::{
	format,
	string::{String, ToString},
	vec,
	vec::Vec,
};
use codec::{Decode, Encode};
use frame_support::traits::Get;
use frame_support::{
	storage::{with_transaction, TransactionOutcome},
	BoundedVec,
};
use frame_system::offchain::SubmitTransaction;
use noderr_primitives::{commitment, Answer, ModelProvider, TierProvider};
use serde_json::Value;
use sp_runtime::offchain::{
	http,
	storage::StorageValueRef,
	storage_lock::{StorageLock, Time},
	Duration,
};
use sp_runtime::{traits::Saturating, DispatchError};

/// Off-chain storage key of the ML service's JSON-RPC URL (UTF-8), written by the node.
pub const ML_URL_KEY: &[u8] = b"noderr/ml-url";
/// Off-chain storage key of the node's market sources: UTF-8 lines `format=base-url`.
pub const MARKET_SOURCES_KEY: &[u8] = b"noderr/market-sources";
/// Off-chain storage key of the block at which the service's models were last listed.
const SERVED_CHECKED_KEY: &[u8] = b"noderr/served-checked-at";
/// How long one HTTP request may take.
pub const HTTP_DEADLINE_MS: u64 = 10_000;
/// How long a run may hold an operator's lock before another run may take it over.
const LOCK_MS: u64 = 60_000;
/// Blocks to wait for a submitted transaction to land before submitting it again.
const RESUBMIT_AFTER: u32 = 3;
const LOG: &str = "noderr::worker";

/// The worker keys this node holds, and signing with them.
pub trait WorkerKeys<AccountId, Signature> {
	/// The worker accounts whose keys the node's keystore holds.
	fn local() -> Vec<AccountId>;
	/// `worker`'s signature of `payload`, if the keystore holds its key.
	fn sign(worker: &AccountId, payload: &[u8]) -> Option<Signature>;
}

/// No worker keys (a runtime without an off-chain worker).
impl<A, S> WorkerKeys<A, S> for () {
	fn local() -> Vec<A> {
		Vec::new()
	}
	fn sign(_: &A, _: &[u8]) -> Option<S> {
		None
	}
}

/// The wire formats of market sources the worker reads.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum SourceFormat {
	/// `GET {base}/api/v3/klines?symbol=S&interval=1h&startTime=MS&limit=1`: arrays of
	/// `[open time ms, "open", "high", "low", "close", "volume", ...]`.
	Binance,
	/// `GET {base}/products/S/candles?granularity=SECONDS&start=T&end=T`: arrays of
	/// `[time, low, high, open, close, volume]`.
	Coinbase,
}

impl SourceFormat {
	fn parse(name: &str) -> Option<Self> {
		match name {
			"binance" => Some(Self::Binance),
			"coinbase" => Some(Self::Coinbase),
			_ => None,
		}
	}

	fn name(self) -> &'static str {
		match self {
			Self::Binance => "binance",
			Self::Coinbase => "coinbase",
		}
	}
}

/// A market source the node was configured with.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct MarketSource {
	/// Its format.
	pub format: SourceFormat,
	/// Its base URL.
	pub base: String,
}

/// Parses the node's market-source lines (`format=base-url`), skipping bad ones with a log line.
pub fn parse_sources(text: &str) -> Vec<MarketSource> {
	text.lines()
		.map(str::trim)
		.filter(|l| !l.is_empty())
		.filter_map(|line| {
			let parsed = line.split_once('=').and_then(|(format, base)| {
				let ok = base.starts_with("http://") || base.starts_with("https://");
				Some(MarketSource {
					format: SourceFormat::parse(format)?,
					base: ok.then(|| base.trim_end_matches('/').into())?,
				})
			});
			if parsed.is_none() {
				log::warn!(target: LOG, "market source {line:?} is not FORMAT=http(s)://…; skipped");
			}
			parsed
		})
		.collect()
}

/// What a worker persisted for a task before committing: the answer and salt it reveals.
#[derive(Clone, PartialEq, Eq, Encode, Decode, Debug)]
pub struct Persisted {
	/// The committed answer.
	pub answer: Answer,
	/// Its salt.
	pub salt: [u8; 32],
	/// Block of the last commit submission (resubmitted if it has not landed).
	pub committed_at: u32,
	/// Block of the last reveal submission, if any.
	pub revealed_at: Option<u32>,
}

/// Why a task was not answered this round.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Skip {
	/// The node has no ML service address.
	NoMlService,
	/// The ML service did not answer in time or at all.
	MlUnreachable(String),
	/// It answered with an error (a model not loaded, bad input).
	MlError(String),
	/// Its answer was not what the model's output spec says.
	BadMlAnswer(String),
	/// The task's model is not registered any more.
	UnknownModel,
	/// The history window is no longer kept.
	HistoryGone,
	/// No market source gave a usable bar.
	NoMarketData,
}

impl Skip {
	/// The reason's label in the worker's metrics.
	pub fn label(&self) -> &'static str {
		match self {
			Self::NoMlService => "no_ml_service",
			Self::MlUnreachable(_) => "ml_unreachable",
			Self::MlError(_) => "ml_error",
			Self::BadMlAnswer(_) => "bad_ml_answer",
			Self::UnknownModel => "unknown_model",
			Self::HistoryGone => "history_gone",
			Self::NoMarketData => "no_market_data",
		}
	}
}

/// Per task, the worker's latest outcome, as a metrics label.
type Seen = Vec<(TaskId, Vec<u8>)>;
const ASSIGNED: &[u8] = b"not_answered";
const COMMITTED: &[u8] = b"no_reveal";
const REFUSED: &[u8] = b"refused";
const REVEALED: &[u8] = b"revealed";

impl<T: Config> Pallet<T> {
	/// The worker's run for an imported block.
	pub fn offchain_work(now: BlockNumberFor<T>) {
		let workers = T::WorkerKeys::local();
		if workers.is_empty() {
			return;
		}
		let started = sp_io::offchain::timestamp();
		let mut tally = WorkerStats { runs: 1, ..Default::default() };
		let now: u32 = now.try_into().unwrap_or(u32::MAX);
		// Compare the service's models with the heartbeats every tenth of a heartbeat period.
		let period: u32 = Configuration::<T>::get().heartbeat_period.try_into().unwrap_or(u32::MAX);
		let checked = StorageValueRef::persistent(SERVED_CHECKED_KEY);
		let check = match checked.get::<u32>() {
			Ok(Some(at)) => now >= at.saturating_add((period / 10).max(1)) || now < at,
			_ => true,
		};
		let mut served = None;
		for worker in workers {
			let Some(operator) = OperatorOf::<T>::get(&worker) else {
				log::warn!(
					target: LOG,
					"worker key {worker:?} is not linked to an operator: the operator links it \
					 with inference.linkWorker; nothing submitted"
				);
				continue;
			};
			let lock_key = (b"noderr/worker-lock/", &operator).encode();
			let mut lock =
				StorageLock::<Time>::with_deadline(&lock_key, Duration::from_millis(LOCK_MS));
			let Ok(_guard) = lock.try_lock() else {
				log::debug!(target: LOG, "a previous run still works for {operator:?}");
				continue;
			};
			Self::heartbeat_if_due(&worker, &operator, now, check, &mut served, &mut tally);
			Self::answer_tasks(&worker, &operator, now, &mut tally);
		}
		if served.is_some() {
			checked.set(&now);
		}
		tally.run_time.observe(sp_io::offchain::timestamp().diff(&started).millis());
		tally.save();
	}

	/// The ML service's URL, as the node wrote it.
	fn ml_url() -> Option<String> {
		let bytes = StorageValueRef::persistent(ML_URL_KEY).get::<Vec<u8>>().ok().flatten()?;
		String::from_utf8(bytes).ok()
	}

	fn market_sources() -> Vec<MarketSource> {
		let raw = StorageValueRef::persistent(MARKET_SOURCES_KEY).get::<Vec<u8>>().ok().flatten();
		raw.and_then(|b| String::from_utf8(b).ok()).map(|s| parse_sources(&s)).unwrap_or_default()
	}

	/// Declares the served models when due: none in force, half the period passed, or (when
	/// `check` says the service's list is to be compared this run) the set changed. So a model
	/// loaded after the node started is declared within a check interval, and an operator whose
	/// service went down is unlisted within one. `served` caches the service's list for the run.
	fn heartbeat_if_due(
		worker: &T::AccountId,
		operator: &T::AccountId,
		now: u32,
		check: bool,
		served: &mut Option<Vec<[u8; 32]>>,
		tally: &mut WorkerStats,
	) {
		let tier = T::Tiers::tier(operator);
		let config = Configuration::<T>::get();
		let period: u32 = config.heartbeat_period.try_into().unwrap_or(u32::MAX);
		let current = Heartbeats::<T>::get(operator);
		let aged = current.as_ref().is_none_or(|h| {
			let at: u32 = h.at.try_into().unwrap_or(0);
			now >= at.saturating_add(period / 2)
		});
		if !(aged || check) || tier.is_none() {
			return;
		}
		let mut keys = served
			.get_or_insert_with(|| match Self::ml_url().map(|url| served_models(&url, tally)) {
				Some(Ok(hashes)) => hashes,
				Some(Err(e)) => {
					log::warn!(target: LOG, "ML service unavailable ({e:?}): declaring no models");
					Vec::new()
				}
				None => {
					log::warn!(target: LOG, "the node gave no ML service address: declaring no models");
					Vec::new()
				}
			})
			.clone();
		// Only what the operator's tier may serve, as the pallet checks.
		keys.retain(|k| T::Models::model(k).is_some_and(|m| tier.is_some_and(|t| t >= m.min_tier)));
		if !Self::market_sources().is_empty() && tier.is_some_and(|t| t >= config.observation_tier)
		{
			keys.push(OBSERVATION_KEY);
		}
		keys.sort();
		keys.dedup();
		keys.truncate(T::MaxServedModels::get() as usize);
		let keys: BoundedVec<[u8; 32], T::MaxServedModels> =
			keys.try_into().expect("truncated to the bound");
		if !aged && current.is_some_and(|h| h.keys == keys) {
			return;
		}

		// One heartbeat in flight at a time.
		let sent_key = (b"noderr/heartbeat-sent/", operator).encode();
		let sent = StorageValueRef::persistent(&sent_key);
		if let Ok(Some((at, sent_keys))) = sent.get::<(u32, Vec<[u8; 32]>)>() {
			if sent_keys == keys.to_vec() && now < at.saturating_add(RESUBMIT_AFTER) {
				return;
			}
		}
		let work = Work::Heartbeat { keys: keys.clone(), at: now.into() };
		if Self::submit_work(worker, operator, work, tally) {
			tally.heartbeats += 1;
			sent.set(&(now, keys.to_vec()));
			log::info!(target: LOG, "heartbeat for {operator:?}: {} service keys", keys.len());
		}
	}

	/// Commits and reveals for every open task assigned to `operator`.
	fn answer_tasks(
		worker: &T::AccountId,
		operator: &T::AccountId,
		now: u32,
		tally: &mut WorkerStats,
	) {
		let index_key = (b"noderr/worker-tasks/", operator).encode();
		let index_ref = StorageValueRef::persistent(&index_key);
		let mut index: Vec<TaskId> = index_ref.get().ok().flatten().unwrap_or_default();
		let seen_key = (b"noderr/worker-seen/", operator).encode();
		let seen_ref = StorageValueRef::persistent(&seen_key);
		let mut seen: Seen = seen_ref.get().ok().flatten().unwrap_or_default();
		let seen_before = seen.clone();
		let note = |seen: &mut Seen, id: TaskId, outcome: &[u8]| {
			if let Some(entry) = seen.iter_mut().find(|(t, _)| *t == id) {
				entry.1 = outcome.to_vec();
			}
		};
		let classes = Configuration::<T>::get().classes;
		for (id, task) in Tasks::<T>::iter() {
			if !task.assigned.iter().any(|a| &a.who == operator) {
				continue;
			}
			if !seen.iter().any(|(t, _)| *t == id) {
				seen.push((id, ASSIGNED.to_vec()));
				tally.assigned += 1;
			}
			// A phase that opened in this very block: a peer that has not imported the block
			// yet validates a submission against its parent, where the task is not in that
			// phase, refuses it and never takes it again (the pool propagates a transaction
			// once, and this node's pool keeps it, refusing a resubmission of the same work).
			// So work is submitted from the block after the one that opened its phase, which
			// the author's own worker would otherwise always lose the race for. A deadline is
			// never earlier than the opening block plus the window (a full deadline queue only
			// pushes it later), so `until >= now + window` holds exactly while the phase is
			// that fresh. A window of under 3 blocks leaves no room to wait (a submission
			// validated as block now + 2 must still be inside it): it is used at once.
			let class = &classes[task.class.index()];
			let fresh = |until: BlockNumberFor<T>, window: BlockNumberFor<T>| {
				window >= 3u32.into()
					&& until >= BlockNumberFor::<T>::from(now).saturating_add(window)
			};
			match task.phase {
				Phase::Commit { until } if fresh(until, class.commit_blocks) => continue,
				Phase::Reveal { until } if fresh(until, class.reveal_blocks) => continue,
				_ => {}
			}
			let key = (b"noderr/worker-answer/", id, operator).encode();
			let record = StorageValueRef::persistent(&key);
			let persisted: Option<Persisted> = record.get().ok().flatten();
			match task.phase {
				Phase::Commit { .. } if !Commitments::<T>::contains_key(id, operator) => {
					let persisted = match persisted {
						Some(p) if now < p.committed_at.saturating_add(RESUBMIT_AFTER) => continue,
						Some(p) => {
							tally.resubmitted.add(b"commit", 1);
							p
						}
						None => match Self::compute(&task, tally) {
							Ok(answer) => Persisted {
								answer,
								salt: sp_io::offchain::random_seed(),
								committed_at: now,
								revealed_at: None,
							},
							Err(why) => {
								log::warn!(target: LOG, "task {id}: skipped, {why:?}");
								note(&mut seen, id, why.label().as_bytes());
								continue;
							}
						},
					};
					// Persist first: whatever happens next, the reveal is known.
					let persisted = Persisted { committed_at: now, ..persisted };
					record.set(&persisted);
					if !index.contains(&id) {
						index.push(id);
						index_ref.set(&index);
					}
					let hash = commitment(id, operator, &persisted.answer, &persisted.salt);
					let work = Work::Commit { task: id, commitment: hash };
					if Self::submit_work(worker, operator, work, tally) {
						tally.committed += 1;
						note(&mut seen, id, COMMITTED);
						log::info!(target: LOG, "task {id}: committed {:?}", persisted.answer);
					} else {
						note(&mut seen, id, REFUSED);
					}
				}
				Phase::Reveal { .. }
					if Commitments::<T>::contains_key(id, operator)
						&& !Reveals::<T>::contains_key(id, operator) =>
				{
					let Some(mut p) = persisted else {
						log::error!(
							target: LOG,
							"task {id}: committed on chain but no answer persisted here (another \
							 node with this worker key?); cannot reveal"
						);
						note(&mut seen, id, b"no_persisted_answer");
						continue;
					};
					if p.revealed_at.is_some_and(|at| now < at.saturating_add(RESUBMIT_AFTER)) {
						continue;
					}
					if p.revealed_at.is_some() {
						tally.resubmitted.add(b"reveal", 1);
					}
					let work = Work::Reveal { task: id, answer: p.answer.clone(), salt: p.salt };
					if Self::submit_work(worker, operator, work, tally) {
						tally.revealed += 1;
						note(&mut seen, id, REVEALED);
						p.revealed_at = Some(now);
						record.set(&p);
						log::info!(target: LOG, "task {id}: revealed {:?}", p.answer);
					} else {
						note(&mut seen, id, REFUSED);
					}
				}
				_ => {}
			}
		}
		// Forget the answers of tasks that are over.
		let before = index.len();
		index.retain(|id| {
			let open = Tasks::<T>::contains_key(id);
			if !open {
				StorageValueRef::persistent(&(b"noderr/worker-answer/", *id, operator).encode())
					.clear();
			}
			open
		});
		if index.len() != before {
			index_ref.set(&index);
		}
		// Tasks that closed without an accepted reveal were missed, for their last reason.
		seen.retain(|(id, outcome)| {
			let open = Tasks::<T>::contains_key(id);
			if !open && outcome.as_slice() != REVEALED {
				tally.missed.add(outcome, 1);
			}
			open
		});
		if seen != seen_before {
			seen_ref.set(&seen);
		}
	}

	/// Signs and submits `work` for `operator` as an authorized transaction.
	fn submit_work(
		worker: &T::AccountId,
		operator: &T::AccountId,
		work: Work<BlockNumberFor<T>, T::MaxServedModels>,
		tally: &mut WorkerStats,
	) -> bool {
		let submission = Submission { operator: operator.clone(), work };
		// The pallet's own checks first, rolled back: a refusal gets its error's name.
		let checked = with_transaction(|| {
			TransactionOutcome::Rollback(Ok::<_, DispatchError>(Self::do_submission(
				submission.clone(),
			)))
		});
		if let Err(e) = checked.and_then(|r| r) {
			let name = match e {
				DispatchError::Module(m) => m.message.unwrap_or("unknown"),
				other => other.into(),
			};
			tally.refused.add(name.as_bytes(), 1);
			log::warn!(target: LOG, "submission for {operator:?} not made: the chain refuses it ({name})");
			return false;
		}
		let payload = Self::signing_payload(&submission);
		let Some(signature) = T::WorkerKeys::sign(worker, &payload) else {
			log::error!(target: LOG, "the keystore cannot sign with worker key {worker:?}");
			return false;
		};
		let call = Call::submit { submission, signature };
		let xt = T::create_authorized_transaction(call.into());
		match SubmitTransaction::<T, Call<T>>::submit_transaction(xt) {
			Ok(()) => true,
			Err(()) => {
				tally.refused.add(b"pool", 1);
				log::warn!(target: LOG, "the transaction pool refused a submission for {operator:?}");
				false
			}
		}
	}

	/// The answer to `task`.
	pub fn compute(task: &TaskOf<T>, tally: &mut WorkerStats) -> Result<Answer, Skip> {
		match &task.input {
			TaskInput::Observe { feed, bar_time } => Self::observe(*feed, *bar_time, tally),
			TaskInput::History { feed, end } => {
				let model = task.model.ok_or(Skip::UnknownModel)?;
				let spec = T::Models::model(&model).ok_or(Skip::UnknownModel)?;
				let needed = Self::bars_needed(&spec.input).ok_or(Skip::UnknownModel)?;
				let bars = Self::window(*feed, *end, needed).ok_or(Skip::HistoryGone)?;
				let url = Self::ml_url().ok_or(Skip::NoMlService)?;
				let bars_json: Vec<Value> = bars.iter().map(bar_json).collect();
				run_model(&url, &model, &spec.kind, serde_json::json!({ "bars": bars_json }), tally)
			}
			TaskInput::Text(text) => {
				let model = task.model.ok_or(Skip::UnknownModel)?;
				let spec = T::Models::model(&model).ok_or(Skip::UnknownModel)?;
				let url = Self::ml_url().ok_or(Skip::NoMlService)?;
				let text = core::str::from_utf8(text)
					.map_err(|_| Skip::MlError("the task's text is not UTF-8".into()))?;
				run_model(&url, &model, &spec.kind, serde_json::json!({ "text": text }), tally)
			}
		}
	}

	/// The feed's bar opening at `bar_time`: the median (by close) of what the node's market
	/// sources report, skipping sources that fail or report another bar.
	fn observe(feed: FeedId, bar_time: u64, tally: &mut WorkerStats) -> Result<Answer, Skip> {
		let Some(f) = Feeds::<T>::get(feed) else { return Err(Skip::NoMarketData) };
		let mut bars = Vec::new();
		for source in Self::market_sources() {
			let prefix = format!("{}:", source.format.name());
			let symbol = f.sources.iter().find_map(|h| {
				let h = core::str::from_utf8(h).ok()?;
				h.strip_prefix(prefix.as_str()).map(String::from)
			});
			let Some(symbol) = symbol else {
				log::debug!(target: LOG, "feed {feed} names no {} symbol", source.format.name());
				continue;
			};
			match fetch_bar(&source, &symbol, f.interval, bar_time) {
				Ok(bar) => bars.push(bar),
				Err(e) => {
					tally.source_failures.add(source.base.as_bytes(), 1);
					log::warn!(
						target: LOG,
						"market source {} ({}): {e}; skipped",
						source.base,
						source.format.name()
					)
				}
			}
		}
		if bars.is_empty() {
			log::warn!(target: LOG, "feed {feed} bar {bar_time}: no usable market source; round skipped");
			return Err(Skip::NoMarketData);
		}
		bars.sort_by_key(|b| b[3]);
		let median = bars[(bars.len() - 1) / 2];
		Ok(median.to_vec().try_into().expect("five values fit an answer"))
	}
}

/// `0x`-prefixed lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
	let mut s = String::with_capacity(2 + bytes.len() * 2);
	s.push_str("0x");
	for b in bytes {
		s.push_str(&format!("{b:02x}"));
	}
	s
}

/// A fixed-point 10^6 value as an exact decimal.
pub fn decimal(v: i64) -> String {
	let sign = if v < 0 { "-" } else { "" };
	let a = v.unsigned_abs();
	format!("{sign}{}.{:06}", a / 1_000_000, a % 1_000_000)
}

/// A decimal (`"4300.5"`, `-1e-3` is refused) as fixed point 10^6, rounded half away from zero.
pub fn parse_decimal(s: &str) -> Option<i64> {
	let (neg, digits) = match s.strip_prefix('-') {
		Some(rest) => (true, rest),
		None => (false, s),
	};
	let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
	if int.is_empty() || !int.bytes().all(|b| b.is_ascii_digit()) {
		return None;
	}
	if !frac.bytes().all(|b| b.is_ascii_digit()) {
		return None;
	}
	let mut value: i64 = int.parse::<i64>().ok()?.checked_mul(1_000_000)?;
	let mut scale = 100_000i64;
	for (i, b) in frac.bytes().enumerate() {
		let d = (b - b'0') as i64;
		if i < 6 {
			value = value.checked_add(d * scale)?;
			scale /= 10;
		} else {
			if i == 6 && d >= 5 {
				value = value.checked_add(1)?;
			}
			break;
		}
	}
	Some(if neg { -value } else { value })
}

/// A bar as the ML service reads it.
fn bar_json(b: &Bar) -> Value {
	// Exact decimals, parsed identically everywhere: every node computes on the same numbers.
	let n = |v: i64| Value::Number(decimal(v).parse().expect("a decimal is a JSON number"));
	serde_json::json!({
		"open": n(b.open), "high": n(b.high), "low": n(b.low), "close": n(b.close),
		"volume": n(b.volume),
	})
}

fn http_get(url: &str) -> Result<Vec<u8>, String> {
	let deadline = sp_io::offchain::timestamp().add(Duration::from_millis(HTTP_DEADLINE_MS));
	let pending = http::Request::get(url)
		.deadline(deadline)
		.send()
		.map_err(|e| format!("cannot send ({e:?})"))?;
	read_response(pending, deadline)
}

fn read_response(
	pending: http::PendingRequest,
	deadline: sp_runtime::offchain::Timestamp,
) -> Result<Vec<u8>, String> {
	let response = pending
		.try_wait(deadline)
		.map_err(|_| "no answer before the deadline".to_string())?
		.map_err(|e| format!("failed ({e:?})"))?;
	if response.code != 200 {
		return Err(format!("HTTP status {}", response.code));
	}
	Ok(response.body().collect())
}

/// Calls the ML service's JSON-RPC `method`, counting its latency and failures.
fn ml_call(url: &str, method: &str, params: Value, tally: &mut WorkerStats) -> Result<Value, Skip> {
	let started = sp_io::offchain::timestamp();
	let result = ml_request(url, method, params);
	tally.ml_calls.observe(sp_io::offchain::timestamp().diff(&started).millis());
	if let Err(why) = &result {
		tally.ml_failures.add(why.label().as_bytes(), 1);
	}
	result
}

fn ml_request(url: &str, method: &str, params: Value) -> Result<Value, Skip> {
	let body = serde_json::json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": params });
	let body = serde_json::to_vec(&body).expect("JSON serialises");
	let deadline = sp_io::offchain::timestamp().add(Duration::from_millis(HTTP_DEADLINE_MS));
	let pending = http::Request::post(url, vec![body])
		.add_header("Content-Type", "application/json")
		.deadline(deadline)
		.send()
		.map_err(|e| Skip::MlUnreachable(format!("{url}: cannot send ({e:?})")))?;
	let bytes =
		read_response(pending, deadline).map_err(|e| Skip::MlUnreachable(format!("{url}: {e}")))?;
	let reply: Value = serde_json::from_slice(&bytes)
		.map_err(|_| Skip::BadMlAnswer(format!("{method}: not JSON")))?;
	if let Some(error) = reply.get("error") {
		let message = error.get("message").and_then(Value::as_str).unwrap_or("no message");
		return Err(Skip::MlError(format!("{method}: {message}")));
	}
	reply.get("result").cloned().ok_or_else(|| Skip::BadMlAnswer(format!("{method}: no result")))
}

/// The models the ML service serves, by artifact hash.
fn served_models(url: &str, tally: &mut WorkerStats) -> Result<Vec<[u8; 32]>, Skip> {
	let list = ml_call(url, "ml_listModels", serde_json::json!([]), tally)?;
	let items =
		list.as_array().ok_or_else(|| Skip::BadMlAnswer("ml_listModels: not a list".into()))?;
	Ok(items.iter().filter_map(|m| parse_hash(m.get("hash")?.as_str()?)).collect())
}

fn parse_hash(s: &str) -> Option<[u8; 32]> {
	let s = s.strip_prefix("0x").unwrap_or(s);
	if s.len() != 64 {
		return None;
	}
	let mut out = [0u8; 32];
	for (i, chunk) in s.as_bytes().chunks(2).enumerate() {
		let pair = core::str::from_utf8(chunk).ok()?;
		out[i] = u8::from_str_radix(pair, 16).ok()?;
	}
	Some(out)
}

/// The named integer fields of an ML result, in order, as an answer.
/// Runs `model` on `input` through the ML service's one uniform method, `ml_run`: the answer is
/// its values, already in the registry's order, as many as the registered kind declares.
fn run_model(
	url: &str,
	model: &[u8; 32],
	kind: &noderr_primitives::TaskKind,
	input: Value,
	tally: &mut WorkerStats,
) -> Result<Answer, Skip> {
	let params = serde_json::json!({ "model": hex(model), "input": input });
	let result = ml_call(url, "ml_run", params, tally)?;
	let values = result
		.get("values")
		.and_then(Value::as_array)
		.ok_or_else(|| Skip::BadMlAnswer("ml_run: no values".into()))?
		.iter()
		.map(|v| {
			v.as_i64().ok_or_else(|| Skip::BadMlAnswer("ml_run: a value is not an integer".into()))
		})
		.collect::<Result<Vec<i64>, Skip>>()?;
	let expected = match kind {
		noderr_primitives::TaskKind::Regression { outputs } => *outputs as usize,
		noderr_primitives::TaskKind::Classification { .. }
		| noderr_primitives::TaskKind::TextClassification { .. } => 1,
	};
	if values.len() != expected {
		return Err(Skip::BadMlAnswer(format!(
			"ml_run: {} values, the registered model answers {expected}",
			values.len()
		)));
	}
	values.try_into().map_err(|_| Skip::BadMlAnswer("too many values".into()))
}

/// Binance's interval name for a bar length in seconds.
fn binance_interval(seconds: u64) -> Option<&'static str> {
	Some(match seconds {
		60 => "1m",
		300 => "5m",
		900 => "15m",
		1_800 => "30m",
		3_600 => "1h",
		14_400 => "4h",
		86_400 => "1d",
		_ => return None,
	})
}

/// One bar from one source: `[open, high, low, close, volume]`, fixed point 10^6.
pub fn fetch_bar(
	source: &MarketSource,
	symbol: &str,
	interval: u64,
	bar_time: u64,
) -> Result<[i64; BAR_FIELDS], String> {
	let url = match source.format {
		SourceFormat::Binance => {
			let name = binance_interval(interval)
				.ok_or_else(|| format!("no Binance interval for {interval} s bars"))?;
			format!(
				"{}/api/v3/klines?symbol={symbol}&interval={name}&startTime={}&limit=1",
				source.base,
				bar_time.saturating_mul(1000)
			)
		}
		SourceFormat::Coinbase => format!(
			"{}/products/{symbol}/candles?granularity={interval}&start={bar_time}&end={}",
			source.base,
			bar_time.saturating_add(interval)
		),
	};
	let body = http_get(&url)?;
	parse_bar(source.format, &body, bar_time)
}

/// Reads the bar opening at `bar_time` from a source's answer.
pub fn parse_bar(
	format: SourceFormat,
	body: &[u8],
	bar_time: u64,
) -> Result<[i64; BAR_FIELDS], String> {
	let value: Value =
		serde_json::from_slice(body).map_err(|_| "garbage (not JSON)".to_string())?;
	let rows = value.as_array().ok_or_else(|| "garbage (not a list of bars)".to_string())?;
	let number = |v: &Value| -> Option<i64> {
		match v {
			Value::String(s) => parse_decimal(s),
			Value::Number(n) => parse_decimal(&format!("{n}")),
			_ => None,
		}
	};
	// (time of the row, its fields in open, high, low, close, volume order)
	let read = |row: &Value| -> Option<(u64, [i64; BAR_FIELDS])> {
		let r = row.as_array()?;
		match format {
			SourceFormat::Binance => {
				let ms = r.first()?.as_u64()?;
				let f = |i: usize| number(r.get(i)?);
				Some((ms / 1000, [f(1)?, f(2)?, f(3)?, f(4)?, f(5)?]))
			}
			SourceFormat::Coinbase => {
				let t = r.first()?.as_u64()?;
				let f = |i: usize| number(r.get(i)?);
				Some((t, [f(3)?, f(2)?, f(1)?, f(4)?, f(5)?]))
			}
		}
	};
	let mut times = Vec::new();
	for row in rows {
		let Some((time, fields)) = read(row) else {
			return Err("garbage (a bar is not [time, prices…, volume])".into());
		};
		if time == bar_time {
			return Bar::from_answer(time, &fields)
				.map(|_| fields)
				.ok_or_else(|| "garbage (prices out of order or not positive)".into());
		}
		times.push(time);
	}
	Err(format!("no bar for time {bar_time} (got {times:?})"))
}
