//! Unit tests: every call's success and failure paths, each offence kind from evidence to the
//! applied slash, false reports, cancellation by governance. Invariants of this pallet and the
//! staking pallet are checked after every test and every block.

use crate::{mock::*, *};
use frame_support::{assert_noop, assert_ok, traits::fungible::Inspect};
use noderr_primitives::{Slash, TierProvider};
use pallet_staking_tiers::PendingSlashes;
use sp_runtime::{testing::TestSignature, DispatchError, Perbill};

fn price(x: i64) -> noderr_primitives::Answer {
	answer(&[x, x / 2])
}

fn events() -> Vec<Event<Test>> {
	System::events()
		.into_iter()
		.filter_map(|r| match r.event {
			RuntimeEvent::Guardian(e) => Some(e),
			_ => None,
		})
		.collect()
}

fn stake(who: u64) -> Balance {
	<StakingTiers as TierProvider<u64, Balance>>::stake(&who)
}

fn signed(
	op: u64,
	task: u64,
	model: [u8; 32],
	a: &noderr_primitives::Answer,
) -> SignedAnswerOf<Test> {
	let payload = types::statement_payload(task, &model, a);
	SignedAnswer {
		task,
		model,
		answer: a.clone(),
		signer: 100 + op,
		signature: TestSignature(100 + op, payload),
	}
}

/// Task 7 of the price model: 21 and 22 honest (1,000,000), 23 answers `lie`.
fn settle_with_liar(lie: i64) {
	finish(
		7,
		PRICE,
		vec![(21, Some(price(1_000_000))), (22, Some(price(1_000_400))), (23, Some(price(lie)))],
		None,
	);
}

fn only_audit() -> (u64, u64) {
	let audits = open_audits();
	assert_eq!(audits.len(), 1, "one audit open: {audits:?}");
	audits[0]
}

#[test]
fn a_disputed_task_is_audited_and_the_liar_slashed_after_the_deferral() {
	run_test(|| {
		let issuance = total();
		settle_with_liar(1_200_000);
		let (audit, of) = only_audit();
		assert_eq!(of, 7);
		assert!(events().contains(&Event::AuditOpened {
			task: 7,
			audit,
			report: None,
			disputed: true
		}));
		// The panel: GUARDIANs, none of the task's operators.
		let panel = <MockTasks as noderr_primitives::TaskResults<u64>>::assigned(audit);
		assert_eq!(panel.len(), 3);
		assert!(panel.iter().all(|g| GUARDIANS.contains(g)));
		// Guardian duties show the re-execution.
		assert!(Guardian::duties(&panel[0]).contains(&Duty::ReExecute { audit, of: 7 }));
		finish_audit(audit, |_| Some(price(1_000_100)));
		let offences = Offences::<Test>::get(23);
		assert_eq!(offences.len(), 1);
		assert_eq!(offences[0].kind, OffenceKind::OutOfTolerance);
		assert_eq!(offences[0].fraction, Perbill::from_percent(5));
		let slash = offences[0].slash.expect("scheduled");
		assert!(events().iter().any(
			|e| matches!(e, Event::AuditConcluded { offenders, .. } if offenders == &vec![23])
		));
		// Deferred: nothing taken yet, tier kept.
		assert_eq!(stake(23), 1_000);
		assert!(PendingSlashes::<Test>::contains_key(slash));
		run_to_block(1 + DEFER);
		assert_eq!(stake(23), 950, "5% of 1,000");
		assert_eq!(StakingTiers::tier(&23), None, "below the ALL threshold: no tier, no tasks");
		for honest in [21, 22] {
			assert_eq!(stake(honest), 1_000, "honest stake untouched");
			assert!(Offences::<Test>::get(honest).is_empty());
		}
		// The confirming panel members shared half the slash: 25 among 3 (8 each, the rest to
		// the treasury); nothing created or destroyed.
		for g in &panel {
			assert_eq!(Balances::balance(g), ENDOWMENT - 12_000 + 8);
		}
		assert_eq!(total(), issuance, "money is conserved");
	});
}

