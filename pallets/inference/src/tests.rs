//! Unit tests: each call's success and failure paths (`assert_noop!`, then the last event, then
//! storage), the life of a task end to end, money conservation, randomness, bounds, and a
//! simulated chain of 1,000 rounds with honest and lying operators. Invariants are checked after
//! every test and every simulated block (`mock.rs`).

use crate::{mock::*, *};
use frame_support::{assert_noop, assert_ok, traits::fungible::InspectHold};
use noderr_primitives::{Answer, Participation, Tier};
use sp_runtime::{DispatchError, Perbill};

mod offchain;
mod score;

const HOLD: RuntimeHoldReason = RuntimeHoldReason::Inference(HoldReason::TaskFee);

fn text(s: &str) -> TaskInputOf<Test> {
	TaskInput::Text(s.as_bytes().to_vec().try_into().unwrap())
}

fn create(
	model: [u8; 32],
	input: TaskInputOf<Test>,
	fee: Balance,
) -> Result<TaskId, DispatchError> {
	let id = NextTaskId::<Test>::get();
	Inference::create_task(RuntimeOrigin::signed(REQUESTER), model, input, fee)?;
	Ok(id)
}

fn last_event() -> RuntimeEvent {
	System::events().pop().expect("an event").event
}

fn events() -> Vec<Event<Test>> {
	System::events()
		.into_iter()
		.filter_map(|r| match r.event {
			RuntimeEvent::Inference(e) => Some(e),
			_ => None,
		})
		.collect()
}

/// Creates a sentiment task, has every ORACLE+ operator declare the model, runs to assignment.
fn assigned_sentiment_task(fee: Balance) -> TaskId {
	heartbeat_all(&[SENTIMENT, PRICE]);
	let id = create(SENTIMENT, text("markets rally"), fee).unwrap();
	run_to_block(1 + DELAY + 1);
	assert!(matches!(Tasks::<Test>::get(id).unwrap().phase, Phase::Commit { .. }));
	id
}

#[test]
fn create_task_holds_the_fee_and_queues_the_assignment() {
	run_test(|| {
		let id = create(SENTIMENT, text("markets rally"), 25).unwrap();
		assert_eq!(Balances::balance_on_hold(&HOLD, &REQUESTER), 25);
		let at = 1 + DELAY + 1;
		assert_eq!(
			last_event(),
			Event::TaskCreated {
				task: id,
				class: TaskClass::Sentiment,
				model: Some(SENTIMENT),
				requester: Some(REQUESTER),
				fee: 25,
				assign_at: at,
				audit_of: None,
			}
			.into()
		);
		let task = Tasks::<Test>::get(id).unwrap();
		assert_eq!(task.phase, Phase::Waiting { at });
		assert_eq!(Deadlines::<Test>::get(at).into_inner(), vec![id]);
		assert_eq!(NextTaskId::<Test>::get(), id + 1);
	});
}

#[test]
fn bad_task_requests_are_refused_and_change_nothing() {
	run_test(|| {
		assert_noop!(create([9; 32], text("x"), 25), Error::<Test>::UnknownModel);
		assert_noop!(create(LATE, text("x"), 25), Error::<Test>::ModelNotActive);
		assert_noop!(
			create(SENTIMENT, TaskInput::History { feed: 0, end: 0 }, 25),
			Error::<Test>::InputMismatch
		);
		assert_noop!(create(PRICE, text("x"), 25), Error::<Test>::InputMismatch);
		assert_noop!(create(SENTIMENT, text(""), 25), Error::<Test>::EmptyText);
		assert_noop!(create(SENTIMENT, text(&"a".repeat(65)), 25), Error::<Test>::TextTooLong);
		assert_noop!(
			create(PRICE, TaskInput::History { feed: 7, end: 0 }, 25),
			Error::<Test>::UnknownFeed
		);
		assert_noop!(
			create(PRICE, TaskInput::History { feed: 0, end: 0 }, 25),
			Error::<Test>::InsufficientHistory
		);
		fill_history(309);
		assert_noop!(
			create(PRICE, TaskInput::History { feed: 0, end: 0 }, 25),
			Error::<Test>::InsufficientHistory
		);
		assert_noop!(create(SENTIMENT, text("x"), MIN_FEE - 1), Error::<Test>::FeeTooLow);
		assert_noop!(
			Inference::create_task(RuntimeOrigin::signed(POOR), SENTIMENT, text("x"), 20),
			Error::<Test>::CannotPayFee
		);
		assert_noop!(
			Inference::create_task(RuntimeOrigin::none(), SENTIMENT, text("x"), 20),
			DispatchError::BadOrigin
		);
	});
}

#[test]
fn a_price_task_reads_the_newest_window_of_the_history() {
	run_test(|| {
		fill_history(310);
		let id = create(PRICE, TaskInput::History { feed: 0, end: 3 }, 25).unwrap();
		assert_eq!(Tasks::<Test>::get(id).unwrap().input, TaskInput::History { feed: 0, end: 309 });
		assert_eq!(Inference::window(0, 309, 310).unwrap().len(), 310);
		assert_eq!(Inference::window(0, 309, 311), None);
	});
}

#[test]
fn the_history_is_a_bounded_ring() {
	run_test(|| {
		fill_history(450);
		assert_eq!(BarCount::<Test>::get(0), 450);
		assert_eq!(Bars::<Test>::iter_prefix(0).count(), 400);
		assert!(Inference::window_available(0, 449, 400));
		assert!(!Inference::window_available(0, 449, 401));
		assert!(!Inference::window_available(0, 40, 1), "bar 40 was overwritten");
		let w = Inference::window(0, 449, 2).unwrap();
		assert_eq!(w[1].time - w[0].time, 3_600);
	});
}

#[test]
fn assignment_draws_distinct_live_operators_of_the_models_tier() {
	run_test(|| {
		let id = assigned_sentiment_task(25);
		let ops = assigned(id);
		assert_eq!(ops.len(), 3);
		let mut unique = ops.clone();
		unique.sort();
		unique.dedup();
		assert_eq!(unique.len(), 3, "distinct operators");
		assert!(ops.iter().all(|op| (4..=9).contains(op)), "ORACLE and up only: {ops:?}");
		let commit_until = 1 + DELAY + 1 + COMMIT;
		assert_eq!(
			last_event(),
			Event::TaskAssigned { task: id, operators: ops, commit_until }.into()
		);
		assert_eq!(Stats::<Test>::get(assigned(id)[0]).assigned, 1);
	});
}

