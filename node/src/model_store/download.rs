//! One artifact from the peers that may hold it, each peer bounded in time and blamed only for
//! the bytes it sent itself.
//!
//! Every source writes its own partial download ([`Store::append`] keyed by the source's name),
//! so bytes that fail the hash are the one source's fault, and an honest source's download is
//! never spoilt by another's garbage. A source is dropped, and reported, when it:
//! - does not answer a chunk request within [`Limits::deadline`] (a peer that stalls or answers
//!   after 29 s holds the download for at most that long);
//! - answers with fewer bytes than asked while the artifact has more (an honest peer serves
//!   whole chunks from a verified file, so a trickle of 1-byte chunks is refused at once);
//! - answers with more bytes than asked, or a malformed answer;
//! - completes a download that does not hash to the registered artifact.
//!
//! Each chunk therefore arrives at [`Limits::chunk`] bytes per [`Limits::deadline`] at worst, and
//! a source's share of a download is bounded by `size / chunk` deadlines. A source that refuses
//! (its request rate is exhausted) is asked again after [`Limits::refused_wait`], at most
//! [`Limits::max_refusals`] times in a row, without blame.

use futures::future::BoxFuture;
use noderr_ml::store::{Store, StoreError};
use std::{path::PathBuf, sync::Arc, time::Duration};

/// Why a source gave no chunk.
#[derive(Debug)]
pub enum SourceFailure {
	/// Over its request rate: ask again later.
	Refused,
	/// The answer could not be decoded.
	Malformed,
	/// The request failed (disconnected, protocol not supported, ...): not the source's fault.
	Failed(String),
}

/// What a source did wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Misbehaviour {
	/// No answer within the deadline.
	Slow,
	/// Fewer bytes than asked while the artifact has more.
	ShortChunk,
	/// More bytes than asked.
	Oversized,
	/// An answer that does not decode.
	Malformed,
	/// A complete download that does not hash to the registered artifact.
	BadBytes,
}

impl Misbehaviour {
	/// The label used in logs and metrics.
	pub fn label(self) -> &'static str {
		match self {
			Self::Slow => "slow",
			Self::ShortChunk => "short_chunk",
			Self::Oversized => "oversized",
			Self::Malformed => "malformed",
			Self::BadBytes => "bad_bytes",
		}
	}

	/// The reputation it costs a peer. A slow peer may only be busy; bytes that fail the hash
	/// were sent on purpose or from a file damaged on the peer's disk (a dozen such in a short
	/// time and the peer set bans the peer).
	pub fn cost(self) -> i32 {
		match self {
			Self::Slow => -(1 << 16),
			Self::ShortChunk | Self::Oversized | Self::Malformed => -(1 << 26),
			Self::BadBytes => -(1 << 27),
		}
	}
}

/// A source of artifact chunks: a connected peer, or a fake one in tests.
pub trait ChunkSource: Send + Sync {
	/// Names the source in logs and its partial download (`peer <id>`).
	fn name(&self) -> String;
	/// Up to `max` bytes of artifact `hash` from `offset`; `None` if the source does not hold it.
	fn request(
		&self,
		hash: [u8; 32],
		offset: u64,
		max: u32,
	) -> BoxFuture<'_, Result<Option<Vec<u8>>, SourceFailure>>;
	/// Tells the network what the source did.
	fn report(&self, what: Misbehaviour);
}

/// Bounds on each source.
#[derive(Clone, Debug)]
pub struct Limits {
	/// Bytes asked for in one request.
	pub chunk: u32,
	/// Longest wait for one answer.
	pub deadline: Duration,
	/// Wait before asking a source that refused again.
	pub refused_wait: Duration,
	/// Refusals in a row before the source is left for another.
	pub max_refusals: u32,
}

impl Limits {
	/// The node's limits: 1 MiB chunks, 10 s per answer (the protocol allows 30), 40 refusals
	/// 250 ms apart.
	pub const NODE: Limits = Limits {
		chunk: 1 << 20,
		deadline: Duration::from_secs(10),
		refused_wait: Duration::from_millis(250),
		max_refusals: 40,
	};
}

/// How a download from sources ended.
pub struct Fetched {
	/// The verified artifact in the store, and the source that sent it.
	pub result: Result<(PathBuf, String), String>,
	/// Sources that misbehaved (each was reported), to leave out of later attempts.
	pub blamed: Vec<(String, Misbehaviour)>,
}

