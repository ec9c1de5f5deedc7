//! The ML service started as users start it (`noderr-ml serve`), spoken to over HTTP JSON-RPC:
//! answers, bad input errors, a corrupt artifact refused, and the service still serving.

use serde_json::{json, Value};
use std::{
	io::{BufRead, BufReader, Read, Write},
	net::TcpStream,
	process::{Child, Command, Stdio},
};

struct Service {
	child: Child,
	addr: String,
	log: String,
}

impl Drop for Service {
	fn drop(&mut self) {
		let _ = self.child.kill();
		let _ = self.child.wait();
	}
}

// The child is waited for in `Service::drop`, or before the panic when it exits early.
#[allow(clippy::zombie_processes)]
fn start(models: &std::path::Path) -> Service {
	start_with(models, 2)
}

#[allow(clippy::zombie_processes)]
fn start_with(models: &std::path::Path, workers: usize) -> Service {
	let workers = workers.to_string();
	let mut child = Command::new(env!("CARGO_BIN_EXE_noderr-ml"))
		.args(["serve", "--rpc-addr", "127.0.0.1:0", "--workers", &workers, "--models"])
		.arg(models)
		.stdout(Stdio::piped())
		.stderr(Stdio::piped())
		.spawn()
		.unwrap();
	let mut stdout = BufReader::new(child.stdout.take().unwrap());
	let mut log = String::new();
	loop {
		let mut line = String::new();
		if stdout.read_line(&mut line).unwrap() == 0 {
			let _ = child.wait();
			panic!("service exited: {log}");
		}
		log.push_str(&line);
		if let Some(addr) = line.strip_prefix("ML service listening on ") {
			let addr = addr.trim().to_string();
			let mut stderr = String::new();
			// Refusals are printed before the listening line.
			let mut err = child.stderr.take().unwrap();
			std::thread::spawn(move || {
				let _ = err.read_to_string(&mut stderr);
			});
			return Service { child, addr, log };
		}
	}
}

fn call(addr: &str, method: &str, params: Value) -> Value {
	let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).to_string();
	let mut s = TcpStream::connect(addr).unwrap();
	write!(
		s,
		"POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
		body.len()
	)
	.unwrap();
	let mut response = String::new();
	s.read_to_string(&mut response).unwrap();
	let body = response.split("\r\n\r\n").nth(1).expect("http body");
	serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {response}"))
}

fn error(v: &Value) -> (i64, String) {
	let e = &v["error"];
	assert!(e.is_object(), "expected an error, got {v}");
	(e["code"].as_i64().unwrap(), e["message"].as_str().unwrap().to_string())
}

fn bars(n: usize) -> Value {
	let path = noderr_ml::data::data_dir().join("btc_1h.csv");
	let all = noderr_ml::data::read_bars(&path).unwrap();
	let from = all.len() - n;
	json!(all[from..].iter().map(|b| b.bar).collect::<Vec<_>>())
}