#[test]
fn a_lapsed_heartbeat_or_a_lost_tier_is_not_drawn() {
	run_test(|| {
		heartbeat_all(&[SENTIMENT]);
		run_to_block(HEARTBEAT + 1);
		// Only 4 and 5 renew; 6 loses its tier.
		heartbeat(4, &[SENTIMENT]);
		heartbeat(5, &[SENTIMENT]);
		heartbeat(6, &[SENTIMENT]);
		set_tier(6, None);
		let id = create(SENTIMENT, text("x"), 25).unwrap();
		run_to_block(System::block_number() + DELAY + 1);
		let mut ops = assigned(id);
		ops.sort();
		assert_eq!(ops, vec![4, 5]);
		// Lapsed operators met during the draw were unlisted.
		assert!(ListedCount::<Test>::get(SENTIMENT) < 9);
	});
}

#[test]
fn without_eligible_operators_the_task_fails_and_is_refunded() {
	run_test(|| {
		let before = Balances::free_balance(REQUESTER);
		let id = create(SENTIMENT, text("x"), 25).unwrap();
		run_to_block(1 + DELAY + 1);
		assert!(
			events().contains(&Event::TaskFailed { task: id, reason: FailureReason::NoOperators })
		);
		assert_eq!(Balances::free_balance(REQUESTER), before);
		assert_eq!(Balances::balance_on_hold(&HOLD, &REQUESTER), 0);
		assert_eq!(Records::<Test>::get(id).unwrap().outcome, Outcome::Unassigned);
		assert!(Tasks::<Test>::get(id).is_none());
	});
}

#[test]
fn the_beacon_decides_the_assignment_not_the_block_hash() {
	let draw = |salt: u64, parent: [u8; 32]| {
		build().execute_with(|| {
			set_beacon_salt(salt);
			heartbeat_all(&[PRICE]);
			fill_history(310);
			let id = create(PRICE, TaskInput::History { feed: 0, end: 0 }, 25).unwrap();
			System::set_parent_hash(parent.into());
			run_to_block(1 + DELAY + 1);
			assigned(id)
		})
	};
	let base = draw(0, [0; 32]);
	assert_eq!(base, draw(0, [7; 32]), "another block hash, the same beacon: the same draw");
	let others: Vec<_> = (1..8).map(|s| draw(s, [0; 32])).collect();
	assert!(others.iter().any(|o| *o != base), "another beacon changes the draw");
}

#[test]
fn draws_are_spread_evenly_over_the_listed_operators() {
	run_test(|| {
		let mut c = DefaultConfig::get();
		c.heartbeat_period = 100_000;
		assert_ok!(Inference::set_config(RuntimeOrigin::root(), c));
		heartbeat_all(&[PRICE]);
		fill_history(310);
		let mut counts = [0u32; 10];
		for round in 0..300u64 {
			set_beacon_salt(round);
			let id = create(PRICE, TaskInput::History { feed: 0, end: 0 }, 25).unwrap();
			run_to_block(System::block_number() + DELAY + 1);
			for op in assigned(id) {
				counts[op as usize] += 1;
			}
		}
		// 300 draws of 3 among 9: 100 each expected.
		for (op, n) in counts.iter().enumerate().skip(1) {
			assert!((60..=140).contains(n), "operator {op} drawn {n} times");
		}
	});
}

#[test]
fn commits_are_checked() {
	run_test(|| {
		heartbeat_all(&[SENTIMENT]);
		let id = create(SENTIMENT, text("x"), 25).unwrap();
		let a = answer(&[2]);
		assert_noop!(commit(4, 99, &a), Error::<Test>::UnknownTask);
		assert_noop!(commit(4, id, &a), Error::<Test>::NotAssignedYet);
		run_to_block(1 + DELAY + 1);
		let ops = assigned(id);
		let outsider = (4..=9).find(|o| !ops.contains(o)).unwrap();
		assert_noop!(commit(outsider, id, &a), Error::<Test>::NotAssigned);
		assert_noop!(
			Inference::commit(RuntimeOrigin::signed(ops[0]), id, [0; 32]),
			Error::<Test>::NotAWorker
		);
		assert_ok!(commit(ops[0], id, &a));
		assert_eq!(last_event(), Event::Committed { task: id, operator: ops[0] }.into());
		assert!(Commitments::<Test>::contains_key(id, ops[0]));
		assert_noop!(commit(ops[0], id, &a), Error::<Test>::AlreadyCommitted);
		run_to_block(System::block_number() + COMMIT);
		assert_noop!(commit(ops[1], id, &a), Error::<Test>::CommitWindowClosed);
	});
}

#[test]
fn reveals_are_checked() {
	run_test(|| {
		let id = assigned_sentiment_task(25);
		let ops = assigned(id);
		let a = answer(&[2]);
		assert_ok!(commit(ops[0], id, &a));
		assert_ok!(commit(ops[1], id, &answer(&[7])));
		assert_noop!(reveal(ops[0], id, &a), Error::<Test>::NotInRevealPhase);
		assert_ok!(commit(ops[2], id, &a));
		// Everyone committed: the reveal phase is open at once.
		assert!(matches!(Tasks::<Test>::get(id).unwrap().phase, Phase::Reveal { .. }));
		assert_noop!(
			Inference::reveal(RuntimeOrigin::signed(worker(ops[0])), id, a.clone(), [0; 32]),
			Error::<Test>::CommitmentMismatch
		);
		assert_noop!(reveal(ops[0], id, &answer(&[1])), Error::<Test>::CommitmentMismatch);
		assert_noop!(reveal(ops[1], id, &answer(&[7])), Error::<Test>::AnswerOutOfSpec);
		assert_ok!(reveal(ops[0], id, &a));
		assert_eq!(
			last_event(),
			Event::Revealed { task: id, operator: ops[0], answer: a.clone() }.into()
		);
		assert_noop!(reveal(ops[0], id, &a), Error::<Test>::AlreadyRevealed);
	});
}

#[test]
fn a_reveal_without_a_commitment_is_refused() {
	run_test(|| {
		let id = assigned_sentiment_task(25);
		let ops = assigned(id);
		let a = answer(&[2]);
		assert_ok!(commit(ops[0], id, &a));
		assert_ok!(commit(ops[1], id, &a));
		run_to_block(System::block_number() + COMMIT);
		assert_noop!(reveal(ops[2], id, &a), Error::<Test>::NoCommitment);
	});
}

