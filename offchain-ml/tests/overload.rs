//! The embedded ML service under overload, inside a multi-threaded tokio runtime as the node
//! runs it: thousands of concurrent WebSocket calls and a 10,000-call batch, while a probe
//! measures how long the runtime's own blocking tasks (which block production also uses) wait
//! to start, and the process's memory is sampled.
//!
//! Run with `--nocapture` to see the numbers.

use jsonrpsee_core::{client::ClientT, params::ObjectParams};
use noderr_ml::service;
use serde_json::{json, Value};
use std::{
	io::{Read, Write},
	sync::{
		atomic::{AtomicBool, AtomicU64, Ordering},
		Arc,
	},
	time::{Duration, Instant},
};

const CONNECTIONS: usize = 100;
const CALLS_PER_CONNECTION: usize = 30;
/// Each connection sends its calls this many times over, so the overload lasts seconds.
const ROUNDS: usize = 10;

fn rss_mib() -> f64 {
	let status = std::fs::read_to_string("/proc/self/status").unwrap();
	let kb: f64 = status
		.lines()
		.find_map(|l| l.strip_prefix("VmRSS:"))
		.and_then(|v| v.split_whitespace().next())
		.and_then(|v| v.parse().ok())
		.unwrap();
	kb / 1024.0
}

fn bars(n: usize) -> Value {
	let path = noderr_ml::data::data_dir().join("btc_1h.csv");
	let all = noderr_ml::data::read_bars(&path).expect("run scripts/default-artifacts.sh");
	json!(all[all.len() - n..].iter().map(|b| b.bar).collect::<Vec<_>>())
}

/// Posts `body` over HTTP/1.1 with `Host: host` and the extra `headers`; returns the status
/// line and body.
fn post_as(addr: std::net::SocketAddr, host: &str, headers: &str, body: &str) -> (String, String) {
	let mut s = std::net::TcpStream::connect(addr).unwrap();
	s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
	write!(
		s,
		"POST / HTTP/1.1\r\nHost: {host}\r\n{headers}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
		body.len()
	)
	.unwrap();
	let mut response = String::new();
	s.read_to_string(&mut response).unwrap();
	let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
	(head.lines().next().unwrap_or("").to_string(), body.to_string())
}

/// [`post_as`] with the address as the host.
fn post(addr: std::net::SocketAddr, headers: &str, body: &str) -> (String, String) {
	post_as(addr, &addr.to_string(), headers, body)
}

