//! What the chain did, on the node's Prometheus endpoint: tasks settled and failed by class,
//! how assigned operators took part, rewards paid by tier, dispersion and latency of settled
//! answers, audits and slashes; and the running account of this node's own operators (those
//! whose worker key is in the keystore).
//!
//! The exporter follows finalized blocks only, so a count never has to be taken back after a
//! re-organisation. It starts at the block finalized when the node starts: counters begin at
//! zero on every start, as Prometheus counters do. Every label has a fixed set of values
//! (classes, outcomes, participations, tiers), except `operator`, which takes one value per
//! worker key in this node's keystore.

use crate::{
	results::{events_key, EventRecords},
	service::FullClient,
};
use codec::Decode;
use futures::StreamExt;
use noderr_primitives::{Participation, Tier, WORKER_KEY_TYPE};
use noderr_runtime::{AccountId, Balance, BlockNumber, Hash, RuntimeEvent, UNIT};
use pallet_inference::{Event as InferenceEvent, FailureReason, Outcome, TaskClass, TaskStatus};
use pallet_inference_runtime_api::InferenceApi;
use pallet_staking_tiers::Event as StakingEvent;
use pallet_staking_tiers_runtime_api::StakingTiersApi;
use prometheus_endpoint::{
	exponential_buckets, register, CounterVec, Gauge, GaugeVec, HistogramOpts, HistogramVec, Opts,
	PrometheusError, Registry, F64, U64,
};
use sc_client_api::{BlockchainEvents, StorageProvider};
use sp_api::ProvideRuntimeApi;
use sp_blockchain::HeaderBackend;
use sp_core::{crypto::Ss58Codec, storage::StorageKey};
use sp_keystore::KeystorePtr;
use sp_runtime::traits::Header;
use std::sync::Arc;

/// Every value of the `outcome` label of `noderr_chain_tasks_total`.
const OUTCOMES: [&str; 9] = [
	"settled",
	"unassigned",
	"no_operators",
	"model_retired",
	"no_randomness",
	"congested",
	"no_commitments",
	"below_quorum",
	"no_majority",
];

/// Every value of the `participation` label.
const PARTICIPATIONS: [Participation; 5] = [
	Participation::Agreed,
	Participation::Outlier,
	Participation::Revealed,
	Participation::NotRevealed,
	Participation::NotCommitted,
];

/// A class's label: its name in lower case.
pub fn class_label(class: TaskClass) -> &'static str {
	match class {
		TaskClass::Observation => "observation",
		TaskClass::Prediction => "prediction",
		TaskClass::Regime => "regime",
		TaskClass::Risk => "risk",
		TaskClass::Sentiment => "sentiment",
	}
}

fn failure_label(reason: &FailureReason) -> &'static str {
	match reason {
		FailureReason::NoOperators => "no_operators",
		FailureReason::ModelRetired => "model_retired",
		FailureReason::NoRandomness => "no_randomness",
		FailureReason::Congested => "congested",
		FailureReason::NoCommitments => "no_commitments",
		FailureReason::BelowQuorum => "below_quorum",
		FailureReason::NoMajority => "no_majority",
	}
}

fn participation_label(p: Participation) -> &'static str {
	match p {
		Participation::Agreed => "agreed",
		Participation::Outlier => "outlier",
		Participation::Revealed => "revealed",
		Participation::NotRevealed => "not_revealed",
		Participation::NotCommitted => "not_committed",
	}
}

fn tier_label(tier: Option<Tier>) -> &'static str {
	match tier {
		Some(Tier::All) => "all",
		Some(Tier::Oracle) => "oracle",
		Some(Tier::Guardian) => "guardian",
		None => "none",
	}
}

/// Whole NODERR as a float, for dashboards.
fn noderr(amount: Balance) -> f64 {
	amount as f64 / UNIT as f64
}