#[test]
fn serves_models_and_refuses_bad_input() {
	let src = noderr_ml::data::artifacts_dir();
	let dir = std::env::temp_dir().join(format!("noderr-ml-service-{}", std::process::id()));
	std::fs::create_dir_all(&dir).unwrap();
	for name in ["price-transformer.nrm", "gaf-regime.nrm", "msrr.nrm", "sentiment.nrm"] {
		std::fs::copy(src.join(name), dir.join(name))
			.unwrap_or_else(|e| panic!("{name}: {e}: run scripts/default-artifacts.sh"));
	}
	// A truncated copy: refused at load, the others still served.
	let good = std::fs::read(dir.join("price-transformer.nrm")).unwrap();
	std::fs::write(dir.join("truncated.nrm"), &good[..good.len() - 100]).unwrap();
	let svc = start(&dir);
	let addr = &svc.addr;

	let models = call(addr, "ml_listModels", json!([]))["result"].clone();
	let models = models.as_array().unwrap();
	assert_eq!(models.len(), 4, "{models:?}\n{}", svc.log);
	let hash_of = |name: &str| {
		models.iter().find(|m| m["name"] == name).unwrap()["hash"].as_str().unwrap().to_string()
	};
	let (price, gaf, msrr) = (hash_of("price-transformer"), hash_of("gaf-regime"), hash_of("msrr"));
	let health = call(addr, "ml_health", json!([]));
	assert_eq!(health["result"]["status"], "ok");
	assert_eq!(health["result"]["models"], 4);

	// Predictions, by name and by position, and a batch agreeing with single calls.
	let p = call(addr, "ml_predict", json!({"model": price, "bars": bars(350)}));
	let r = &p["result"];
	assert!(r["volatility"].as_i64().unwrap() > 0, "{p}");
	assert!(r["confidence"].as_i64().unwrap() >= 500_000, "{p}");
	let p2 = call(addr, "ml_predict", json!([price, bars(350)]));
	assert_eq!(p2["result"], *r);
	let batch =
		call(addr, "ml_predictBatch", json!({"model": price, "series": [bars(350), bars(310)]}));
	assert_eq!(batch["result"][0], *r);
	let regime = call(addr, "ml_classifyRegime", json!({"model": gaf, "bars": bars(64)}));
	let probs = regime["result"]["probabilities"].as_array().unwrap();
	assert_eq!(probs.len(), 3, "{regime}");
	let total: i64 = probs.iter().map(|p| p.as_i64().unwrap()).sum();
	assert!((total - 1_000_000).abs() <= 4, "{regime}");
	let m = call(addr, "ml_msrr", json!({"model": msrr, "bars": bars(168)}));
	let m = &m["result"];
	assert_eq!(
		m["p_calm"].as_i64().unwrap() + m["p_turbulent"].as_i64().unwrap(),
		1_000_000,
		"{m}"
	);
	assert!((0..=1_000_000).contains(&m["allocation"].as_i64().unwrap()), "{m}");
	let (_, msg) = error(&call(addr, "ml_msrr", json!({"model": msrr, "bars": bars(100)})));
	assert!(msg.contains("100 bars given, at least 168 needed"), "{msg}");
	assert!(!msg.contains("warm-up"), "MSRR reads closes only, it needs no warm-up: {msg}");
	let (_, msg) = error(&call(addr, "ml_classifyRegime", json!({"model": gaf, "bars": bars(10)})));
	assert!(msg.ends_with("10 bars given, at least 64 needed"), "{msg}");
	let sentiment = hash_of("sentiment");
	let neg = call(
		addr,
		"ml_sentiment",
		json!({"model": sentiment, "text": "I hate this, it is awful and dangerous."}),
	);
	let pos = call(
		addr,
		"ml_sentiment",
		json!([sentiment, "I love it, what a wonderful and safe idea!"]),
	);
	assert_eq!(neg["result"]["label"], "negative", "{neg}");
	assert_eq!(pos["result"]["label"], "positive", "{pos}");
	let (code, msg) =
		error(&call(addr, "ml_sentiment", json!({"model": sentiment, "text": "   "})));
	assert_eq!(code, -32602);
	assert!(msg.contains("text is empty"), "{msg}");
	let (_, msg) =
		error(&call(addr, "ml_sentiment", json!({"model": sentiment, "text": "a".repeat(1025)})));
	assert!(msg.contains("text is 1025 bytes, at most 1024 accepted"), "{msg}");
	let (_, msg) = error(&call(addr, "ml_sentiment", json!({"model": price, "text": "fine"})));
	assert!(msg.contains("not sentiment"), "{msg}");
	let feats = call(addr, "ml_features", json!({"bars": bars(270), "window": 10}));
	assert_eq!(feats["result"]["rows"].as_array().unwrap().len(), 10);
	assert_eq!(feats["result"]["rows"][0].as_array().unwrap().len(), 94);

	// Feature rows computed by the caller give the same prediction as the bars.
	let rows = call(addr, "ml_features", json!({"bars": bars(350), "window": 60}))["result"]
		["rows"]
		.clone();
	let from_rows = call(addr, "ml_predict", json!({"model": price, "features": rows}));
	assert_eq!(from_rows["result"], *r);

	// Bad input: specific errors.
	let mut short_rows = rows.clone();
	short_rows[5].as_array_mut().unwrap().pop();
	let (code, msg) =
		error(&call(addr, "ml_predict", json!({"model": price, "features": short_rows})));
	assert_eq!(code, -32602);
	assert!(msg.contains("row 5: expected 94 features, got 93"), "{msg}");
	let (_, msg) = error(&call(addr, "ml_predict", json!({"model": price, "features": [[1.0]]})));
	assert!(msg.contains("expected 60 feature rows"), "{msg}");
	let (code, msg) = error(&call(addr, "ml_predict", json!({"model": price, "bars": bars(100)})));
	assert_eq!(code, -32602);
	assert!(msg.contains("100 bars given, at least 310 needed"), "{msg}");
	let mut nan_bars = bars(350);
	nan_bars[150]["close"] = json!("NaN");
	let (_, msg) = error(&call(addr, "ml_predict", json!({"model": price, "bars": nan_bars})));
	assert!(msg.contains("bad parameters") && msg.contains("NaN"), "{msg}");
	let mut inconsistent = bars(350);
	inconsistent[170]["high"] = json!(1.0);
	let (_, msg) = error(&call(addr, "ml_predict", json!({"model": price, "bars": inconsistent})));
	assert!(msg.contains("do not enclose"), "{msg}");
	// The uniform method: every model on its registered input kind, the same values as its
	// typed method, in the registry's order.
	let run =
		|model: &str, input: Value| call(addr, "ml_run", json!({"model": model, "input": input}));
	let v = run(&price, json!({"bars": bars(350)}));
	assert_eq!(
		v["result"]["values"],
		json!([r["return"], r["volatility"], r["confidence"]]),
		"{v}"
	);
	assert_eq!(v["result"]["outputs"], json!(["return", "volatility", "confidence"]));
	let v = run(&gaf, json!({"bars": bars(64)}));
	assert_eq!(v["result"]["values"], json!([regime["result"]["class"]]), "{v}");
	assert_eq!(v["result"]["classes"], 3);
	let v = run(&msrr, json!({"bars": bars(168)}));
	let fields = noderr_ml::engine::MsrrModel::OUTPUTS;
	assert_eq!(v["result"]["values"], json!(fields.map(|f| m[f].clone())), "{v}");
	assert_eq!(v["result"]["outputs"], json!(fields));
	let v = run(&sentiment, json!({"text": "I hate this, it is awful and dangerous."}));
	assert_eq!(v["result"]["values"], json!([neg["result"]["class"]]), "{v}");
	let v = call(
		addr,
		"ml_run",
		json!([sentiment, {"text": "I love it, what a wonderful and safe idea!"}]),
	);
	assert_eq!(v["result"]["values"], json!([pos["result"]["class"]]), "{v}");
	for (model, input, expected) in [
		(&price, json!({"text": "up"}), "price-transformer reads bars, not text"),
		(&sentiment, json!({"bars": bars(10)}), "sentiment reads text, not bars"),
		(&price, json!({}), "one of them"),
		(&price, json!({"bars": bars(350), "text": "up"}), "one of them"),
		(&price, json!({"bars": bars(100)}), "100 bars given, at least 310 needed"),
		(&sentiment, json!({"text": " "}), "text is empty"),
		(&price, json!({"rows": []}), "unknown field"),
	] {
		let (code, msg) = error(&run(model, input));
		assert_eq!(code, -32602, "{msg}");
		assert!(msg.contains(expected), "{expected}: {msg}");
	}

	// Finite but extreme prices: an input error naming the bar and the range, for every method
	// that reads bars, never NaN features or an answer of zeros.
	for scale in [1e303, 1e-302] {
		let extreme = |n: usize| -> Value {
			let mut b = bars(n);
			for bar in b.as_array_mut().unwrap() {
				for field in ["open", "high", "low", "close"] {
					bar[field] = json!(bar[field].as_f64().unwrap() * scale);
				}
			}
			b
		};
		for (method, params) in [
			("ml_predict", json!({"model": price, "bars": extreme(350)})),
			("ml_predictBatch", json!({"model": price, "series": [extreme(350)]})),
			("ml_classifyRegime", json!({"model": gaf, "bars": extreme(64)})),
			("ml_msrr", json!({"model": msrr, "bars": extreme(168)})),
			("ml_features", json!({"bars": extreme(270), "window": 10})),
			("ml_run", json!({"model": price, "input": {"bars": extreme(350)}})),
			("ml_run", json!({"model": msrr, "input": {"bars": extreme(168)}})),
		] {
			let (code, msg) = error(&call(addr, method, params));
			assert_eq!(code, -32602, "{method}: {msg}");
			assert!(msg.contains("outside the accepted range [1e-12, 1e12]"), "{method}: {msg}");
		}
	}
	let unknown = format!("0x{}", "ab".repeat(32));
	let (code, msg) =
		error(&call(addr, "ml_predict", json!({"model": unknown, "bars": bars(350)})));
	assert_eq!(code, 4004);
	assert!(msg.contains("unknown model hash"), "{msg}");
	let (_, msg) = error(&call(addr, "ml_predict", json!({"model": "0x12", "bars": bars(350)})));
	assert!(msg.contains("not 32 bytes"), "{msg}");
	let (_, msg) =
		error(&call(addr, "ml_classifyRegime", json!({"model": price, "bars": bars(64)})));
	assert!(msg.contains("not gaf-regime"), "{msg}");
	let series: Vec<Value> = (0..65).map(|_| json!([])).collect();
	let (_, msg) = error(&call(addr, "ml_predictBatch", json!({"model": price, "series": series})));
	assert!(msg.contains("at most 64"), "{msg}");

	// Still serving.
	let again = call(addr, "ml_predict", json!({"model": price, "bars": bars(350)}));
	assert_eq!(again["result"], *r);
	drop(svc);
	std::fs::remove_dir_all(&dir).unwrap();
}

