//! A simulation of 10,000 settled tasks with one operator in four lying, run through this pallet
//! and the real staking pallet, with the task pallet's settlement and audits played by the mock.
//!
//! Honest answers carry the real spread of honest answers measured between separate processes
//! and CPU code paths ([`crate::measured_spread`], `scripts/measure-spread.sh`): each field of an
//! honest answer is the truth moved by a difference drawn from the model's histogram, with a
//! random sign, so two honest answers can differ by twice the largest measured difference (more
//! than was ever measured between two runs). Classifiers flip class at the measured rate. A
//! second run multiplies the measured differences until honest answers differ by up to the
//! whole tolerance, to show the margin does not depend on the spread being tiny.
//!
//! Liars (a quarter of every tier, GUARDIANs included, so panels contain liars too) answer
//! every task and every audit wrongly: a fixed relative bias of 1% to 10% (each its own, the
//! ML service's faulty "bias" mode) or a random class (its "random" mode).
//!
//! Asserted: no honest operator is ever confirmed as an offender; every liar that answered is
//! caught within a bounded number of its wrong answers. Printed: the detection bound and
//! latency, false positives, and guardian re-executions per settled task.

use crate::{measured_spread::SPREADS, mock::*, *};
use alloc::collections::{BTreeMap, BTreeSet};
use noderr_primitives::{Answer, Tier, TierProvider};

/// A small deterministic generator (SplitMix64).
struct Rng(u64);
impl Rng {
	fn next(&mut self) -> u64 {
		self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
		let mut z = self.0;
		z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
		z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
		z ^ (z >> 31)
	}
	fn below(&mut self, n: u64) -> u64 {
		self.next() % n.max(1)
	}
	fn sign(&mut self) -> i64 {
		if self.next() & 1 == 0 {
			1
		} else {
			-1
		}
	}
}

/// A measured difference of `model`, drawn from its histogram, times `amplify`.
fn honest_diff(rng: &mut Rng, spread: &measured_spread::ModelSpread, amplify: u64) -> i64 {
	let mut pick = rng.below(spread.comparisons as u64);
	for (diff, count) in spread.diffs {
		if pick < *count as u64 {
			return (*diff * amplify) as i64;
		}
		pick -= *count as u64;
	}
	0
}

struct Outcome {
	tasks: u32,
	audits: u32,
	false_positives: u32,
	liars_caught: usize,
	liars_answering: usize,
	worst_tasks_to_catch: u32,
	mean_tasks_to_catch: f64,
	worst_blocks_to_catch: u64,
}