#[test]
fn prompt_operators_settle_within_three_blocks_and_are_paid_by_tier() {
	run_test(|| {
		let issuance = Balances::total_issuance();
		let requester_before = Balances::free_balance(REQUESTER);
		let treasury_before = Balances::free_balance(TREASURY);
		let fee = 80;
		let id = assigned_sentiment_task(fee);
		let assigned_at = System::block_number();
		let ops = assigned(id);
		let before: Vec<Balance> = ops.iter().map(Balances::free_balance).collect();
		let a = answer(&[2]);
		next_block();
		for op in &ops {
			assert_ok!(commit(*op, id, &a));
		}
		next_block();
		for op in &ops {
			assert_ok!(reveal(*op, id, &a));
		}
		next_block();
		assert!(Tasks::<Test>::get(id).is_none(), "settled");
		assert!(System::block_number() - assigned_at <= 3);
		let record = Records::<Test>::get(id).unwrap();
		assert_eq!(
			record.outcome,
			Outcome::Settled { answer: answer(&[2]), dispersion: answer(&[0]) }
		);
		// Fee and emission split by tier multiplier.
		let weights: Vec<u64> = ops.iter().map(|o| if *o <= 6 { 200 } else { 500 }).collect();
		let total: u64 = weights.iter().sum();
		let mut paid = 0;
		for (i, op) in ops.iter().enumerate() {
			let expected = fee * weights[i] / total + REWARD * weights[i] / total;
			assert_eq!(Balances::free_balance(op) - before[i], expected, "operator {op}");
			assert_eq!(record.operators[i].reward, expected);
			assert_eq!(record.operators[i].participation, Participation::Agreed);
			assert_eq!(Stats::<Test>::get(op).agreed, 1);
			paid += expected;
		}
		// Money is conserved: the requester paid the fee less rounding dust, the treasury the
		// emission less rounding dust, the operators got exactly that.
		let fee_paid = requester_before - Balances::free_balance(REQUESTER);
		let emission_paid = treasury_before - Balances::free_balance(TREASURY);
		assert!(fee_paid <= fee && emission_paid <= REWARD);
		assert_eq!(fee_paid + emission_paid, paid);
		assert_eq!(Balances::total_issuance(), issuance);
		assert_eq!(Balances::balance_on_hold(&HOLD, &REQUESTER), 0);
		assert!(events().iter().any(
			|e| matches!(e, Event::TaskSettled { task, agreed: 3, paid: p, .. } if *task == id && *p == paid)
		));
		assert_eq!(Latest::<Test>::get(SENTIMENT), Some(id));
		assert_eq!(Commitments::<Test>::iter_prefix(id).count(), 0);
	});
}

#[test]
fn outliers_and_missing_reveals_earn_nothing_and_are_struck() {
	run_test(|| {
		// Four operators of equal stake on a numeric model, quorum 2/3 of the assigned stake.
		for op in 1..=9 {
			set_tier(op, Some((Tier::Oracle, 5_000)));
		}
		let mut c = DefaultConfig::get();
		c.classes[TaskClass::Prediction.index()] = class_config(4);
		assert_ok!(Inference::set_config(RuntimeOrigin::root(), c));
		heartbeat_all(&[PRICE]);
		fill_history(310);
		let id = create(PRICE, TaskInput::History { feed: 0, end: 0 }, 40).unwrap();
		run_to_block(1 + DELAY + 1);
		let ops = assigned(id);
		assert_eq!(ops.len(), 4);
		let honest = answer(&[1_000, 20_000, 600_000]);
		let close = answer(&[1_000 + TOLERANCE as i64, 20_000, 600_000]);
		let far = answer(&[90_000, 20_000, 600_000]);
		assert_ok!(commit(ops[0], id, &honest));
		assert_ok!(commit(ops[1], id, &close));
		assert_ok!(commit(ops[2], id, &far));
		assert_ok!(commit(ops[3], id, &honest));
		assert_ok!(reveal(ops[0], id, &honest));
		assert_ok!(reveal(ops[1], id, &close));
		assert_ok!(reveal(ops[2], id, &far));
		// ops[3] does not reveal: 3 of 4 equal stakes revealed, above the 2/3 quorum.
		run_to_block(System::block_number() + REVEAL + 1);
		let record = Records::<Test>::get(id).unwrap();
		let p: Vec<_> = record.operators.iter().map(|o| o.participation).collect();
		assert_eq!(
			record.outcome,
			Outcome::Settled {
				answer: answer(&[1_000 + TOLERANCE as i64, 20_000, 600_000]),
				dispersion: answer(&[1_000, 0, 0])
			}
		);
		assert_eq!(
			p,
			vec![
				Participation::Agreed,
				Participation::Agreed,
				Participation::Outlier,
				Participation::NotRevealed
			]
		);
		assert_eq!(record.operators[2].reward, 0);
		assert_eq!(Stats::<Test>::get(ops[2]).strikes, 1);
		assert_eq!(record.operators[3].reward, 0);
		assert_eq!(Stats::<Test>::get(ops[3]).strikes, 1);
		assert_eq!(Stats::<Test>::get(ops[0]).strikes, 0);
	});
}

#[test]
fn below_quorum_the_task_fails_and_the_fee_is_refunded() {
	run_test(|| {
		let before = Balances::free_balance(REQUESTER);
		let id = assigned_sentiment_task(25);
		let ops = assigned(id);
		let a = answer(&[1]);
		assert_ok!(commit(ops[0], id, &a));
		run_to_block(System::block_number() + COMMIT);
		assert_ok!(reveal(ops[0], id, &a));
		run_to_block(System::block_number() + REVEAL);
		let record = Records::<Test>::get(id).unwrap();
		assert_eq!(record.outcome, Outcome::Failed);
		assert_eq!(record.operators[0].participation, Participation::Revealed);
		assert_eq!(record.operators[1].participation, Participation::NotCommitted);
		assert_eq!(Stats::<Test>::get(ops[0]).strikes, 0);
		assert_eq!(Stats::<Test>::get(ops[1]).strikes, 1);
		assert_eq!(Balances::free_balance(REQUESTER), before);
		assert_eq!(Balances::balance_on_hold(&HOLD, &REQUESTER), 0);
	});
}

#[test]
fn nobody_committing_fails_the_task() {
	run_test(|| {
		let id = assigned_sentiment_task(25);
		run_to_block(System::block_number() + COMMIT);
		assert!(events()
			.contains(&Event::TaskFailed { task: id, reason: FailureReason::NoCommitments }));
		assert_eq!(Balances::balance_on_hold(&HOLD, &REQUESTER), 0);
	});
}