/// The node changes the models of a running service: a load with the wrong hash changes
/// nothing, a good load is served by every worker, an unload stops serving it.
#[tokio::test]
async fn models_change_while_serving() {
	use noderr_ml::{artifact, service};
	let src = noderr_ml::data::artifacts_dir();
	let (price, gaf) = (src.join("price-transformer.nrm"), src.join("gaf-regime.nrm"));
	let (price_hash, _) =
		noderr_ml::store::hash_file(&price).expect("run scripts/default-artifacts.sh");
	let (gaf_hash, _) = noderr_ml::store::hash_file(&gaf).unwrap();
	let config = service::Config {
		max_connections: 10,
		..service::Config::new("127.0.0.1:0".parse().unwrap(), 2)
	};
	let registry = prometheus_endpoint::Registry::new();
	let (module, models) = service::module(&config, &registry).unwrap();
	let listed = || async {
		let v: Value =
			module.call("ml_listModels", jsonrpsee::core::EmptyServerParams::new()).await.unwrap();
		let mut names: Vec<String> =
			v.as_array().unwrap().iter().map(|m| m["name"].as_str().unwrap().to_string()).collect();
		names.sort();
		names
	};
	assert!(listed().await.is_empty());

	let e = models.load(&price, Some(gaf_hash)).unwrap_err();
	assert!(e.contains("hash mismatch"), "{e}");
	assert!(models.loaded().is_empty());

	let info = models.load(&price, Some(price_hash)).unwrap();
	assert_eq!(info.hash, artifact::hex(&price_hash));
	models.load(&gaf, Some(gaf_hash)).unwrap();
	// Both workers (taken in turn) serve both models.
	for _ in 0..4 {
		assert_eq!(listed().await, ["gaf-regime", "price-transformer"]);
	}
	models.unload(&price_hash);
	for _ in 0..4 {
		assert_eq!(listed().await, ["gaf-regime"]);
	}
	assert_eq!(models.loaded(), vec![gaf_hash]);
}