#[test]
fn an_undisputed_task_is_sampled_by_share_and_honest_answers_pass() {
	run_test(|| {
		let mut config = Configuration::<Test>::get();
		config.sample_share = Perbill::one();
		assert_ok!(Guardian::set_config(RuntimeOrigin::root(), config));
		finish(
			8,
			PRICE,
			vec![
				(21, Some(price(1_000_000))),
				(22, Some(price(1_000_300))),
				(23, Some(price(999_500))),
			],
			None,
		);
		let (audit, _) = only_audit();
		assert!(events().contains(&Event::AuditOpened {
			task: 8,
			audit,
			report: None,
			disputed: false
		}));
		finish_audit(audit, |g| Some(price(1_000_000 + g as i64 * 100)));
		assert!(events().iter().any(
			|e| matches!(e, Event::AuditConcluded { offenders, answered: 3, .. } if offenders.is_empty())
		));
		for op in [21, 22, 23] {
			assert!(Offences::<Test>::get(op).is_empty());
		}
	});
}

#[test]
fn with_no_sample_share_an_agreed_task_is_not_audited() {
	run_test(|| {
		let mut config = Configuration::<Test>::get();
		config.sample_share = Perbill::zero();
		assert_ok!(Guardian::set_config(RuntimeOrigin::root(), config));
		finish(
			9,
			PRICE,
			vec![(21, Some(price(1))), (22, Some(price(2))), (23, Some(price(3)))],
			None,
		);
		assert!(open_audits().is_empty());
		// A close vote is disputed: one of three did not reveal.
		finish(10, PRICE, vec![(21, Some(price(1))), (22, Some(price(2))), (23, None)], None);
		assert!(open_audits().is_empty(), "two of three agreeing is not close");
		finish(11, PRICE, vec![(21, Some(price(1))), (22, None), (23, None)], None);
		assert_eq!(open_audits().len(), 1, "one of three agreeing is disputed");
	});
}

#[test]
fn a_faulty_panel_member_cannot_convict_and_its_veto_only_delays_a_liar() {
	run_test(|| {
		// An honest operator: one faulty member (the panel's outlier) cannot convict it.
		finish(
			12,
			PRICE,
			vec![
				(21, Some(price(5_000_000))),
				(22, Some(price(5_000_000))),
				(24, Some(price(7_000_000))),
			],
			None,
		);
		let (audit, _) = only_audit();
		let panel = <MockTasks as noderr_primitives::TaskResults<u64>>::assigned(audit);
		finish_audit(audit, |g| Some(price(if g == panel[0] { 9_000_000 } else { 5_000_000 })));
		assert!(Offences::<Test>::get(21).is_empty() && Offences::<Test>::get(22).is_empty());
		assert_eq!(
			Offences::<Test>::get(24).len(),
			1,
			"the liar, judged by the two agreeing members"
		);
		// Two faulty members that agree with each other outvote the third in the panel's own
		// aggregate, but the honest one vetoes: the honest operator is not framed.
		finish(
			13,
			PRICE,
			vec![
				(21, Some(price(5_000_000))),
				(22, Some(price(5_000_000))),
				(23, Some(price(7_000_000))),
			],
			None,
		);
		let (audit, _) = only_audit();
		let panel = <MockTasks as noderr_primitives::TaskResults<u64>>::assigned(audit);
		finish_audit(audit, |g| Some(price(if g == panel[2] { 5_000_000 } else { 7_000_000 })));
		assert!(Offences::<Test>::get(21).is_empty() && Offences::<Test>::get(22).is_empty());
		assert!(Offences::<Test>::get(23).is_empty(), "vetoed: the liar waits for a later audit");
		// A member that computed what the liar did vetoes too; the next audit catches it.
		finish(
			14,
			PRICE,
			vec![
				(21, Some(price(1_000_000))),
				(22, Some(price(1_000_000))),
				(23, Some(price(1_200_000))),
			],
			None,
		);
		let (audit, _) = only_audit();
		let panel = <MockTasks as noderr_primitives::TaskResults<u64>>::assigned(audit);
		finish_audit(audit, |g| Some(price(if g == panel[0] { 1_200_000 } else { 1_000_050 })));
		assert!(Offences::<Test>::get(23).is_empty());
		finish(
			15,
			PRICE,
			vec![
				(21, Some(price(1_000_000))),
				(22, Some(price(1_000_000))),
				(23, Some(price(1_200_000))),
			],
			None,
		);
		let (audit, _) = only_audit();
		finish_audit(audit, |_| Some(price(1_000_050)));
		assert_eq!(Offences::<Test>::get(23).len(), 1);
	});
}