/// A settled answer's spread as one unit-free number: for a classifier (regime, sentiment) the
/// share of revealed stake that lost (the chain records it in parts per million); for numbers
/// (observations, predictions, risk) the largest median absolute deviation of a field
/// relative to the field's aggregate.
pub fn relative_dispersion(class: TaskClass, answer: &[i64], dispersion: &[i64]) -> f64 {
	match class {
		TaskClass::Regime | TaskClass::Sentiment => {
			dispersion.first().map_or(0.0, |ppm| *ppm as f64 / 1e6)
		}
		_ => answer
			.iter()
			.zip(dispersion)
			.map(|(a, d)| if *a == 0 { 0.0 } else { (*d as f64 / *a as f64).abs() })
			.fold(0.0, f64::max),
	}
}

/// The exporter's metrics.
#[derive(Clone)]
pub struct ChainMetrics {
	block: Gauge<U64>,
	tasks: CounterVec<U64>,
	operators: CounterVec<U64>,
	rewards: CounterVec<F64>,
	dispersion: HistogramVec,
	settle_blocks: HistogramVec,
	audits: CounterVec<U64>,
	slashes: CounterVec<U64>,
	slashed: CounterVec<F64>,
	decode_failures: CounterVec<U64>,
	own_assigned: GaugeVec<U64>,
	own_agreed: GaugeVec<U64>,
	own_strikes: GaugeVec<U64>,
	own_rewards: GaugeVec<F64>,
	own_bonded: GaugeVec<F64>,
	own_tier: GaugeVec<U64>,
}

impl ChainMetrics {
	/// Registers every metric and creates each series of the fixed label sets at zero, so a
	/// dashboard query has a series to show before the first event.
	pub fn register(r: &Registry) -> Result<Self, PrometheusError> {
		let counter = |name: &str, help: &str, labels: &[&str]| -> Result<_, PrometheusError> {
			register(CounterVec::<U64>::new(Opts::new(name, help), labels)?, r)
		};
		let counter_f = |name: &str, help: &str, labels: &[&str]| -> Result<_, PrometheusError> {
			register(CounterVec::<F64>::new(Opts::new(name, help), labels)?, r)
		};
		let gauge = |name: &str, help: &str| -> Result<_, PrometheusError> {
			register(GaugeVec::<U64>::new(Opts::new(name, help), &["operator"])?, r)
		};
		let gauge_f = |name: &str, help: &str| -> Result<_, PrometheusError> {
			register(GaugeVec::<F64>::new(Opts::new(name, help), &["operator"])?, r)
		};
		let m = Self {
			block: register(
				Gauge::new(
					"noderr_chain_exported_block",
					"Number of the newest finalized block whose events are counted",
				)?,
				r,
			)?,
			tasks: counter(
				"noderr_chain_tasks_total",
				"Tasks finished in finalized blocks, by class and outcome (settled, or why not)",
				&["class", "outcome"],
			)?,
			operators: counter(
				"noderr_chain_task_operators_total",
				"Assigned operators of finished tasks, by class and what each did",
				&["class", "participation"],
			)?,
			rewards: counter_f(
				"noderr_chain_rewards_noderr_total",
				"NODERR paid to operators for tasks, by the operator's tier at settlement",
				&["tier"],
			)?,
			dispersion: register(
				HistogramVec::new(
					HistogramOpts::new(
						"noderr_chain_task_dispersion",
						"Spread of settled answers: the losing share of revealed stake for \
						 classifiers, the largest relative median absolute deviation for numbers",
					)
					.buckets(vec![0.0, 1e-5, 1e-4, 1e-3, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0]),
					&["class"],
				)?,
				r,
			)?,
			settle_blocks: register(
				HistogramVec::new(
					HistogramOpts::new(
						"noderr_chain_task_settle_blocks",
						"Blocks from a task's creation to its settlement",
					)
					.buckets(exponential_buckets(2.0, 1.5, 12)?),
					&["class"],
				)?,
				r,
			)?,
			audits: counter(
				"noderr_chain_audits_total",
				"Guardian audits concluded, by result (clean, or offenders found)",
				&["result"],
			)?,
			slashes: counter(
				"noderr_chain_slashes_total",
				"Slashes by state (scheduled, applied, cancelled)",
				&["state"],
			)?,
			slashed: counter_f(
				"noderr_chain_slashed_noderr_total",
				"NODERR taken by applied slashes, by destination (reporters, treasury)",
				&["to"],
			)?,
			decode_failures: counter(
				"noderr_chain_export_failures_total",
				"Finalized blocks or tasks the exporter could not read, by what failed",
				&["what"],
			)?,
			own_assigned: gauge(
				"noderr_operator_tasks_assigned",
				"Tasks assigned to an operator whose worker key this node holds",
			)?,
			own_agreed: gauge(
				"noderr_operator_tasks_agreed",
				"Tasks in which that operator agreed with the aggregate",
			)?,
			own_strikes: gauge(
				"noderr_operator_strikes",
				"That operator's strikes: missed commits or reveals, and outlier answers",
			)?,
			own_rewards: gauge_f(
				"noderr_operator_rewards_noderr",
				"Everything that operator was paid for tasks, in NODERR",
			)?,
			own_bonded: gauge_f("noderr_operator_bonded_noderr", "That operator's active bond")?,
			own_tier: gauge(
				"noderr_operator_tier",
				"That operator's tier in force: 0 none, 1 ALL, 2 ORACLE, 3 GUARDIAN",
			)?,
		};
		for class in TaskClass::ALL {
			let c = class_label(class);
			for outcome in OUTCOMES {
				m.tasks.with_label_values(&[c, outcome]);
			}
			for p in PARTICIPATIONS {
				m.operators.with_label_values(&[c, participation_label(p)]);
			}
			m.dispersion.with_label_values(&[c]);
			m.settle_blocks.with_label_values(&[c]);
		}
		for tier in Tier::ALL {
			m.rewards.with_label_values(&[tier_label(Some(tier))]);
		}
		for result in ["clean", "offenders"] {
			m.audits.with_label_values(&[result]);
		}
		for state in ["scheduled", "applied", "cancelled"] {
			m.slashes.with_label_values(&[state]);
		}
		for to in ["reporters", "treasury"] {
			m.slashed.with_label_values(&[to]);
		}
		Ok(m)
	}