#[test]
fn records_are_pruned_beyond_the_bound() {
	run_test(|| {
		for _ in 0..20 {
			create(SENTIMENT, text("x"), 25).unwrap();
		}
		run_to_block(1 + DELAY + 6);
		assert_eq!(Records::<Test>::iter().count(), 16);
		assert!(Records::<Test>::get(0).is_none(), "the oldest records were pruned");
		assert!(Records::<Test>::get(19).is_some());
	});
}

#[test]
fn a_full_deadline_queue_spills_into_the_next_block() {
	run_test(|| {
		heartbeat_all(&[SENTIMENT]);
		let ids: Vec<_> = (0..20).map(|_| create(SENTIMENT, text("x"), 25).unwrap()).collect();
		let at = 1 + DELAY + 1;
		assert_eq!(Deadlines::<Test>::get(at).len(), 8);
		assert_eq!(Deadlines::<Test>::get(at + 1).len(), 8);
		assert_eq!(Deadlines::<Test>::get(at + 2).len(), 4);
		run_to_block(at + 2);
		for id in ids {
			assert!(
				events()
					.iter()
					.any(|e| matches!(e, Event::TaskAssigned { task, .. } if *task == id)),
				"task {id} was assigned"
			);
		}
	});
}

#[test]
fn feed_rounds_build_the_history_and_start_the_scheduled_models() {
	run_test(|| {
		fill_history(349);
		assert_ok!(Inference::set_schedule(
			RuntimeOrigin::root(),
			0,
			Some(Schedule { every: 10, models: vec![PRICE, REGIME, MSRR].try_into().unwrap() })
		));
		heartbeat_all(&[OBSERVATION_KEY, PRICE, REGIME, MSRR]);
		let next_time = Feeds::<Test>::get(0).unwrap().next_bar_time;
		run_to_block(10);
		let obs = Observing::<Test>::get(0).expect("an observation round started");
		assert_eq!(
			Tasks::<Test>::get(obs).unwrap().input,
			TaskInput::Observe { feed: 0, bar_time: next_time }
		);
		run_to_block(10 + DELAY + 1);
		let ops = assigned(obs);
		assert!(ops.iter().all(|o| *o >= 4), "observers are ORACLE or above");
		let bar = [101_000_000, 102_000_000, 100_500_000, 101_500_000, 7_000_000];
		let bar_of = |i: usize| answer(&[bar[0], bar[1], bar[2], bar[3] + i as i64, bar[4]]);
		for (i, op) in ops.iter().enumerate() {
			assert_ok!(commit(*op, obs, &bar_of(i)));
		}
		for (i, op) in ops.iter().enumerate() {
			assert_ok!(reveal(*op, obs, &bar_of(i)));
		}
		next_block();
		assert_eq!(BarCount::<Test>::get(0), 350);
		let added = Bars::<Test>::get(0, 349).unwrap();
		assert_eq!(added.time, next_time);
		assert!((bar[3]..=bar[3] + 2).contains(&added.close), "a median close");
		assert_eq!(Feeds::<Test>::get(0).unwrap().next_bar_time, next_time + 3_600);
		// One task per scheduled model on the window ending at the new bar.
		let created: Vec<_> = events()
			.into_iter()
			.filter_map(|e| match e {
				Event::TaskCreated { model: Some(m), requester: None, .. } => Some(m),
				_ => None,
			})
			.collect();
		assert_eq!(created, vec![PRICE, REGIME, MSRR]);
		assert!(Tasks::<Test>::iter_values()
			.all(|t| t.model.is_none() || t.input == TaskInput::History { feed: 0, end: 349 }));
	});
}

#[test]
fn a_bad_bar_is_refused_at_reveal() {
	run_test(|| {
		assert_ok!(Inference::set_schedule(
			RuntimeOrigin::root(),
			0,
			Some(Schedule { every: 5, models: Default::default() })
		));
		heartbeat_all(&[OBSERVATION_KEY]);
		run_to_block(5 + DELAY + 1);
		let obs = Observing::<Test>::get(0).unwrap();
		let op = assigned(obs)[0];
		// High below the close.
		let bad = answer(&[100, 90, 80, 95, 1]);
		assert_ok!(commit(op, obs, &bad));
		run_to_block(System::block_number() + COMMIT);
		assert_noop!(reveal(op, obs, &bad), Error::<Test>::AnswerOutOfSpec);
	});
}

#[test]
fn heartbeats_are_checked_and_keep_the_index() {
	run_test(|| {
		assert_noop!(
			Inference::heartbeat(
				RuntimeOrigin::signed(worker(4)),
				vec![PRICE, PRICE].try_into().unwrap()
			),
			Error::<Test>::DuplicateKey
		);
		assert_noop!(
			Inference::heartbeat(
				RuntimeOrigin::signed(worker(4)),
				vec![[9; 32]].try_into().unwrap()
			),
			Error::<Test>::UnknownModel
		);
		assert_noop!(
			Inference::heartbeat(RuntimeOrigin::signed(77), vec![PRICE].try_into().unwrap()),
			Error::<Test>::NotAWorker
		);
		heartbeat(4, &[PRICE, SENTIMENT]);
		assert_eq!(
			last_event(),
			Event::Heartbeat { operator: 4, keys: vec![PRICE, SENTIMENT] }.into()
		);
		heartbeat(5, &[PRICE]);
		assert_eq!(ListedCount::<Test>::get(PRICE), 2);
		heartbeat(4, &[SENTIMENT]);
		assert_eq!(ListedCount::<Test>::get(PRICE), 1);
		assert_eq!(Listed::<Test>::get(PRICE, 0), Some(5));
		assert_eq!(ListedAt::<Test>::get(SENTIMENT, 4), Some(0));
	});
}

#[test]
fn worker_keys_link_one_to_one() {
	run_test(|| {
		assert_noop!(
			Inference::link_worker(RuntimeOrigin::signed(5), worker(4)),
			Error::<Test>::WorkerInUse
		);
		assert_ok!(Inference::link_worker(RuntimeOrigin::signed(4), 404));
		assert_eq!(last_event(), Event::WorkerLinked { operator: 4, worker: 404 }.into());
		assert_eq!(OperatorOf::<Test>::get(404), Some(4));
		assert_eq!(OperatorOf::<Test>::get(worker(4)), None);
		assert_eq!(WorkerOf::<Test>::get(4), Some(404));
	});
}

