//! The node's model store: artifacts kept content-addressed by their blake2-256 hash in the
//! node's base path, written only through a check of declared size and hash.
//!
//! Layout under the store directory:
//! - `blake2-256/<hex>.nrm`: verified artifacts; a file is only ever renamed into place after
//!   its size and hash matched, so anything here was verified once (and is re-verified when
//!   the store is opened after a crash);
//! - `blake2-256/<hex>.ok`: the length and modification time the file had when it was last
//!   verified; a file that still matches its record is not hashed again when the store opens,
//!   so opening takes milliseconds however many artifacts are held;
//! - `partial/<hex>.<source>.part`: downloads in progress, one per source (a peer, a URL), each
//!   resumed from its length; `<source>` is [`source_tag`] of the source's name. Sources never
//!   write into each other's partial, so bytes that fail the hash are blamed on the one source
//!   that sent them and an honest source's download is never spoilt by another's. At most
//!   [`MAX_PARTIALS`] are kept per artifact;
//! - `partial/<hex>.import`: a copy in progress, removed when the store opens.
//!
//! A file that cannot be read is skipped with a warning (it never stops the node); files and
//! partials of artifacts the registry no longer lists are removed by [`Store::prune`]; nothing
//! is downloaded or copied without room for it plus [`FREE_SPACE_MARGIN`].
//!
//! A download that grows past the declared size, ends short of it or hashes to anything else is
//! refused and deleted; nothing unverified is ever handed to the inference engine.

use crate::artifact;
use std::{
	fs,
	io::{self, Read, Seek, SeekFrom, Write},
	path::{Path, PathBuf},
};

/// Why an artifact was refused.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
	#[error("artifact {hash} is larger than the {declared} bytes the registry declares")]
	TooLarge { hash: String, declared: u64 },
	#[error("artifact {hash} is truncated: {got} of the {declared} declared bytes")]
	Truncated { hash: String, declared: u64, got: u64 },
	#[error("artifact hash mismatch: the registry declares {expected}, the bytes hash to {got}")]
	HashMismatch { expected: String, got: String },
	#[error("write at offset {offset} of artifact {hash}, which has {have} bytes so far")]
	OutOfOrder { hash: String, offset: u64, have: u64 },
	#[error(
		"not enough free space for artifact {hash}: {needed} bytes needed (with a margin), \
		 {available} available in {dir}"
	)]
	NoSpace { hash: String, needed: u64, available: u64, dir: String },
	#[error("model store: {0}")]
	Io(#[from] io::Error),
}

/// A content-addressed directory of verified artifacts.
#[derive(Clone, Debug)]
pub struct Store {
	dir: PathBuf,
}

/// blake2-256 of a file, streamed.
pub fn hash_file(path: &Path) -> io::Result<([u8; 32], u64)> {
	use blake2::digest::{consts::U32, Digest};
	let mut hasher = blake2::Blake2b::<U32>::new();
	let mut file = fs::File::open(path)?;
	let mut buf = vec![0u8; 1 << 20];
	let mut len = 0u64;
	loop {
		let n = file.read(&mut buf)?;
		if n == 0 {
			break;
		}
		len += n as u64;
		hasher.update(&buf[..n]);
	}
	Ok((hasher.finalize().into(), len))
}

/// Partial downloads kept per artifact (one per source): starting another removes the shortest.
pub const MAX_PARTIALS: usize = 4;

/// The file-name tag of a download source (a peer id, a URL): 16 hex digits of its hash.
pub fn source_tag(source: &str) -> String {
	use blake2::digest::{consts::U32, Digest};
	let digest: [u8; 32] = blake2::Blake2b::<U32>::digest(source.as_bytes()).into();
	digest[..8].iter().map(|b| format!("{b:02x}")).collect()
}

/// The artifact hash a file under `partial/` belongs to (`<hex>.part`, `<hex>.<tag>.part`).
fn partial_hash(path: &Path) -> Option<[u8; 32]> {
	let name = path.file_name()?.to_str()?.strip_suffix(".part")?;
	artifact::parse_hex(name.split('.').next()?)
}

/// Room kept free on the store's filesystem beyond any artifact written.
pub const FREE_SPACE_MARGIN: u64 = 64 << 20;

