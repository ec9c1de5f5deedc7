//! The track record: a settled forecast is kept until its bar arrives, then scored against the
//! realised return next to the random walk; the record's sums are checked by hand (f64) and
//! the refusal rules of the pending list one by one.

use super::{create, events};
use crate::{mock::*, score, *};
use frame_support::assert_ok;
use noderr_primitives::Answer;

/// Gaussian negative log-likelihood of `r` under N(mu, sigma^2), in nats, from f64.
fn nll(r: f64, mu: f64, sigma: f64) -> f64 {
	0.5 * (2.0 * core::f64::consts::PI).ln() + sigma.ln() + (r - mu).powi(2) / (2.0 * sigma * sigma)
}

/// Whether a fixed-point likelihood (10^6) is the real one `expected`, within the rounding.
fn close_to(got: i128, expected: f64, roundings: f64) {
	let diff = (got as f64 / 1e6 - expected).abs();
	assert!(diff <= roundings * 0.5e-6 + 1e-12, "{got} vs {expected}: off by {diff}");
}

/// Appends bars of feed 0 with these closes (open, high and low equal to the close).
fn append_closes(closes: &[i64]) {
	for &close in closes {
		let time = Feeds::<Test>::get(0).unwrap().next_bar_time;
		Inference::append_bar(
			0,
			Bar { time, open: close, high: close, low: close, close, volume: 1_000_000 },
		);
	}
}

/// `n` closes alternating 100 and 101: every return is ln(1.01) up or down, 9,950 at 10^6.
fn alternating(n: u32) -> Vec<i64> {
	(0..n).map(|i| if i % 2 == 0 { 100_000_000 } else { 101_000_000 }).collect()
}

/// Runs `task` to its assignment, has every assigned operator commit and reveal `a`, settles it.
fn answer_task(task: TaskId, a: &Answer) {
	while matches!(Tasks::<Test>::get(task).unwrap().phase, Phase::Waiting { .. }) {
		next_block();
	}
	let ops = assigned(task);
	for op in &ops {
		assert_ok!(commit(*op, task, a));
	}
	for op in &ops {
		assert_ok!(reveal(*op, task, a));
	}
	next_block();
	assert!(Tasks::<Test>::get(task).is_none(), "task {task} settled");
}

/// Waits for feed 0's observation round and has its observers report a flat bar at `close`.
/// Returns the new bar's number.
fn observe(close: i64) -> u32 {
	while Observing::<Test>::get(0).is_none() {
		next_block();
	}
	let obs = Observing::<Test>::get(0).unwrap();
	answer_task(obs, &answer(&[close, close, close, close, 1_000_000]));
	BarCount::<Test>::get(0) - 1
}

fn scored() -> Vec<Event<Test>> {
	events().into_iter().filter(|e| matches!(e, Event::PredictionScored { .. })).collect()
}

fn long_heartbeats() {
	let mut c = DefaultConfig::get();
	c.heartbeat_period = 100_000;
	assert_ok!(Inference::set_config(RuntimeOrigin::root(), c));
}