#[test]
fn governance_settings_are_checked() {
	run_test(|| {
		let mut c = DefaultConfig::get();
		c.classes[0].assigned = 0;
		assert_noop!(Inference::set_config(RuntimeOrigin::root(), c), Error::<Test>::InvalidConfig);
		c.classes[0].assigned = 65;
		assert_noop!(Inference::set_config(RuntimeOrigin::root(), c), Error::<Test>::InvalidConfig);
		let mut c = DefaultConfig::get();
		c.classes[4].reveal_blocks = 0;
		assert_noop!(Inference::set_config(RuntimeOrigin::root(), c), Error::<Test>::InvalidConfig);
		let mut c = DefaultConfig::get();
		c.heartbeat_period = 0;
		assert_noop!(Inference::set_config(RuntimeOrigin::root(), c), Error::<Test>::InvalidConfig);
		assert_noop!(
			Inference::set_config(RuntimeOrigin::signed(1), DefaultConfig::get()),
			DispatchError::BadOrigin
		);
		let mut c = DefaultConfig::get();
		c.reward_per_task = 7;
		assert_ok!(Inference::set_config(RuntimeOrigin::root(), c));
		assert_eq!(last_event(), Event::ConfigSet.into());
		assert_eq!(Configuration::<Test>::get().reward_per_task, 7);

		let pair = |s: &str| s.as_bytes().to_vec().try_into().unwrap();
		assert_noop!(
			Inference::set_feed(RuntimeOrigin::root(), 1, pair(""), 60, 0, Default::default()),
			Error::<Test>::InvalidFeed
		);
		assert_noop!(
			Inference::set_feed(
				RuntimeOrigin::root(),
				1,
				pair("ETH/USD"),
				0,
				0,
				Default::default()
			),
			Error::<Test>::InvalidFeed
		);
		assert_ok!(Inference::set_feed(
			RuntimeOrigin::root(),
			1,
			pair("ETH/USD"),
			60,
			0,
			Default::default()
		));
		assert_noop!(
			Inference::set_feed(
				RuntimeOrigin::root(),
				2,
				pair("SOL/USD"),
				60,
				0,
				Default::default()
			),
			Error::<Test>::TooManyFeeds
		);
		assert_noop!(
			Inference::set_schedule(RuntimeOrigin::root(), 5, None),
			Error::<Test>::UnknownFeed
		);
		assert_noop!(
			Inference::set_schedule(
				RuntimeOrigin::root(),
				1,
				Some(Schedule { every: 0, models: Default::default() })
			),
			Error::<Test>::InvalidSchedule
		);
	});
}

#[test]
fn emission_is_capped_per_epoch() {
	run_test(|| {
		let mut c = DefaultConfig::get();
		c.emission_per_epoch = 45;
		c.emission_epoch = 1_000;
		assert_ok!(Inference::set_config(RuntimeOrigin::root(), c));
		let treasury = Balances::free_balance(TREASURY);
		heartbeat_all(&[SENTIMENT]);
		for _ in 0..3 {
			let id = create(SENTIMENT, text("x"), 30).unwrap();
			run_to_block(System::block_number() + DELAY + 1);
			for op in assigned(id) {
				assert_ok!(commit(op, id, &answer(&[0])));
			}
			for op in assigned(id) {
				assert_ok!(reveal(op, id, &answer(&[0])));
			}
			next_block();
			assert!(matches!(Records::<Test>::get(id).unwrap().outcome, Outcome::Settled { .. }));
		}
		let spent = treasury - Balances::free_balance(TREASURY);
		assert!((40..=45).contains(&spent), "emission {spent} within the cap of 45");
		assert!(Emission::<Test>::get().1 <= 45);
	});
}

/// A simulated chain: 1,000 rounds of sentiment and price tasks with nine operators, three of
/// them lying (the three ORACLEs, given 300 stake each, so that in every draw of five they hold
/// less than a third of the assigned stake). Honest answers spread within the tolerance. The aggregate always
/// lies within the honest answers; liars are struck on every task in which they lie, honest
/// operators never; money is conserved throughout.
#[test]
fn a_thousand_rounds_with_lying_operators() {
	run_test(|| {
		use rand_like::Lcg;
		let mut c = DefaultConfig::get();
		c.classes[TaskClass::Prediction.index()] = class_config(5);
		c.classes[TaskClass::Sentiment.index()] = class_config(5);
		c.heartbeat_period = 100_000;
		assert_ok!(Inference::set_config(RuntimeOrigin::root(), c));
		heartbeat_all(&[PRICE, SENTIMENT]);
		fill_history(310);
		let liars = [4u64, 5, 6];
		for op in liars {
			set_tier(op, Some((Tier::Oracle, 300)));
		}
		let issuance = Balances::total_issuance();
		let mut rng = Lcg(7);
		let mut settled = 0;
		let mut lies = [0u32; 10];
		for round in 0..1_000u64 {
			set_beacon_salt(round);
			let price = round % 2 == 0;
			let id = if price {
				create(PRICE, TaskInput::History { feed: 0, end: 0 }, 20).unwrap()
			} else {
				create(SENTIMENT, text("a round"), 20).unwrap()
			};
			run_to_block(System::block_number() + DELAY + 1);
			let ops = assigned(id);
			let truth: Vec<i64> = if price { vec![1_234, 20_000, 550_000] } else { vec![1] };
			let mut answers = Vec::new();
			for op in &ops {
				let a: Vec<i64> = if liars.contains(op) {
					lies[*op as usize] += 1;
					if price {
						truth.iter().map(|t| t + 5_000 + (rng.next() % 1_000_000) as i64).collect()
					} else {
						vec![(truth[0] + 1 + (rng.next() % 2) as i64) % 3]
					}
				} else if price {
					truth.iter().map(|t| t + (rng.next() % (TOLERANCE / 2)) as i64).collect()
				} else {
					truth.clone()
				};
				let a = answer(&a);
				assert_ok!(commit(*op, id, &a));
				answers.push(a);
			}
			for (op, a) in ops.iter().zip(&answers) {
				assert_ok!(reveal(*op, id, a));
			}
			next_block();
			let record = Records::<Test>::get(id).unwrap();
			let honest: Vec<&Answer> = ops
				.iter()
				.zip(&answers)
				.filter(|(o, _)| !liars.contains(o))
				.map(|(_, a)| a)
				.collect();
			if let Outcome::Settled { answer: agg, .. } = &record.outcome {
				settled += 1;
				for f in 0..agg.len() {
					let lo = honest.iter().map(|a| a[f]).min().unwrap();
					let hi = honest.iter().map(|a| a[f]).max().unwrap();
					assert!(
						lo <= agg[f] && agg[f] <= hi,
						"round {round}: field {f} outside the honest range"
					);
				}
			}
			for o in &record.operators {
				if !liars.contains(&o.who) && matches!(record.outcome, Outcome::Settled { .. }) {
					assert_eq!(
						o.participation,
						Participation::Agreed,
						"round {round}: honest {} struck",
						o.who
					);
				}
			}
		}
		assert_eq!(settled, 1_000, "every round settled");
		for op in 1..=9u64 {
			let s = Stats::<Test>::get(op);
			if liars.contains(&op) {
				assert_eq!(s.strikes, lies[op as usize], "liar {op} struck on every lie");
				assert_eq!(s.agreed, 0);
			} else {
				assert_eq!(s.strikes, 0, "honest {op} never struck");
			}
		}
		assert_eq!(Balances::total_issuance(), issuance, "no money created or destroyed");
	});
}

