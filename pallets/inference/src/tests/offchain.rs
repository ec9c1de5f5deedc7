//! The off-chain worker against a scripted ML service and market sources (the off-chain test
//! externalities answer its HTTP requests): heartbeats, commit then reveal from persisted salts,
//! no double submission, restarts, and every failure a skipped submission.

use super::*;
use crate::offchain::{self, parse_bar, parse_decimal, SourceFormat, ML_URL_KEY};
use codec::Decode;
use frame_support::traits::{Authorize, Hooks};
use sp_core::offchain::{
	testing::{self, OffchainState, PendingRequest, PoolState},
	OffchainDbExt, OffchainWorkerExt, TransactionPoolExt,
};
use sp_runtime::transaction_validity::TransactionSource;
use std::sync::Arc;

const ML: &str = "http://127.0.0.1:9955";

type State = Arc<parking_lot::RwLock<OffchainState>>;
type Pool = Arc<parking_lot::RwLock<PoolState>>;

/// A chain whose node runs the worker: off-chain storage, HTTP and a transaction pool.
fn with_worker(test: impl FnOnce(&State, &Pool)) {
	let mut ext = build();
	let (offchain, state) = testing::TestOffchainExt::new();
	let (pool, pool_state) = testing::TestTransactionPoolExt::new();
	ext.register_extension(OffchainDbExt::new(offchain.clone()));
	ext.register_extension(OffchainWorkerExt::new(offchain));
	ext.register_extension(TransactionPoolExt::new(pool));
	ext.execute_with(|| {
		Inference::do_try_state().expect("invariants hold before the test");
		test(&state, &pool_state);
		Inference::do_try_state().expect("invariants hold after the test");
	});
}

fn set_ml_url(url: &str) {
	sp_runtime::offchain::storage::StorageValueRef::persistent(ML_URL_KEY)
		.set(&url.as_bytes().to_vec());
}

fn rpc_body(method: &str, params: serde_json::Value) -> Vec<u8> {
	serde_json::to_vec(
		&serde_json::json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": params }),
	)
	.unwrap()
}

fn expect_ml(state: &State, method: &str, params: serde_json::Value, result: serde_json::Value) {
	state.write().expect_request(PendingRequest {
		method: "POST".into(),
		uri: ML.into(),
		body: rpc_body(method, params),
		headers: vec![("Content-Type".into(), "application/json".into())],
		response: Some(
			serde_json::to_vec(&serde_json::json!({ "jsonrpc": "2.0", "id": 1, "result": result }))
				.unwrap(),
		),
		sent: true,
		..Default::default()
	});
}

fn expect_ml_list(state: &State, hashes: &[[u8; 32]]) {
	let models: Vec<_> =
		hashes.iter().map(|h| serde_json::json!({ "hash": offchain::hex(h) })).collect();
	expect_ml(state, "ml_listModels", serde_json::json!([]), serde_json::json!(models));
}

/// Takes the pool's transactions: the submissions in them.
fn drain(pool: &Pool) -> Vec<(SubmissionOf<Test>, sp_runtime::testing::TestSignature)> {
	std::mem::take(&mut pool.write().transactions)
		.into_iter()
		.map(|bytes| {
			let xt = frame_system::mocking::MockUncheckedExtrinsic::<Test>::decode(&mut &bytes[..])
				.expect("the worker submits well-formed extrinsics");
			match xt.function {
				RuntimeCall::Inference(crate::Call::submit { submission, signature }) => {
					(submission, signature)
				}
				other => panic!("unexpected call {other:?}"),
			}
		})
		.collect()
}

/// Includes submissions in the current block as the pool and block builder would: authorized
/// first, then dispatched.
fn include(subs: Vec<(SubmissionOf<Test>, sp_runtime::testing::TestSignature)>) {
	for (submission, signature) in subs {
		let call = crate::Call::<Test>::submit {
			submission: submission.clone(),
			signature: signature.clone(),
		};
		call.authorize(TransactionSource::Local)
			.expect("submit is authorized")
			.expect("the worker's submission is valid");
		assert_ok!(Inference::submit(
			frame_system::RawOrigin::Authorized.into(),
			submission,
			signature
		));
	}
}

