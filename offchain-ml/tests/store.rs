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

	assert_eq!(store.append(&hash, size, 0, &data[..2_000]).unwrap(), 2_000);
	// A second writer or a stale offset is refused; the partial is kept.
	assert!(matches!(
		store.append(&hash, size, 1_000, &data[1_000..2_000]),
		Err(StoreError::OutOfOrder { .. })
	));
	assert!(matches!(store.finish(&hash, size), Err(StoreError::Truncated { got: 2_000, .. })));
	// "Restart": a new store over the same directory resumes from 2,000 bytes.
	let store = Store::open(&dir).unwrap();
	assert_eq!(store.partial_len(&hash), 2_000);
	store.append(&hash, size, 2_000, &data[2_000..]).unwrap();
	store.finish(&hash, size).unwrap();
	assert!(store.has(&hash, size));
	assert_eq!(store.partial_len(&hash), 0);

	// More bytes than declared: refused and deleted.
	let other = bytes(300);
	let other_hash = blake2_256(&other);
	assert!(matches!(store.append(&other_hash, 200, 0, &other), Err(StoreError::TooLarge { .. })));
	assert_eq!(store.partial_len(&other_hash), 0);

	// Right size, wrong bytes: refused and deleted, never admitted.
	let mut corrupt = other.clone();
	corrupt[17] ^= 1;
	store.append(&other_hash, 300, 0, &corrupt).unwrap();
	assert!(matches!(store.finish(&other_hash, 300), Err(StoreError::HashMismatch { .. })));
	assert_eq!(store.partial_len(&other_hash), 0);
	assert!(!store.has(&other_hash, 300));
}

#[test]
fn opening_drops_a_stored_file_that_no_longer_verifies() {
	let dir = temp("reopen");
	let store = Store::open(&dir).unwrap();
	let data = bytes(1_000);
	let hash = blake2_256(&data);
	store.append(&hash, 1_000, 0, &data).unwrap();
	let path = store.finish(&hash, 1_000).unwrap();
	let mut flipped = data.clone();
	flipped[3] ^= 0x80;
	std::fs::write(&path, &flipped).unwrap();
	let store = Store::open(&dir).unwrap();
	assert!(!store.has(&hash, 1_000));
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
				let text = String::from_utf8_lossy(&req).to_lowercase();
				let from = text
					.lines()
					.find_map(|l| l.strip_prefix("range: bytes="))
					.and_then(|r| r.trim().trim_end_matches('-').parse::<u64>().ok());
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

	// An interrupted earlier download left 100,000 bytes.
	store.append(&hash, size, 0, &data[..100_000]).unwrap();
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
	assert_eq!(store.partial_len(&hash), 30_000, "kept to resume");
	store.discard_partial(&hash);

	let mut longer = data.clone();
	longer.extend_from_slice(b"trailing bytes");
	let url = serve(longer, ranges).await;
	let e = http.fetch(&store, &url, &hash, 50_000, |_, _| {}).await.unwrap_err();
	assert!(e.to_string().contains("larger than"), "{e}");
	assert!(!store.has(&hash, 50_000));
	assert_eq!(store.partial_len(&hash), 0);

	let e = http.fetch(&store, "http://127.0.0.1:1/x.nrm", &hash, 50_000, |_, _| {}).await;
	assert!(e.is_err());
}

#[tokio::test]
async fn a_stalled_download_fails_and_resumes_later() {
	let dir = temp("http-stall");
	let store = Store::open(&dir).unwrap();
	let data = bytes(20_000);
	let hash = blake2_256(&data);
	// Announces the whole body, sends 5,000 bytes, then stalls with the connection open.
	let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
	let url = format!("http://{}/a.nrm", listener.local_addr().unwrap());
	let head = data[..5_000].to_vec();
	tokio::spawn(async move {
		let (mut sock, _) = listener.accept().await.unwrap();
		let mut buf = [0u8; 1024];
		let _ = sock.read(&mut buf).await.unwrap();
		sock.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 20000\r\n\r\n").await.unwrap();
		sock.write_all(&head).await.unwrap();
		tokio::time::sleep(std::time::Duration::from_secs(30)).await;
	});
	let http = Http::new().unwrap().with_idle_timeout(std::time::Duration::from_millis(300));
	let started = std::time::Instant::now();
	let e = http.fetch(&store, &url, &hash, 20_000, |_, _| {}).await.unwrap_err();
	assert!(e.to_string().contains("no data for 0.3 s"), "{e}");
	assert!(started.elapsed() < std::time::Duration::from_secs(5));
	assert_eq!(store.partial_len(&hash), 5_000, "kept to resume");

	let ranges = Arc::new(Mutex::new(Vec::new()));
	let url = serve(data.clone(), ranges.clone()).await;
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
	store.append(&abandoned, 100, 0, b"part").unwrap();
	store.append(&hk, 1_000, 0, b"ignored").unwrap();
	let removed = store.prune(&[hk].into_iter().collect());
	assert_eq!(removed, 2, "the retired file and the abandoned partial");
	assert!(store.has(&hk, 1_000));
	assert!(!store.has(&hr, 2_000));
	assert_eq!(store.partial_len(&abandoned), 0);
	assert_eq!(store.partial_len(&hk), 7, "a wanted partial stays");
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
	assert_eq!(store.partial_len(&hash), 0);
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
	assert!(store.partial_len(&hash) > 0, "what arrived is kept to resume");
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
		store.append(&hash, 20_000, 0, &data[..5_000]).unwrap();
		let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
		let url = format!("http://{}/a.nrm", listener.local_addr().unwrap());
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
		assert_eq!(store.partial_len(&hash), 5_000, "{range}: the partial is untouched");
	}
}