	/// Counts a finished task from its record.
	pub fn count_task(
		&self,
		status: &TaskStatus<AccountId, Balance, BlockNumber>,
		reason: Option<&FailureReason>,
		tier_of: impl Fn(&AccountId) -> Option<Tier>,
	) {
		let TaskStatus::Finished { class, created, settled, outcome, operators, .. } = status
		else {
			return;
		};
		let c = class_label(*class);
		let outcome_label = match (outcome, reason) {
			(Outcome::Settled { .. }, _) => "settled",
			(Outcome::Unassigned, Some(r)) | (Outcome::Failed, Some(r)) => failure_label(r),
			(Outcome::Unassigned, None) => "unassigned",
			(Outcome::Failed, None) => "below_quorum",
		};
		self.tasks.with_label_values(&[c, outcome_label]).inc();
		for o in operators {
			self.operators.with_label_values(&[c, participation_label(o.participation)]).inc();
			if o.reward > 0 {
				self.rewards
					.with_label_values(&[tier_label(tier_of(&o.who))])
					.inc_by(noderr(o.reward));
			}
		}
		if let Outcome::Settled { answer, dispersion } = outcome {
			self.dispersion
				.with_label_values(&[c])
				.observe(relative_dispersion(*class, answer, dispersion));
			self.settle_blocks
				.with_label_values(&[c])
				.observe(settled.saturating_sub(*created) as f64);
		}
	}

	/// Counts the guardian and staking events of a block.
	fn count_event(&self, event: &RuntimeEvent) {
		match event {
			RuntimeEvent::Guardian(pallet_guardian::Event::AuditConcluded {
				offenders, ..
			}) => {
				let result = if offenders.is_empty() { "clean" } else { "offenders" };
				self.audits.with_label_values(&[result]).inc();
			}
			RuntimeEvent::StakingTiers(StakingEvent::SlashScheduled { .. }) => {
				self.slashes.with_label_values(&["scheduled"]).inc();
			}
			RuntimeEvent::StakingTiers(StakingEvent::SlashCancelled { .. }) => {
				self.slashes.with_label_values(&["cancelled"]).inc();
			}
			RuntimeEvent::StakingTiers(StakingEvent::SlashApplied {
				to_reporters,
				to_treasury,
				..
			}) => {
				self.slashes.with_label_values(&["applied"]).inc();
				self.slashed.with_label_values(&["reporters"]).inc_by(noderr(*to_reporters));
				self.slashed.with_label_values(&["treasury"]).inc_by(noderr(*to_treasury));
			}
			_ => {}
		}
	}
}