/// Fetches artifact `hash` of `size` bytes from `sources` into `store`, one source after another
/// (in the given order, except that those with the longest partial downloads go first, to
/// resume them), until one delivers the registered bytes. `label` names the artifact in logs;
/// `progress(source, bytes)` is called as chunks arrive.
pub async fn fetch(
	store: &Store,
	label: &str,
	hash: [u8; 32],
	size: u64,
	sources: &[Arc<dyn ChunkSource>],
	limits: &Limits,
	mut progress: impl FnMut(&str, u64),
) -> Fetched {
	let mut order: Vec<(u64, usize)> =
		sources.iter().enumerate().map(|(i, s)| (store.partial_len(&hash, &s.name()), i)).collect();
	order.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
	let mut notes = Vec::new();
	let mut blamed = Vec::new();
	for (_, i) in order {
		let source = &sources[i];
		let name = source.name();
		let mut offset = store.partial_len(&hash, &name);
		if offset > 0 && offset < size {
			let mib = |b: u64| b as f64 / (1u64 << 20) as f64;
			log::info!(
				"📦 {label} from {name}: resuming at {:.1} of {:.1} MiB",
				mib(offset),
				mib(size)
			);
		}
		let ended = loop {
			if offset >= size {
				break match store.finish_async(&hash, &name, size).await {
					Ok(path) => return Fetched { result: Ok((path, name)), blamed },
					Err(e @ StoreError::HashMismatch { .. }) => {
						Some((Some(Misbehaviour::BadBytes), e.to_string()))
					}
					Err(e) => Some((None, e.to_string())),
				};
			}
			match next_chunk(source.as_ref(), hash, offset, size, limits).await {
				Ok(chunk) => match store.append(&hash, &name, size, offset, &chunk) {
					Ok(n) => {
						offset = n;
						progress(&name, offset);
					}
					// The store's own failure (disk full, unwritable): no source can help.
					Err(e) => {
						return Fetched {
							result: Err(format!("the store refused bytes: {e}")),
							blamed,
						}
					}
				},
				Err(end) => break Some(end),
			}
		};
		if let Some((what, note)) = ended {
			if let Some(what) = what {
				log::warn!(
					"📦 {label} from {name} refused: {note}; peer reported ({})",
					what.label()
				);
				source.report(what);
				blamed.push((name.clone(), what));
			}
			notes.push(format!("{name}: {note}"));
		}
	}
	if sources.is_empty() {
		notes.push("no connected peer".into());
	}
	Fetched { result: Err(notes.join("; ")), blamed }
}

/// The next chunk from `source` at `offset`, or why the source is left: with what it did wrong
/// if it misbehaved.
async fn next_chunk(
	source: &dyn ChunkSource,
	hash: [u8; 32],
	offset: u64,
	size: u64,
	limits: &Limits,
) -> Result<Vec<u8>, (Option<Misbehaviour>, String)> {
	let want = (limits.chunk as u64).min(size - offset) as u32;
	let mut refusals = 0u32;
	loop {
		let answer =
			tokio::time::timeout(limits.deadline, source.request(hash, offset, want)).await;
		let chunk = match answer {
			Err(_) => {
				let note = format!("no answer within {} s", limits.deadline.as_secs_f32());
				return Err((Some(Misbehaviour::Slow), note));
			}
			Ok(Err(SourceFailure::Refused)) if refusals < limits.max_refusals => {
				refusals += 1;
				tokio::time::sleep(limits.refused_wait).await;
				continue;
			}
			Ok(Err(SourceFailure::Refused)) => {
				return Err((None, format!("refused {refusals} times in a row")))
			}
			Ok(Err(SourceFailure::Malformed)) => {
				return Err((Some(Misbehaviour::Malformed), "a malformed answer".into()))
			}
			Ok(Err(SourceFailure::Failed(e))) => return Err((None, e)),
			Ok(Ok(None)) => return Err((None, "does not hold it".into())),
			Ok(Ok(Some(chunk))) => chunk,
		};
		return match chunk.len().cmp(&(want as usize)) {
			std::cmp::Ordering::Equal => Ok(chunk),
			std::cmp::Ordering::Greater => Err((
				Some(Misbehaviour::Oversized),
				format!("{} bytes where {want} were asked", chunk.len()),
			)),
			std::cmp::Ordering::Less => Err((
				Some(Misbehaviour::ShortChunk),
				format!("{} bytes where {want} were asked at offset {offset}", chunk.len()),
			)),
		};
	}
}
