//! The model store admits only bytes of the declared size and hash, from files, appended
//! chunks (the peer protocol) and HTTP downloads (resumed with range requests).

use noderr_ml::{
	artifact::blake2_256,
	store::{Http, Store, StoreError},
};
use std::{
	path::PathBuf,
	sync::{Arc, Mutex},
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn temp(name: &str) -> PathBuf {
	let dir = std::env::temp_dir().join(format!("noderr-store-{name}-{}", std::process::id()));
	let _ = std::fs::remove_dir_all(&dir);
	std::fs::create_dir_all(&dir).unwrap();
	dir
}

fn bytes(n: usize) -> Vec<u8> {
	(0..n).map(|i| (i * 7 + i / 251) as u8).collect()
}

#[test]
fn import_checks_size_and_hash() {
	let dir = temp("import");
	let store = Store::open(&dir.join("store")).unwrap();
	let data = bytes(10_000);
	let hash = blake2_256(&data);
	let file = dir.join("a.nrm");
	std::fs::write(&file, &data).unwrap();

	let wrong = blake2_256(b"something else");
	assert!(matches!(
		store.import(&file, &wrong, data.len() as u64),
		Err(StoreError::HashMismatch { .. })
	));
	assert!(matches!(store.import(&file, &hash, 9_999), Err(StoreError::TooLarge { .. })));
	assert!(matches!(store.import(&file, &hash, 10_001), Err(StoreError::Truncated { .. })));
	assert!(!store.has(&hash, 10_000));
	assert!(store.list().unwrap().is_empty());

	let path = store.import(&file, &hash, 10_000).unwrap();
	assert_eq!(std::fs::read(path).unwrap(), data);
	assert!(store.has(&hash, 10_000));
	assert_eq!(store.list().unwrap(), vec![(hash, 10_000)]);
	assert!(file.exists(), "import copies, the operator's file stays");
	assert_eq!(store.read_chunk(&hash, 9_000, 4096).unwrap().unwrap(), data[9_000..]);
	assert_eq!(store.read_chunk(&wrong, 0, 10).unwrap(), None);
}

#[test]
fn chunks_resume_and_bad_downloads_are_dropped() {
	let dir = temp("chunks");
	let store = Store::open(&dir).unwrap();
	let data = bytes(5_000);
	let hash = blake2_256(&data);
	let size = data.len() as u64;

	assert_eq!(store.append(&hash, "peer a", size, 0, &data[..2_000]).unwrap(), 2_000);
	// A stale offset is refused; the partial is kept.
	assert!(matches!(
		store.append(&hash, "peer a", size, 1_000, &data[1_000..2_000]),
		Err(StoreError::OutOfOrder { .. })
	));
	assert!(matches!(
		store.finish(&hash, "peer a", size),
		Err(StoreError::Truncated { got: 2_000, .. })
	));
	// Another source keeps its own partial.
	assert_eq!(store.partial_len(&hash, "peer b"), 0);
	store.append(&hash, "peer b", size, 0, &data[..10]).unwrap();
	assert_eq!(store.partials(&hash).len(), 2);
	// "Restart": a new store over the same directory resumes from 2,000 bytes.
	let store = Store::open(&dir).unwrap();
	assert_eq!(store.partial_len(&hash, "peer a"), 2_000);
	store.append(&hash, "peer a", size, 2_000, &data[2_000..]).unwrap();
	store.finish(&hash, "peer a", size).unwrap();
	assert!(store.has(&hash, size));
	assert!(store.partials(&hash).is_empty(), "every source's partial goes once it is held");

	// More bytes than declared: refused and deleted.
	let other = bytes(300);
	let other_hash = blake2_256(&other);
	assert!(matches!(
		store.append(&other_hash, "peer a", 200, 0, &other),
		Err(StoreError::TooLarge { .. })
	));
	assert_eq!(store.partial_len(&other_hash, "peer a"), 0);

	// Right size, wrong bytes: refused and deleted, never admitted.
	let mut corrupt = other.clone();
	corrupt[17] ^= 1;
	store.append(&other_hash, "peer a", 300, 0, &corrupt).unwrap();
	assert!(matches!(
		store.finish(&other_hash, "peer a", 300),
		Err(StoreError::HashMismatch { .. })
	));
	assert_eq!(store.partial_len(&other_hash, "peer a"), 0);
	assert!(!store.has(&other_hash, 300));
}

#[test]
fn a_garbage_prefix_spoils_only_its_own_source() {
	let dir = temp("sources");
	let store = Store::open(&dir).unwrap();
	let data = bytes(4_000);
	let hash = blake2_256(&data);
	// A bad source sends a garbage prefix and stops; an honest one sends everything.
	store.append(&hash, "bad", 4_000, 0, &[0u8; 1_000]).unwrap();
	store.append(&hash, "honest", 4_000, 0, &data[..3_000]).unwrap();
	store.append(&hash, "bad", 4_000, 1_000, &data[1_000..2_000]).unwrap();
	store.append(&hash, "honest", 4_000, 3_000, &data[3_000..]).unwrap();
	store.finish(&hash, "honest", 4_000).unwrap();
	assert!(store.has(&hash, 4_000));
	assert!(store.partials(&hash).is_empty());

	// At most MAX_PARTIALS partials per artifact: a new source removes the shortest.
	let other = blake2_256(b"other");
	for (i, source) in ["a", "b", "c", "d"].iter().enumerate() {
		store.append(&other, source, 100, 0, &vec![1; 10 + i]).unwrap();
	}
	store.append(&other, "e", 100, 0, b"e").unwrap();
	assert_eq!(store.partials(&other).len(), noderr_ml::store::MAX_PARTIALS);
	assert_eq!(store.partial_len(&other, "a"), 0, "the shortest went");
	assert_eq!(store.partial_len(&other, "e"), 1);
}

#[test]
fn opening_drops_a_stored_file_that_no_longer_verifies() {
	let dir = temp("reopen");
	let store = Store::open(&dir).unwrap();
	let data = bytes(1_000);
	let hash = blake2_256(&data);
	store.append(&hash, "peer", 1_000, 0, &data).unwrap();
	let path = store.finish(&hash, "peer", 1_000).unwrap();
	let mut flipped = data.clone();
	flipped[3] ^= 0x80;
	std::fs::write(&path, &flipped).unwrap();
	let store = Store::open(&dir).unwrap();
	assert!(!store.has(&hash, 1_000));
}

/// Where a request's `Range: bytes=N-` header starts, if it has one.
fn range_start(request: &[u8]) -> Option<u64> {
	String::from_utf8_lossy(request)
		.to_lowercase()
		.lines()
		.find_map(|l| l.strip_prefix("range: bytes="))
		.and_then(|r| r.split('-').next())
		.and_then(|n| n.trim().parse().ok())
}

/// A minimal HTTP/1.1 server for one path: honours `Range: bytes=N-`, records the ranges asked
/// for, and serves `body`.
async fn serve(body: Vec<u8>, ranges: Arc<Mutex<Vec<u64>>>) -> String {
	let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
	let addr = listener.local_addr().unwrap();
	tokio::spawn(async move {
		loop {
			let (mut sock, _) = listener.accept().await.unwrap();
			let body = body.clone();
			let ranges = ranges.clone();
			tokio::spawn(async move {
				let mut req = Vec::new();
				let mut buf = [0u8; 1024];
				while !req.windows(4).any(|w| w == b"\r\n\r\n") {
					let n = sock.read(&mut buf).await.unwrap();
					if n == 0 {
						return;
					}
					req.extend_from_slice(&buf[..n]);
				}
				let from = range_start(&req);
				let (status, part, range) = match from {
					Some(n) => {
						ranges.lock().unwrap().push(n);
						let range = format!(
							"content-range: bytes {n}-{}/{}\r\n",
							body.len() - 1,
							body.len()
						);
						("206 Partial Content", &body[n as usize..], range)
					}
					None => ("200 OK", &body[..], String::new()),
				};
				let head = format!(
					"HTTP/1.1 {status}\r\n{range}content-length: {}\r\nconnection: close\r\n\r\n",
					part.len()
				);
				sock.write_all(head.as_bytes()).await.unwrap();
				sock.write_all(part).await.unwrap();
			});
		}
	});
	format!("http://{addr}/artifact.nrm")
}

#[tokio::test]
async fn http_download_resumes_and_verifies() {
	let dir = temp("http");
	let store = Store::open(&dir).unwrap();
	let data = bytes(300_000);
	let hash = blake2_256(&data);
	let size = data.len() as u64;
	let ranges = Arc::new(Mutex::new(Vec::new()));
	let url = serve(data.clone(), ranges.clone()).await;
	let http = Http::new().unwrap();

	// An interrupted earlier download from there left 100,000 bytes.
	store.append(&hash, &url, size, 0, &data[..100_000]).unwrap();
	let mut seen = Vec::new();
	let path = http.fetch(&store, &url, &hash, size, |done, _| seen.push(done)).await.unwrap();
	assert_eq!(std::fs::read(path).unwrap(), data);
	assert_eq!(*ranges.lock().unwrap(), vec![100_000]);
	assert_eq!(seen.first(), Some(&100_000));
	assert_eq!(seen.last(), Some(&size));
}

#[tokio::test]
async fn http_download_of_wrong_bytes_is_refused() {
	let dir = temp("http-bad");
	let store = Store::open(&dir).unwrap();
	let data = bytes(50_000);
	let hash = blake2_256(&data);
	let http = Http::new().unwrap();
	let ranges = Arc::new(Mutex::new(Vec::new()));

	let mut corrupt = data.clone();
	corrupt[40_000] ^= 1;
	let url = serve(corrupt, ranges.clone()).await;
	let e = http.fetch(&store, &url, &hash, 50_000, |_, _| {}).await.unwrap_err();
	assert!(e.to_string().contains("hash mismatch"), "{e}");

	let url = serve(data[..30_000].to_vec(), ranges.clone()).await;
	let e = http.fetch(&store, &url, &hash, 50_000, |_, _| {}).await.unwrap_err();
	assert!(e.to_string().contains("truncated"), "{e}");
	assert_eq!(store.partial_len(&hash, &url), 30_000, "kept to resume");
	store.discard_partial(&hash, &url);

	let mut longer = data.clone();
	longer.extend_from_slice(b"trailing bytes");
	let url = serve(longer, ranges).await;
	let e = http.fetch(&store, &url, &hash, 50_000, |_, _| {}).await.unwrap_err();
	assert!(e.to_string().contains("larger than"), "{e}");
	assert!(!store.has(&hash, 50_000));
	assert!(store.partials(&hash).is_empty());

	let e = http.fetch(&store, "http://127.0.0.1:1/x.nrm", &hash, 50_000, |_, _| {}).await;
	assert!(e.is_err());
}

#[tokio::test]
async fn a_stalled_download_fails_and_resumes_later() {
	let dir = temp("http-stall");
	let store = Store::open(&dir).unwrap();
	let data = bytes(20_000);
	let hash = blake2_256(&data);
	// First answer: announces the whole body, sends 5,000 bytes, then stalls with the
	// connection open. Later answers honour the range asked for.
	let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
	let url = format!("http://{}/a.nrm", listener.local_addr().unwrap());
	let ranges = Arc::new(Mutex::new(Vec::new()));
	let (answered, body) = (ranges.clone(), data.clone());
	tokio::spawn(async move {
		let mut first = true;
		loop {
			let (mut sock, _) = listener.accept().await.unwrap();
			let mut buf = [0u8; 1024];
			let n = sock.read(&mut buf).await.unwrap();
			if std::mem::take(&mut first) {
				sock.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 20000\r\n\r\n").await.unwrap();
				sock.write_all(&body[..5_000]).await.unwrap();
				let body = body.clone();
				tokio::spawn(async move {
					tokio::time::sleep(std::time::Duration::from_secs(30)).await;
					drop((sock, body));
				});
				continue;
			}
			let from = range_start(&buf[..n]).unwrap_or(0) as usize;
			answered.lock().unwrap().push(from as u64);
			let head = format!(
				"HTTP/1.1 206 Partial Content\r\ncontent-range: bytes {from}-19999/20000\r\n\
				 content-length: {}\r\nconnection: close\r\n\r\n",
				20_000 - from
			);
			sock.write_all(head.as_bytes()).await.unwrap();
			sock.write_all(&body[from..]).await.unwrap();
		}
	});
	let http = Http::new().unwrap().with_idle_timeout(std::time::Duration::from_millis(300));
	let started = std::time::Instant::now();
	let e = http.fetch(&store, &url, &hash, 20_000, |_, _| {}).await.unwrap_err();
	assert!(e.to_string().contains("no data for 0.3 s"), "{e}");
	assert!(started.elapsed() < std::time::Duration::from_secs(5));
	assert_eq!(store.partial_len(&hash, &url), 5_000, "kept to resume");

	// The same source, asked again: resumed from 5,000 bytes.
	http.fetch(&store, &url, &hash, 20_000, |_, _| {}).await.unwrap();
	assert_eq!(*ranges.lock().unwrap(), vec![5_000]);
	assert!(store.has(&hash, 20_000));
}

#[test]
fn an_unreadable_file_is_skipped_and_verified_files_are_not_hashed_again() {
	let dir = temp("open");
	let store = Store::open(&dir).unwrap();
	let (a, b) = (bytes(3_000), bytes(5_000));
	let (ha, hb) = (blake2_256(&a), blake2_256(&b));
	for (data, hash) in [(&a, ha), (&b, hb)] {
		let file = dir.join("incoming");
		std::fs::write(&file, data).unwrap();
		store.import(&file, &hash, data.len() as u64).unwrap();
	}
	// Opening again trusts both records: nothing is hashed.
	let (_, report) = Store::open_with_report(&dir).unwrap();
	assert_eq!((report.trusted, report.verified), (2, 0), "{report:?}");
	// A file changed behind the store's back is hashed again, and dropped.
	std::thread::sleep(std::time::Duration::from_millis(20));
	let mut changed = b.clone();
	changed[10] ^= 1;
	std::fs::write(store.path(&hb), &changed).unwrap();
	// An entry that cannot be read (a directory where a file should be).
	let unreadable = blake2_256(b"something else");
	std::fs::create_dir_all(store.path(&unreadable)).unwrap();
	// A copy interrupted by a crash.
	let leftover = dir.join("partial").join("0011.import");
	std::fs::write(&leftover, b"half a copy").unwrap();
	let (store, report) = Store::open_with_report(&dir).unwrap();
	assert_eq!(
		report,
		noderr_ml::store::OpenReport { trusted: 1, verified: 0, dropped: 1, unreadable: 1 }
	);
	assert!(store.has(&ha, 3_000));
	assert!(!store.has(&hb, 5_000));
	assert!(!store.has(&unreadable, 4_096));
	assert!(!leftover.exists(), "the interrupted copy is removed");
	assert_eq!(store.list().unwrap().len(), 1);
}

#[test]
fn retired_artifacts_and_abandoned_partials_are_pruned() {
	let dir = temp("prune");
	let store = Store::open(&dir).unwrap();
	let (keep, retired) = (bytes(1_000), bytes(2_000));
	let (hk, hr) = (blake2_256(&keep), blake2_256(&retired));
	for (data, hash) in [(&keep, hk), (&retired, hr)] {
		let file = dir.join("incoming");
		std::fs::write(&file, data).unwrap();
		store.import(&file, &hash, data.len() as u64).unwrap();
	}
	let abandoned = blake2_256(b"abandoned");
	store.append(&abandoned, "peer", 100, 0, b"part").unwrap();
	store.append(&hk, "peer", 1_000, 0, b"ignored").unwrap();
	let removed = store.prune(&[hk].into_iter().collect());
	assert_eq!(removed, 2, "the retired file and the abandoned partial");
	assert!(store.has(&hk, 1_000));
	assert!(!store.has(&hr, 2_000));
	assert_eq!(store.partial_len(&abandoned, "peer"), 0);
	assert_eq!(store.partial_len(&hk, "peer"), 7, "a wanted partial stays");
}

#[tokio::test]
async fn a_download_without_room_is_refused_before_it_starts() {
	let dir = temp("space");
	let store = Store::open(&dir).unwrap();
	let hash = blake2_256(b"huge");
	let huge = noderr_ml::store::available_space(&dir).unwrap() + 1;
	let http = Http::new().unwrap();
	// Nothing listens there: the refusal comes first.
	let e =
		http.fetch(&store, "http://127.0.0.1:1/x.nrm", &hash, huge, |_, _| {}).await.unwrap_err();
	assert!(e.to_string().contains("not enough free space"), "{e}");
	assert!(store.partials(&hash).is_empty());
}

#[tokio::test]
async fn a_trickling_server_fails_the_download_in_bounded_time() {
	let dir = temp("trickle");
	let store = Store::open(&dir).unwrap();
	let data = bytes(20_000);
	let hash = blake2_256(&data);
	// Announces the whole body, then sends one byte every 20 ms (50 bytes/s), never idle.
	let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
	let url = format!("http://{}/a.nrm", listener.local_addr().unwrap());
	let body = data.clone();
	tokio::spawn(async move {
		let (mut sock, _) = listener.accept().await.unwrap();
		let mut buf = [0u8; 1024];
		let _ = sock.read(&mut buf).await.unwrap();
		sock.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 20000\r\n\r\n").await.unwrap();
		for byte in body {
			if sock.write_all(&[byte]).await.is_err() {
				return;
			}
			tokio::time::sleep(std::time::Duration::from_millis(20)).await;
		}
	});
	let http = Http::new()
		.unwrap()
		.with_idle_timeout(std::time::Duration::from_secs(5))
		.with_min_rate(1_000, std::time::Duration::from_millis(500));
	let started = std::time::Instant::now();
	let e = http.fetch(&store, &url, &hash, 20_000, |_, _| {}).await.unwrap_err();
	assert!(e.to_string().contains("slower than the 1000 bytes/s"), "{e}");
	assert!(started.elapsed() < std::time::Duration::from_secs(3), "{:?}", started.elapsed());
	assert!(store.partial_len(&hash, &url) > 0, "what arrived is kept to resume");
}

#[tokio::test]
async fn a_wrong_content_range_is_refused() {
	let data = bytes(20_000);
	let hash = blake2_256(&data);
	for (range, expected) in [
		("bytes 0-19999/20000", "starts at 0"),
		("bytes 5000-19999/30000", "total 30000"),
		("items 5000-19999/20000", "not in bytes"),
	] {
		let dir = temp("range");
		let store = Store::open(&dir).unwrap();
		let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
		let url = format!("http://{}/a.nrm", listener.local_addr().unwrap());
		store.append(&hash, &url, 20_000, 0, &data[..5_000]).unwrap();
		let body = data.clone();
		let answer = range.to_string();
		tokio::spawn(async move {
			let (mut sock, _) = listener.accept().await.unwrap();
			let mut buf = [0u8; 1024];
			let _ = sock.read(&mut buf).await.unwrap();
			let head = format!(
				"HTTP/1.1 206 Partial Content\r\ncontent-range: {answer}\r\ncontent-length: {}\r\n\r\n",
				body.len()
			);
			sock.write_all(head.as_bytes()).await.unwrap();
			let _ = sock.write_all(&body).await;
		});
		let http = Http::new().unwrap();
		let e = http.fetch(&store, &url, &hash, 20_000, |_, _| {}).await.unwrap_err();
		assert!(e.to_string().contains(expected), "{range}: {e}");
		assert_eq!(store.partial_len(&hash, &url), 5_000, "{range}: the partial is untouched");
	}
}

#[test]
fn the_peer_protocol_answers_whole_chunks_and_refuses_malformed_requests() {
	use noderr_ml::peer_protocol::{answer, decode_answer, request, RequestError, CHUNK};
	let dir = temp("protocol");
	let store = Store::open(&dir).unwrap();
	let data = bytes(CHUNK + 5_000);
	let hash = blake2_256(&data);
	let file = dir.join("incoming");
	std::fs::write(&file, &data).unwrap();
	store.import(&file, &hash, data.len() as u64).unwrap();
	let ask = |offset, max| decode_answer(&answer(&store, &request(hash, offset, max)).unwrap());
	// Never more than a chunk, whatever is asked; the rest at the end; nothing past it.
	assert_eq!(ask(0, u32::MAX).unwrap().unwrap(), data[..CHUNK]);
	assert_eq!(ask(CHUNK as u64, u32::MAX).unwrap().unwrap(), data[CHUNK..]);
	assert_eq!(ask(data.len() as u64 + 1, 10).unwrap().unwrap(), Vec::<u8>::new());
	assert_eq!(ask(10, 0).unwrap().unwrap(), Vec::<u8>::new());
	// An artifact not held.
	let other = request(blake2_256(b"other"), 0, 10);
	assert_eq!(decode_answer(&answer(&store, &other).unwrap()).unwrap(), None);
	// Short, long and empty requests are malformed.
	let good = request(hash, 0, 10);
	for bad in [&good[..43], &[good.as_slice(), &[0]].concat()[..], &[][..]] {
		assert!(matches!(answer(&store, bad), Err(RequestError::Malformed(_))), "{bad:?}");
	}
	assert!(decode_answer(&[1, 8, 1]).is_err(), "a length past the bytes");
	assert!(decode_answer(&[2]).is_err());
}

/// Mounts a tmpfs of `mib` MiB at `dir` (root only); unmounted when dropped.
struct Tmpfs(PathBuf);

impl Tmpfs {
	fn mount(dir: &std::path::Path, mib: u32) -> Option<Self> {
		std::fs::create_dir_all(dir).unwrap();
		let ok = std::process::Command::new("mount")
			.args(["-t", "tmpfs", "-o", &format!("size={mib}m"), "tmpfs"])
			.arg(dir)
			.stderr(std::process::Stdio::null())
			.status()
			.is_ok_and(|s| s.success());
		ok.then(|| Self(dir.to_path_buf()))
	}
}

impl Drop for Tmpfs {
	fn drop(&mut self) {
		let _ = std::process::Command::new("umount").arg(&self.0).status();
	}
}

/// A store on a tiny filesystem refuses before writing; one whose filesystem fills up during a
/// download fails that download with the reason, keeps what it wrote, and resumes it once there
/// is room again.
#[tokio::test]
async fn a_full_filesystem_fails_a_download_cleanly_and_it_resumes_later() {
	let dir = temp("fullfs");
	let Some(_tiny) = Tmpfs::mount(&dir.join("tiny"), 16) else {
		// Mounting needs root: CI runs as root, so this runs there.
		eprintln!("skipped: mounting a tmpfs needs root");
		return;
	};
	let store = Store::open(&dir.join("tiny").join("store")).unwrap();
	let small = bytes(10_000);
	let file = dir.join("small");
	std::fs::write(&file, &small).unwrap();
	let e = store.import(&file, &blake2_256(&small), 10_000).unwrap_err();
	assert!(e.to_string().contains("not enough free space"), "{e}");

	let Some(_fs) = Tmpfs::mount(&dir.join("fs"), 80) else { panic!("mounted once, not twice") };
	let store = Store::open(&dir.join("fs").join("store")).unwrap();
	let data = bytes(4 << 20);
	let (hash, size) = (blake2_256(&data), data.len() as u64);
	// First answer: 1 MiB, then a pause while the test fills the filesystem, then the rest.
	// Later answers honour the range.
	let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
	let url = format!("http://{}/a.nrm", listener.local_addr().unwrap());
	let (filled_tx, filled_rx) = tokio::sync::oneshot::channel::<()>();
	let body = data.clone();
	tokio::spawn(async move {
		let mut filled = Some(filled_rx);
		loop {
			let (mut sock, _) = listener.accept().await.unwrap();
			let mut buf = [0u8; 1024];
			let n = sock.read(&mut buf).await.unwrap();
			let from = range_start(&buf[..n]).unwrap_or(0) as usize;
			let head = if from == 0 {
				format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n", body.len())
			} else {
				format!(
					"HTTP/1.1 206 Partial Content\r\ncontent-range: bytes {from}-{}/{}\r\n\
					 content-length: {}\r\n\r\n",
					body.len() - 1,
					body.len(),
					body.len() - from
				)
			};
			sock.write_all(head.as_bytes()).await.unwrap();
			if let Some(filled) = filled.take() {
				sock.write_all(&body[..1 << 20]).await.unwrap();
				let _ = filled.await;
				let _ = sock.write_all(&body[1 << 20..]).await;
			} else {
				let _ = sock.write_all(&body[from..]).await;
			}
		}
	});
	let http = Http::new().unwrap();
	let fetch = {
		let (store, url, http) = (store.clone(), url.clone(), http.clone());
		tokio::spawn(async move { http.fetch(&store, &url, &hash, size, |_, _| {}).await })
	};
	while store.partial_len(&hash, &url) < 1 << 20 {
		tokio::time::sleep(std::time::Duration::from_millis(20)).await;
	}
	// Something else fills the filesystem.
	let ballast = dir.join("fs").join("ballast");
	{
		use std::io::Write;
		let mut f = std::fs::File::create(&ballast).unwrap();
		let block = vec![0u8; 1 << 16];
		while f.write_all(&block).is_ok() {}
	}
	filled_tx.send(()).unwrap();
	let e = fetch.await.unwrap().unwrap_err();
	assert!(e.to_string().to_lowercase().contains("no space left"), "{e}");
	let kept = store.partial_len(&hash, &url);
	assert!(kept >= 1 << 20 && kept < size, "kept {kept} bytes to resume");
	assert!(!store.has(&hash, size));
	// Room again: the download resumes where it stopped and verifies.
	std::fs::remove_file(&ballast).unwrap();
	let path = http.fetch(&store, &url, &hash, size, |_, _| {}).await.unwrap();
	assert_eq!(std::fs::read(path).unwrap(), data);
	assert!(store.partials(&hash).is_empty());
}