/// Reads a finalized block's events and counts them; then refreshes the own operators' gauges.
struct Exporter {
	client: Arc<FullClient>,
	keystore: KeystorePtr,
	metrics: ChainMetrics,
}

impl Exporter {
	fn events(&self, at: Hash) -> Result<EventRecords, &'static str> {
		let raw = self
			.client
			.storage(at, &StorageKey(events_key()))
			.map_err(|_| "events_unreadable")?
			.map(|d| d.0)
			.unwrap_or_default();
		EventRecords::decode(&mut &raw[..]).map_err(|_| "events_undecodable")
	}

	fn tier(&self, at: Hash, who: &AccountId) -> Option<Tier> {
		self.client.runtime_api().operator_status(at, who.clone()).ok().and_then(|s| s.tier)
	}

	fn block(&self, at: Hash) {
		let records = match self.events(at) {
			Ok(r) => r,
			Err(what) => {
				self.metrics.decode_failures.with_label_values(&[what]).inc();
				return;
			}
		};
		for record in &records {
			self.metrics.count_event(&record.event);
			let (task, reason) = match &record.event {
				RuntimeEvent::Inference(InferenceEvent::TaskSettled { task, .. }) => (*task, None),
				RuntimeEvent::Inference(InferenceEvent::TaskFailed { task, reason }) => {
					(*task, Some(reason))
				}
				_ => continue,
			};
			match self.client.runtime_api().task(at, task) {
				Ok(Some(status)) => {
					self.metrics.count_task(&status, reason, |who| self.tier(at, who))
				}
				_ => self.metrics.decode_failures.with_label_values(&["task"]).inc(),
			}
		}
	}

	/// The operators this node works for: the owners of the worker keys in its keystore.
	fn own_operators(&self, at: Hash) -> Vec<AccountId> {
		let mut out = Vec::new();
		for key in self.keystore.sr25519_public_keys(WORKER_KEY_TYPE) {
			let worker = AccountId::from(key.0);
			let storage_key =
				pallet_inference::OperatorOf::<noderr_runtime::Runtime>::hashed_key_for(&worker);
			let operator = self
				.client
				.storage(at, &StorageKey(storage_key))
				.ok()
				.flatten()
				.and_then(|d| AccountId::decode(&mut &d.0[..]).ok());
			if let Some(op) = operator {
				if !out.contains(&op) {
					out.push(op);
				}
			}
		}
		out
	}

	fn own(&self, at: Hash) {
		let m = &self.metrics;
		for op in self.own_operators(at) {
			let label = op.to_ss58check();
			let l = [label.as_str()];
			if let Ok(s) = self.client.runtime_api().operator(at, op.clone()) {
				m.own_assigned.with_label_values(&l).set(s.stats.assigned.into());
				m.own_agreed.with_label_values(&l).set(s.stats.agreed.into());
				m.own_strikes.with_label_values(&l).set(s.stats.strikes.into());
				m.own_rewards.with_label_values(&l).set(noderr(s.stats.rewards));
			}
			if let Ok(s) = self.client.runtime_api().operator_status(at, op.clone()) {
				m.own_bonded.with_label_values(&l).set(noderr(s.active));
				let tier = s.tier.map_or(0, |t| t.index() as u64 + 1);
				m.own_tier.with_label_values(&l).set(tier);
			}
		}
	}
}