/// A small deterministic generator for the simulation.
mod rand_like {
	pub struct Lcg(pub u64);
	impl Lcg {
		pub fn next(&mut self) -> u64 {
			self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
			self.0 >> 33
		}
	}
}

#[test]
fn quorum_is_the_share_of_assigned_stake_rounded_up() {
	let two_thirds = Perbill::from_rational(2u32, 3u32);
	assert_eq!(settle::quorum_of(two_thirds, 3), 2);
	assert_eq!(settle::quorum_of(two_thirds, 300), 200);
	// Rounding up: half of one unit of stake still needs that unit.
	assert_eq!(settle::quorum_of(Perbill::from_percent(50), 1), 1);
	assert_eq!(settle::quorum_of(Perbill::from_percent(50), 7), 4);
	assert_eq!(settle::quorum_of(Perbill::one(), 7), 7);
	assert_eq!(settle::quorum_of(Perbill::zero(), 7), 0);
	assert_eq!(settle::quorum_of(two_thirds, 0), 0);
	// A billion tokens of 18 decimals, as a stake total, does not overflow.
	let total = 1_000_000_000u128 * 10u128.pow(18);
	assert_eq!(settle::quorum_of(Perbill::from_percent(50), total), total / 2);
}

#[test]
fn every_model_shape_has_its_class_of_work() {
	use noderr_primitives::{InputSpec as I, TaskKind as K};
	let features = I::Features { pipeline_version: 1, window: 60, feature_count: 94 };
	let cases = [
		(K::Regression { outputs: 3 }, features.clone(), TaskClass::Prediction),
		(K::Classification { classes: 4 }, I::Bars { window: 64 }, TaskClass::Regime),
		(K::Regression { outputs: 6 }, I::Bars { window: 168 }, TaskClass::Risk),
		(K::TextClassification { classes: 3 }, I::Text { max_bytes: 1024 }, TaskClass::Sentiment),
	];
	for (kind, input, class) in cases {
		assert_eq!(TaskClass::of_model(&kind, &input), class, "{kind:?} on {input:?}");
	}
}

/// Bytes of the pallet's own storage (keys and values).
fn pallet_state_bytes() -> usize {
	let prefix = sp_io::hashing::twox_128(b"Inference");
	let mut bytes = 0;
	let mut key = prefix.to_vec();
	while let Some(next) = sp_io::storage::next_key(&key) {
		if !next.starts_with(&prefix) {
			break;
		}
		bytes += next.len() + sp_io::storage::get(&next).map_or(0, |v| v.len());
		key = next;
	}
	bytes
}

#[test]
fn state_per_settled_task_is_bounded_and_pruned() {
	use codec::MaxEncodedLen;
	use frame_support::traits::Get;
	run_test(|| {
		let mut c = DefaultConfig::get();
		c.heartbeat_period = 100_000;
		assert_ok!(Inference::set_config(RuntimeOrigin::root(), c));
		heartbeat_all(&[SENTIMENT, PRICE]);
		let settle_one = || {
			let id = create(SENTIMENT, text("markets rally"), 25).unwrap();
			run_to_block(System::block_number() + DELAY + 1);
			let a = answer(&[1]);
			let ops = assigned(id);
			for op in &ops {
				assert_ok!(commit(*op, id, &a));
			}
			next_block();
			for op in &ops {
				assert_ok!(reveal(*op, id, &a));
			}
			next_block();
			assert!(Records::<Test>::get(id).is_some(), "settled");
			pallet_state_bytes()
		};
		let first = settle_one();
		let second = settle_one();
		let per_task = second - first;
		// The record ring is full after `MaxRecords` tasks; from then on state stops growing.
		let kept: u32 = <<Test as Config>::MaxRecords as Get<u32>>::get();
		let mut sizes = Vec::new();
		for _ in 0..kept + 4 {
			sizes.push(settle_one());
		}
		let full = sizes[sizes.len() - 5];
		assert!(sizes[sizes.len() - 4..].iter().all(|s| *s == full), "pruned: {sizes:?}");
		assert_eq!(Records::<Test>::iter().count() as u32, kept);
		let bound = TaskRecordOf::<Test>::max_encoded_len();
		println!(
			"state per settled task (3 operators): {per_task} bytes kept; record bound at \
			 MaxAssigned = 64: {bound} bytes; pallet state with the ring full: {full} bytes"
		);
		assert!(per_task <= bound + 64, "a settled task keeps its record and little else");
	});
}

mod authorized {
	use super::*;
	use frame_support::{pallet_prelude::TransactionSource, traits::Authorize};
	use sp_runtime::{
		testing::TestSignature,
		transaction_validity::{InvalidTransaction, TransactionValidityError},
	};

	fn signed(s: &SubmissionOf<Test>, by: u64) -> TestSignature {
		TestSignature(by, Inference::signing_payload(s))
	}

	fn authorize(
		s: &SubmissionOf<Test>,
		sig: TestSignature,
	) -> Result<(), TransactionValidityError> {
		let call = RuntimeCall::Inference(Call::submit { submission: s.clone(), signature: sig });
		call.authorize(TransactionSource::External).expect("submit is authorized").map(|_| ())
	}