fn sentiment_result(class: i64) -> serde_json::Value {
	serde_json::json!({ "values": [class], "outputs": ["class"], "classes": 3 })
}

#[test]
fn decimals_are_exact() {
	assert_eq!(offchain::decimal(4_300_500_000), "4300.500000");
	assert_eq!(offchain::decimal(-1), "-0.000001");
	assert_eq!(parse_decimal("4300.5"), Some(4_300_500_000));
	assert_eq!(parse_decimal("0.0000015"), Some(2), "rounded half away from zero");
	assert_eq!(parse_decimal("-12"), Some(-12_000_000));
	assert_eq!(parse_decimal("1e3"), None);
	assert_eq!(parse_decimal(""), None);
	assert_eq!(parse_decimal("NaN"), None);
	assert_eq!(parse_decimal("99999999999999999999"), None, "overflow is refused");
}

#[test]
fn market_answers_are_read_checked_and_refused_when_wrong() {
	let t = 1_500_000_000u64;
	let binance = format!(r#"[[{}, "4300.5", "4310", "4290.25", "4305", "12.5", 0]]"#, t * 1000);
	assert_eq!(
		parse_bar(SourceFormat::Binance, binance.as_bytes(), t),
		Ok([4_300_500_000, 4_310_000_000, 4_290_250_000, 4_305_000_000, 12_500_000])
	);
	// Coinbase: [time, low, high, open, close, volume], newest first.
	let coinbase =
		format!("[[{}, 1, 2, 1.5, 1.5, 3], [{t}, 4290.25, 4310, 4300.5, 4305, 12.5]]", t + 3600);
	assert_eq!(
		parse_bar(SourceFormat::Coinbase, coinbase.as_bytes(), t),
		Ok([4_300_500_000, 4_310_000_000, 4_290_250_000, 4_305_000_000, 12_500_000])
	);
	let wrong_time = format!(r#"[[{}, "1", "1", "1", "1", "1"]]"#, (t + 3600) * 1000);
	assert!(parse_bar(SourceFormat::Binance, wrong_time.as_bytes(), t)
		.unwrap_err()
		.starts_with("no bar for time"));
	for garbage in ["<html>", "{}", "[[1]]", r#"[["x", "1", "1", "1", "1", "1"]]"#] {
		assert!(parse_bar(SourceFormat::Binance, garbage.as_bytes(), t)
			.unwrap_err()
			.starts_with("garbage"));
	}
	let inverted = format!(r#"[[{}, "10", "5", "20", "10", "1"]]"#, t * 1000);
	assert!(parse_bar(SourceFormat::Binance, inverted.as_bytes(), t)
		.unwrap_err()
		.contains("out of order"));
	assert_eq!(
		offchain::parse_sources("binance=http://a/\nftp=x\ncoinbase=nope\n\ncoinbase=https://c"),
		vec![
			offchain::MarketSource { format: SourceFormat::Binance, base: "http://a".into() },
			offchain::MarketSource { format: SourceFormat::Coinbase, base: "https://c".into() },
		]
	);
}

#[test]
fn a_worker_without_a_link_or_a_key_submits_nothing() {
	with_worker(|_state, pool| {
		set_local_workers(vec![777]);
		Inference::offchain_worker(System::block_number());
		assert!(pool.read().transactions.is_empty());
	});
}

#[test]
fn the_worker_declares_what_its_ml_service_serves_once() {
	with_worker(|state, pool| {
		set_ml_url(ML);
		set_local_workers(vec![worker(1), worker(4)]);
		// The service serves the price and sentiment models and one the registry does not know;
		// one run asks it once for both workers.
		expect_ml_list(state, &[PRICE, SENTIMENT, [9; 32]]);
		Inference::offchain_worker(System::block_number());
		let subs = drain(pool);
		let keys: Vec<(u64, Vec<[u8; 32]>)> = subs
			.iter()
			.map(|(s, _)| match &s.work {
				Work::Heartbeat { keys, .. } => (s.operator, keys.to_vec()),
				other => panic!("{other:?}"),
			})
			.collect();
		// Operator 1 (ALL) may serve only the price model.
		let mut both = vec![PRICE, SENTIMENT];
		both.sort();
		assert_eq!(keys, vec![(1, vec![PRICE]), (4, both)]);
		include(subs);
		// In force now. The service's list is compared every tenth of the period (2 blocks):
		// unchanged, nothing is submitted; when a model disappears, the heartbeat follows.
		next_block();
		Inference::offchain_worker(System::block_number());
		assert!(pool.read().transactions.is_empty(), "no check due yet");
		next_block();
		expect_ml_list(state, &[PRICE, SENTIMENT, [9; 32]]);
		Inference::offchain_worker(System::block_number());
		assert!(pool.read().transactions.is_empty(), "unchanged");
		run_to_block(5);
		expect_ml_list(state, &[PRICE]);
		Inference::offchain_worker(System::block_number());
		let subs = drain(pool);
		let changed: Vec<_> = subs
			.iter()
			.map(|(s, _)| match &s.work {
				Work::Heartbeat { keys, .. } => (s.operator, keys.to_vec()),
				other => panic!("{other:?}"),
			})
			.collect();
		assert_eq!(changed, vec![(4, vec![PRICE])], "only operator 4's set changed");
		include(subs);
		// Half a period after the first, both renew even unchanged.
		run_to_block(1 + HEARTBEAT / 2);
		expect_ml_list(state, &[PRICE]);
		Inference::offchain_worker(System::block_number());
		let renewed: Vec<_> = drain(pool).into_iter().map(|(s, _)| s.operator).collect();
		assert_eq!(renewed, vec![1], "operator 4 declared at block 5, operator 1 at block 1");
	});
}

/// Operators 4..=9 (ORACLE and GUARDIAN) run workers that serve the sentiment model; a sentiment
/// task is created and assigned to three of them.
fn sentiment_round(state: &State, pool: &Pool) -> (TaskId, Vec<u64>) {
	long_heartbeats();
	set_ml_url(ML);
	set_local_workers((4..=9).map(worker).collect());
	expect_ml_list(state, &[SENTIMENT]);
	Inference::offchain_worker(System::block_number());
	include(drain(pool));
	let id = create(SENTIMENT, text("markets rally"), 80).unwrap();
	run_to_block(System::block_number() + DELAY + 1);
	assert!(matches!(Tasks::<Test>::get(id).unwrap().phase, Phase::Commit { .. }));
	(id, assigned(id))
}

/// The sentiment class's commit and reveal windows, in blocks.
fn sentiment_windows(commit: u64, reveal: u64) {
	let mut c = DefaultConfig::get();
	c.classes[TaskClass::Sentiment.index()].commit_blocks = commit;
	c.classes[TaskClass::Sentiment.index()].reveal_blocks = reveal;
	assert_ok!(Inference::set_config(RuntimeOrigin::root(), c));
}

fn expect_sentiment(state: &State, times: usize, class: i64) {
	for _ in 0..times {
		expect_ml(
			state,
			"ml_run",
			serde_json::json!({ "model": offchain::hex(&SENTIMENT), "input": { "text": "markets rally" } }),
			sentiment_result(class),
		);
	}
}

#[test]
fn workers_commit_then_reveal_what_they_persisted_and_the_task_settles() {
	with_worker(|state, pool| {
		let (id, ops) = sentiment_round(state, pool);
		expect_sentiment(state, ops.len(), 2);
		Inference::offchain_worker(System::block_number());
		let commits = drain(pool);
		assert_eq!(commits.len(), ops.len());
		assert!(commits
			.iter()
			.all(|(s, _)| matches!(s.work, Work::Commit { task, .. } if task == id)));
		// A second run in the same block (a block imported twice, a re-org) submits nothing.
		Inference::offchain_worker(System::block_number());
		assert!(pool.read().transactions.is_empty(), "no second commit");
		include(commits);
		next_block();
		assert!(matches!(Tasks::<Test>::get(id).unwrap().phase, Phase::Reveal { .. }));
		// Reveals come from off-chain storage: no ML call this time.
		Inference::offchain_worker(System::block_number());
		let reveals = drain(pool);
		assert_eq!(reveals.len(), ops.len());
		include(reveals);
		next_block();
		let record = Records::<Test>::get(id).expect("settled");
		assert_eq!(
			record.outcome,
			Outcome::Settled { answer: answer(&[2]), dispersion: answer(&[0]) }
		);
		assert!(record.operators.iter().all(|o| o.participation == Participation::Agreed));
		// The persisted answers are forgotten once the task is over.
		Inference::offchain_worker(System::block_number());
		for op in &ops {
			let key = codec::Encode::encode(&(b"noderr/worker-answer/", id, op));
			assert!(sp_io::offchain::local_storage_get(
				sp_core::offchain::StorageKind::PERSISTENT,
				&key
			)
			.is_none());
		}
		// What the node's Prometheus endpoint publishes.
		let n = ops.len() as u64;
		let stats = offchain::WorkerStats::load();
		assert_eq!(stats.runs, 5, "one run in the round's setup, four here");
		assert_eq!(
			(stats.heartbeats, stats.assigned, stats.committed, stats.revealed),
			(6, n, n, n)
		);
		assert_eq!(stats.ml_calls.count(), 1 + n, "one model list, one answer per operator");
		assert_eq!(stats.run_time.count(), 5);
		assert!(stats.missed.0.is_empty() && stats.refused.0.is_empty());
		assert!(stats.ml_failures.0.is_empty() && stats.source_failures.0.is_empty());
	});
}

#[test]
fn with_room_in_the_window_work_waits_for_the_block_after_the_one_that_opened_its_phase() {
	with_worker(|state, pool| {
		// Windows of 5 blocks, as on a real network: a peer that has not imported the opening
		// block yet would refuse a submission made in it, so the worker submits from the next.
		sentiment_windows(5, 5);
		let (id, ops) = sentiment_round(state, pool);
		// The block that assigned the task: nothing yet, and no ML call.
		Inference::offchain_worker(System::block_number());
		assert!(
			pool.read().transactions.is_empty(),
			"no commit in the block that opened the phase"
		);
		next_block();
		expect_sentiment(state, ops.len(), 2);
		Inference::offchain_worker(System::block_number());
		let commits = drain(pool);
		assert_eq!(commits.len(), ops.len());
		// The last commit opens the reveal phase in the block that includes it.
		include(commits);
		assert!(matches!(Tasks::<Test>::get(id).unwrap().phase, Phase::Reveal { .. }));
		Inference::offchain_worker(System::block_number());
		assert!(
			pool.read().transactions.is_empty(),
			"no reveal in the block that opened the phase"
		);
		next_block();
		Inference::offchain_worker(System::block_number());
		let reveals = drain(pool);
		assert_eq!(reveals.len(), ops.len());
		include(reveals);
		next_block();
		let record = Records::<Test>::get(id).expect("settled");
		assert!(record.operators.iter().all(|o| o.participation == Participation::Agreed));
	});
}

#[test]
fn a_deadline_pushed_later_by_a_full_queue_still_waits_out_the_opening_block() {
	with_worker(|state, pool| {
		sentiment_windows(5, REVEAL);
		let (id, ops) = sentiment_round(state, pool);
		// As if the deadline queue had been full: the commit deadline lies 2 blocks further out.
		// Only the worker's view of the blocks moves here (no hooks run).
		let now = System::block_number();
		let queued = Tasks::<Test>::get(id).unwrap().phase;
		Tasks::<Test>::mutate(id, |t| t.as_mut().unwrap().phase = Phase::Commit { until: now + 7 });
		for n in now..now + 3 {
			System::set_block_number(n);
			Inference::offchain_worker(n);
			assert!(pool.read().transactions.is_empty(), "at #{n}: still fresh");
		}
		System::set_block_number(now + 3);
		expect_sentiment(state, ops.len(), 2);
		Inference::offchain_worker(now + 3);
		assert_eq!(drain(pool).len(), ops.len(), "submitted with 4 blocks of the window left");
		// The deadline as the queue holds it again, for the invariants.
		Tasks::<Test>::mutate(id, |t| t.as_mut().unwrap().phase = queued);
	});
}

#[test]
fn a_corrupted_persisted_answer_is_never_revealed_and_the_refusal_is_counted() {
	with_worker(|state, pool| {
		let (id, ops) = sentiment_round(state, pool);
		expect_sentiment(state, ops.len(), 2);
		Inference::offchain_worker(System::block_number());
		include(drain(pool));
		next_block();
		// The first operator's record is damaged on disk: another answer than the committed one.
		let key = codec::Encode::encode(&(b"noderr/worker-answer/", id, ops[0]));
		let record = sp_runtime::offchain::storage::StorageValueRef::persistent(&key);
		let mut p: offchain::Persisted = record.get().unwrap().unwrap();
		p.answer = answer(&[0]);
		record.set(&p);
		Inference::offchain_worker(System::block_number());
		let reveals = drain(pool);
		assert_eq!(reveals.len(), ops.len() - 1, "the damaged answer is not submitted");
		assert!(reveals.iter().all(|(s, _)| s.operator != ops[0]));
		include(reveals);
		run_to_block(System::block_number() + 10);
		assert!(Records::<Test>::contains_key(id) && !Tasks::<Test>::contains_key(id));
		Inference::offchain_worker(System::block_number());
		let stats = offchain::WorkerStats::load();
		assert_eq!(stats.refused.0, vec![(b"CommitmentMismatch".to_vec(), 1)]);
		assert_eq!(stats.missed.0, vec![(b"refused".to_vec(), 1)]);
		assert_eq!(stats.revealed, ops.len() as u64 - 1);
	});
}

#[test]
fn a_restarted_worker_reveals_what_it_committed_before() {
	with_worker(|state, pool| {
		let (id, ops) = sentiment_round(state, pool);
		expect_sentiment(state, ops.len(), 1);
		Inference::offchain_worker(System::block_number());
		include(drain(pool));
		// The node restarts: nothing survives but persistent off-chain storage. Its ML service
		// would now answer differently; the reveal must still be the committed answer.
		next_block();
		Inference::offchain_worker(System::block_number());
		let reveals = drain(pool);
		assert!(reveals
			.iter()
			.all(|(s, _)| matches!(&s.work, Work::Reveal { answer: a, .. } if *a == answer(&[1]))));
		include(reveals);
		next_block();
		assert!(matches!(Records::<Test>::get(id).unwrap().outcome, Outcome::Settled { .. }));
	});
}

#[test]
fn a_commit_that_did_not_land_is_resubmitted_with_the_same_answer() {
	with_worker(|state, pool| {
		sentiment_windows(10, REVEAL);
		let (id, ops) = sentiment_round(state, pool);
		// With a window this long the worker waits out the block that opened it.
		next_block();
		expect_sentiment(state, ops.len(), 0);
		Inference::offchain_worker(System::block_number());
		let first = drain(pool);
		// Dropped by the pool. The next runs wait, then submit the same commitment again without
		// asking the ML service (which is not scripted to answer any more).
		next_block();
		Inference::offchain_worker(System::block_number());
		assert!(pool.read().transactions.is_empty(), "waits for the first to land");
		assert!(Tasks::<Test>::contains_key(id));
		run_to_block(System::block_number() + 2);
		Inference::offchain_worker(System::block_number());
		let again = drain(pool);
		let commitments = |subs: &[(SubmissionOf<Test>, _)]| -> Vec<[u8; 32]> {
			subs.iter()
				.map(|(s, _)| match s.work {
					Work::Commit { commitment, .. } => commitment,
					_ => panic!("a commit"),
				})
				.collect()
		};
		assert_eq!(commitments(&again), commitments(&first));
		assert_eq!(again.len(), ops.len());
		let stats = offchain::WorkerStats::load();
		assert_eq!(stats.resubmitted.0, vec![(b"commit".to_vec(), ops.len() as u64)]);
		assert_eq!(stats.committed, 2 * ops.len() as u64, "both submissions counted");
	});
}

#[test]
fn without_an_ml_service_the_worker_skips_and_never_commits_blind() {
	with_worker(|state, pool| {
		let (id, ops) = sentiment_round(state, pool);
		// The service fails: an HTTP error for every request.
		for _ in 0..3 {
			state.write().expect_request(PendingRequest {
				method: "POST".into(),
				uri: ML.into(),
				body: rpc_body(
					"ml_run",
					serde_json::json!({ "model": offchain::hex(&SENTIMENT), "input": { "text": "markets rally" } }),
				),
				headers: vec![("Content-Type".into(), "application/json".into())],
				response: Some(b"{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":-32000,\"message\":\"model not loaded\"}}".to_vec()),
				sent: true,
				..Default::default()
			});
		}
		let stats = nothing_committed(pool, id, ops.len(), b"ml_error");
		assert_eq!(stats.ml_failures.0, vec![(b"ml_error".to_vec(), ops.len() as u64)]);
	});
}

#[test]
fn an_answer_of_the_wrong_length_is_never_committed() {
	with_worker(|state, pool| {
		let (id, ops) = sentiment_round(state, pool);
		// A classification answers one value; a service answering two is not trusted.
		for _ in 0..ops.len() {
			expect_ml(
				state,
				"ml_run",
				serde_json::json!({ "model": offchain::hex(&SENTIMENT), "input": { "text": "markets rally" } }),
				serde_json::json!({ "values": [2, 7] }),
			);
		}
		nothing_committed(pool, id, ops.len(), b"bad_ml_answer");
	});
}

/// Runs the worker on a task whose answers fail: no transaction, and once the task is over each
/// of its `ops` operators' miss counted with `reason`.
fn nothing_committed(pool: &Pool, id: TaskId, ops: usize, reason: &[u8]) -> offchain::WorkerStats {
	Inference::offchain_worker(System::block_number());
	assert!(pool.read().transactions.is_empty());
	run_to_block(System::block_number() + 20);
	assert!(!Tasks::<Test>::contains_key(id));
	Inference::offchain_worker(System::block_number());
	let stats = offchain::WorkerStats::load();
	assert_eq!(stats.missed.0, vec![(reason.to_vec(), ops as u64)]);
	assert_eq!((stats.assigned, stats.committed), (ops as u64, 0));
	stats
}

/// Heartbeats that stay in force for the whole test.
fn long_heartbeats() {
	let mut c = Configuration::<Test>::get();
	c.heartbeat_period = 100_000;
	assert_ok!(Inference::set_config(RuntimeOrigin::root(), c));
}

fn expect_get(state: &State, uri: String, body: &str) {
	state.write().expect_request(PendingRequest {
		method: "GET".into(),
		uri,
		response: Some(body.as_bytes().to_vec()),
		sent: true,
		..Default::default()
	});
}

#[test]
fn observers_take_the_median_of_the_sources_that_answer_right_and_models_follow() {
	with_worker(|state, pool| {
		long_heartbeats();
		fill_history(349);
		assert_ok!(Inference::set_feed(
			RuntimeOrigin::root(),
			0,
			b"BTC/USD".to_vec().try_into().unwrap(),
			3_600,
			1_500_000_000,
			vec![
				b"binance:BTCUSDT".to_vec().try_into().unwrap(),
				b"coinbase:BTC-USD".to_vec().try_into().unwrap()
			]
			.try_into()
			.unwrap(),
		));
		assert_ok!(Inference::set_schedule(
			RuntimeOrigin::root(),
			0,
			Some(Schedule { every: 10, models: vec![PRICE, REGIME, MSRR].try_into().unwrap() })
		));
		set_ml_url(ML);
		// Three sources: one answers garbage, one a bar of another hour, one the right bar.
		let sources =
			"binance=http://bad.example\ncoinbase=http://late.example\nbinance=http://good.example";
		sp_runtime::offchain::storage::StorageValueRef::persistent(offchain::MARKET_SOURCES_KEY)
			.set(&sources.as_bytes().to_vec());
		set_local_workers((4..=9).map(worker).collect());
		expect_ml_list(state, &[PRICE, REGIME, MSRR]);
		Inference::offchain_worker(System::block_number());
		include(drain(pool));
		let t = Feeds::<Test>::get(0).unwrap().next_bar_time;
		run_to_block(10 + DELAY + 1);
		let obs = Observing::<Test>::get(0).expect("a round");
		let ops = assigned(obs);
		let binance = |base: &str| {
			format!(
				"{base}/api/v3/klines?symbol=BTCUSDT&interval=1h&startTime={}&limit=1",
				t * 1000
			)
		};
		let coinbase = format!(
			"http://late.example/products/BTC-USD/candles?granularity=3600&start={t}&end={}",
			t + 3600
		);
		for _ in &ops {
			expect_get(state, binance("http://bad.example"), "<html>rate limited</html>");
			expect_get(state, coinbase.clone(), &format!("[[{}, 1, 2, 1.5, 1.5, 3]]", t + 3600));
			expect_get(
				state,
				binance("http://good.example"),
				&format!(r#"[[{}, "101", "102", "100.5", "101.5", "7", 0]]"#, t * 1000),
			);
		}
		Inference::offchain_worker(System::block_number());
		include(drain(pool));
		next_block();
		Inference::offchain_worker(System::block_number());
		include(drain(pool));
		next_block();
		let newest = Bars::<Test>::get(0, 349).expect("the round aggregated");
		assert_eq!(
			(newest.time, newest.open, newest.high, newest.low, newest.close, newest.volume),
			(t, 101_000_000, 102_000_000, 100_500_000, 101_500_000, 7_000_000)
		);
		// The scheduled models now run on the window ending at that bar, through the ML service.
		run_to_block(System::block_number() + DELAY + 1);
		let model_tasks: Vec<(TaskId, TaskOf<Test>)> =
			Tasks::<Test>::iter().filter(|(_, t)| t.model.is_some()).collect();
		assert_eq!(model_tasks.len(), 3);
		// The worker asks in its own order: each local worker key, then the open tasks.
		for op in 4..=9 {
			for (id, task) in Tasks::<Test>::iter() {
				if task.model.is_none() || !assigned(id).contains(&op) {
					continue;
				}
				let model = task.model.unwrap();
				let spec = <Models as noderr_primitives::ModelProvider>::model(&model).unwrap();
				let needed = Inference::bars_needed(&spec.input).unwrap();
				let bars: Vec<_> = Inference::window(0, 349, needed)
					.unwrap()
					.iter()
					.map(|b| {
						let d = |v: i64| {
							serde_json::Value::Number(offchain::decimal(v).parse().unwrap())
						};
						serde_json::json!({ "open": d(b.open), "high": d(b.high), "low": d(b.low),
							"close": d(b.close), "volume": d(b.volume) })
					})
					.collect();
				let values = match task.class {
					TaskClass::Prediction => serde_json::json!([12, 3400, 550000]),
					TaskClass::Regime => serde_json::json!([2]),
					TaskClass::Risk => serde_json::json!([1, 2, 3, -4, 5, 6]),
					other => panic!("{other:?}"),
				};
				let params = serde_json::json!({ "model": offchain::hex(&model), "input": { "bars": bars } });
				expect_ml(state, "ml_run", params, serde_json::json!({ "values": values }));
			}
		}
		Inference::offchain_worker(System::block_number());
		include(drain(pool));
		next_block();
		Inference::offchain_worker(System::block_number());
		include(drain(pool));
		next_block();
		// Settlements of one block may spill into the next (`MaxDeadlinesPerBlock`).
		next_block();
		let settled = |class: TaskClass| {
			let (id, _) = model_tasks.iter().find(|(_, t)| t.class == class).unwrap();
			match Records::<Test>::get(id).unwrap().outcome {
				Outcome::Settled { answer, .. } => answer.into_inner(),
				other => panic!("{other:?}"),
			}
		};
		assert_eq!(settled(TaskClass::Prediction), vec![12, 3400, 550000]);
		assert_eq!(settled(TaskClass::Regime), vec![2]);
		assert_eq!(settled(TaskClass::Risk), vec![1, 2, 3, -4, 5, 6]);
	});
}

#[test]
fn with_no_usable_market_source_the_observer_skips_the_round() {
	with_worker(|state, pool| {
		long_heartbeats();
		fill_history(10);
		assert_ok!(Inference::set_schedule(
			RuntimeOrigin::root(),
			0,
			Some(Schedule { every: 10, models: Default::default() })
		));
		sp_runtime::offchain::storage::StorageValueRef::persistent(offchain::MARKET_SOURCES_KEY)
			.set(&b"binance=http://down.example".to_vec());
		set_local_workers((4..=9).map(worker).collect());
		Inference::offchain_worker(System::block_number());
		include(drain(pool));
		run_to_block(10 + DELAY + 1);
		let obs = Observing::<Test>::get(0).expect("a round");
		let t = Feeds::<Test>::get(0).unwrap().next_bar_time;
		for _ in assigned(obs) {
			state.write().expect_request(PendingRequest {
				method: "GET".into(),
				uri: format!("http://down.example/api/v3/klines?symbol=BTCUSDT&interval=1h&startTime={}&limit=1", t * 1000),
				response: Some(Vec::new()),
				response_headers: vec![],
				sent: true,
				..Default::default()
			});
		}
		Inference::offchain_worker(System::block_number());
		assert!(pool.read().transactions.is_empty(), "no guess submitted");
		let failures = offchain::WorkerStats::load().source_failures;
		assert_eq!(failures.0, vec![(b"http://down.example".to_vec(), assigned(obs).len() as u64)]);
	});
}

#[test]
fn worker_statistics_stay_bounded_and_add_up() {
	let mut labels = offchain::Labelled::default();
	for i in 0..100u32 {
		labels.add(format!("http://source-{i}.example").as_bytes(), 1);
	}
	assert_eq!(labels.0.len(), offchain::MAX_LABELS);
	assert_eq!(
		labels.0.iter().map(|(_, n)| n).sum::<u64>(),
		100,
		"nothing lost, the rest is other"
	);
	assert_eq!(labels.get(b"other"), 100 - (offchain::MAX_LABELS as u64 - 1));
	let mut h = offchain::Histogram::default();
	for ms in [0, 5, 6, 10_000, 10_001, u64::MAX] {
		h.observe(ms);
	}
	assert_eq!(h.counts[0], 2, "0 and 5 ms are within the first bound");
	assert_eq!(h.counts[1], 1);
	assert_eq!(h.counts[offchain::LATENCY_BUCKETS_MS.len() - 1], 1, "10 s in the last bound");
	assert_eq!(h.counts[offchain::LATENCY_BUCKETS_MS.len()], 2, "above it");
	assert_eq!((h.count(), h.sum_ms), (6, u64::MAX), "the sum saturates");
}