/// Registers the metrics and returns the task that follows finalized blocks.
pub fn exporter(
	client: Arc<FullClient>,
	keystore: KeystorePtr,
	registry: &Registry,
) -> Result<impl std::future::Future<Output = ()>, PrometheusError> {
	let metrics = ChainMetrics::register(registry)?;
	let exporter = Exporter { client, keystore, metrics };
	Ok(async move {
		let mut finality = exporter.client.finality_notification_stream();
		let mut done: BlockNumber = exporter.client.info().finalized_number;
		exporter.metrics.block.set(done.into());
		exporter.own(exporter.client.info().finalized_hash);
		while let Some(n) = finality.next().await {
			let head = *n.header.number();
			// A notification may stand for several blocks finalized at once.
			for number in done + 1..=head {
				let hash = if number == head {
					Some(n.hash)
				} else {
					exporter.client.hash(number).ok().flatten()
				};
				match hash {
					Some(h) => exporter.block(h),
					None => exporter.metrics.decode_failures.with_label_values(&["block"]).inc(),
				}
			}
			done = done.max(head);
			exporter.metrics.block.set(done.into());
			exporter.own(n.hash);
		}
	})
}

#[cfg(test)]
mod tests {
	use super::*;
	use noderr_primitives::Participation as P;
	use pallet_inference::OperatorOutcome;
	use sp_keyring::Sr25519Keyring as K;

	fn answer(v: &[i64]) -> noderr_primitives::Answer {
		v.to_vec().try_into().unwrap()
	}

	fn finished(
		class: TaskClass,
		outcome: Outcome,
		parts: &[(K, P, Balance)],
	) -> TaskStatus<AccountId, Balance, BlockNumber> {
		TaskStatus::Finished {
			class,
			model: None,
			created: 10,
			settled: 16,
			outcome,
			operators: parts
				.iter()
				.map(|(k, p, r)| OperatorOutcome {
					who: k.to_account_id(),
					participation: *p,
					answer: None,
					reward: *r,
				})
				.collect(),
		}
	}

	fn value(r: &Registry, name: &str, labels: &[(&str, &str)]) -> f64 {
		let family = r.gather().into_iter().find(|f| f.get_name() == name).expect(name);
		let m = family
			.get_metric()
			.iter()
			.find(|m| {
				labels.iter().all(|(k, v)| {
					m.get_label().iter().any(|l| l.get_name() == *k && l.get_value() == *v)
				})
			})
			.unwrap_or_else(|| panic!("{name} {labels:?}"));
		use prometheus_endpoint::prometheus::proto::MetricType;
		match family.get_field_type() {
			MetricType::COUNTER => m.get_counter().get_value(),
			MetricType::HISTOGRAM => m.get_histogram().get_sample_count() as f64,
			_ => m.get_gauge().get_value(),
		}
	}

	#[test]
	fn every_series_of_the_fixed_labels_exists_before_any_event() {
		let r = Registry::new();
		ChainMetrics::register(&r).unwrap();
		for class in ["observation", "prediction", "regime", "risk", "sentiment"] {
			for outcome in OUTCOMES {
				let v = value(
					&r,
					"noderr_chain_tasks_total",
					&[("class", class), ("outcome", outcome)],
				);
				assert_eq!(v, 0.0);
			}
			assert_eq!(value(&r, "noderr_chain_task_settle_blocks", &[("class", class)]), 0.0);
		}
		for tier in ["all", "oracle", "guardian"] {
			assert_eq!(value(&r, "noderr_chain_rewards_noderr_total", &[("tier", tier)]), 0.0);
		}
	}