/// Runs `rounds` tasks; honest differences are the measured ones times `amplify`; with
/// `collude`, every liar uses the same bias (nodes running one faulty build agree exactly).
fn simulate(rounds: u32, amplify: u64, seed: u64, collude: bool) -> Outcome {
	let guardians: Vec<u64> = (1..=8).collect();
	let oracles: Vec<u64> = (11..=22).collect();
	let alls: Vec<u64> = (31..=50).collect();
	// A quarter of each tier lies.
	let liars: BTreeSet<u64> = [1, 2, 11, 12, 13, 31, 32, 33, 34, 35].into_iter().collect();
	let mut rng = Rng(seed);
	// Each liar's own bias (parts per thousand, with a sign).
	let common = 50;
	let bias: BTreeMap<u64, i64> = liars
		.iter()
		.map(|l| (*l, if collude { common } else { rng.sign() * (10 + rng.below(91) as i64) }))
		.collect();
	let regression: Vec<_> = SPREADS.iter().filter(|s| !s.classifier).collect();
	let classifiers: Vec<_> = SPREADS.iter().filter(|s| s.classifier).collect();
	let mut out = Outcome {
		tasks: 0,
		audits: 0,
		false_positives: 0,
		liars_caught: 0,
		liars_answering: 0,
		worst_tasks_to_catch: 0,
		mean_tasks_to_catch: 0.0,
		worst_blocks_to_catch: 0,
	};
	build_network(&guardians, &oracles, &alls).execute_with(|| {
		// Per liar: wrong answers so far, block of the first, and when first caught.
		let mut wrong: BTreeMap<u64, (u32, u64)> = BTreeMap::new();
		let mut caught: BTreeMap<u64, (u32, u64)> = BTreeMap::new();
		// Truth of each task (and so of its audits): model, true answer.
		let mut truth: BTreeMap<u64, ([u8; 32], Answer, &measured_spread::ModelSpread)> =
			BTreeMap::new();
		let mut pending: Vec<u64> = Vec::new();
		let answer_of = |rng: &mut Rng,
		                 who: u64,
		                 model: [u8; 32],
		                 true_answer: &Answer,
		                 spread: &measured_spread::ModelSpread|
		 -> (Answer, bool) {
			if model == REGIME {
				let class = true_answer[0];
				if liars.contains(&who) {
					let c = rng.below(4) as i64;
					return (answer(&[c]), c != class);
				}
				let flip = rng.below(spread.comparisons as u64) < spread.class_flips as u64;
				return (answer(&[if flip { (class + 1) % 4 } else { class }]), false);
			}
			if liars.contains(&who) {
				let b = bias[&who];
				let values: Vec<i64> = true_answer.iter().map(|v| v + v * b / 1_000).collect();
				return (answer(&values), true);
			}
			let values: Vec<i64> = true_answer
				.iter()
				.map(|v| v + rng.sign() * honest_diff(rng, spread, amplify))
				.collect();
			(answer(&values), false)
		};
		let mut task_id = 0u64;
		while out.tasks < rounds {
			let now = System::block_number();
			// Audits opened last block are answered now (the task pallet's assignment delay).
			for audit in core::mem::take(&mut pending) {
				let of = open_audits().into_iter().find(|(a, _)| *a == audit).map(|(_, of)| of);
				let Some(of) = of else { continue };
				let (model, true_answer, spread) = truth[&of].clone();
				let mut answers = BTreeMap::new();
				for g in <MockTasks as noderr_primitives::TaskResults<u64>>::assigned(audit) {
					answers.insert(g, answer_of(&mut rng, g, model, &true_answer, spread).0);
				}
				finish_audit(audit, |g| answers.get(&g).cloned());
				out.audits += 1;
			}
			// Four tasks settle per block.
			for _ in 0..4 {
				let classify = rng.below(2) == 0;
				let (model, spread, min_tier) = if classify {
					(
						REGIME,
						classifiers[rng.below(classifiers.len() as u64) as usize],
						Tier::Oracle,
					)
				} else {
					(PRICE, regression[rng.below(regression.len() as u64) as usize], Tier::All)
				};
				let true_answer = if classify {
					answer(&[rng.below(4) as i64])
				} else {
					let fields = 3;
					answer(
						&(0..fields)
							.map(|_| 1_000_000 + rng.below(9_000_000) as i64)
							.collect::<Vec<_>>(),
					)
				};
				// Three operators drawn uniformly from those whose tier in force serves it.
				let mut eligible: Vec<u64> = StakingTiers::operators(min_tier);
				let mut drawn = Vec::new();
				while drawn.len() < 3 && !eligible.is_empty() {
					drawn.push(eligible.swap_remove(rng.below(eligible.len() as u64) as usize));
				}
				let mut reveals = Vec::new();
				for who in &drawn {
					let (a, lie) = answer_of(&mut rng, *who, model, &true_answer, spread);
					if lie {
						let e = wrong.entry(*who).or_insert((0, now));
						e.0 += 1;
					}
					reveals.push((*who, Some(a)));
				}
				task_id += 1;
				truth.insert(task_id, (model, true_answer, spread));
				let before: BTreeSet<u64> = open_audits().into_iter().map(|(a, _)| a).collect();
				finish(task_id, model, reveals, None);
				out.tasks += 1;
				for (a, _) in open_audits() {
					if !before.contains(&a) {
						pending.push(a);
					}
				}
			}
			// Who was caught this block.
			for (who, (count, _)) in &wrong {
				if !caught.contains_key(who) && !Offences::<Test>::get(who).is_empty() {
					caught.insert(*who, (*count, now));
				}
			}
			run_to_block(now + 1);
		}
		for op in guardians.iter().chain(&oracles).chain(&alls) {
			if !liars.contains(op) && !Offences::<Test>::get(op).is_empty() {
				out.false_positives += 1;
			}
		}
		out.liars_answering = wrong.len();
		out.liars_caught = caught.len();
		let counts: Vec<u32> = caught.values().map(|(c, _)| *c).collect();
		out.worst_tasks_to_catch = counts.iter().copied().max().unwrap_or(0);
		out.mean_tasks_to_catch =
			counts.iter().map(|c| *c as f64).sum::<f64>() / counts.len().max(1) as f64;
		out.worst_blocks_to_catch =
			caught.iter().map(|(who, (_, at))| at - wrong[who].1).max().unwrap_or(0);
		// Every slashed liar that was an ALL has lost its tier; honest stakes are untouched.
		for op in alls.iter().filter(|a| !liars.contains(a)) {
			assert_eq!(<StakingTiers as TierProvider<u64, Balance>>::stake(op), 1_000);
		}
	});
	out
}

