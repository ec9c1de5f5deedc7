//! The node's model store: artifacts kept content-addressed by their blake2-256 hash in the
//! node's base path, written only through a check of declared size and hash.
//!
//! Layout under the store directory:
//! - `blake2-256/<hex>.nrm`: verified artifacts; a file is only ever renamed into place after
//!   its size and hash matched, so anything here was verified once (and is re-verified when
//!   the store is opened after a crash);
//! - `partial/<hex>.part`: downloads in progress (from peers or HTTP), resumed from their length.
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

impl Store {
	/// Opens (creating) the store in `dir`. Verified files that no longer hash to their name
	/// (a disk error, a hand edit) are deleted, so that they are fetched again.
	pub fn open(dir: &Path) -> Result<Self, StoreError> {
		let store = Self { dir: dir.to_path_buf() };
		fs::create_dir_all(store.dir.join("blake2-256"))?;
		fs::create_dir_all(store.dir.join("partial"))?;
		for (hash, path) in store.files()? {
			match hash_file(&path) {
				Ok((got, _)) if got == hash => {}
				Ok((got, _)) => {
					log::warn!(
						"model store: {} hashes to {}; deleted, it will be fetched again",
						path.display(),
						artifact::hex(&got)
					);
					fs::remove_file(&path)?;
				}
				Err(e) => return Err(e.into()),
			}
		}
		Ok(store)
	}

	/// The store directory.
	pub fn dir(&self) -> &Path {
		&self.dir
	}

	fn files(&self) -> io::Result<Vec<([u8; 32], PathBuf)>> {
		let mut out = Vec::new();
		for entry in fs::read_dir(self.dir.join("blake2-256"))? {
			let path = entry?.path();
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

	/// Hashes of the verified artifacts held, with their sizes.
	pub fn list(&self) -> io::Result<Vec<([u8; 32], u64)>> {
		self.files()?.into_iter().map(|(h, p)| Ok((h, fs::metadata(p)?.len()))).collect()
	}

	/// Where the verified artifact `hash` is (or would be).
	pub fn path(&self, hash: &[u8; 32]) -> PathBuf {
		self.dir.join("blake2-256").join(format!("{}.nrm", name(hash)))
	}

	fn partial(&self, hash: &[u8; 32]) -> PathBuf {
		self.dir.join("partial").join(format!("{}.part", name(hash)))
	}

	/// Whether the verified artifact `hash` of `size` bytes is held.
	pub fn has(&self, hash: &[u8; 32], size: u64) -> bool {
		fs::metadata(self.path(hash)).is_ok_and(|m| m.len() == size)
	}

	/// Bytes of `hash` downloaded so far (0 if none).
	pub fn partial_len(&self, hash: &[u8; 32]) -> u64 {
		fs::metadata(self.partial(hash)).map(|m| m.len()).unwrap_or(0)
	}

	/// Drops a partial download (a source sent bytes that did not verify).
	pub fn discard_partial(&self, hash: &[u8; 32]) {
		let _ = fs::remove_file(self.partial(hash));
	}

	/// Appends `bytes` at `offset` (which must be the partial length) of the download of
	/// `hash`; refuses to grow it past `size`. Returns the new length.
	pub fn append(
		&self,
		hash: &[u8; 32],
		size: u64,
		offset: u64,
		bytes: &[u8],
	) -> Result<u64, StoreError> {
		let have = self.partial_len(hash);
		if offset != have {
			return Err(StoreError::OutOfOrder { hash: artifact::hex(hash), offset, have });
		}
		if have + bytes.len() as u64 > size {
			self.discard_partial(hash);
			return Err(StoreError::TooLarge { hash: artifact::hex(hash), declared: size });
		}
		let mut file = fs::OpenOptions::new().create(true).append(true).open(self.partial(hash))?;
		file.write_all(bytes)?;
		Ok(have + bytes.len() as u64)
	}

	/// Verifies a complete download and moves it into the store. A partial that is short is
	/// kept (to resume); one whose hash differs is deleted.
	pub fn finish(&self, hash: &[u8; 32], size: u64) -> Result<PathBuf, StoreError> {
		let partial = self.partial(hash);
		let have = self.partial_len(hash);
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
			fs::rename(file, &dest)?;
		} else {
			let tmp = self.partial(hash).with_extension("import");
			fs::copy(file, &tmp)?;
			fs::File::open(&tmp)?.sync_all()?;
			fs::rename(&tmp, &dest)?;
		}
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
	pub async fn finish_async(&self, hash: &[u8; 32], size: u64) -> Result<PathBuf, StoreError> {
		let (store, hash) = (self.clone(), *hash);
		tokio::task::spawn_blocking(move || store.finish(&hash, size))
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

	/// Removes a verified artifact (the registry retired it).
	pub fn remove(&self, hash: &[u8; 32]) -> io::Result<()> {
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
}

/// Default [`Http`] idle timeout.
pub const HTTP_IDLE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

impl Http {
	pub fn new() -> Result<Self, String> {
		let connector = hyper_rustls::HttpsConnectorBuilder::new()
			.with_provider_and_native_roots(rustls::crypto::ring::default_provider())
			.map_err(|e| format!("no TLS root certificates: {e}"))?
			.https_or_http()
			.enable_http1()
			.build();
		let client =
			hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
				.build(connector);
		Ok(Self { client, idle: HTTP_IDLE_TIMEOUT })
	}

	/// The same client with another idle timeout.
	pub fn with_idle_timeout(self, idle: std::time::Duration) -> Self {
		Self { idle, ..self }
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
		let mut have = store.partial_len(hash);
		if have >= size {
			// A complete partial from an earlier run that was not verified yet.
			return store.finish_async(hash, size).await.map_err(refused);
		}
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
			206 if have > 0 => {}
			200 => {
				// The server ignores ranges: start over.
				store.discard_partial(hash);
				have = 0;
			}
			status => return Err(http(format!("HTTP status {status}"))),
		}
		let mut body = response.into_body();
		progress(have, size);
		while let Some(frame) =
			tokio::time::timeout(idle, body.frame()).await.map_err(|_| stalled())?
		{
			let frame = frame.map_err(|e| http(format!("download interrupted: {e}")))?;
			if let Ok(data) = frame.into_data() {
				have = store.append(hash, size, have, &data).map_err(refused)?;
				progress(have, size);
			}
		}
		store.finish_async(hash, size).await.map_err(refused)
	}
}