	/// Operator `op`'s commitment to `a` for task `id`, as a submission.
	fn commit_of(id: TaskId, op: u64, a: &Answer) -> SubmissionOf<Test> {
		let commitment = noderr_primitives::commitment(id, &op, a, &salt(op));
		Submission { operator: op, work: Work::Commit { task: id, commitment } }
	}

	fn dispatch(s: &SubmissionOf<Test>, sig: TestSignature) -> sp_runtime::DispatchResult {
		Inference::submit(frame_system::RawOrigin::Authorized.into(), s.clone(), sig)
	}

	#[test]
	fn a_signed_commit_and_reveal_go_through_without_a_signer_or_fee() {
		run_test(|| {
			let id = assigned_sentiment_task(25);
			let op = assigned(id)[0];
			let a = answer(&[2]);
			let commit = commit_of(id, op, &a);
			assert_ok!(authorize(&commit, signed(&commit, worker(op))));
			// Authorizing changed nothing.
			assert!(!Commitments::<Test>::contains_key(id, op));
			assert_ok!(dispatch(&commit, signed(&commit, worker(op))));
			assert!(Commitments::<Test>::contains_key(id, op));
			// The same commit again is refused in the pool, with the pallet's error index.
			let again = authorize(&commit, signed(&commit, worker(op)));
			assert!(matches!(
				again,
				Err(TransactionValidityError::Invalid(InvalidTransaction::Custom(_)))
			));
			run_to_block(System::block_number() + COMMIT);
			let reveal = Submission {
				operator: op,
				work: Work::Reveal { task: id, answer: a.clone(), salt: salt(op) },
			};
			assert_ok!(authorize(&reveal, signed(&reveal, worker(op))));
			assert_ok!(dispatch(&reveal, signed(&reveal, worker(op))));
			assert_eq!(Reveals::<Test>::get(id, op), Some(a));
		});
	}

	#[test]
	fn in_a_block_the_work_is_checked_once_by_the_dispatch_and_its_weight_refunded() {
		run_test(|| {
			let id = assigned_sentiment_task(25);
			let op = assigned(id)[0];
			let a = answer(&[2]);
			let commit = commit_of(id, op, &a);
			assert_ok!(dispatch(&commit, signed(&commit, worker(op))));
			let call = RuntimeCall::Inference(Call::submit {
				submission: commit.clone(),
				signature: signed(&commit, worker(op)),
			});
			// The pool refuses the repeated commit; in a block, authorize checks only the
			// signature, refunds the checks' weight, and the dispatch refuses it.
			assert!(call.authorize(TransactionSource::External).unwrap().is_err());
			let (_, refund) = call.authorize(TransactionSource::InBlock).unwrap().unwrap();
			assert_eq!(refund, <Test as Config>::WeightInfo::commit());
			assert_noop!(
				dispatch(&commit, signed(&commit, worker(op))),
				Error::<Test>::AlreadyCommitted
			);
			// A bad signature is refused in a block too.
			let forged = RuntimeCall::Inference(Call::submit {
				submission: commit.clone(),
				signature: signed(&commit, worker(op) + 1),
			});
			assert!(forged.authorize(TransactionSource::InBlock).unwrap().is_err());
		});
	}

	#[test]
	fn bad_signatures_and_bad_work_never_enter_the_pool() {
		run_test(|| {
			let id = assigned_sentiment_task(25);
			let ops = assigned(id);
			let op = ops[0];
			let c =
				Submission { operator: op, work: Work::Commit { task: id, commitment: [1; 32] } };
			// Another worker's signature, or a signature over other bytes.
			assert_eq!(
				authorize(&c, signed(&c, worker(ops[1]))),
				Err(InvalidTransaction::BadProof.into())
			);
			assert_eq!(
				authorize(&c, TestSignature(worker(op), b"other".to_vec())),
				Err(InvalidTransaction::BadProof.into())
			);
			// An operator without a worker key.
			let lone =
				Submission { operator: 77, work: Work::Commit { task: id, commitment: [1; 32] } };
			assert_eq!(
				authorize(&lone, signed(&lone, 177)),
				Err(InvalidTransaction::BadSigner.into())
			);
			// An operator not assigned to the task.
			let outsider = (4..=9).find(|o| !ops.contains(o)).unwrap();
			let x = Submission {
				operator: outsider,
				work: Work::Commit { task: id, commitment: [1; 32] },
			};
			assert!(matches!(
				authorize(&x, signed(&x, worker(outsider))),
				Err(TransactionValidityError::Invalid(InvalidTransaction::Custom(_)))
			));
			// A signed origin cannot use the authorized call.
			assert_noop!(
				Inference::submit(
					RuntimeOrigin::signed(worker(op)),
					c.clone(),
					signed(&c, worker(op))
				),
				DispatchError::BadOrigin
			);
			assert!(!Commitments::<Test>::contains_key(id, op));
		});
	}

	#[test]
	fn heartbeats_must_be_recent_and_newer_than_the_last() {
		run_test(|| {
			run_to_block(20);
			let beat = |at: u64| Submission {
				operator: 4,
				work: Work::Heartbeat { keys: vec![SENTIMENT].try_into().unwrap(), at },
			};
			let old = beat(20 - 11);
			assert_noop!(dispatch(&old, signed(&old, worker(4))), Error::<Test>::StaleHeartbeat);
			let future = beat(21);
			assert_noop!(
				dispatch(&future, signed(&future, worker(4))),
				Error::<Test>::StaleHeartbeat
			);
			let now = beat(20);
			assert_ok!(authorize(&now, signed(&now, worker(4))));
			assert_ok!(dispatch(&now, signed(&now, worker(4))));
			assert_eq!(Heartbeats::<Test>::get(4).unwrap().at, 20);
			// Replaying it, or an older one, is refused.
			assert_noop!(dispatch(&now, signed(&now, worker(4))), Error::<Test>::StaleHeartbeat);
			let earlier = beat(15);
			assert_noop!(
				dispatch(&earlier, signed(&earlier, worker(4))),
				Error::<Test>::StaleHeartbeat
			);
		});
	}
}