/// Bytes available to this process on the filesystem holding `dir`.
pub fn available_space(dir: &Path) -> io::Result<u64> {
	use std::os::unix::ffi::OsStrExt;
	let path = std::ffi::CString::new(dir.as_os_str().as_bytes())
		.map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
	let mut stat: libc::statvfs = unsafe { std::mem::zeroed() };
	// SAFETY: `path` is a valid NUL-terminated string and `stat` a valid out-pointer.
	if unsafe { libc::statvfs(path.as_ptr(), &mut stat) } != 0 {
		return Err(io::Error::last_os_error());
	}
	Ok((stat.f_bavail as u64).saturating_mul(stat.f_frsize as u64))
}

/// What opening the store found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OpenReport {
	/// Files trusted by their verification record, not hashed again.
	pub trusted: usize,
	/// Files hashed (no record, or the file changed since) and found good.
	pub verified: usize,
	/// Files that no longer hash to their name: deleted, to be fetched again.
	pub dropped: usize,
	/// Files that could not be read: skipped (and not served) until they can be.
	pub unreadable: usize,
}

/// The length and modification time (ns since the epoch) of a file.
fn stamp(path: &Path) -> io::Result<(u64, u128)> {
	let meta = fs::metadata(path)?;
	let mtime =
		meta.modified()?.duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
	Ok((meta.len(), mtime))
}

impl Store {
	/// Opens (creating) the store in `dir`. Files whose verification record still matches are
	/// trusted; others are hashed, and those that no longer hash to their name (a disk error, a
	/// hand edit) are deleted so that they are fetched again. A file that cannot be read is
	/// skipped with a warning. Leftover copies (`*.import`) are removed.
	pub fn open(dir: &Path) -> Result<Self, StoreError> {
		Self::open_with_report(dir).map(|(store, _)| store)
	}

	/// [`Store::open`], with what it found.
	pub fn open_with_report(dir: &Path) -> Result<(Self, OpenReport), StoreError> {
		let store = Self { dir: dir.to_path_buf() };
		fs::create_dir_all(store.dir.join("blake2-256"))?;
		fs::create_dir_all(store.dir.join("partial"))?;
		for entry in fs::read_dir(store.dir.join("partial"))?.flatten() {
			let path = entry.path();
			if path.extension().is_some_and(|e| e == "import") {
				log::info!("model store: removing an interrupted copy {}", path.display());
				let _ = fs::remove_file(&path);
			}
		}
		let mut report = OpenReport::default();
		for (hash, path) in store.files()? {
			if store.record(&hash).is_some() && store.record(&hash) == stamp(&path).ok() {
				report.trusted += 1;
				continue;
			}
			match hash_file(&path) {
				Ok((got, _)) if got == hash => {
					store.write_record(&hash);
					report.verified += 1;
				}
				Ok((got, _)) => {
					log::warn!(
						"model store: {} hashes to {}; deleted, it will be fetched again",
						path.display(),
						artifact::hex(&got)
					);
					let _ = store.remove(&hash);
					report.dropped += 1;
				}
				Err(e) => {
					log::warn!(
						"model store: cannot read {}: {e}; skipped (fix or delete it)",
						path.display()
					);
					report.unreadable += 1;
				}
			}
		}
		Ok((store, report))
	}

	fn record_path(&self, hash: &[u8; 32]) -> PathBuf {
		self.dir.join("blake2-256").join(format!("{}.ok", name(hash)))
	}

	/// The verification record of `hash`: its length and modification time when verified.
	fn record(&self, hash: &[u8; 32]) -> Option<(u64, u128)> {
		let text = fs::read_to_string(self.record_path(hash)).ok()?;
		let (len, mtime) = text.trim().split_once(' ')?;
		Some((len.parse().ok()?, mtime.parse().ok()?))
	}

	/// Records that the file of `hash` verified as it is now (best effort: without a record it
	/// is hashed again at the next opening).
	fn write_record(&self, hash: &[u8; 32]) {
		if let Ok((len, mtime)) = stamp(&self.path(hash)) {
			let tmp = self.record_path(hash).with_extension("ok.tmp");
			if fs::write(&tmp, format!("{len} {mtime}\n")).is_ok() {
				let _ = fs::rename(&tmp, self.record_path(hash));
			}
		}
	}

	/// Fails unless the store's filesystem has room for `bytes` more plus the margin.
	pub fn ensure_space(&self, hash: &[u8; 32], bytes: u64) -> Result<(), StoreError> {
		let available = available_space(&self.dir)?;
		let needed = bytes.saturating_add(FREE_SPACE_MARGIN);
		if available < needed {
			return Err(StoreError::NoSpace {
				hash: artifact::hex(hash),
				needed,
				available,
				dir: self.dir.display().to_string(),
			});
		}
		Ok(())
	}

