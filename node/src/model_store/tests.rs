//! Downloads from fake peers: a 1-byte trickler, a garbage-prefix peer, a peer that answers
//! after 29 s, one that refuses for a while, one that sends too much and an honest one.

use super::download::{fetch, ChunkSource, Limits, Misbehaviour, SourceFailure};
use futures::{future::BoxFuture, FutureExt};
use noderr_ml::{artifact::blake2_256, store::Store};
use std::{
	path::PathBuf,
	sync::{Arc, Mutex},
	time::{Duration, Instant},
};

#[derive(Clone, Copy)]
enum Behaviour {
	Honest,
	/// Answers every request with one byte.
	Trickle,
	/// Sends garbage for the first chunk, then the true bytes.
	GarbagePrefix,
	/// Answers correctly, but only after this long.
	Late(Duration),
	/// Refuses this many requests (over its rate), then answers correctly.
	Refusing(u32),
	/// Sends more bytes than asked.
	Oversized,
	/// Does not hold the artifact.
	Missing,
	/// Sends true bytes until this offset, then disconnects.
	StopsAt(u64),
}

struct Fake {
	name: &'static str,
	data: Arc<Vec<u8>>,
	behaviour: Behaviour,
	requests: Mutex<Vec<u64>>,
	reports: Mutex<Vec<Misbehaviour>>,
}

impl Fake {
	fn new(name: &'static str, data: &Arc<Vec<u8>>, behaviour: Behaviour) -> Arc<Self> {
		Arc::new(Self {
			name,
			data: data.clone(),
			behaviour,
			requests: Mutex::new(Vec::new()),
			reports: Mutex::new(Vec::new()),
		})
	}

	fn reports(&self) -> Vec<Misbehaviour> {
		self.reports.lock().unwrap().clone()
	}

	fn requested(&self) -> Vec<u64> {
		self.requests.lock().unwrap().clone()
	}
}

impl ChunkSource for Fake {
	fn name(&self) -> String {
		format!("peer {}", self.name)
	}

	fn request(
		&self,
		_hash: [u8; 32],
		offset: u64,
		max: u32,
	) -> BoxFuture<'_, Result<Option<Vec<u8>>, SourceFailure>> {
		let asked = {
			let mut requests = self.requests.lock().unwrap();
			requests.push(offset);
			requests.len() as u32
		};
		let end = (offset as usize + max as usize).min(self.data.len());
		let truth = self.data[offset as usize..end].to_vec();
		async move {
			match self.behaviour {
				Behaviour::Honest => Ok(Some(truth)),
				Behaviour::Trickle => Ok(Some(truth[..1].to_vec())),
				Behaviour::GarbagePrefix if offset == 0 => Ok(Some(vec![0xAB; truth.len()])),
				Behaviour::GarbagePrefix => Ok(Some(truth)),
				Behaviour::Late(after) => {
					tokio::time::sleep(after).await;
					Ok(Some(truth))
				}
				Behaviour::Refusing(n) if asked <= n => Err(SourceFailure::Refused),
				Behaviour::Refusing(_) => Ok(Some(truth)),
				Behaviour::Oversized => Ok(Some([truth, vec![0; 10]].concat())),
				Behaviour::Missing => Ok(None),
				Behaviour::StopsAt(at) if offset >= at => {
					Err(SourceFailure::Failed("disconnected".into()))
				}
				Behaviour::StopsAt(_) => Ok(Some(truth)),
			}
		}
		.boxed()
	}

	fn report(&self, what: Misbehaviour) {
		self.reports.lock().unwrap().push(what);
	}
}

fn temp(name: &str) -> PathBuf {
	let dir = std::env::temp_dir().join(format!("noderr-download-{name}-{}", std::process::id()));
	let _ = std::fs::remove_dir_all(&dir);
	dir
}

fn artifact(len: usize, seed: u8) -> Arc<Vec<u8>> {
	Arc::new((0..len).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed)).collect())
}