	#[test]
	fn a_settled_task_counts_its_outcome_participation_rewards_dispersion_and_latency() {
		let r = Registry::new();
		let m = ChainMetrics::register(&r).unwrap();
		let status = finished(
			TaskClass::Prediction,
			Outcome::Settled { answer: answer(&[2_000, 10_000]), dispersion: answer(&[20, 50]) },
			&[
				(K::Alice, P::Agreed, 5 * UNIT),
				(K::Dave, P::Agreed, 2 * UNIT),
				(K::Ferdie, P::Outlier, 0),
				(K::Bob, P::NotRevealed, 0),
			],
		);
		let tier = |who: &AccountId| {
			Some(if *who == K::Alice.to_account_id() { Tier::Guardian } else { Tier::Oracle })
		};
		m.count_task(&status, None, tier);
		let t =
			|o| value(&r, "noderr_chain_tasks_total", &[("class", "prediction"), ("outcome", o)]);
		assert_eq!(t("settled"), 1.0);
		assert_eq!(t("below_quorum"), 0.0);
		let p = |x| {
			value(
				&r,
				"noderr_chain_task_operators_total",
				&[("class", "prediction"), ("participation", x)],
			)
		};
		assert_eq!(
			(p("agreed"), p("outlier"), p("not_revealed"), p("not_committed")),
			(2.0, 1.0, 1.0, 0.0)
		);
		let rewards = |tier| value(&r, "noderr_chain_rewards_noderr_total", &[("tier", tier)]);
		assert_eq!((rewards("guardian"), rewards("oracle"), rewards("all")), (5.0, 2.0, 0.0));
		let h = m.dispersion.with_label_values(&["prediction"]);
		assert_eq!(h.get_sample_count(), 1);
		// 20 / 2000 against 50 / 10000: the larger relative spread counts.
		assert!((h.get_sample_sum() - 0.01).abs() < 1e-12);
		let s = m.settle_blocks.with_label_values(&["prediction"]);
		assert_eq!((s.get_sample_count(), s.get_sample_sum()), (1, 6.0));
	}

	#[test]
	fn a_failed_task_counts_its_reason_and_no_dispersion() {
		let r = Registry::new();
		let m = ChainMetrics::register(&r).unwrap();
		let status = finished(
			TaskClass::Sentiment,
			Outcome::Failed,
			&[(K::Alice, P::Revealed, 0), (K::Bob, P::NotCommitted, 0)],
		);
		m.count_task(&status, Some(&FailureReason::NoMajority), |_| None);
		let t =
			|o| value(&r, "noderr_chain_tasks_total", &[("class", "sentiment"), ("outcome", o)]);
		assert_eq!((t("no_majority"), t("settled")), (1.0, 0.0));
		assert_eq!(m.dispersion.with_label_values(&["sentiment"]).get_sample_count(), 0);
		// An open task is not counted.
		let open = TaskStatus::Open {
			class: TaskClass::Sentiment,
			model: None,
			input: pallet_inference::TaskInputView::Text(vec![]),
			requester: None,
			fee: 0,
			created: 1,
			phase: pallet_inference::Phase::Commit { until: 5 },
			assigned: vec![],
			committed: vec![],
			revealed: vec![],
		};
		m.count_task(&open, None, |_| None);
		assert_eq!(t("no_majority"), 1.0);
	}

	#[test]
	fn dispersion_is_unit_free_for_both_kinds_of_answer() {
		assert_eq!(relative_dispersion(TaskClass::Regime, &[2], &[250_000]), 0.25);
		assert_eq!(relative_dispersion(TaskClass::Observation, &[0, 100], &[5, 1]), 0.01);
		assert_eq!(relative_dispersion(TaskClass::Risk, &[-400], &[4]), 0.01);
	}

	#[test]
	fn slashes_and_audits_are_counted_from_their_events() {
		let r = Registry::new();
		let m = ChainMetrics::register(&r).unwrap();
		m.count_event(&RuntimeEvent::StakingTiers(StakingEvent::SlashApplied {
			id: 1,
			who: K::Ferdie.to_account_id(),
			amount: 150 * UNIT,
			to_reporters: 50 * UNIT,
			to_treasury: 100 * UNIT,
		}));
		m.count_event(&RuntimeEvent::Guardian(pallet_guardian::Event::AuditConcluded {
			audit: 9,
			task: 3,
			answered: 3,
			offenders: vec![K::Ferdie.to_account_id()],
		}));
		assert_eq!(value(&r, "noderr_chain_slashes_total", &[("state", "applied")]), 1.0);
		assert_eq!(value(&r, "noderr_chain_slashed_noderr_total", &[("to", "treasury")]), 100.0);
		assert_eq!(value(&r, "noderr_chain_slashed_noderr_total", &[("to", "reporters")]), 50.0);
		assert_eq!(value(&r, "noderr_chain_audits_total", &[("result", "offenders")]), 1.0);
		assert_eq!(value(&r, "noderr_chain_audits_total", &[("result", "clean")]), 0.0);
	}
}