	/// Removes verified files and partial downloads of every artifact not in `keep` (the
	/// registry retired it). Returns how many files were removed.
	pub fn prune(&self, keep: &std::collections::BTreeSet<[u8; 32]>) -> usize {
		let mut removed = 0;
		if let Ok(files) = self.files() {
			for (hash, _) in files {
				if !keep.contains(&hash) && self.remove(&hash).is_ok() {
					log::info!("model store: removed retired artifact {}", artifact::hex(&hash));
					removed += 1;
				}
			}
		}
		if let Ok(entries) = fs::read_dir(self.dir.join("partial")) {
			for entry in entries.flatten() {
				let path = entry.path();
				let hash = partial_hash(&path);
				if hash.is_some_and(|h| !keep.contains(&h)) && fs::remove_file(&path).is_ok() {
					removed += 1;
				}
			}
		}
		removed
	}

	/// The store directory.
	pub fn dir(&self) -> &Path {
		&self.dir
	}

	fn files(&self) -> io::Result<Vec<([u8; 32], PathBuf)>> {
		let mut out = Vec::new();
		for entry in fs::read_dir(self.dir.join("blake2-256"))? {
			let Ok(entry) = entry else { continue };
			let path = entry.path();
			let parsed = path
				.file_name()
				.and_then(|n| n.to_str())
				.and_then(|n| n.strip_suffix(".nrm"))
				.and_then(artifact::parse_hex);
			if let Some(hash) = parsed {
				out.push((hash, path));
			}
		}
		out.sort();
		Ok(out)
	}

	/// Hashes of the verified artifacts held, with their sizes (unreadable entries left out).
	pub fn list(&self) -> io::Result<Vec<([u8; 32], u64)>> {
		Ok(self
			.files()?
			.into_iter()
			.filter_map(|(h, p)| fs::metadata(p).ok().filter(|m| m.is_file()).map(|m| (h, m.len())))
			.collect())
	}

	/// Where the verified artifact `hash` is (or would be).
	pub fn path(&self, hash: &[u8; 32]) -> PathBuf {
		self.dir.join("blake2-256").join(format!("{}.nrm", name(hash)))
	}

	fn partial(&self, hash: &[u8; 32], source: &str) -> PathBuf {
		self.dir.join("partial").join(format!("{}.{}.part", name(hash), source_tag(source)))
	}

	/// Whether the verified artifact `hash` of `size` bytes is held.
	pub fn has(&self, hash: &[u8; 32], size: u64) -> bool {
		fs::metadata(self.path(hash)).is_ok_and(|m| m.is_file() && m.len() == size)
	}

	/// Bytes of `hash` downloaded from `source` so far (0 if none).
	pub fn partial_len(&self, hash: &[u8; 32], source: &str) -> u64 {
		fs::metadata(self.partial(hash, source)).map(|m| m.len()).unwrap_or(0)
	}

	/// The partial downloads of `hash` (every source's), with their lengths.
	pub fn partials(&self, hash: &[u8; 32]) -> Vec<(PathBuf, u64)> {
		let Ok(entries) = fs::read_dir(self.dir.join("partial")) else { return Vec::new() };
		let mut out: Vec<_> = entries
			.flatten()
			.map(|e| e.path())
			.filter(|p| partial_hash(p).as_ref() == Some(hash))
			.filter_map(|p| fs::metadata(&p).ok().map(|m| (p, m.len())))
			.collect();
		out.sort();
		out
	}

	/// Drops `source`'s partial download of `hash` (its bytes did not verify).
	pub fn discard_partial(&self, hash: &[u8; 32], source: &str) {
		let _ = fs::remove_file(self.partial(hash, source));
	}

	/// Drops every partial download of `hash` (the artifact is held now).
	pub fn discard_partials(&self, hash: &[u8; 32]) {
		for (path, _) in self.partials(hash) {
			let _ = fs::remove_file(path);
		}
	}

