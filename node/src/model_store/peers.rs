//! The artifact protocol between nodes: `/<genesis>/noderr/models/1`, a request-response
//! protocol whose request is `(hash, offset, max)` and answer `Option<bytes>` (SCALE), served
//! only from verified files. Serving is rate-limited per peer; downloading goes through
//! [`PeerSource`], which reports a misbehaving peer to the peer set.

use super::download::{ChunkSource, Misbehaviour, SourceFailure};
use futures::{future::BoxFuture, FutureExt};
use noderr_ml::{
	artifact::hex,
	peer_protocol::{self, RequestError},
	store::Store,
};
use sc_network::{
	config::{IncomingRequest, OutgoingResponse},
	service::traits::NetworkService,
	IfDisconnected, PeerId, ProtocolName, ReputationChange,
};
use std::{collections::HashMap, sync::Arc, time::Instant};

/// Largest chunk a peer sends in one response.
pub use peer_protocol::CHUNK;

/// Name of the artifact protocol on the chain with this genesis.
pub fn protocol_name(genesis: &[u8]) -> ProtocolName {
	format!("/{}/noderr/models/1", hex(genesis).trim_start_matches("0x")).into()
}

/// Requests one peer may make at once, and per second after that: a download (1 MiB chunks)
/// runs at up to 16 MiB/s from each peer serving it.
pub(crate) const PEER_BURST: f64 = 32.0;
pub(crate) const PEER_RATE: f64 = 16.0;
/// Peers remembered by the rate limiter before idle ones are forgotten.
const PEERS_REMEMBERED: usize = 1024;

/// A token bucket per peer: `PEER_BURST` requests, refilled at `PEER_RATE` a second.
#[derive(Default)]
pub(crate) struct PeerLimiter {
	buckets: HashMap<PeerId, (f64, Instant)>,
}

impl PeerLimiter {
	/// Whether `peer` may make a request at `now`; takes a token if so.
	pub(crate) fn allow(&mut self, peer: PeerId, now: Instant) -> bool {
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
pub async fn serve(requests: async_channel::Receiver<IncomingRequest>, store: Store) {
	let mut limiter = PeerLimiter::default();
	while let Ok(request) = requests.recv().await {
		let mut reputation_changes = Vec::new();
		let result = if !limiter.allow(request.peer, Instant::now()) {
			// Refused without a reputation cost: an honest downloader waits and asks again.
			log::debug!("📦 {} requests artifacts too fast: refused", request.peer);
			Err(())
		} else {
			let (store, payload) = (store.clone(), request.payload);
			match tokio::task::spawn_blocking(move || peer_protocol::answer(&store, &payload)).await
			{
				Ok(Ok(answer)) => Ok(answer),
				Ok(Err(RequestError::Malformed(len))) => {
					log::debug!(
						"📦 malformed artifact request from {} ({len} bytes)",
						request.peer
					);
					reputation_changes
						.push(ReputationChange::new(-(1 << 12), "malformed artifact request"));
					Err(())
				}
				Ok(Err(e)) => {
					log::warn!("📦 cannot answer an artifact request: {e}");
					Err(())
				}
				Err(_) => Err(()),
			}
		};
		let _ = request.pending_response.send(OutgoingResponse {
			result,
			reputation_changes,
			sent_feedback: None,
		});
	}
}

/// A connected peer as a source of artifact chunks.
pub struct PeerSource {
	pub network: Arc<dyn NetworkService>,
	pub protocol: ProtocolName,
	pub peer: PeerId,
}

impl ChunkSource for PeerSource {
	fn name(&self) -> String {
		format!("peer {}", self.peer)
	}

	fn request(
		&self,
		hash: [u8; 32],
		offset: u64,
		max: u32,
	) -> BoxFuture<'_, Result<Option<Vec<u8>>, SourceFailure>> {
		async move {
			let request = peer_protocol::request(hash, offset, max);
			let answer = self
				.network
				.request(
					self.peer,
					self.protocol.clone(),
					request,
					None,
					IfDisconnected::ImmediateError,
				)
				.await;
			match answer {
				Ok((bytes, _)) => {
					peer_protocol::decode_answer(&bytes).map_err(|_| SourceFailure::Malformed)
				}
				Err(sc_network::RequestFailure::Refused) => Err(SourceFailure::Refused),
				Err(e) => Err(SourceFailure::Failed(e.to_string())),
			}
		}
		.boxed()
	}

	fn report(&self, what: Misbehaviour) {
		self.network.report_peer(self.peer, ReputationChange::new(what.cost(), what.label()));
	}
}

#[cfg(test)]
mod tests {
	use super::{PeerLimiter, PEER_BURST, PEER_RATE};
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
		assert_eq!(refilled, PEER_RATE as usize);
	}
}