/// The latency histogram is labelled by the loaded model's canonical hash: a thousand spellings
/// of one hash (case, `0x`) make one series, not a thousand.
#[tokio::test]
async fn a_thousand_spellings_of_a_model_make_one_metric_series() {
	use noderr_ml::service;
	let src = noderr_ml::data::artifacts_dir();
	let msrr = src.join("msrr.nrm");
	let (hash, _) = noderr_ml::store::hash_file(&msrr).expect("run scripts/default-artifacts.sh");
	let config = service::Config {
		max_connections: 10,
		..service::Config::new("127.0.0.1:0".parse().unwrap(), 1)
	};
	let registry = prometheus_endpoint::Registry::new();
	let (module, models) = service::module(&config, &registry).unwrap();
	models.load(&msrr, Some(hash)).unwrap();
	let canonical = noderr_ml::artifact::hex(&hash);
	let bars: Vec<Value> = (0..200)
		.map(|i| {
			let p = 100.0 + (i as f64 * 0.37).sin();
			json!({"time": 1_500_000_000 + i * 3600, "open": p, "high": p + 1.0, "low": p - 1.0,
				"close": p + 0.5, "volume": 10.0})
		})
		.collect();
	let mut spellings = std::collections::BTreeSet::new();
	for n in 0..1_000u32 {
		// Letters' case from the bits of n, with or without 0x.
		let spelled: String = canonical
			.trim_start_matches("0x")
			.chars()
			.enumerate()
			.map(|(i, c)| if (n >> (i % 10)) & 1 == 1 { c.to_ascii_uppercase() } else { c })
			.collect();
		let model = if n % 3 == 0 { format!("0x{spelled}") } else { spelled };
		spellings.insert(model.clone());
		let mut params = jsonrpsee::core::params::ObjectParams::new();
		params.insert("model", model).unwrap();
		params.insert("bars", bars.clone()).unwrap();
		let _: Value = module.call("ml_msrr", params).await.unwrap();
	}
	assert!(spellings.len() > 500, "{} distinct spellings", spellings.len());
	use prometheus_endpoint::prometheus::{Encoder, TextEncoder};
	let mut text = Vec::new();
	TextEncoder::new().encode(&registry.gather(), &mut text).unwrap();
	let series: Vec<String> = String::from_utf8(text)
		.unwrap()
		.lines()
		.filter(|l| l.starts_with("noderr_ml_inference_seconds_count{"))
		.map(str::to_string)
		.collect();
	assert_eq!(series.len(), 1, "one series: {series:?}");
	assert!(series[0].contains(&canonical), "{series:?}");
}