	/// Appends `bytes` at `offset` (which must be the partial length) of `source`'s download of
	/// `hash`; refuses to grow it past `size`. Returns the new length. Starting a download when
	/// [`MAX_PARTIALS`] sources already have one removes the shortest of theirs.
	pub fn append(
		&self,
		hash: &[u8; 32],
		source: &str,
		size: u64,
		offset: u64,
		bytes: &[u8],
	) -> Result<u64, StoreError> {
		let have = self.partial_len(hash, source);
		if offset != have {
			return Err(StoreError::OutOfOrder { hash: artifact::hex(hash), offset, have });
		}
		if have + bytes.len() as u64 > size {
			self.discard_partial(hash, source);
			return Err(StoreError::TooLarge { hash: artifact::hex(hash), declared: size });
		}
		let path = self.partial(hash, source);
		if have == 0 {
			let mut others: Vec<_> =
				self.partials(hash).into_iter().filter(|(p, _)| *p != path).collect();
			if others.len() >= MAX_PARTIALS {
				others.sort_by_key(|(_, len)| *len);
				for (p, _) in &others[..=others.len() - MAX_PARTIALS] {
					let _ = fs::remove_file(p);
				}
			}
		}
		let mut file = fs::OpenOptions::new().create(true).append(true).open(path)?;
		file.write_all(bytes)?;
		Ok(have + bytes.len() as u64)
	}

	/// Verifies a complete download and moves it into the store. A partial that is short is
	/// kept (to resume); one whose hash differs is deleted.
	pub fn finish(&self, hash: &[u8; 32], source: &str, size: u64) -> Result<PathBuf, StoreError> {
		let partial = self.partial(hash, source);
		let have = self.partial_len(hash, source);
		if have < size {
			return Err(StoreError::Truncated {
				hash: artifact::hex(hash),
				declared: size,
				got: have,
			});
		}
		self.admit(&partial, hash, size, true)
	}

	/// Checks `file` against the declared size and hash, then moves (`take`) or copies it into
	/// the store.
	fn admit(
		&self,
		file: &Path,
		hash: &[u8; 32],
		size: u64,
		take: bool,
	) -> Result<PathBuf, StoreError> {
		let refuse = |e: StoreError| {
			if take {
				let _ = fs::remove_file(file);
			}
			Err(e)
		};
		let len = fs::metadata(file)?.len();
		if len > size {
			return refuse(StoreError::TooLarge { hash: artifact::hex(hash), declared: size });
		}
		if len < size {
			return refuse(StoreError::Truncated {
				hash: artifact::hex(hash),
				declared: size,
				got: len,
			});
		}
		let (got, _) = hash_file(file)?;
		if &got != hash {
			return refuse(StoreError::HashMismatch {
				expected: artifact::hex(hash),
				got: artifact::hex(&got),
			});
		}
		let dest = self.path(hash);
		if take {
			fs::File::open(file)?.sync_all()?;
			fs::rename(file, &dest)?;
		} else {
			self.ensure_space(hash, size)?;
			let tmp = self.dir.join("partial").join(format!("{}.import", name(hash)));
			if let Err(e) = fs::copy(file, &tmp).and_then(|_| fs::File::open(&tmp)?.sync_all()) {
				let _ = fs::remove_file(&tmp);
				return Err(e.into());
			}
			fs::rename(&tmp, &dest)?;
		}
		// Downloads of the same artifact left behind are no longer needed.
		self.discard_partials(hash);
		self.write_record(hash);
		Ok(dest)
	}

	/// Copies a local file (an operator's or publisher's copy) into the store if it has the
	/// declared size and hash.
	pub fn import(&self, file: &Path, hash: &[u8; 32], size: u64) -> Result<PathBuf, StoreError> {
		self.admit(file, hash, size, false)
	}

	/// Up to `max` bytes of the verified artifact `hash` from `offset`, for a peer; `None` if
	/// it is not held.
	pub fn read_chunk(
		&self,
		hash: &[u8; 32],
		offset: u64,
		max: usize,
	) -> io::Result<Option<Vec<u8>>> {
		let mut file = match fs::File::open(self.path(hash)) {
			Ok(f) => f,
			Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
			Err(e) => return Err(e),
		};
		let len = file.metadata()?.len();
		if offset > len {
			return Ok(Some(Vec::new()));
		}
		file.seek(SeekFrom::Start(offset))?;
		let mut buf = vec![0u8; max.min((len - offset) as usize)];
		file.read_exact(&mut buf)?;
		Ok(Some(buf))
	}

	/// [`Store::finish`] on the blocking pool: hashing hundreds of megabytes must not hold an
	/// async executor thread.
	pub async fn finish_async(
		&self,
		hash: &[u8; 32],
		source: &str,
		size: u64,
	) -> Result<PathBuf, StoreError> {
		let (store, hash, source) = (self.clone(), *hash, source.to_string());
		tokio::task::spawn_blocking(move || store.finish(&hash, &source, size))
			.await
			.map_err(|e| StoreError::Io(io::Error::other(e.to_string())))?
	}

