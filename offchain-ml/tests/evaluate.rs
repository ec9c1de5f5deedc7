//! `noderr-ml evaluate` on the published artifacts, run as an operator runs it: every model's
//! held-out figures beside each of its baselines, all finite, printed for the record.

use serde_json::Value;
use std::process::Command;

fn finite(v: &Value, path: &str) -> f64 {
	let x = v.pointer(path).and_then(Value::as_f64).unwrap_or_else(|| panic!("{path} in {v}"));
	assert!(x.is_finite(), "{path} = {x} in {v}");
	x
}

#[test]
fn every_model_is_scored_beside_its_baselines() {
	let out = Command::new(env!("CARGO_BIN_EXE_noderr-ml"))
		.args(["evaluate", "--models"])
		.arg(noderr_ml::data::artifacts_dir())
		.output()
		.unwrap();
	let stdout = String::from_utf8_lossy(&out.stdout);
	assert!(out.status.success(), "{}\n{stdout}", String::from_utf8_lossy(&out.stderr));
	let reports: Vec<Value> = stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
	let by = |name: &str| {
		reports.iter().find(|r| r["model"] == name).unwrap_or_else(|| panic!("{name}: {stdout}"))
	};
	let price = by("price-transformer");
	for key in [
		"/nll",
		"/nll_random_walk_constant",
		"/nll_random_walk_ewma_0_94",
		"/nll_random_walk_rolling_60",
		"/realised_over_predicted_volatility",
		"/direction_accuracy",
		"/direction_accuracy_majority",
		"/direction_agrees_with_return",
	] {
		finite(price, key);
	}
	assert!(finite(price, "/test_samples") > 1000.0, "{price}");
	let regime = by("gaf-regime");
	for key in ["/accuracy", "/accuracy_majority", "/accuracy_persistence", "/macro_f1_persistence"]
	{
		let x = finite(regime, key);
		assert!((0.0..=1.0).contains(&x), "{key} {regime}");
	}
	let msrr = by("msrr");
	for who in ["msrr", "buy_and_hold", "volatility_targeting"] {
		for key in ["mean_return_pct", "sortino_per_bar", "max_drawdown_pct", "mean_allocation"] {
			finite(msrr, &format!("/{who}/{key}"));
		}
	}
	assert_eq!(finite(msrr, "/buy_and_hold/mean_allocation"), 1.0);
	assert!(by("sentiment")["recorded_at_training"]["macro_f1_vader"].is_number(), "{stdout}");
	for r in &reports {
		println!("evaluate {r}");
	}
}