#[test]
fn a_report_of_a_wrong_answer_is_judged_by_an_audit_without_the_reporter() {
	run_test(|| {
		let mut config = Configuration::<Test>::get();
		config.sample_share = Perbill::zero();
		assert_ok!(Guardian::set_config(RuntimeOrigin::root(), config));
		// Two colluding liars outvote the honest operator: settled on the lie, not disputed
		// by the outcome (the honest one is the outlier, so it is audited anyway: close it).
		finish(
			20,
			PRICE,
			vec![
				(21, Some(price(2_000_000))),
				(22, Some(price(2_000_000))),
				(11, Some(price(1_000_000))),
			],
			None,
		);
		let (sampled, _) = only_audit();
		finish_audit(sampled, |_| None); // the panel did not answer: inconclusive
		assert!(open_audits().is_empty());
		let before = Balances::balance(&1);
		assert_ok!(Guardian::report(
			RuntimeOrigin::signed(1),
			21,
			Evidence::OutOfTolerance { task: 20 }
		));
		assert_eq!(Balances::balance(&1), before - BOND, "bond held");
		let (audit, _) = only_audit();
		let panel = <MockTasks as noderr_primitives::TaskResults<u64>>::assigned(audit);
		assert!(!panel.contains(&1), "the reporter is not on the panel");
		assert_eq!(panel.len(), 3);
		assert_eq!(Reports::<Test>::get(0).unwrap().judging, Judging::ReExecution { audit });
		// Voting is by re-execution, not by call.
		assert_noop!(
			Guardian::vote(RuntimeOrigin::signed(panel[0]), 0, true),
			Error::<Test>::NotVoting
		);
		finish_audit(audit, |_| Some(price(1_000_000)));
		assert!(events().iter().any(|e| matches!(
			e,
			Event::ReportJudged {
				report: 0,
				verdict: Verdict::Confirmed,
				ayes: 3,
				bond_returned: BOND,
				..
			}
		)));
		assert_eq!(Balances::balance(&1), before, "bond returned");
		let offence = &Offences::<Test>::get(21)[0];
		assert_eq!((offence.kind, offence.report), (OffenceKind::OutOfTolerance, Some(0)));
		let slash = PendingSlashes::<Test>::get(offence.slash.unwrap()).unwrap();
		assert!(slash.reporters.contains(&1) && slash.reporters.len() == 4, "reporter and 3 ayes");
		// The same offence cannot be reported again.
		assert_noop!(
			Guardian::report(RuntimeOrigin::signed(2), 21, Evidence::OutOfTolerance { task: 20 }),
			Error::<Test>::DuplicateReport
		);
	});
}

#[test]
fn a_false_report_loses_its_bond_to_the_treasury() {
	run_test(|| {
		let mut config = Configuration::<Test>::get();
		config.sample_share = Perbill::zero();
		assert_ok!(Guardian::set_config(RuntimeOrigin::root(), config));
		finish(
			30,
			PRICE,
			vec![
				(21, Some(price(1_000_000))),
				(22, Some(price(1_000_010))),
				(23, Some(price(999_990))),
			],
			None,
		);
		let issuance = total();
		let treasury = Balances::balance(&TREASURY);
		let before = Balances::balance(&2);
		assert_ok!(Guardian::report(
			RuntimeOrigin::signed(2),
			22,
			Evidence::OutOfTolerance { task: 30 }
		));
		let (audit, _) = only_audit();
		finish_audit(audit, |_| Some(price(1_000_005)));
		assert!(events().iter().any(|e| matches!(
			e,
			Event::ReportJudged { verdict: Verdict::Rejected, nays: 3, bond_forfeited: BOND, .. }
		)));
		assert_eq!(Balances::balance(&2), before - BOND);
		assert_eq!(Balances::balance(&TREASURY), treasury + BOND);
		assert!(Offences::<Test>::get(22).is_empty());
		assert_eq!(stake(22), 1_000);
		assert_eq!(total(), issuance);
	});
}