#[test]
fn a_settled_prediction_is_scored_when_its_bar_arrives() {
	run_test(|| {
		long_heartbeats();
		// Bars 0..=348 alternate 100 / 101; the observers report bar 349 at 101, then bar 350
		// at 103.02: a return of ln(1.02).
		append_closes(&alternating(349));
		assert_ok!(Inference::set_schedule(
			RuntimeOrigin::root(),
			0,
			Some(Schedule { every: 10, models: vec![PRICE].try_into().unwrap() })
		));
		heartbeat_all(&[OBSERVATION_KEY, PRICE]);
		assert_eq!(observe(101_000_000), 349);
		let (task, t) = Tasks::<Test>::iter().find(|(_, t)| t.model == Some(PRICE)).unwrap();
		assert_eq!(t.input, TaskInput::History { feed: 0, end: 349 });
		// The forecast of bar 350: mean +0.5%, volatility 1.2%.
		let (mu, sigma) = (5_000, 12_000);
		answer_task(task, &answer(&[mu, sigma, 600_000]));
		assert_eq!(
			PendingScores::<Test>::get(0, 350).into_inner(),
			vec![PendingScore { task, model: PRICE, mu, sigma }]
		);
		assert!(scored().is_empty(), "nothing is scored before its bar");
		// 349 returns of +-ln(1.01) so far.
		let up = score::log_return(100_000_000, 101_000_000).unwrap();
		assert_eq!(up, 9_950);
		let before = SquaredReturns { count: 349, sum_squares: 349 * 9_950 * 9_950 };
		assert_eq!(FeedReturns::<Test>::get(0), before);

		assert_eq!(observe(103_020_000), 350);
		let r = score::log_return(101_000_000, 103_020_000).unwrap();
		assert_eq!(r, 19_803, "ln(1.02) = 0.0198026...");
		let Some(Event::PredictionScored {
			model,
			task: t,
			nll: n,
			baseline_nll: b,
			direction_hit,
		}) = scored().pop()
		else {
			panic!("the forecast was scored")
		};
		assert_eq!((model, t, direction_hit), (PRICE, task, Some(true)));
		// By hand: the model's Gaussian, and the random walk's with the realised standard
		// deviation of the 349 earlier returns (all of size 0.00995).
		let rf = r as f64 / 1e6;
		close_to(n as i128, nll(rf, 0.005, 0.012), 1.0);
		close_to(b as i128, nll(rf, 0.0, 0.00995), 1.0);
		assert!(n < b, "the forecast beat the random walk on this bar");
		assert_eq!(n, score::gaussian_nll(r, mu, sigma));
		assert_eq!(b, score::gaussian_nll(r, 0, 9_950));
		assert_eq!(
			TrackRecords::<Test>::get(PRICE),
			TrackRecord {
				count: 1,
				nll_sum: n as i128,
				baseline_nll_sum: b as i128,
				moved: 1,
				hits: 1
			}
		);
		assert_eq!(PendingScores::<Test>::iter().count(), 0, "taken when scored");
		assert_eq!(FeedReturns::<Test>::get(0), before.with(r));
		assert_eq!(FeedReturns::<Test>::get(0).count, 350);
	});
}

#[test]
fn the_record_sums_every_scored_forecast() {
	run_test(|| {
		// Bars 0..=9 alternate 100 / 101 (the last at 101).
		append_closes(&alternating(10));
		let mut returns: Vec<f64> = vec![0.00995; 9];
		// Forecasts (mean, volatility) of the next bar, and the close that arrives: no move;
		// down as forecast; up against a zero mean with a zero volatility (read as 10^-6).
		let cases =
			[((3_000, 10_000), 101_000_000), ((-2_000, 8_000), 99_990_000), ((0, 0), 100_990_000)];
		let (mut model_sum, mut baseline_sum) = (0f64, 0f64);
		for (i, ((mu, sigma), close)) in cases.into_iter().enumerate() {
			let end = BarCount::<Test>::get(0) - 1;
			let previous = Bars::<Test>::get(0, end).unwrap().close;
			Inference::remember_prediction(i as TaskId, PRICE, 0, end, &[mu, sigma, 500_000]);
			append_closes(&[close]);
			let r = score::log_return(previous, close).unwrap() as f64 / 1e6;
			let variance = returns.iter().map(|x| x * x).sum::<f64>() / returns.len() as f64;
			let sigma = (sigma.max(score::MIN_SIGMA) as f64) / 1e6;
			model_sum += nll(r, mu as f64 / 1e6, sigma);
			baseline_sum += nll(r, 0.0, variance.sqrt());
			returns.push(r);
		}
		let events = scored();
		assert_eq!(events.len(), 3);
		let hits: Vec<Option<bool>> = events
			.iter()
			.map(|e| match e {
				Event::PredictionScored { direction_hit, .. } => *direction_hit,
				_ => unreachable!(),
			})
			.collect();
		assert_eq!(hits, vec![None, Some(true), Some(false)]);
		let record = TrackRecords::<Test>::get(PRICE);
		assert_eq!(Inference::track_record(PRICE), record, "the runtime API's view");
		assert_eq!((record.count, record.moved, record.hits), (3, 2, 1));
		close_to(record.nll_sum, model_sum, 3.0);
		close_to(record.baseline_nll_sum, baseline_sum, 3.0);
		// The zero volatility cost the model ~4.95e7 nats on the last bar: a ruinous record.
		assert!(record.nll_sum > 49_000_000 * 1_000_000);
		let (n, b) = events.iter().fold((0i128, 0i128), |(n, b), e| match e {
			Event::PredictionScored { nll, baseline_nll, .. } => {
				(n + *nll as i128, b + *baseline_nll as i128)
			}
			_ => unreachable!(),
		});
		assert_eq!((record.nll_sum, record.baseline_nll_sum), (n, b));
	});
}