fn sources(fakes: &[&Arc<Fake>]) -> Vec<Arc<dyn ChunkSource>> {
	fakes.iter().map(|f| (*f).clone() as Arc<dyn ChunkSource>).collect()
}

/// The node's own limits: a peer that answers after 29 s costs 10 s, not 29 or forever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_peers_are_reported_in_bounded_time_and_the_honest_one_delivers() {
	let store = Store::open(&temp("bad-peers")).unwrap();
	let data = artifact(3 << 20, 1);
	let (hash, size) = (blake2_256(&data), data.len() as u64);
	let trickler = Fake::new("trickler", &data, Behaviour::Trickle);
	let garbage = Fake::new("garbage", &data, Behaviour::GarbagePrefix);
	let late = Fake::new("late", &data, Behaviour::Late(Duration::from_secs(29)));
	let honest = Fake::new("honest", &data, Behaviour::Honest);
	let started = Instant::now();
	let fetched = fetch(
		&store,
		"test 1.0.0",
		hash,
		size,
		&sources(&[&trickler, &garbage, &late, &honest]),
		&Limits::NODE,
		|_, _| {},
	)
	.await;
	let elapsed = started.elapsed();
	let (path, from) = fetched.result.expect("the honest peer delivers");
	assert_eq!(from, "peer honest");
	assert_eq!(std::fs::read(path).unwrap(), *data);
	assert!(store.has(&hash, size));
	// Bounded: one deadline (10 s) for the late peer, not its 29 s.
	assert!(elapsed < Duration::from_secs(15), "{elapsed:?}");
	assert!(elapsed >= Limits::NODE.deadline, "{elapsed:?}");
	assert_eq!(trickler.reports(), vec![Misbehaviour::ShortChunk]);
	assert_eq!(trickler.requested(), vec![0], "dropped at its first short chunk");
	assert_eq!(garbage.reports(), vec![Misbehaviour::BadBytes]);
	assert_eq!(late.reports(), vec![Misbehaviour::Slow]);
	assert!(honest.reports().is_empty(), "the honest peer is not blamed");
	let blamed: Vec<_> = fetched.blamed.iter().map(|(s, _)| s.as_str()).collect();
	assert_eq!(blamed, ["peer trickler", "peer garbage", "peer late"]);
	assert!(store.partials(&hash).is_empty(), "no partial is left behind");
}

#[tokio::test]
async fn a_garbage_prefix_never_spoils_an_honest_download_and_partials_resume_per_source() {
	let dir = temp("resume");
	let store = Store::open(&dir).unwrap();
	let data = artifact(1_000_000, 2);
	let (hash, size) = (blake2_256(&data), data.len() as u64);
	let limits = Limits { chunk: 100_000, ..Limits::NODE };
	// The honest peer goes away after 300,000 bytes; the garbage peer then sends everything
	// (a bad first chunk); neither spoils the other's partial.
	let honest = Fake::new("honest", &data, Behaviour::StopsAt(300_000));
	let garbage = Fake::new("garbage", &data, Behaviour::GarbagePrefix);
	let fetched =
		fetch(&store, "test 1.0.0", hash, size, &sources(&[&honest, &garbage]), &limits, |_, _| {})
			.await;
	let e = fetched.result.unwrap_err();
	assert!(e.contains("peer honest: disconnected"), "{e}");
	assert!(e.contains("peer garbage: artifact hash mismatch"), "{e}");
	assert!(honest.reports().is_empty(), "a disconnection is not misbehaviour");
	assert_eq!(garbage.reports(), vec![Misbehaviour::BadBytes]);
	assert_eq!(store.partial_len(&hash, "peer honest"), 300_000, "kept to resume");
	assert_eq!(store.partial_len(&hash, "peer garbage"), 0, "its bytes are gone");

	// After a restart the honest peer is back: it is asked first (it has the longest partial)
	// and resumes from 300,000 bytes.
	let store = Store::open(&dir).unwrap();
	let back = Fake::new("honest", &data, Behaviour::Honest);
	let other = Fake::new("other", &data, Behaviour::Honest);
	let fetched =
		fetch(&store, "test 1.0.0", hash, size, &sources(&[&other, &back]), &limits, |_, _| {})
			.await;
	assert_eq!(fetched.result.unwrap().1, "peer honest");
	assert_eq!(back.requested()[0], 300_000);
	assert!(other.requested().is_empty());
	assert!(fetched.blamed.is_empty());
}