#[test]
fn an_unanswered_audit_is_inconclusive_and_returns_the_bond() {
	run_test(|| {
		finish(
			31,
			PRICE,
			vec![(21, Some(price(1))), (22, Some(price(1))), (23, Some(price(1)))],
			None,
		);
		for (a, _) in open_audits() {
			finish_audit(a, |_| None);
		}
		let before = Balances::balance(&3);
		assert_ok!(Guardian::report(
			RuntimeOrigin::signed(3),
			21,
			Evidence::OutOfTolerance { task: 31 }
		));
		let (audit, _) = only_audit();
		// One member answers: below the quorum either way.
		let first = <MockTasks as noderr_primitives::TaskResults<u64>>::assigned(audit)[0];
		finish_audit(audit, |g| (g == first).then(|| price(1)));
		assert!(events()
			.iter()
			.any(|e| matches!(e, Event::ReportJudged { verdict: Verdict::Inconclusive, .. })));
		assert_eq!(Balances::balance(&3), before);
	});
}

#[test]
fn equivocation_is_proved_at_once_from_two_signed_answers_or_one_and_the_reveal() {
	run_test(|| {
		finish(
			40,
			PRICE,
			vec![
				(21, Some(price(1_000_000))),
				(22, Some(price(1_000_000))),
				(23, Some(price(1_000_000))),
			],
			None,
		);
		let a = price(1_000_000);
		let b = price(1_000_001);
		// Two different signed answers.
		assert_ok!(Guardian::report(
			RuntimeOrigin::signed(1),
			21,
			Evidence::Equivocation {
				first: signed(21, 40, PRICE, &a),
				second: Some(signed(21, 40, PRICE, &b))
			}
		));
		let offence = &Offences::<Test>::get(21)[0];
		assert_eq!(
			(offence.kind, offence.fraction),
			(OffenceKind::Equivocation, Perbill::from_percent(10))
		);
		assert!(Reports::<Test>::count() == 0, "no bond, no vote");
		// One signed answer that differs from the reveal.
		assert_ok!(Guardian::report(
			RuntimeOrigin::signed(1),
			22,
			Evidence::Equivocation { first: signed(22, 40, PRICE, &b), second: None }
		));
		assert_eq!(Offences::<Test>::get(22)[0].kind, OffenceKind::Equivocation);
		run_to_block(1 + DEFER);
		assert_eq!(stake(21), 900);
		assert_eq!(stake(22), 900);
		assert_eq!(stake(23), 1_000);
	});
}

#[test]
fn equivocation_evidence_that_does_not_check_changes_nothing() {
	run_test(|| {
		finish(
			41,
			PRICE,
			vec![(21, Some(price(5))), (22, Some(price(5))), (23, Some(price(5)))],
			None,
		);
		let a = price(5);
		let b = price(6);
		// The same answer twice.
		assert_noop!(
			Guardian::report(
				RuntimeOrigin::signed(1),
				21,
				Evidence::Equivocation {
					first: signed(21, 41, PRICE, &a),
					second: Some(signed(21, 41, PRICE, &a))
				}
			),
			Error::<Test>::EvidenceDoesNotCheck
		);
		// The reveal itself.
		assert_noop!(
			Guardian::report(
				RuntimeOrigin::signed(1),
				21,
				Evidence::Equivocation { first: signed(21, 41, PRICE, &a), second: None }
			),
			Error::<Test>::EvidenceDoesNotCheck
		);
		// Answers to two different tasks.
		assert_noop!(
			Guardian::report(
				RuntimeOrigin::signed(1),
				21,
				Evidence::Equivocation {
					first: signed(21, 41, PRICE, &a),
					second: Some(signed(21, 42, PRICE, &b))
				}
			),
			Error::<Test>::EvidenceDoesNotCheck
		);
		// Signed by another operator's worker.
		assert_noop!(
			Guardian::report(
				RuntimeOrigin::signed(1),
				21,
				Evidence::Equivocation { first: signed(22, 41, PRICE, &b), second: None }
			),
			Error::<Test>::BadSignature
		);
		// A forged signature.
		let mut forged = signed(21, 41, PRICE, &b);
		forged.answer = price(7);
		assert_noop!(
			Guardian::report(
				RuntimeOrigin::signed(1),
				21,
				Evidence::Equivocation { first: forged, second: None }
			),
			Error::<Test>::BadSignature
		);
		// No reveal to compare with.
		assert_noop!(
			Guardian::report(
				RuntimeOrigin::signed(1),
				21,
				Evidence::Equivocation { first: signed(21, 99, PRICE, &b), second: None }
			),
			Error::<Test>::NoAnswer
		);
	});
}