#[test]
fn pending_forecasts_are_bounded_and_once_per_model() {
	run_test(|| {
		append_closes(&alternating(10));
		assert_ok!(Inference::set_schedule(
			RuntimeOrigin::root(),
			0,
			Some(Schedule { every: 10, models: vec![PRICE].try_into().unwrap() })
		));
		let pending =
			|| PendingScores::<Test>::get(0, 10).iter().map(|p| p.model).collect::<Vec<_>>();
		// A forecast of a bar that has arrived is not kept: its operators may have seen it.
		Inference::remember_prediction(1, [10; 32], 0, 8, &[1, 1, 1]);
		assert_eq!(PendingScores::<Test>::get(0, 9).len(), 0);
		// Nor one without a mean and a volatility.
		Inference::remember_prediction(1, [10; 32], 0, 9, &[1]);
		assert!(pending().is_empty());
		// Once per model and bar: the first stays.
		Inference::remember_prediction(1, [10; 32], 0, 9, &[1, 1, 1]);
		Inference::remember_prediction(2, [10; 32], 0, 9, &[2, 2, 2]);
		assert_eq!(PendingScores::<Test>::get(0, 10)[0].task, 1);
		// Full at MaxScheduledModels (4): an unscheduled model is refused, a scheduled one
		// replaces the oldest unscheduled entry.
		for (task, m) in [(3, 11), (4, 12), (5, 13), (6, 14)] {
			Inference::remember_prediction(task, [m; 32], 0, 9, &[1, 1, 1]);
		}
		assert_eq!(pending(), vec![[10; 32], [11; 32], [12; 32], [13; 32]]);
		Inference::remember_prediction(7, PRICE, 0, 9, &[1, 1, 1]);
		assert_eq!(pending(), vec![[11; 32], [12; 32], [13; 32], PRICE]);
		Inference::remember_prediction(8, PRICE, 0, 9, &[2, 2, 2]);
		assert_eq!(PendingScores::<Test>::get(0, 10)[3].task, 7);
		// The bar scores all four and clears the list.
		append_closes(&[100_000_000]);
		assert_eq!(scored().len(), 4);
		assert_eq!(PendingScores::<Test>::iter().count(), 0);
		assert_eq!(TrackRecords::<Test>::get([10; 32]), TrackRecord::default());
		assert_eq!(TrackRecords::<Test>::get(PRICE).count, 1);
	});
}

#[test]
fn a_prediction_settled_after_its_bar_is_not_scored() {
	run_test(|| {
		heartbeat_all(&[PRICE]);
		append_closes(&alternating(310));
		let id = create(PRICE, TaskInput::History { feed: 0, end: 0 }, 25).unwrap();
		run_to_block(1 + DELAY + 1);
		let a = answer(&[1_000, 10_000, 600_000]);
		for op in assigned(id) {
			assert_ok!(commit(op, id, &a));
		}
		for op in assigned(id) {
			assert_ok!(reveal(op, id, &a));
		}
		// Bar 310 arrives before the forecast of it settles.
		append_closes(&[100_000_000]);
		next_block();
		assert!(matches!(Records::<Test>::get(id).unwrap().outcome, Outcome::Settled { .. }));
		assert_eq!(PendingScores::<Test>::iter().count(), 0);
		append_closes(&[101_000_000]);
		assert!(scored().is_empty());
		assert_eq!(TrackRecords::<Test>::get(PRICE), TrackRecord::default());
	});
}
