//! `noderr-ml evaluate` on the published artifacts, run as an operator runs it: every model's
//! held-out figures beside each of its baselines, all finite, printed for the record.

use serde_json::Value;
use std::process::Command;

fn finite(v: &Value, path: &str) -> f64 {
	let x = v.pointer(path).and_then(Value::as_f64).unwrap_or_else(|| panic!("{path} in {v}"));
	assert!(x.is_finite(), "{path} = {x} in {v}");
	x
}

/// Every `keys` of `v` is a finite fraction (0 ..= 1).
fn fractions(v: &Value, keys: &[&str]) {
	for key in keys {
		let x = finite(v, key);
		assert!((0.0..=1.0).contains(&x), "{key} {v}");
	}
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
	// The price model: first on the held-out later period of each series it trains on, then on
	// each series it never saw.
	let prices: Vec<&Value> =
		reports.iter().filter(|r| r["model"] == "price-transformer").collect();
	let series: Vec<String> =
		prices.iter().map(|r| r["series"].as_str().unwrap().to_string()).collect();
	let mut expected: Vec<String> = noderr_ml::evaluate::PRICE_SERIES
		.iter()
		.map(|(_, s)| format!("{s}, held-out later period"))
		.collect();
	expected.extend(noderr_ml::evaluate::OUT_OF_DOMAIN.iter().map(|(_, s)| s.to_string()));
	assert_eq!(series, expected, "{stdout}");
	for price in &prices {
		for key in [
			"/nll",
			"/nll_random_walk_constant",
			"/nll_random_walk_ewma_0_94",
			"/nll_random_walk_rolling_60",
			"/realised_over_predicted_volatility",
			"/direction_accuracy",
			"/direction_accuracy_majority",
		] {
			finite(price, key);
		}
		for key in ["/predicted_volatility_pct", "/realised_volatility_pct"] {
			assert!(finite(price, key) > 0.0, "{key} {price}");
		}
		// Hundreds of daily windows per series, thousands of hourly ones.
		assert!(finite(price, "/test_samples") > 200.0, "{price}");
		// The published model: better than every variance-following random walk on every
		// series, its volatility calibrated within a fifth, its direction that of its return.
		// (Its answers are the same bits on every processor, so these hold everywhere.)
		assert_eq!(price["beats_best_random_walk"], true, "{price}");
		let ratio = finite(price, "/realised_over_predicted_volatility");
		assert!((0.8..1.25).contains(&ratio), "calibration {ratio}: {price}");
		assert_eq!(finite(price, "/direction_agrees_with_return"), 1.0, "{price}");
	}
	assert!(finite(prices[0], "/test_samples") > 1000.0, "{}", prices[0]);
	// The regime classifier: its hourly held-out period, then every window of each daily
	// series, on none of which it trained.
	let regimes: Vec<&Value> = reports.iter().filter(|r| r["model"] == "gaf-regime").collect();
	let series: Vec<String> =
		regimes.iter().map(|r| r["series"].as_str().unwrap().to_string()).collect();
	let mut expected = vec![expected[0].clone()];
	expected.extend(noderr_ml::evaluate::REGIME_OUT_OF_DOMAIN.iter().map(|(_, s)| s.to_string()));
	assert_eq!(series, expected, "{stdout}");
	for regime in &regimes {
		fractions(
			regime,
			&[
				"/accuracy",
				"/macro_f1",
				"/accuracy_majority",
				"/accuracy_persistence",
				"/macro_f1_persistence",
				"/accuracy_volatility_ratio_rule",
				"/macro_f1_volatility_ratio_rule",
			],
		);
		assert!(finite(regime, "/test_samples") > 150.0, "{regime}");
	}
	// The published classifier, on the hourly held-out period: at least 10 points of accuracy
	// above the better of majority and persistence.
	assert!(finite(regimes[0], "/points_above_best_baseline") >= 10.0, "{}", regimes[0]);
	let msrr = by("msrr");
	for who in ["msrr", "buy_and_hold", "volatility_targeting"] {
		for key in ["mean_return_pct", "sortino_per_bar", "max_drawdown_pct", "mean_allocation"] {
			finite(msrr, &format!("/{who}/{key}"));
		}
	}
	assert_eq!(finite(msrr, "/buy_and_hold/mean_allocation"), 1.0);
	// MSRR against each baseline: the block-bootstrap interval of each difference brackets the
	// difference itself; the published filter's lower downside deviation is beyond chance
	// against both (its purpose), while its mean return and Sortino ratio are not told apart
	// from theirs (the held-out hours have no drift to time).
	for who in ["buy_and_hold", "volatility_targeting"] {
		for key in ["mean_return_pct", "downside_deviation_pct", "sortino_per_bar"] {
			let interval = format!("/msrr_minus_{who}_95/{key}");
			let (lo, hi) =
				(finite(msrr, &format!("{interval}/0")), finite(msrr, &format!("{interval}/1")));
			let d = finite(msrr, &format!("/msrr/{key}")) - finite(msrr, &format!("/{who}/{key}"));
			assert!(lo <= d && d <= hi, "{interval}: {msrr}");
		}
		assert!(
			finite(msrr, &format!("/msrr_minus_{who}_95/downside_deviation_pct/1")) < 0.0,
			"{msrr}"
		);
	}
	// Sentiment: its training corpus's held-out texts (figures recorded at training), then each
	// human-rated domain: the held-out texts of the three it trained on, every text of the one
	// it never did.
	let recorded = &by("sentiment")["recorded_at_training"];
	assert!(finite(recorded, "/macro_f1") > finite(recorded, "/macro_f1_vader"), "{recorded}");
	let texts: Vec<&Value> =
		reports.iter().filter(|r| r["model"] == "sentiment" && r.get("domain").is_some()).collect();
	let domains: Vec<&str> = texts.iter().map(|r| r["domain"].as_str().unwrap()).collect();
	let expected: Vec<&str> = noderr_ml::data::HUTTO_DOMAINS.iter().map(|d| d.0).collect();
	assert_eq!(domains, expected, "{stdout}");
	for r in &texts {
		fractions(
			r,
			&[
				"/macro_f1",
				"/accuracy",
				"/macro_f1_vader",
				"/accuracy_vader",
				"/macro_f1_vader_fitted",
				"/neutral_share",
				"/neutral_answers",
			],
		);
		let trained = r["domain"] != noderr_ml::evaluate::SENTIMENT_HELD_OUT_DOMAIN;
		// At least 500 held-out texts of a trained domain; of the editorial snippets, every
		// distinct one within the model's input limit (about 5,100 of the 5,189 rated).
		let least = if trained { 500.0 } else { 5000.0 };
		assert!(finite(r, "/test_samples") > least, "{r}");
		let lo = finite(r, "/macro_f1_minus_vader_95/0");
		let hi = finite(r, "/macro_f1_minus_vader_95/1");
		let d = finite(r, "/macro_f1") - finite(r, "/macro_f1_vader");
		assert!(lo <= d && d <= hi, "{r}");
		assert_eq!(r["beats_vader_95"], lo > 0.0, "{r}");
		assert_eq!(r["trained_on_domain"], trained, "{r}");
	}
	let f1 = |domain: &str, key: &str| {
		finite(texts.iter().find(|r| r["domain"] == domain).unwrap(), key)
	};
	// The published model: ahead of VADER on the review snippets it trained on, and on the
	// editorial snippets it never saw ahead beyond chance (the whole 95 % interval of the
	// difference above zero) and ahead of VADER with the band fitted on its training texts too.
	for domain in ["movie", "amazon"] {
		assert!(f1(domain, "/macro_f1") > f1(domain, "/macro_f1_vader"), "{domain}: {stdout}");
	}
	let held_out = noderr_ml::evaluate::SENTIMENT_HELD_OUT_DOMAIN;
	let never_trained = texts.iter().find(|r| r["domain"] == held_out).unwrap();
	assert_eq!(never_trained["beats_vader_95"], true, "{held_out}: {never_trained}");
	assert_eq!(never_trained["beats_vader"], true, "{held_out}: {never_trained}");
	for r in &reports {
		println!("evaluate {r}");
	}
}