/// Misses three reveals of operator 24 in the window.
fn miss_three(op: u64) {
	for t in 0..3 {
		finish(50 + t, PRICE, vec![(21, Some(price(1))), (22, Some(price(1))), (op, None)], None);
	}
	for (a, _) in open_audits() {
		finish_audit(a, |_| Some(price(1)));
	}
}

#[test]
fn persistent_non_reveal_is_voted_on_by_a_panel_and_slashed() {
	run_test(|| {
		miss_three(24);
		assert_eq!(Guardian::misses(&24), 3);
		assert_ok!(Guardian::report(RuntimeOrigin::signed(1), 24, Evidence::MissedReveals));
		assert_eq!(Reports::<Test>::get(0).unwrap().judging, Judging::AwaitingPanel { at: 2 });
		// The panel is drawn next block, from a beacon unknown when the report was filed.
		run_to_block(2);
		let report = Reports::<Test>::get(0).unwrap();
		let Judging::Voting { until } = report.judging else { panic!("voting") };
		assert_eq!(until, 2 + 5);
		assert_eq!(report.panel.len(), 3);
		assert!(!report.panel.contains(&1) && !report.panel.contains(&24));
		let panel = report.panel.clone();
		let outsider = GUARDIANS.into_iter().find(|g| !panel.contains(g) && *g != 1);
		assert!(outsider.is_none(), "4 guardians, reporter excluded: the other 3 sit");
		assert_noop!(Guardian::vote(RuntimeOrigin::signed(1), 0, true), Error::<Test>::NotOnPanel);
		assert_noop!(Guardian::vote(RuntimeOrigin::signed(11), 0, true), Error::<Test>::NotOnPanel);
		assert_eq!(Guardian::duties(&panel[0]), vec![Duty::Vote { report: 0, until }]);
		assert_ok!(Guardian::vote(RuntimeOrigin::signed(panel[0]), 0, true));
		assert_noop!(
			Guardian::vote(RuntimeOrigin::signed(panel[0]), 0, false),
			Error::<Test>::AlreadyVoted
		);
		// A worker key votes for its operator.
		assert_ok!(Guardian::vote(RuntimeOrigin::signed(100 + panel[1]), 0, true));
		// Two of three: decided at once.
		assert!(Reports::<Test>::get(0).is_none());
		assert_noop!(
			Guardian::vote(RuntimeOrigin::signed(panel[2]), 0, true),
			Error::<Test>::VoteClosed
		);
		let offence = &Offences::<Test>::get(24)[0];
		assert_eq!(
			(offence.kind, offence.fraction),
			(OffenceKind::MissedReveals, Perbill::from_percent(1))
		);
		assert_eq!(Guardian::misses(&24), 0, "the window starts over");
		run_to_block(2 + DEFER);
		assert_eq!(stake(24), 990);
	});
}

#[test]
fn a_vote_that_runs_out_is_tallied_at_the_window_end() {
	run_test(|| {
		miss_three(24);
		assert_ok!(Guardian::report(RuntimeOrigin::signed(1), 24, Evidence::MissedReveals));
		run_to_block(2);
		let panel = Reports::<Test>::get(0).unwrap().panel;
		assert_ok!(Guardian::vote(RuntimeOrigin::signed(panel[0]), 0, false));
		run_to_block(7);
		assert!(Reports::<Test>::get(0).is_none());
		assert!(events().iter().any(|e| matches!(
			e,
			Event::ReportJudged { verdict: Verdict::Inconclusive, nays: 1, .. }
		)));
		assert_noop!(
			Guardian::vote(RuntimeOrigin::signed(panel[1]), 0, true),
			Error::<Test>::VoteClosed
		);
		assert_noop!(
			Guardian::vote(RuntimeOrigin::signed(panel[1]), 5, true),
			Error::<Test>::UnknownReport
		);
	});
}

