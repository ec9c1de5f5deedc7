//! The artifact protocol between nodes (`/<genesis>/noderr/models/1`, request-response): a
//! request is `(hash, offset, max)` and its answer `Option<bytes>`, both SCALE-encoded. The
//! answer holds up to `min(max, CHUNK)` bytes of the verified artifact from `offset` (fewer only
//! at its end, none past it), or `None` if the store does not hold the artifact.
//!
//! Decoding is strict: a request with trailing bytes is as malformed as a short one. This is
//! the code a peer's bytes reach first, so it is fuzzed (`fuzz/fuzz_targets/peer_request.rs`).

use crate::store::Store;
use codec::{DecodeAll, Encode};

/// Largest chunk sent in one answer.
pub const CHUNK: usize = 1 << 20;
/// Bytes of an encoded request.
pub const REQUEST_LEN: usize = 32 + 8 + 4;

/// Why a request got no answer.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
	#[error("malformed artifact request ({0} bytes)")]
	Malformed(usize),
	#[error("cannot read the artifact: {0}")]
	Io(#[from] std::io::Error),
}

/// Encodes a request for `max` bytes of artifact `hash` from `offset`.
pub fn request(hash: [u8; 32], offset: u64, max: u32) -> Vec<u8> {
	(hash, offset, max).encode()
}

/// Decodes a request.
pub fn decode_request(payload: &[u8]) -> Result<([u8; 32], u64, u32), RequestError> {
	<([u8; 32], u64, u32)>::decode_all(&mut &payload[..])
		.map_err(|_| RequestError::Malformed(payload.len()))
}

/// The encoded answer to a peer's request, read from `store`.
pub fn answer(store: &Store, payload: &[u8]) -> Result<Vec<u8>, RequestError> {
	let (hash, offset, max) = decode_request(payload)?;
	let chunk = store.read_chunk(&hash, offset, (max as usize).min(CHUNK))?;
	Ok(chunk.encode())
}

/// Decodes an answer; `Err` if it is malformed.
pub fn decode_answer(bytes: &[u8]) -> Result<Option<Vec<u8>>, codec::Error> {
	<Option<Vec<u8>>>::decode_all(&mut &bytes[..])
}