#[test]
fn overload_never_starves_the_runtime_and_is_refused_clearly() {
	// The node's runtime, which serves; the callers run apart, as other processes would.
	let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
	let callers = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
	let callers = callers.handle().clone();
	rt.block_on(async {
		let src = noderr_ml::data::artifacts_dir();
		let price = src.join("price-transformer.nrm");
		let (hash, _) =
			noderr_ml::store::hash_file(&price).expect("run scripts/default-artifacts.sh");
		let config = service::Config {
			max_connections: CONNECTIONS as u32 + 10,
			..service::Config::new("127.0.0.1:0".parse().unwrap(), 1)
		};
		let registry = prometheus_endpoint::Registry::new();
		let (addr, handle, models) = service::start(&config, &registry).await.unwrap();
		models.load(&price, Some(hash)).unwrap();
		let model = noderr_ml::artifact::hex(&hash);
		let series = bars(350);
		let rss_before = rss_mib();

		// The probe: a trivial blocking task every 10 ms; how long until it runs.
		let stop = Arc::new(AtomicBool::new(false));
		let worst_us = Arc::new(AtomicU64::new(0));
		let peak_rss = Arc::new(AtomicU64::new(rss_before as u64));
		let probe = {
			let (stop, worst_us, peak_rss) = (stop.clone(), worst_us.clone(), peak_rss.clone());
			tokio::spawn(async move {
				let mut samples = 0u32;
				while !stop.load(Ordering::Relaxed) {
					// From asking for a blocking task until it starts running.
					let asked = Instant::now();
					let waited =
						tokio::task::spawn_blocking(move || asked.elapsed()).await.unwrap();
					worst_us.fetch_max(waited.as_micros() as u64, Ordering::Relaxed);
					peak_rss.fetch_max(rss_mib() as u64, Ordering::Relaxed);
					samples += 1;
					tokio::time::sleep(Duration::from_millis(10)).await;
				}
				samples
			})
		};

		// The 10,000-call batch, on its own thread, while the WebSocket load runs.
		let batch = std::thread::spawn(move || {
			let calls: Vec<Value> = (0..10_000)
				.map(|i| json!({"jsonrpc": "2.0", "id": i, "method": "ml_health", "params": []}))
				.collect();
			let start = Instant::now();
			let (status, body) = post(addr, "", &Value::Array(calls).to_string());
			(status, body, start.elapsed())
		});

		let started = Instant::now();
		let url = format!("ws://{addr}");
		let mut tasks = Vec::new();
		for _ in 0..CONNECTIONS {
			let (url, model, series) = (url.clone(), model.clone(), series.clone());
			tasks.push(callers.spawn(async move {
				let client = jsonrpsee_ws_client::WsClientBuilder::default()
					.max_concurrent_requests(CALLS_PER_CONNECTION * 2)
					.request_timeout(Duration::from_secs(60))
					.build(&url)
					.await
					.expect("connect");
				let (mut ok, mut busy, mut deadline) = (0u32, 0u32, 0u32);
				for _ in 0..ROUNDS {
					let calls = (0..CALLS_PER_CONNECTION).map(|_| {
						let mut params = ObjectParams::new();
						params.insert("model", &model).unwrap();
						params.insert("bars", &series).unwrap();
						let client = &client;
						async move { client.request::<Value, _>("ml_predict", params).await }
					});
					for r in futures::future::join_all(calls).await {
						match r {
							Ok(_) => ok += 1,
							Err(jsonrpsee_core::client::Error::Call(e))
								if e.code() == service::BUSY =>
							{
								busy += 1
							}
							Err(jsonrpsee_core::client::Error::Call(e))
								if e.code() == service::DEADLINE =>
							{
								deadline += 1
							}
							Err(e) => panic!("unexpected answer: {e}"),
						}
					}
				}
				(ok, busy, deadline)
			}));
		}
		let (mut ok, mut busy, mut deadline) = (0, 0, 0);
		for t in tasks {
			let (o, b, d) = t.await.unwrap();
			ok += o;
			busy += b;
			deadline += d;
		}
		let load_time = started.elapsed();
		let (batch_status, batch_body, batch_time) = batch.join().unwrap();
		stop.store(true, Ordering::Relaxed);
		let samples = probe.await.unwrap();
		let worst = Duration::from_micros(worst_us.load(Ordering::Relaxed));
		let peak = peak_rss.load(Ordering::Relaxed) as f64;
		let total = CONNECTIONS * CALLS_PER_CONNECTION * ROUNDS;
		println!(
			"{total} calls, {} at once, over {CONNECTIONS} WebSocket connections in {:.1} s: \
			 {ok} answered, {busy} busy, {deadline} past the deadline",
			CONNECTIONS * CALLS_PER_CONNECTION,
			load_time.as_secs_f64()
		);
		println!(
			"10,000-call batch: {batch_status} in {:.0} ms: {}",
			batch_time.as_secs_f64() * 1e3,
			&batch_body[..batch_body.len().min(160)]
		);
		println!(
			"probe: worst wait of a blocking task {:.1} ms over {samples} samples; RSS {:.0} MiB \
			 before, {:.0} MiB at peak, {:.0} MiB after",
			worst.as_secs_f64() * 1e3,
			rss_before,
			peak,
			rss_mib()
		);

		assert_eq!(ok + busy + deadline, total as u32, "every call answered");
		assert!(ok > 0, "some calls computed");
		assert!(busy > 0, "the overload was refused, not queued without bound");
		assert!(worst < Duration::from_millis(100), "blocking tasks waited {worst:?}");
		assert!(peak - rss_before < 1024.0, "memory grew by {:.0} MiB", peak - rss_before);
		assert!(
			batch_body.contains("at most") || batch_body.contains("batch"),
			"the oversized batch is refused: {batch_status} {batch_body}"
		);

		// Still serving, and browsers kept out.
		let one = json!({"jsonrpc": "2.0", "id": 1, "method": "ml_health", "params": []});
		let (status, body) = post(addr, "", &one.to_string());
		assert!(status.contains("200") && body.contains("\"ok\""), "{status} {body}");
		let (status, _) = post(addr, "Origin: http://evil.example\r\n", &one.to_string());
		assert!(status.contains("403"), "a browser origin is refused: {status}");
		let (status, _) = post_as(addr, "rebound.example:9955", "", &one.to_string());
		assert!(status.contains("403"), "a foreign host is refused: {status}");
		handle.stop().unwrap();
	});
}