#[test]
fn an_inactive_model_report_rejected_by_the_panel_forfeits_the_bond() {
	run_test(|| {
		finish(
			60,
			PRICE,
			vec![(21, Some(price(1))), (22, Some(price(1))), (23, Some(price(1)))],
			None,
		);
		for (a, _) in open_audits() {
			finish_audit(a, |_| Some(price(1)));
		}
		// The statement names the task's own model: nothing to report.
		assert_noop!(
			Guardian::report(
				RuntimeOrigin::signed(1),
				23,
				Evidence::InactiveModel { statement: signed(23, 60, PRICE, &price(1)) }
			),
			Error::<Test>::EvidenceDoesNotCheck
		);
		// An answer that is not the revealed one proves nothing about the reveal.
		assert_noop!(
			Guardian::report(
				RuntimeOrigin::signed(1),
				23,
				Evidence::InactiveModel { statement: signed(23, 60, OLD_PRICE, &price(2)) }
			),
			Error::<Test>::EvidenceDoesNotCheck
		);
		assert_ok!(Guardian::report(
			RuntimeOrigin::signed(1),
			23,
			Evidence::InactiveModel { statement: signed(23, 60, OLD_PRICE, &price(1)) }
		));
		run_to_block(2);
		let panel = Reports::<Test>::get(0).unwrap().panel;
		assert_ok!(Guardian::vote(RuntimeOrigin::signed(panel[0]), 0, false));
		assert_ok!(Guardian::vote(RuntimeOrigin::signed(panel[1]), 0, false));
		assert!(events().iter().any(|e| matches!(
			e,
			Event::ReportJudged { verdict: Verdict::Rejected, bond_forfeited: BOND, .. }
		)));
		assert!(Offences::<Test>::get(23).is_empty());
	});
}

#[test]
fn governance_cancels_a_pending_slash_but_not_an_applied_one() {
	run_test(|| {
		settle_with_liar(1_500_000);
		let (audit, _) = only_audit();
		finish_audit(audit, |_| Some(price(1_000_000)));
		let slash = Offences::<Test>::get(23)[0].slash.unwrap();
		assert_noop!(
			Guardian::cancel_slash(RuntimeOrigin::signed(1), 23, slash),
			DispatchError::BadOrigin
		);
		assert_noop!(
			Guardian::cancel_slash(RuntimeOrigin::root(), 22, slash),
			Error::<Test>::UnknownOffence
		);
		assert_ok!(Guardian::cancel_slash(RuntimeOrigin::root(), 23, slash));
		assert!(Offences::<Test>::get(23)[0].cancelled);
		assert_eq!(ConfirmedCount::<Test>::get(23), 0);
		run_to_block(1 + DEFER);
		assert_eq!(stake(23), 1_000, "cancelled: nothing taken");
		assert_noop!(
			Guardian::cancel_slash(RuntimeOrigin::root(), 23, slash),
			Error::<Test>::SlashNotPending
		);
		// A slash that applied cannot be cancelled.
		finish(
			70,
			PRICE,
			vec![
				(21, Some(price(1_000_000))),
				(22, Some(price(1_000_000))),
				(24, Some(price(3_000_000))),
			],
			None,
		);
		let (audit, _) = only_audit();
		finish_audit(audit, |_| Some(price(1_000_000)));
		let slash = Offences::<Test>::get(24)[0].slash.unwrap();
		run_to_block(System::block_number() + DEFER);
		assert_eq!(stake(24), 950);
		assert!(!<StakingTiers as Slash<u64>>::is_pending(slash));
		assert_noop!(
			Guardian::cancel_slash(RuntimeOrigin::root(), 24, slash),
			Error::<Test>::SlashNotPending
		);
	});
}

#[test]
fn repeat_offences_escalate_and_the_third_suspends() {
	run_test(|| {
		let mut fractions = Vec::new();
		for (i, task) in [80u64, 81, 82].into_iter().enumerate() {
			finish(
				task,
				PRICE,
				vec![
					(11, Some(price(1_000_000))),
					(12, Some(price(1_000_000))),
					(13, Some(price(4_000_000))),
				],
				None,
			);
			let (audit, _) = only_audit();
			finish_audit(audit, |_| Some(price(1_000_000)));
			let history = Offences::<Test>::get(13);
			assert_eq!(history.len(), i + 1);
			fractions.push(history[i].fraction);
		}
		assert_eq!(
			fractions,
			vec![Perbill::from_percent(5), Perbill::from_percent(10), Perbill::from_percent(15)]
		);
		assert!(events().contains(&Event::OperatorSuspended { who: 13, offences: 3 }));
		assert_eq!(StakingTiers::tier(&13), None, "suspended");
		assert_eq!(Guardian::offence_history(&13).1, 3);
	});
}