fn report(label: &str, o: &Outcome) {
	std::println!(
		"{label}: {} tasks, {} audits ({:.3} re-executions per settled task at panel 3), \
		 false positives {}, liars caught {}/{} (wrong answers before the first confirmed \
		 offence: worst {}, mean {:.2}; blocks from the first wrong answer: worst {})",
		o.tasks,
		o.audits,
		o.audits as f64 * 3.0 / o.tasks as f64,
		o.false_positives,
		o.liars_caught,
		o.liars_answering,
		o.worst_tasks_to_catch,
		o.mean_tasks_to_catch,
		o.worst_blocks_to_catch,
	);
}

/// Bound asserted on the wrong answers a liar gives before its first confirmed offence.
const DETECTION_BOUND: u32 = 8;

#[test]
fn ten_thousand_rounds_with_a_quarter_lying_catch_every_liar_and_no_honest_operator() {
	let o = simulate(10_000, 1, 7, false);
	report("measured spread", &o);
	assert_eq!(o.false_positives, 0, "no honest operator is ever confirmed as an offender");
	assert_eq!(o.liars_caught, o.liars_answering, "every liar that answered is caught");
	assert!(o.liars_answering >= 8, "the liars took part");
	assert!(
		o.worst_tasks_to_catch <= DETECTION_BOUND,
		"caught within {DETECTION_BOUND} wrong answers"
	);
}

#[test]
fn honest_answers_a_whole_tolerance_apart_are_still_never_confirmed_as_offences() {
	// Each honest field moves by up to 500 units (the measured 1 times 500): two honest
	// answers differ by up to 1,000, the tolerance.
	let o = simulate(10_000, 500, 11, false);
	report("spread amplified to the tolerance", &o);
	assert_eq!(o.false_positives, 0);
	assert_eq!(o.liars_caught, o.liars_answering);
}

#[test]
fn liars_that_give_identical_wrong_answers_cannot_frame_an_honest_operator() {
	// Every liar runs the same faulty build: their wrong answers agree exactly, so two of them
	// on one panel form its majority. The honest member's veto keeps honest operators safe.
	let o = simulate(10_000, 1, 13, true);
	report("colluding liars", &o);
	assert_eq!(o.false_positives, 0);
	assert_eq!(o.liars_caught, o.liars_answering);
	assert!(o.worst_tasks_to_catch <= DETECTION_BOUND);
}