#[test]
fn heartbeats_need_the_models_tier_and_are_rate_limited() {
	run_test(|| {
		// Charlie-like ALL operator 1 cannot list for an ORACLE model or for observing.
		assert_noop!(
			Inference::heartbeat(
				RuntimeOrigin::signed(worker(1)),
				vec![SENTIMENT].try_into().unwrap()
			),
			Error::<Test>::TierTooLow
		);
		assert_noop!(
			Inference::heartbeat(
				RuntimeOrigin::signed(worker(1)),
				vec![OBSERVATION_KEY].try_into().unwrap()
			),
			Error::<Test>::TierTooLow
		);
		set_tier(10, None);
		assert_noop!(
			Inference::heartbeat(
				RuntimeOrigin::signed(worker(10)),
				vec![PRICE].try_into().unwrap()
			),
			Error::<Test>::TierTooLow
		);
		heartbeat(1, &[PRICE]);
		// The same declaration again within half a period is refused; a changed one is not.
		assert_noop!(
			Inference::heartbeat(RuntimeOrigin::signed(worker(1)), vec![PRICE].try_into().unwrap()),
			Error::<Test>::HeartbeatTooSoon
		);
		heartbeat(4, &[PRICE]);
		heartbeat(4, &[PRICE, SENTIMENT]);
		run_to_block(1 + HEARTBEAT / 2);
		heartbeat(1, &[PRICE]);
	});
}

#[test]
fn an_operator_that_lost_its_tier_is_unlisted_when_drawn() {
	run_test(|| {
		heartbeat_all(&[SENTIMENT]);
		assert_eq!(ListedCount::<Test>::get(SENTIMENT), 6);
		for op in 4..=9 {
			if op != 9 {
				set_tier(op, None);
			}
		}
		let id = create(SENTIMENT, text("x"), 25).unwrap();
		run_to_block(1 + DELAY + 1);
		assert_eq!(assigned(id), vec![9]);
		assert_eq!(ListedCount::<Test>::get(SENTIMENT), 1);
	});
}

#[test]
fn an_empty_feed_is_seeded_from_an_archive_once() {
	run_test(|| {
		let start = Feeds::<Test>::get(0).unwrap().next_bar_time;
		let bar = |i: u64| Bar {
			time: start + i * 3_600,
			open: 100_000_000,
			high: 101_000_000,
			low: 99_000_000,
			close: 100_500_000 + i as i64,
			volume: 5_000_000,
		};
		let bars =
			|v: Vec<Bar>| -> frame_support::BoundedVec<Bar, frame_support::traits::ConstU32<400>> {
				v.try_into().unwrap()
			};
		let seed = |feed, v: Vec<Bar>| Inference::seed_bars(RuntimeOrigin::root(), feed, bars(v));
		assert_noop!(
			Inference::seed_bars(RuntimeOrigin::signed(REQUESTER), 0, bars(vec![bar(0)])),
			DispatchError::BadOrigin
		);
		assert_noop!(seed(7, vec![bar(0)]), Error::<Test>::UnknownFeed);
		assert_noop!(seed(0, vec![]), Error::<Test>::NoBars);
		assert_noop!(seed(0, vec![bar(1)]), Error::<Test>::BarOutOfSequence);
		assert_noop!(seed(0, vec![bar(0), bar(2)]), Error::<Test>::BarOutOfSequence);
		let mut inverted = bar(1);
		inverted.high = 1;
		assert_noop!(seed(0, vec![bar(0), inverted]), Error::<Test>::InvalidBar);
		let mut free = bar(0);
		free.low = 0;
		assert_noop!(seed(0, vec![free]), Error::<Test>::InvalidBar);

		assert_ok!(seed(0, (0..200).map(bar).collect()));
		assert_eq!(last_event(), Event::HistorySeeded { feed: 0, bars: 200 }.into());
		assert_eq!(BarCount::<Test>::get(0), 200);
		assert_eq!(Inference::window(0, 199, 200).unwrap(), (0..200).map(bar).collect::<Vec<_>>());
		assert_eq!(Feeds::<Test>::get(0).unwrap().next_bar_time, start + 200 * 3_600);
		// Once the feed has history, only observation rounds extend it.
		assert_noop!(seed(0, vec![bar(200)]), Error::<Test>::FeedHasHistory);
	});
}

#[test]
fn an_audit_reruns_a_settled_task_on_guardians_who_did_not_work_on_it() {
	use noderr_primitives::TaskResults;
	run_test(|| {
		let id = assigned_sentiment_task(40);
		let ops = assigned(id);
		let a = answer(&[2]);
		next_block();
		for op in &ops {
			assert_ok!(commit(*op, id, &a));
		}
		next_block();
		for op in &ops {
			assert_ok!(reveal(*op, id, &a));
		}
		next_block();
		let settled = <Inference as TaskResults<u64>>::finished(id).expect("kept");
		assert_eq!(settled.aggregate, Some(a.clone()));
		// Bad audit requests change nothing.
		assert_noop!(Inference::do_create_audit(id + 100, 3, None), Error::<Test>::UnknownTask);
		assert_noop!(Inference::do_create_audit(id, 0, None), Error::<Test>::InvalidPanel);
		// The guardian not excluded and not among the operators.
		let exclude = (7..=9).find(|g| !ops.contains(g));
		let audit = Inference::do_create_audit(id, 3, exclude).expect("audit created");
		assert!(events().iter().any(
			|e| matches!(e, Event::TaskCreated { task, audit_of: Some(of), fee: 0, .. } if *task == audit && *of == id)
		));
		assert_noop!(Inference::do_create_audit(audit, 3, None), Error::<Test>::UnknownTask);
		run_to_block(System::block_number() + DELAY + 1);
		let panel = assigned(audit);
		assert!(!panel.is_empty());
		for g in &panel {
			assert!((7..=9).contains(g), "GUARDIANs only: {panel:?}");
			assert!(!ops.contains(g) && Some(*g) != exclude, "none of the task's operators");
		}
		let before: Vec<Balance> = panel.iter().map(Balances::free_balance).collect();
		next_block();
		for g in &panel {
			assert_ok!(commit(*g, audit, &a));
		}
		next_block();
		for g in &panel {
			assert_ok!(reveal(*g, audit, &a));
		}
		next_block();
		let record = Records::<Test>::get(audit).expect("settled");
		assert_eq!(record.audit_of, Some(id));
		assert_eq!(Latest::<Test>::get(SENTIMENT), Some(id), "an audit is not a new result");
		// Paid the per-task emission, all at the GUARDIAN multiplier.
		for (g, b) in panel.iter().zip(before) {
			assert_eq!(Balances::free_balance(g) - b, REWARD / panel.len() as u64);
		}
		// An audit cannot itself be audited.
		assert_noop!(Inference::do_create_audit(audit, 3, None), Error::<Test>::AuditOfAudit);
	});
}
