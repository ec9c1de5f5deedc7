//! Every model, run in two separate processes on the same real inputs, gives identical
//! quantised outputs. Uses the artifacts `scripts/default-artifacts.sh` installs
//! (`$NODERR_ARTIFACTS`, else `$NODERR_CACHE/artifacts`).

use std::process::Command;

fn check_once(dir: &std::path::Path) -> String {
	let out = Command::new(env!("CARGO_BIN_EXE_noderr-ml"))
		.args(["check", "--windows", "32", "--models"])
		.arg(dir)
		.output()
		.unwrap();
	assert!(out.status.success(), "check failed: {}", String::from_utf8_lossy(&out.stderr));
	String::from_utf8(out.stdout).unwrap()
}

#[test]
fn two_processes_agree_bit_for_bit() {
	let dir = noderr_ml::data::artifacts_dir();
	assert!(
		dir.join("price-transformer.nrm").exists(),
		"{} has no artifacts: run scripts/default-artifacts.sh",
		dir.display()
	);
	let (a, b) = (check_once(&dir), check_once(&dir));
	let models: Vec<&str> = a.lines().collect();
	assert_eq!(models.len(), 4, "one line per model: {a}");
	for name in ["price-transformer", "gaf-regime", "msrr", "sentiment"] {
		assert!(a.contains(&format!("\"{name}\"")), "{name} missing: {a}");
	}
	// 32 windows per model, and the outputs are not all the same.
	for line in &models {
		let v: serde_json::Value = serde_json::from_str(line).unwrap();
		let outputs = v["outputs"].as_array().unwrap();
		assert_eq!(outputs.len(), 32);
		assert!(outputs.iter().any(|o| o != &outputs[0]), "constant outputs: {line}");
	}
	assert_eq!(a, b, "two processes disagree");
}