#[test]
fn bad_reports_get_a_specific_error_and_change_nothing() {
	run_test(|| {
		let mut config = Configuration::<Test>::get();
		config.sample_share = Perbill::one();
		assert_ok!(Guardian::set_config(RuntimeOrigin::root(), config));
		finish(90, PRICE, vec![(21, Some(price(1))), (22, Some(price(1))), (23, None)], None);
		// Failed task: no aggregate.
		finish(91, PRICE, vec![(21, None), (22, None), (23, None)], None);
		for (a, _) in open_audits() {
			finish_audit(a, |_| Some(price(1)));
		}
		let ev = |task| Evidence::OutOfTolerance { task };
		assert_noop!(
			Guardian::report(RuntimeOrigin::signed(11), 21, ev(90)),
			Error::<Test>::NotGuardian
		);
		assert_noop!(
			Guardian::report(RuntimeOrigin::signed(50), 21, ev(90)),
			Error::<Test>::NotGuardian
		);
		assert_noop!(
			Guardian::report(RuntimeOrigin::signed(1), 50, ev(90)),
			Error::<Test>::NotOperator
		);
		assert_noop!(
			Guardian::report(RuntimeOrigin::signed(1), 1, ev(90)),
			Error::<Test>::SelfReport
		);
		assert_noop!(
			Guardian::report(RuntimeOrigin::signed(1), 21, ev(12345)),
			Error::<Test>::UnknownTask
		);
		assert_noop!(
			Guardian::report(RuntimeOrigin::signed(1), 21, ev(91)),
			Error::<Test>::TaskNotSettled
		);
		assert_noop!(
			Guardian::report(RuntimeOrigin::signed(1), 23, ev(90)),
			Error::<Test>::NoAnswer
		);
		assert_noop!(
			Guardian::report(RuntimeOrigin::signed(1), 24, Evidence::MissedReveals),
			Error::<Test>::TooFewMisses
		);
		// An audit is not itself audited.
		let audit_task = RECORDS
			.with(|r| r.borrow().iter().find(|(_, f)| f.audit_of.is_some()).map(|(id, _)| *id))
			.unwrap();
		assert_noop!(
			Guardian::report(RuntimeOrigin::signed(1), 2, ev(audit_task)),
			Error::<Test>::NotAuditable
		);
		// A bond the reporter cannot pay.
		config.report_bond = ENDOWMENT;
		assert_ok!(Guardian::set_config(RuntimeOrigin::root(), config));
		assert_noop!(
			Guardian::report(RuntimeOrigin::signed(1), 21, ev(90)),
			Error::<Test>::CannotHoldBond
		);
	});
}

#[test]
fn a_duplicate_open_report_is_refused() {
	run_test(|| {
		finish(
			92,
			PRICE,
			vec![(21, Some(price(1))), (22, Some(price(1))), (23, Some(price(1)))],
			None,
		);
		for (a, _) in open_audits() {
			finish_audit(a, |_| Some(price(1)));
		}
		assert_ok!(Guardian::report(
			RuntimeOrigin::signed(1),
			21,
			Evidence::OutOfTolerance { task: 92 }
		));
		assert_noop!(
			Guardian::report(RuntimeOrigin::signed(2), 21, Evidence::OutOfTolerance { task: 92 }),
			Error::<Test>::DuplicateReport
		);
	});
}

#[test]
fn without_a_beacon_no_panel_is_drawn_and_the_bond_comes_back() {
	run_test(|| {
		miss_three(24);
		let before = Balances::balance(&1);
		assert_ok!(Guardian::report(RuntimeOrigin::signed(1), 24, Evidence::MissedReveals));
		NO_BEACON.with(|b| *b.borrow_mut() = true);
		run_to_block(2);
		assert!(events()
			.iter()
			.any(|e| matches!(e, Event::ReportJudged { verdict: Verdict::Inconclusive, .. })));
		assert_eq!(Balances::balance(&1), before);
	});
}