fn rss_mib(pid: u32) -> f64 {
	let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
	let kb: f64 = status
		.lines()
		.find_map(|l| l.strip_prefix("VmRSS:"))
		.and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
		.unwrap();
	kb / 1024.0
}

#[test]
fn every_engine_of_the_pool_shares_one_copy_of_the_weights() {
	let dir = noderr_ml::data::artifacts_dir();
	let mut rss = Vec::new();
	for workers in [1usize, 4] {
		let svc = start_with(&dir, workers);
		let models = call(&svc.addr, "ml_listModels", json!([]))["result"].clone();
		let sentiment =
			models.as_array().unwrap().iter().find(|m| m["name"] == "sentiment").unwrap()["hash"]
				.as_str()
				.unwrap()
				.to_string();
		// Enough concurrent calls that every engine of the pool is taken and serves every model.
		std::thread::scope(|s| {
			for i in 0..4 * workers {
				let (addr, sentiment) = (&svc.addr, &sentiment);
				s.spawn(move || {
					let text = format!("call {i}: what a wonderful idea");
					let r = call(addr, "ml_sentiment", json!({"model": sentiment, "text": text}));
					assert!(r["result"]["label"].is_string(), "{r}");
				});
			}
		});
		let health = call(&svc.addr, "ml_health", json!([]));
		assert_eq!(health["result"]["workers"], workers, "{health}");
		rss.push(rss_mib(svc.child.id()));
	}
	// Before sharing, each extra engine held its own copy of the four models (about 92 MiB).
	println!("service RSS: {:.0} MiB with 1 engine, {:.0} MiB with 4", rss[0], rss[1]);
	assert!(rss[1] - rss[0] < 40.0, "three more engines cost {:.0} MiB", rss[1] - rss[0]);
}
