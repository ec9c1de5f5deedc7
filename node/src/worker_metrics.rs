//! The off-chain worker's metrics on the node's Prometheus endpoint.
//!
//! The worker runs in the runtime and counts what it does into persistent off-chain storage
//! (`pallet_inference::offchain::WorkerStats`). This collector reads those totals at every
//! scrape, so the endpoint shows exactly what is stored, across restarts too.

use codec::Decode;
use pallet_inference::offchain::{Histogram, Labelled, WorkerStats, LATENCY_BUCKETS_MS, STATS_KEY};
use prometheus_endpoint::{
	prometheus::{
		core::{Collector, Desc},
		proto,
	},
	PrometheusError, Registry,
};
use sp_core::offchain::{OffchainStorage, STORAGE_PREFIX};

/// Each metric: name, help, kind, variable label.
const METRICS: &[(&str, &str, proto::MetricType, Option<&str>)] = &[
	(
		"noderr_worker_runs_total",
		"Off-chain worker runs that had a worker key to work for",
		proto::MetricType::COUNTER,
		None,
	),
	(
		"noderr_worker_run_seconds",
		"Wall time of an off-chain worker run",
		proto::MetricType::HISTOGRAM,
		None,
	),
	(
		"noderr_worker_heartbeats_total",
		"Heartbeats the transaction pool accepted",
		proto::MetricType::COUNTER,
		None,
	),
	(
		"noderr_worker_tasks_assigned_total",
		"Tasks assigned to this node's operators",
		proto::MetricType::COUNTER,
		None,
	),
	(
		"noderr_worker_tasks_committed_total",
		"Commitments the transaction pool accepted (resubmissions included)",
		proto::MetricType::COUNTER,
		None,
	),
	(
		"noderr_worker_tasks_revealed_total",
		"Reveals the transaction pool accepted (resubmissions included)",
		proto::MetricType::COUNTER,
		None,
	),
	(
		"noderr_worker_tasks_missed_total",
		"Tasks that closed without an accepted reveal, by the worker's last reason",
		proto::MetricType::COUNTER,
		Some("reason"),
	),
	(
		"noderr_worker_submissions_refused_total",
		"Submissions refused, by the chain's error (pool: refused by the transaction pool)",
		proto::MetricType::COUNTER,
		Some("error"),
	),
	(
		"noderr_worker_ml_call_seconds",
		"Latency of the worker's calls to the ML service",
		proto::MetricType::HISTOGRAM,
		None,
	),
	(
		"noderr_worker_ml_call_failures_total",
		"The worker's failed ML service calls, by reason",
		proto::MetricType::COUNTER,
		Some("reason"),
	),
	(
		"noderr_worker_market_source_failures_total",
		"Market-source requests that gave no usable bar, by source",
		proto::MetricType::COUNTER,
		Some("source"),
	),
	(
		"noderr_worker_resubmissions_total",
		"Commitments and reveals submitted again because the first did not land in time, by kind",
		proto::MetricType::COUNTER,
		Some("kind"),
	),
];

/// Publishes the worker's stored totals.
#[derive(Clone)]
pub struct WorkerMetrics<S> {
	storage: S,
	descs: Vec<Desc>,
}

impl<S: OffchainStorage + 'static> WorkerMetrics<S> {
	/// Registers the collector reading `storage` with `registry`.
	pub fn register(storage: S, registry: &Registry) -> Result<(), PrometheusError> {
		let descs = METRICS
			.iter()
			.map(|(name, help, _, label)| {
				let labels = label.iter().map(|l| l.to_string()).collect();
				Desc::new(name.to_string(), help.to_string(), labels, Default::default())
			})
			.collect::<Result<_, _>>()?;
		registry.register(Box::new(Self { storage, descs }))
	}

	fn stats(&self) -> WorkerStats {
		let raw = self.storage.get(STORAGE_PREFIX, STATS_KEY);
		raw.and_then(|b| WorkerStats::decode(&mut &b[..]).ok()).unwrap_or_default()
	}
}

impl<S: OffchainStorage + 'static> Collector for WorkerMetrics<S> {
	fn desc(&self) -> Vec<&Desc> {
		self.descs.iter().collect()
	}

	fn collect(&self) -> Vec<proto::MetricFamily> {
		let s = self.stats();
		let counter = |v: u64| vec![counter_metric(None, v)];
		let labelled = |label: &str, l: &Labelled| {
			l.0.iter()
				.map(|(value, n)| {
					counter_metric(Some((label, &String::from_utf8_lossy(value))), *n)
				})
				.collect()
		};
		let metrics: Vec<Vec<proto::Metric>> = vec![
			counter(s.runs),
			vec![histogram_metric(&s.run_time)],
			counter(s.heartbeats),
			counter(s.assigned),
			counter(s.committed),
			counter(s.revealed),
			labelled("reason", &s.missed),
			labelled("error", &s.refused),
			vec![histogram_metric(&s.ml_calls)],
			labelled("reason", &s.ml_failures),
			labelled("source", &s.source_failures),
			labelled("kind", &s.resubmitted),
		];
		debug_assert_eq!(metrics.len(), METRICS.len());
		METRICS
			.iter()
			.zip(metrics)
			.map(|((name, help, kind, _), metric)| {
				let mut family = proto::MetricFamily::default();
				family.set_name(name.to_string());
				family.set_help(help.to_string());
				family.set_field_type(*kind);
				family.set_metric(metric);
				family
			})
			.collect()
	}
}