#[test]
fn configuration_is_checked() {
	run_test(|| {
		let good = Configuration::<Test>::get();
		for bad in [
			types::GuardianConfig { panel_size: 0, ..good },
			types::GuardianConfig { panel_size: 8, ..good },
			types::GuardianConfig { vote_window: 0, ..good },
			types::GuardianConfig { miss_window: 0, ..good },
		] {
			assert_noop!(
				Guardian::set_config(RuntimeOrigin::root(), bad),
				Error::<Test>::InvalidConfig
			);
		}
		assert_noop!(
			Guardian::set_config(RuntimeOrigin::signed(1), good),
			DispatchError::BadOrigin
		);
		assert_ok!(Guardian::set_config(
			RuntimeOrigin::root(),
			types::GuardianConfig { panel_size: 5, ..good }
		));
		assert_eq!(Configuration::<Test>::get().panel_size, 5);
	});
}

#[test]
fn slash_fraction_escalates_and_saturates() {
	let config = DefaultConfig::get();
	assert_eq!(
		Guardian::slash_fraction(&config, OffenceKind::Equivocation, 0),
		Perbill::from_percent(10)
	);
	assert_eq!(
		Guardian::slash_fraction(&config, OffenceKind::Equivocation, 4),
		Perbill::from_percent(50)
	);
	assert_eq!(Guardian::slash_fraction(&config, OffenceKind::Equivocation, 50), Perbill::one());
	assert_eq!(audit::quorum(Perbill::from_parts(666_666_667), 3), 2);
	assert_eq!(audit::quorum(Perbill::from_parts(666_666_667), 5), 4);
	assert_eq!(audit::quorum(Perbill::zero(), 3), 1);
}

#[test]
fn classifier_answers_are_judged_by_class() {
	run_test(|| {
		finish(
			95,
			REGIME,
			vec![(11, Some(answer(&[2]))), (12, Some(answer(&[2]))), (13, Some(answer(&[0])))],
			None,
		);
		let (audit, _) = only_audit();
		finish_audit(audit, |_| Some(answer(&[2])));
		assert_eq!(Offences::<Test>::get(13).len(), 1);
		assert!(Offences::<Test>::get(11).is_empty());
	});
}

#[test]
fn an_inactive_model_confirmed_by_the_panel_is_slashed() {
	run_test(|| {
		let mut config = Configuration::<Test>::get();
		config.sample_share = Perbill::zero();
		assert_ok!(Guardian::set_config(RuntimeOrigin::root(), config));
		finish(
			61,
			PRICE,
			vec![(21, Some(price(1))), (22, Some(price(1))), (23, Some(price(1)))],
			None,
		);
		let issuance = total();
		let before = Balances::balance(&1);
		assert_ok!(Guardian::report(
			RuntimeOrigin::signed(1),
			23,
			Evidence::InactiveModel { statement: signed(23, 61, OLD_PRICE, &price(1)) }
		));
		run_to_block(2);
		let panel = Reports::<Test>::get(0).unwrap().panel;
		assert_ok!(Guardian::vote(RuntimeOrigin::signed(panel[0]), 0, true));
		assert_ok!(Guardian::vote(RuntimeOrigin::signed(panel[1]), 0, true));
		assert_eq!(Balances::balance(&1), before, "bond returned");
		let offence = &Offences::<Test>::get(23)[0];
		assert_eq!(
			(offence.kind, offence.fraction),
			(OffenceKind::InactiveModel, Perbill::from_percent(5))
		);
		let slash = PendingSlashes::<Test>::get(offence.slash.unwrap()).unwrap();
		assert_eq!(slash.reporters.len(), 3, "the reporter and the two confirming members");
		run_to_block(2 + DEFER);
		assert_eq!(stake(23), 950);
		// Half of the 50 slashed to the three rewarded (8 each), the rest to the treasury.
		assert_eq!(Balances::balance(&1), before + 8);
		assert_eq!(total(), issuance, "money is conserved");
		// Reported once: the same statement again is a duplicate.
		assert_noop!(
			Guardian::report(
				RuntimeOrigin::signed(2),
				23,
				Evidence::InactiveModel { statement: signed(23, 61, OLD_PRICE, &price(1)) }
			),
			Error::<Test>::DuplicateReport
		);
	});
}
