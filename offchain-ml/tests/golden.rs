//! The published default artifacts, checked on whatever machine runs the suite:
//! - the committed files, and the sentiment head assembled on the pinned all-MiniLM-L6-v2
//!   weights, are byte for byte the artifacts the dev genesis registers
//!   (`runtime/src/dev_models.json`);
//! - every model's quantised outputs on fixed real inputs (`noderr-ml check`: 32 windows of the
//!   BTC series, four texts) agree with the committed golden outputs
//!   (`offchain-ml/artifacts/golden.jsonl`, made from these artifacts) within the model's
//!   registered tolerance, under every CPU code path the processor offers: the pinned settings
//!   nodes run, libtorch's own choice, and ATen's AVX2 and AVX-512 kernels.
//!
//! The spread per model and code path is printed (run with `--nocapture` to see it);
//! `scripts/test.sh` does.

use serde_json::Value;
use std::{collections::BTreeMap, path::PathBuf, process::Command};

const WINDOWS: &str = "32";

fn manifest_dir() -> PathBuf {
	PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Registered (hash, size, tolerance) by model name, from the dev genesis.
fn registered() -> BTreeMap<String, ([u8; 32], u64, i64)> {
	let path = manifest_dir().join("../runtime/src/dev_models.json");
	let entries: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
	let mut out = BTreeMap::new();
	for e in entries.as_array().expect("a list of models") {
		let name: Vec<u8> =
			e[0].as_array().unwrap().iter().map(|b| b.as_u64().unwrap() as u8).collect();
		let reg = &e[2];
		let hash: Vec<u8> = reg["spec"]["artifact_hash"]
			.as_array()
			.unwrap()
			.iter()
			.map(|b| b.as_u64().unwrap() as u8)
			.collect();
		out.insert(
			String::from_utf8(name).unwrap(),
			(
				hash.try_into().unwrap(),
				reg["spec"]["artifact_size"].as_u64().unwrap(),
				reg["spec"]["output"]["tolerance"].as_i64().unwrap(),
			),
		);
	}
	out
}

/// The default artifacts installed from the repository into a fresh directory.
fn installed(test: &str) -> PathBuf {
	let out = std::env::temp_dir().join(format!("noderr-golden-{test}-{}", std::process::id()));
	let base = noderr_ml::data::cache_dir().join("minilm/model.safetensors");
	let base = std::fs::read(&base)
		.unwrap_or_else(|e| panic!("{}: {e} (scripts/setup-data.sh extracts it)", base.display()));
	noderr_ml::base::install(&manifest_dir().join("artifacts"), Some(&base), &out).unwrap();
	out
}

fn check(dir: &std::path::Path, mode: &str) -> BTreeMap<String, Value> {
	let out = Command::new(env!("CARGO_BIN_EXE_noderr-ml"))
		.args(["check", "--windows", WINDOWS, "--cpu-mode", mode, "--models"])
		.arg(dir)
		.output()
		.unwrap();
	assert!(out.status.success(), "check failed: {}", String::from_utf8_lossy(&out.stderr));
	lines(&String::from_utf8(out.stdout).unwrap())
}

fn lines(text: &str) -> BTreeMap<String, Value> {
	text.lines()
		.map(|l| serde_json::from_str::<Value>(l).unwrap())
		.map(|v| (v["model"].as_str().unwrap().to_string(), v))
		.collect()
}

/// Largest difference between two outputs' numbers, and how many labels differ.
fn compare(a: &Value, b: &Value, max: &mut i64, flips: &mut usize) {
	match (a, b) {
		(Value::Number(x), Value::Number(y)) => {
			*max = (*max).max((x.as_i64().unwrap() - y.as_i64().unwrap()).abs())
		}
		(Value::Array(x), Value::Array(y)) => {
			assert_eq!(x.len(), y.len(), "output shapes differ");
			x.iter().zip(y).for_each(|(x, y)| compare(x, y, max, flips));
		}
		(Value::Object(x), Value::Object(y)) => {
			for (k, v) in x {
				if k == "label" {
					*flips += usize::from(v != &y[k]);
				} else if k != "class" {
					compare(v, &y[k], max, flips);
				}
			}
		}
		_ => assert_eq!(a, b),
	}
}

#[test]
fn committed_artifacts_are_the_registered_ones() {
	let dir = installed("registered");
	let registered = registered();
	let mut seen = Vec::new();
	for (name, (hash, size, _)) in &registered {
		let path = dir.join(format!("{name}.nrm"));
		let bytes = std::fs::read(&path)
			.unwrap_or_else(|e| panic!("{name} is registered, {}: {e}", path.display()));
		assert_eq!(
			noderr_ml::artifact::blake2_256(&bytes),
			*hash,
			"{name}: the published bytes are not the registered artifact"
		);
		assert_eq!(bytes.len() as u64, *size, "{name}: size");
		seen.push(format!("{name}.nrm"));
	}
	let mut files: Vec<String> = std::fs::read_dir(&dir)
		.unwrap()
		.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
		.collect();
	files.sort();
	assert_eq!(files, seen, "every published artifact is registered, and only those");
	std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn outputs_match_the_golden_ones_on_every_cpu_code_path() {
	let dir = installed("outputs");
	let registered = registered();
	let golden =
		lines(&std::fs::read_to_string(manifest_dir().join("artifacts/golden.jsonl")).unwrap());
	assert_eq!(golden.len(), registered.len(), "one golden line per registered model");
	let mut modes = vec!["pinned", "default", "avx2"];
	if noderr_ml::runtime::has_avx512() {
		modes.push("avx512");
	} else {
		println!("golden: this processor has no AVX-512; avx512 not measured");
	}
	let mut failures = Vec::new();
	for mode in modes {
		let got = check(&dir, mode);
		for (name, want) in &golden {
			let (_, _, tolerance) = registered[name];
			let have = &got[name];
			assert_eq!(have["hash"], want["hash"], "{name}: golden outputs of another artifact");
			let (mut max, mut flips) = (0, 0);
			compare(&want["outputs"], &have["outputs"], &mut max, &mut flips);
			let verdict = if max == 0 && flips == 0 { "identical" } else { "differs" };
			println!(
				"golden {name:<17} {mode:<8} max |diff| {max:>6} units of 1e-6, {flips} label \
				 changes, tolerance {tolerance}: {verdict}"
			);
			if max > tolerance || flips > 0 {
				failures.push(format!("{name} under {mode}: {max} units, {flips} label changes"));
			}
		}
	}
	std::fs::remove_dir_all(dir).unwrap();
	assert!(failures.is_empty(), "beyond the registered tolerance: {failures:?}");
}
