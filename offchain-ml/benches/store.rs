//! Time for the model store to open holding the four default artifacts (87 MiB): with
//! the verification records it keeps (what a node does at every start), against hashing every
//! file (what opening did before the records, and still does for a file whose record is gone).
//! Uses the default artifacts (`scripts/default-artifacts.sh`).
//! Run: `cargo bench -p noderr-ml --bench store`.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use noderr_ml::{
	data,
	store::{hash_file, Store},
};
use std::{fs, path::Path};

fn records(dir: &Path) -> Vec<std::path::PathBuf> {
	fs::read_dir(dir.join("blake2-256"))
		.unwrap()
		.flatten()
		.map(|e| e.path())
		.filter(|p| p.extension().is_some_and(|e| e == "ok"))
		.collect()
}

fn bench(c: &mut Criterion) {
	let dir = std::env::temp_dir().join(format!("noderr-bench-store-{}", std::process::id()));
	let _ = fs::remove_dir_all(&dir);
	let store = Store::open(&dir).unwrap();
	let mut bytes = 0u64;
	for entry in fs::read_dir(data::artifacts_dir()).expect("run scripts/default-artifacts.sh") {
		let path = entry.unwrap().path();
		if path.extension().is_some_and(|e| e == "nrm") {
			let (hash, size) = hash_file(&path).unwrap();
			bytes += size;
			store.import(&path, &hash, size).unwrap();
		}
	}
	let (_, report) = Store::open_with_report(&dir).unwrap();
	assert_eq!(report.trusted, 4, "four artifacts with their records: {report:?}");
	eprintln!("store: 4 artifacts, {:.1} MiB", bytes as f64 / (1 << 20) as f64);

	let mut group = c.benchmark_group("store_open");
	group.sample_size(10);
	group.bench_function("with_records", |b| b.iter(|| Store::open(&dir).unwrap()));
	group.bench_function("hashing_every_file", |b| {
		b.iter_batched(
			|| {
				for record in records(&dir) {
					fs::remove_file(record).unwrap();
				}
			},
			|()| Store::open(&dir).unwrap(),
			BatchSize::PerIteration,
		)
	});
	group.finish();
	let _ = fs::remove_dir_all(&dir);
}

criterion_group!(benches, bench);
criterion_main!(benches);