#[tokio::test]
async fn refusals_are_waited_out_and_other_faults_named() {
	let store = Store::open(&temp("faults")).unwrap();
	let data = artifact(250_000, 3);
	let (hash, size) = (blake2_256(&data), data.len() as u64);
	let limits = Limits {
		chunk: 100_000,
		deadline: Duration::from_millis(500),
		refused_wait: Duration::from_millis(10),
		max_refusals: 5,
	};
	// Refuses 3 times (waited out), then delivers: no blame.
	let busy = Fake::new("busy", &data, Behaviour::Refusing(3));
	let fetched =
		fetch(&store, "test 1.0.0", hash, size, &sources(&[&busy]), &limits, |_, _| {}).await;
	assert!(fetched.result.is_ok());
	assert!(busy.reports().is_empty() && fetched.blamed.is_empty());

	let data = artifact(250_000, 4);
	let (hash, size) = (blake2_256(&data), data.len() as u64);
	let refusing = Fake::new("refusing", &data, Behaviour::Refusing(100));
	let oversized = Fake::new("oversized", &data, Behaviour::Oversized);
	let missing = Fake::new("missing", &data, Behaviour::Missing);
	let fetched = fetch(
		&store,
		"test 1.0.0",
		hash,
		size,
		&sources(&[&refusing, &oversized, &missing]),
		&limits,
		|_, _| {},
	)
	.await;
	let e = fetched.result.unwrap_err();
	assert!(e.contains("peer refusing: refused 5 times in a row"), "{e}");
	assert!(e.contains("peer oversized: 100010 bytes where 100000 were asked"), "{e}");
	assert!(e.contains("peer missing: does not hold it"), "{e}");
	assert!(refusing.reports().is_empty() && missing.reports().is_empty());
	assert_eq!(oversized.reports(), vec![Misbehaviour::Oversized]);
	assert!(store.partials(&hash).is_empty(), "nothing unverified kept from the oversized peer");

	let fetched = fetch(&store, "test 1.0.0", hash, size, &[], &limits, |_, _| {}).await;
	assert_eq!(fetched.result.unwrap_err(), "no connected peer");
}

/// One artifact held by a peer that never answers in time does not hold another's download.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stuck_artifact_does_not_hold_another() {
	let store = Store::open(&temp("concurrent")).unwrap();
	let (stuck, fine) = (artifact(200_000, 5), artifact(200_000, 6));
	let limits = Limits { chunk: 50_000, deadline: Duration::from_secs(5), ..Limits::NODE };
	let stuck_peer = Fake::new("stuck", &stuck, Behaviour::Late(Duration::from_secs(29)));
	let fine_peer = Fake::new("fine", &fine, Behaviour::Honest);
	let started = Instant::now();
	let (s, l) = (store.clone(), limits.clone());
	let (hash, size) = (blake2_256(&stuck), stuck.len() as u64);
	let stuck_task = tokio::spawn(async move {
		fetch(&s, "stuck 1.0.0", hash, size, &sources(&[&stuck_peer]), &l, |_, _| {}).await.result
	});
	let fetched = fetch(
		&store,
		"fine 1.0.0",
		blake2_256(&fine),
		fine.len() as u64,
		&sources(&[&fine_peer]),
		&limits,
		|_, _| {},
	)
	.await;
	assert!(fetched.result.is_ok());
	assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
	assert!(!stuck_task.is_finished());
	let stuck_result = stuck_task.await.unwrap();
	assert!(stuck_result.unwrap_err().contains("no answer within 5 s"));
	assert!(started.elapsed() < Duration::from_secs(8), "{:?}", started.elapsed());
}
