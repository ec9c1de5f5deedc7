//! The model store's Prometheus metrics.

use prometheus_endpoint::{register, CounterVec, Gauge, Opts, PrometheusError, Registry, U64};

/// Fetches by source and outcome, misbehaving peers, and the models wanted, served and being
/// downloaded.
#[derive(Clone)]
pub struct Metrics {
	pub(super) fetches: CounterVec<U64>,
	pub(super) misbehaviour: CounterVec<U64>,
	pub(super) wanted: Gauge<U64>,
	pub(super) served: Gauge<U64>,
	pub(super) downloading: Gauge<U64>,
}

impl Metrics {
	/// Registers `noderr_model_fetches_total{source, outcome}`,
	/// `noderr_model_peer_misbehaviour_total{kind}`, `noderr_models_wanted`,
	/// `noderr_models_served` and `noderr_models_downloading`.
	pub fn register(r: &Registry) -> Result<Self, PrometheusError> {
		Ok(Self {
			fetches: register(
				CounterVec::new(
					Opts::new(
						"noderr_model_fetches_total",
						"Artifacts obtained or refused, by source (import, peer, http) and outcome",
					),
					&["source", "outcome"],
				)?,
				r,
			)?,
			misbehaviour: register(
				CounterVec::new(
					Opts::new(
						"noderr_model_peer_misbehaviour_total",
						"Peers reported while sending an artifact, by what they did (slow, \
						 short_chunk, oversized, malformed, bad_bytes)",
					),
					&["kind"],
				)?,
				r,
			)?,
			wanted: register(
				Gauge::new(
					"noderr_models_wanted",
					"Model versions the registry lists for this node's tier",
				)?,
				r,
			)?,
			served: register(
				Gauge::new("noderr_models_served", "Model versions the ML service serves")?,
				r,
			)?,
			downloading: register(
				Gauge::new("noderr_models_downloading", "Artifacts being obtained right now")?,
				r,
			)?,
		})
	}
}