fn counter_metric(label: Option<(&str, &str)>, value: u64) -> proto::Metric {
	let mut m = proto::Metric::default();
	let mut c = proto::Counter::default();
	c.set_value(value as f64);
	m.set_counter(c);
	if let Some((name, value)) = label {
		let mut pair = proto::LabelPair::default();
		pair.set_name(name.to_string());
		pair.set_value(value.to_string());
		m.set_label(vec![pair]);
	}
	m
}

fn histogram_metric(h: &Histogram) -> proto::Metric {
	let mut cumulative = 0u64;
	let buckets = LATENCY_BUCKETS_MS
		.iter()
		.zip(h.counts.iter())
		.map(|(bound, count)| {
			cumulative = cumulative.saturating_add(*count);
			let mut b = proto::Bucket::default();
			b.set_upper_bound(*bound as f64 / 1000.0);
			b.set_cumulative_count(cumulative);
			b
		})
		.collect::<Vec<_>>();
	let mut p = proto::Histogram::default();
	p.set_sample_count(h.count());
	p.set_sample_sum(h.sum_ms as f64 / 1000.0);
	p.set_bucket(buckets);
	let mut m = proto::Metric::default();
	m.set_histogram(p);
	m
}

#[cfg(test)]
mod tests {
	use super::*;
	use prometheus_endpoint::prometheus::{Encoder, TextEncoder};

	#[derive(Clone, Default)]
	struct Memory(std::sync::Arc<std::sync::Mutex<std::collections::HashMap<Vec<u8>, Vec<u8>>>>);

	impl OffchainStorage for Memory {
		fn set(&mut self, prefix: &[u8], key: &[u8], value: &[u8]) {
			self.0.lock().unwrap().insert([prefix, key].concat(), value.to_vec());
		}
		fn remove(&mut self, prefix: &[u8], key: &[u8]) {
			self.0.lock().unwrap().remove(&[prefix, key].concat());
		}
		fn get(&self, prefix: &[u8], key: &[u8]) -> Option<Vec<u8>> {
			self.0.lock().unwrap().get(&[prefix, key].concat()).cloned()
		}
		fn compare_and_set(&mut self, _: &[u8], _: &[u8], _: Option<&[u8]>, _: &[u8]) -> bool {
			unimplemented!("the collector only reads")
		}
	}

	fn scrape(registry: &Registry) -> String {
		let mut out = Vec::new();
		TextEncoder::new().encode(&registry.gather(), &mut out).unwrap();
		String::from_utf8(out).unwrap()
	}

	#[test]
	fn the_endpoint_shows_what_the_worker_stored() {
		use codec::Encode;
		let mut storage = Memory::default();
		let registry = Registry::new();
		WorkerMetrics::register(storage.clone(), &registry).unwrap();
		// Nothing stored yet: zeros, and no labelled series.
		let empty = scrape(&registry);
		assert!(empty.contains("noderr_worker_tasks_committed_total 0"), "{empty}");
		assert!(!empty.contains("noderr_worker_tasks_missed_total{"), "{empty}");

		let mut stats = WorkerStats { runs: 3, committed: 2, revealed: 1, ..Default::default() };
		stats.missed.add(b"ml_unreachable", 1);
		stats.refused.add(b"CommitmentMismatch", 4);
		stats.ml_calls.observe(7);
		stats.ml_calls.observe(40);
		stats.source_failures.add(b"http://127.0.0.1:9960", 5);
		stats.resubmitted.add(b"reveal", 1);
		storage.set(STORAGE_PREFIX, STATS_KEY, &stats.encode());
		let text = scrape(&registry);
		for line in [
			"noderr_worker_runs_total 3",
			"noderr_worker_tasks_committed_total 2",
			"noderr_worker_tasks_revealed_total 1",
			"noderr_worker_tasks_missed_total{reason=\"ml_unreachable\"} 1",
			"noderr_worker_submissions_refused_total{error=\"CommitmentMismatch\"} 4",
			"noderr_worker_market_source_failures_total{source=\"http://127.0.0.1:9960\"} 5",
			"noderr_worker_ml_call_seconds_bucket{le=\"0.005\"} 0",
			"noderr_worker_ml_call_seconds_bucket{le=\"0.01\"} 1",
			"noderr_worker_ml_call_seconds_bucket{le=\"0.05\"} 2",
			"noderr_worker_ml_call_seconds_bucket{le=\"+Inf\"} 2",
			"noderr_worker_ml_call_seconds_sum 0.047",
			"noderr_worker_ml_call_seconds_count 2",
			"noderr_worker_resubmissions_total{kind=\"reveal\"} 1",
		] {
			assert!(text.lines().any(|l| l == line), "{line:?} missing from\n{text}");
		}
		// Garbage in the store reads as nothing done, never a failed scrape.
		storage.set(STORAGE_PREFIX, STATS_KEY, b"\xff\xff");
		assert!(scrape(&registry).contains("noderr_worker_runs_total 0"));
	}
}