	/// [`Store::import`] on the blocking pool.
	pub async fn import_async(
		&self,
		file: &Path,
		hash: &[u8; 32],
		size: u64,
	) -> Result<PathBuf, StoreError> {
		let (store, file, hash) = (self.clone(), file.to_path_buf(), *hash);
		tokio::task::spawn_blocking(move || store.import(&file, &hash, size))
			.await
			.map_err(|e| StoreError::Io(io::Error::other(e.to_string())))?
	}

	/// Removes a verified artifact (the registry retired it) and its record.
	pub fn remove(&self, hash: &[u8; 32]) -> io::Result<()> {
		let _ = fs::remove_file(self.record_path(hash));
		match fs::remove_file(self.path(hash)) {
			Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
			_ => Ok(()),
		}
	}
}

fn name(hash: &[u8; 32]) -> String {
	artifact::hex(hash).trim_start_matches("0x").to_string()
}

/// Why an HTTP download failed.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
	#[error("{url}: {message}")]
	Http { url: String, message: String },
	#[error("{url}: {source}")]
	Refused { url: String, source: StoreError },
}

type HttpClient = hyper_util::client::legacy::Client<
	hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>,
	http_body_util::Full<bytes::Bytes>,
>;

/// An HTTP(S) client for artifact downloads (system root certificates).
#[derive(Clone)]
pub struct Http {
	client: HttpClient,
	/// Longest wait for the response or for the next piece of its body: a stalled server
	/// fails the download (kept to resume) instead of holding the node's model store.
	idle: std::time::Duration,
	/// Slowest accepted transfer, in bytes per second, measured over each window: a server
	/// trickling bytes fails the download (kept to resume) too, so a download of `n` bytes
	/// takes at most about `n / rate` plus one window.
	min_rate: u64,
	rate_window: std::time::Duration,
}

/// Default [`Http`] idle timeout.
pub const HTTP_IDLE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);
/// Default slowest accepted transfer: 16 KiB/s over 30 s windows.
pub const HTTP_MIN_RATE: u64 = 16 << 10;
pub const HTTP_RATE_WINDOW: std::time::Duration = std::time::Duration::from_secs(30);

/// Checks a 206 answer's `Content-Range` (`bytes START-END/TOTAL`): it must start where the
/// partial download ends and, when the total is given, agree with the declared size.
fn check_content_range(header: Option<&str>, have: u64, size: u64) -> Result<(), String> {
	let header = header.ok_or("a 206 answer without Content-Range")?;
	let range = header
		.trim()
		.strip_prefix("bytes ")
		.ok_or_else(|| format!("Content-Range {header:?} is not in bytes"))?;
	let (span, total) =
		range.split_once('/').ok_or_else(|| format!("bad Content-Range {header:?}"))?;
	let start: u64 = span
		.split_once('-')
		.and_then(|(a, _)| a.trim().parse().ok())
		.ok_or_else(|| format!("bad Content-Range {header:?}"))?;
	if start != have {
		return Err(format!("Content-Range starts at {start}, {have} bytes were asked to skip"));
	}
	if total.trim() != "*" && total.trim().parse::<u64>().ok() != Some(size) {
		return Err(format!("Content-Range total {total}, the registry declares {size} bytes"));
	}
	Ok(())
}

