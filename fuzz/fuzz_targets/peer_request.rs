//! A peer's request bytes → decoding → a chunk read from the store → the encoded answer: an
//! error or an answer of at most one chunk holding exactly the stored bytes asked for, never a
//! panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use noderr_ml::{
	artifact::blake2_256,
	peer_protocol::{answer, decode_answer, decode_request, CHUNK},
	store::Store,
};
use std::sync::OnceLock;

fn store() -> &'static (Store, Vec<u8>, [u8; 32]) {
	static STORE: OnceLock<(Store, Vec<u8>, [u8; 32])> = OnceLock::new();
	STORE.get_or_init(|| {
		let dir = std::env::temp_dir().join(format!("noderr-fuzz-peer-{}", std::process::id()));
		let store = Store::open(&dir).expect("a store in the temporary directory");
		let data: Vec<u8> = (0..CHUNK + 12_345).map(|i| (i % 251) as u8).collect();
		let hash = blake2_256(&data);
		let file = dir.join("incoming");
		std::fs::write(&file, &data).expect("writable temporary directory");
		store.import(&file, &hash, data.len() as u64).expect("the artifact verifies");
		(store, data, hash)
	})
}

fuzz_target!(|payload: &[u8]| {
	let (store, data, hash) = store();
	// Half the inputs ask for the stored artifact, so offsets and lengths get exercised.
	let mut payload = payload.to_vec();
	if payload.len() == 44 && payload[0] & 1 == 0 {
		payload[..32].copy_from_slice(hash);
	}
	let Ok(bytes) = answer(store, &payload) else { return };
	let (asked, offset, max) = decode_request(&payload).expect("answered, so it decoded");
	let chunk = decode_answer(&bytes).expect("our own answers decode");
	match chunk {
		None => assert_ne!(&asked, hash),
		Some(chunk) => {
			assert_eq!(&asked, hash);
			assert!(chunk.len() <= CHUNK && chunk.len() <= max as usize);
			let from = (offset as usize).min(data.len());
			assert_eq!(chunk, data[from..from + chunk.len()]);
		}
	}
});