impl Http {
	pub fn new() -> Result<Self, String> {
		let builder = match hyper_rustls::HttpsConnectorBuilder::new()
			.with_provider_and_native_roots(rustls::crypto::ring::default_provider())
		{
			Ok(builder) => builder,
			Err(e) => {
				// Not a reason to refuse to start: peers and http:// locations still work.
				log::warn!(
					"no system TLS root certificates ({e}): https:// model locations will fail \
					 until the system's CA certificates are installed"
				);
				let config = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
					rustls::crypto::ring::default_provider(),
				))
				.with_safe_default_protocol_versions()
				.map_err(|e| format!("TLS: {e}"))?
				.with_root_certificates(rustls::RootCertStore::empty())
				.with_no_client_auth();
				hyper_rustls::HttpsConnectorBuilder::new().with_tls_config(config)
			}
		};
		let connector = builder.https_or_http().enable_http1().build();
		let client =
			hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
				.build(connector);
		Ok(Self {
			client,
			idle: HTTP_IDLE_TIMEOUT,
			min_rate: HTTP_MIN_RATE,
			rate_window: HTTP_RATE_WINDOW,
		})
	}

	/// The same client with another idle timeout.
	pub fn with_idle_timeout(self, idle: std::time::Duration) -> Self {
		Self { idle, ..self }
	}

	/// The same client with another slowest accepted rate (bytes per second over `window`).
	pub fn with_min_rate(self, min_rate: u64, window: std::time::Duration) -> Self {
		Self { min_rate, rate_window: window, ..self }
	}

	/// Posts a JSON-RPC call to `url` and returns its result (or its error as text).
	pub async fn json_rpc(
		&self,
		url: &str,
		method: &str,
		params: serde_json::Value,
	) -> Result<serde_json::Value, String> {
		use http_body_util::BodyExt;
		let body =
			serde_json::json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": params });
		let request = hyper::Request::post(url)
			.header(hyper::header::CONTENT_TYPE, "application/json")
			.body(http_body_util::Full::new(bytes::Bytes::from(body.to_string())))
			.map_err(|e| format!("{url}: {e}"))?;
		let response = self.client.request(request).await.map_err(|e| format!("{url}: {e}"))?;
		let bytes =
			response.into_body().collect().await.map_err(|e| format!("{url}: {e}"))?.to_bytes();
		let mut answer: serde_json::Value = serde_json::from_slice(&bytes)
			.map_err(|e| format!("{url}: not a JSON-RPC answer: {e}"))?;
		match answer.get("error") {
			Some(e) => Err(format!("{method}: {}", e["message"].as_str().unwrap_or("error"))),
			None => Ok(answer["result"].take()),
		}
	}

	/// Downloads artifact `hash` of `size` bytes from `url` into `store`, resuming a partial
	/// download with a range request, and verifies it. `progress(done, size)` is called as
	/// bytes arrive.
	pub async fn fetch(
		&self,
		store: &Store,
		url: &str,
		hash: &[u8; 32],
		size: u64,
		mut progress: impl FnMut(u64, u64),
	) -> Result<PathBuf, FetchError> {
		use http_body_util::BodyExt;
		let http = |message: String| FetchError::Http { url: url.to_string(), message };
		let refused = |source: StoreError| FetchError::Refused { url: url.to_string(), source };
		let mut have = store.partial_len(hash, url);
		if have >= size {
			// A complete partial from an earlier run that was not verified yet.
			return store.finish_async(hash, url, size).await.map_err(refused);
		}
		store.ensure_space(hash, size - have).map_err(refused)?;
		let uri: hyper::Uri = url.parse().map_err(|e| http(format!("bad URL: {e}")))?;
		let mut request = hyper::Request::get(uri);
		if have > 0 {
			request = request.header(hyper::header::RANGE, format!("bytes={have}-"));
		}
		let request =
			request.body(http_body_util::Full::default()).map_err(|e| http(e.to_string()))?;
		let idle = self.idle;
		let stalled = || http(format!("no data for {} s", idle.as_secs_f32()));
		let response = tokio::time::timeout(idle, self.client.request(request))
			.await
			.map_err(|_| stalled())?
			.map_err(|e| http(e.to_string()))?;
		match response.status().as_u16() {
			206 if have > 0 => {
				let range = response.headers().get(hyper::header::CONTENT_RANGE);
				check_content_range(range.and_then(|v| v.to_str().ok()), have, size)
					.map_err(http)?;
			}
			200 => {
				// The server ignores ranges: start over.
				store.discard_partial(hash, url);
				have = 0;
			}
			status => return Err(http(format!("HTTP status {status}"))),
		}
		let mut body = response.into_body();
		progress(have, size);
		let (mut window_start, mut window_from) = (std::time::Instant::now(), have);
		while let Some(frame) =
			tokio::time::timeout(idle, body.frame()).await.map_err(|_| stalled())?
		{
			let frame = frame.map_err(|e| http(format!("download interrupted: {e}")))?;
			if let Ok(data) = frame.into_data() {
				have = store.append(hash, url, size, have, &data).map_err(refused)?;
				progress(have, size);
			}
			let elapsed = window_start.elapsed();
			if elapsed >= self.rate_window {
				let rate = (have - window_from) as f64 / elapsed.as_secs_f64();
				if rate < self.min_rate as f64 {
					return Err(http(format!(
						"{rate:.0} bytes/s, slower than the {} bytes/s accepted",
						self.min_rate
					)));
				}
				(window_start, window_from) = (std::time::Instant::now(), have);
			}
		}
		store.finish_async(hash, url, size).await.map_err(refused)
	}
}
