//! `noderr-node results`: prints the tasks a running node's chain settled, block by block, from
//! the node's JSON-RPC (HTTP) endpoint: each task's kind, model, answer, dispersion,
//! participation, rewards and latency, each bar a feed adds, and the guardians' work: audits
//! opened and concluded, reports and verdicts, confirmed offences and the slashes they lead to.
//! With `--follow` it keeps printing as blocks are finalized.

use crate::{chain_metrics::class_label, cli::ResultsCmd};
use codec::{Decode, Encode};
use noderr_ml::store::Http;
use noderr_primitives::Participation;
use noderr_runtime::{AccountId, Balance, BlockNumber, Hash, RuntimeEvent, UNIT};
use pallet_guardian::Event as GuardianEvent;
use pallet_inference::{Event as InferenceEvent, Outcome, TaskStatus};
use pallet_staking_tiers::Event as StakingEvent;
use serde_json::{json, Value};
use std::collections::HashMap;

/// A block's events, as `System::Events` stores them.
pub(crate) type EventRecords = Vec<frame_system::EventRecord<RuntimeEvent, Hash>>;
type Status = TaskStatus<AccountId, Balance, BlockNumber>;

/// The node's chain, over JSON-RPC.
pub(crate) struct Chain<'a> {
	pub(crate) http: Http,
	pub(crate) url: &'a str,
}

impl Chain<'_> {
	pub(crate) async fn call(&self, method: &str, params: Value) -> Result<Value, String> {
		self.http
			.json_rpc(self.url, method, params)
			.await
			.map_err(|e| format!("{method} on {}: {e}", self.url))
	}

	pub(crate) async fn finalized_number(&self) -> Result<BlockNumber, String> {
		let hash = self.call("chain_getFinalizedHead", json!([])).await?;
		let header = self.call("chain_getHeader", json!([hash])).await?;
		parse_number(&header["number"])
	}

	pub(crate) async fn hash(&self, number: BlockNumber) -> Result<String, String> {
		let hash = self.call("chain_getBlockHash", json!([number])).await?;
		hash.as_str().map(String::from).ok_or_else(|| format!("no block #{number}"))
	}

	pub(crate) async fn bytes(
		&self,
		method: &str,
		params: Value,
	) -> Result<Option<Vec<u8>>, String> {
		match self.call(method, params).await? {
			Value::Null => Ok(None),
			Value::String(s) => {
				sp_core::bytes::from_hex(&s).map(Some).map_err(|_| format!("{method}: not hex"))
			}
			other => Err(format!("{method}: unexpected answer {other}")),
		}
	}

	/// Calls runtime API `function` with `args` at block `at` and decodes its answer.
	pub(crate) async fn runtime_api<R: Decode>(
		&self,
		function: &str,
		args: Vec<u8>,
		at: &str,
	) -> Result<R, String> {
		let args = format!("0x{}", sp_core::hexdisplay::HexDisplay::from(&args));
		let raw = self.bytes("state_call", json!([function, args, at])).await?.unwrap_or_default();
		R::decode(&mut &raw[..]).map_err(|_| {
			format!("{function}: the answer does not decode with this node's runtime types")
		})
	}

	/// The value at storage `key` at block `at`.
	pub(crate) async fn storage(&self, key: &[u8], at: &str) -> Result<Option<Vec<u8>>, String> {
		let key = format!("0x{}", sp_core::hexdisplay::HexDisplay::from(&key));
		self.bytes("state_getStorage", json!([key, at])).await
	}

	async fn events(&self, at: &str) -> Result<EventRecords, String> {
		let raw = self.storage(&events_key(), at).await?.unwrap_or_default();
		EventRecords::decode(&mut &raw[..]).map_err(|_| {
			"the block's events do not decode with this node's runtime types: use the noderr-node \
			 that matches the chain's runtime"
				.to_string()
		})
	}
}

/// The storage key of `System::Events`.
pub(crate) fn events_key() -> Vec<u8> {
	[sp_io::hashing::twox_128(b"System"), sp_io::hashing::twox_128(b"Events")].concat()
}

pub(crate) fn parse_number(v: &Value) -> Result<BlockNumber, String> {
	let s = v.as_str().ok_or("a block number is not a string")?;
	BlockNumber::from_str_radix(s.trim_start_matches("0x"), 16).map_err(|e| e.to_string())
}

/// Whole NODERR with up to 4 decimals.
pub(crate) fn noderr(amount: Balance) -> String {
	let whole = amount / UNIT;
	let frac = (amount % UNIT) / (UNIT / 10_000);
	if frac == 0 {
		format!("{whole}")
	} else {
		format!("{whole}.{}", format!("{frac:04}").trim_end_matches('0'))
	}
}

/// Runs a command's work, one future talking to the node, to its end.
pub(crate) fn block_on(
	work: impl std::future::Future<Output = Result<(), String>>,
) -> Result<(), String> {
	let runtime = tokio::runtime::Builder::new_current_thread()
		.enable_all()
		.build()
		.map_err(|e| e.to_string())?;
	runtime.block_on(work)
}

/// Runs the command.
pub fn run(cmd: &ResultsCmd) -> Result<(), String> {
	block_on(follow(cmd))
}

async fn follow(cmd: &ResultsCmd) -> Result<(), String> {
	let chain = Chain { http: Http::new()?, url: &cmd.rpc_url };
	let head = chain.finalized_number().await?;
	let mut next = cmd.from.unwrap_or(head.saturating_sub(cmd.blocks).max(1));
	let mut names: HashMap<[u8; 32], String> = HashMap::new();
	if !cmd.json {
		let until = if cmd.follow {
			"following finalized blocks, Ctrl-C to stop".into()
		} else {
			format!("to #{head}")
		};
		println!("settled tasks on {} from #{next} ({until})", cmd.rpc_url);
	}
	loop {
		let head = chain.finalized_number().await?;
		while next <= head {
			let at = chain.hash(next).await?;
			let records = chain.events(&at).await?;
			for record in &records {
				let line = match &record.event {
					RuntimeEvent::Guardian(e) => describe_guardian(next, e, cmd.json),
					RuntimeEvent::StakingTiers(e) => describe_slash(next, e, cmd.json),
					_ => None,
				};
				if let Some(line) = line {
					println!("{line}");
				}
			}
			let events: Vec<_> = records
				.into_iter()
				.filter_map(|r| match r.event {
					RuntimeEvent::Inference(e) => Some(e),
					_ => None,
				})
				.collect();
			// A seeded history is one line, not a line per archived bar.
			let seeded: Vec<_> = events
				.iter()
				.filter_map(|e| match e {
					InferenceEvent::HistorySeeded { feed, .. } => Some(*feed),
					_ => None,
				})
				.collect();
			for event in events {
				if matches!(&event, InferenceEvent::BarAdded { feed, .. } if seeded.contains(feed))
				{
					continue;
				}
				if let Some(line) = describe(&chain, &mut names, next, &at, event, cmd.json).await?
				{
					println!("{line}");
				}
			}
			next += 1;
		}
		if !cmd.follow {
			return Ok(());
		}
		tokio::time::sleep(std::time::Duration::from_secs(1)).await;
	}
}

/// A model's name and version, from the registry at `at`.
async fn model_name(
	chain: &Chain<'_>,
	names: &mut HashMap<[u8; 32], String>,
	hash: [u8; 32],
	at: &str,
) -> Result<String, String> {
	if !names.contains_key(&hash) {
		let models: Vec<pallet_model_registry_runtime_api::ModelInfo<BlockNumber>> = chain
			.runtime_api(
				"ModelRegistryApi_active_models",
				noderr_primitives::Tier::Guardian.encode(),
				at,
			)
			.await?;
		for m in models {
			names.insert(m.spec.artifact_hash, crate::model_store::label(&m));
		}
	}
	Ok(names
		.get(&hash)
		.cloned()
		.unwrap_or_else(|| format!("0x{}", sp_core::hexdisplay::HexDisplay::from(&hash))))
}

async fn describe(
	chain: &Chain<'_>,
	names: &mut HashMap<[u8; 32], String>,
	block: BlockNumber,
	at: &str,
	event: InferenceEvent<noderr_runtime::Runtime>,
	as_json: bool,
) -> Result<Option<String>, String> {
	let task = match event {
		InferenceEvent::TaskSettled { task, .. } | InferenceEvent::TaskFailed { task, .. } => task,
		InferenceEvent::BarAdded { feed, number, bar } => {
			let time = chrono_free_utc(bar.time);
			let close = bar.close as f64 / 1e6;
			return Ok(Some(if as_json {
				json!({ "block": block, "kind": "bar", "feed": feed, "number": number, "time": bar.time, "close": bar.close }).to_string()
			} else {
				format!("#{block} feed {feed} bar {number} {time} close {close:.2}")
			}));
		}
		InferenceEvent::HistorySeeded { feed, bars, .. } => {
			return Ok(Some(if as_json {
				json!({ "block": block, "kind": "seeded", "feed": feed, "bars": bars }).to_string()
			} else {
				format!("#{block} feed {feed} seeded with {bars} archived bars")
			}));
		}
		_ => return Ok(None),
	};
	let status: Option<Status> = chain.runtime_api("InferenceApi_task", task.encode(), at).await?;
	let Some(TaskStatus::Finished { class, model, created, settled, outcome, operators }) = status
	else {
		return Ok(None);
	};
	let model_name = match model {
		Some(hash) => model_name(chain, names, hash, at).await?,
		None => "market".into(),
	};
	let paid: Balance = operators.iter().map(|o| o.reward).sum();
	let agreed =
		operators.iter().filter(|o| matches!(o.participation, Participation::Agreed)).count();
	if as_json {
		let (answer, dispersion) = match &outcome {
			Outcome::Settled { answer, dispersion } => {
				(Some(answer.to_vec()), Some(dispersion.to_vec()))
			}
			_ => (None, None),
		};
		let ops: Vec<Value> = operators
			.iter()
			.map(|o| {
				json!({
					"operator": o.who.to_string(),
					"participation": format!("{:?}", o.participation),
					"answer": o.answer.as_ref().map(|a| a.to_vec()),
					"reward": o.reward.to_string(),
				})
			})
			.collect();
		return Ok(Some(
			json!({
				"block": block, "kind": "task", "task": task, "class": class_label(class),
				"model": model_name, "created": created, "settled": settled,
				"outcome": format!("{outcome:?}").split([' ', '{']).next().unwrap_or(""),
				"answer": answer, "dispersion": dispersion, "assigned": operators.len(),
				"agreed": agreed, "paid": paid.to_string(), "operators": ops,
			})
			.to_string(),
		));
	}
	let head = format!("#{block} task {task} {} {model_name}", class_label(class));
	let latency = format!("{} blocks after creation", settled.saturating_sub(created));
	let body = match outcome {
		Outcome::Settled { answer, dispersion } => {
			let parts: Vec<String> = operators
				.iter()
				.map(|o| format!("{}:{:?}+{}", short(&o.who), o.participation, noderr(o.reward)))
				.collect();
			format!(
				"answer {:?} dispersion {:?}, {agreed}/{} agreed, paid {} NODERR, {latency} ({})",
				answer.to_vec(),
				dispersion.to_vec(),
				operators.len(),
				noderr(paid),
				parts.join(" ")
			)
		}
		other => format!("{other:?}, {latency}"),
	};
	Ok(Some(format!("{head}: {body}")))
}

fn short(who: &AccountId) -> String {
	let s = who.to_string();
	format!("{}…", &s[..6.min(s.len())])
}

/// A line for a guardian event worth watching: audits, reports, verdicts, offences.
fn describe_guardian(
	block: BlockNumber,
	event: &GuardianEvent<noderr_runtime::Runtime>,
	as_json: bool,
) -> Option<String> {
	use GuardianEvent as E;
	Some(match event {
		E::AuditOpened { task, audit, report, disputed } => {
			let why = match (report, disputed) {
				(Some(r), _) => format!("report {r}"),
				(None, true) => "disputed".into(),
				(None, false) => "sampled".into(),
			};
			if as_json {
				json!({ "block": block, "kind": "audit-opened", "task": task, "audit": audit, "why": why })
					.to_string()
			} else {
				format!("#{block} audit: task {task} is re-run as task {audit} by a GUARDIAN panel ({why})")
			}
		}
		E::AuditConcluded { audit, task, answered, offenders } => {
			let found: Vec<String> = offenders.iter().map(|o| o.to_string()).collect();
			if as_json {
				json!({ "block": block, "kind": "audit-concluded", "task": task, "audit": audit,
					"answered": answered, "offenders": found })
				.to_string()
			} else {
				let verdict = if offenders.is_empty() {
					"every answer within tolerance".to_string()
				} else {
					format!(
						"beyond tolerance: {}",
						offenders.iter().map(short).collect::<Vec<_>>().join(" ")
					)
				};
				format!("#{block} audit {audit} of task {task}: {answered} GUARDIANs answered, {verdict}")
			}
		}
		E::Reported { report, reporter, accused, kind, task, .. } => {
			if as_json {
				json!({ "block": block, "kind": "reported", "report": report,
					"reporter": reporter.to_string(), "accused": accused.to_string(),
					"offence": format!("{kind:?}"), "task": task })
				.to_string()
			} else {
				let on = task.map(|t| format!(" on task {t}")).unwrap_or_default();
				format!(
					"#{block} report {report}: {} accuses {} of {kind:?}{on}",
					short(reporter),
					short(accused)
				)
			}
		}
		E::ReportJudged { report, verdict, ayes, nays, .. } => {
			if as_json {
				json!({ "block": block, "kind": "report-judged", "report": report,
					"verdict": format!("{verdict:?}"), "ayes": ayes, "nays": nays })
				.to_string()
			} else {
				format!(
					"#{block} report {report}: {verdict:?} ({ayes} confirming, {nays} rejecting)"
				)
			}
		}
		E::OffenceConfirmed { who, kind, task, fraction, slash, .. } => {
			let percent = fraction.deconstruct() as f64 / 1e7;
			if as_json {
				json!({ "block": block, "kind": "offence", "who": who.to_string(),
					"offence": format!("{kind:?}"), "task": task, "percent": percent, "slash": slash })
				.to_string()
			} else {
				let on = task.map(|t| format!(" on task {t}")).unwrap_or_default();
				let what = match slash {
					Some(id) => format!("slash {id} of {percent}% scheduled"),
					None => "no slash could be scheduled".into(),
				};
				format!("#{block} offence: {} {kind:?}{on}, {what}", short(who))
			}
		}
		E::OperatorSuspended { who, offences } => {
			if as_json {
				json!({ "block": block, "kind": "suspended", "who": who.to_string(), "offences": offences })
					.to_string()
			} else {
				format!("#{block} {} suspended after {offences} confirmed offences", short(who))
			}
		}
		_ => return None,
	})
}

/// A line for a slash applied or cancelled.
fn describe_slash(
	block: BlockNumber,
	event: &StakingEvent<noderr_runtime::Runtime>,
	as_json: bool,
) -> Option<String> {
	Some(match event {
		StakingEvent::SlashApplied { id, who, amount, to_reporters, to_treasury } => {
			if as_json {
				json!({ "block": block, "kind": "slash-applied", "slash": id, "who": who.to_string(),
					"amount": amount.to_string(), "to_reporters": to_reporters.to_string(),
					"to_treasury": to_treasury.to_string() })
				.to_string()
			} else {
				format!(
					"#{block} slash {id} applied: {} lost {} NODERR ({} to reporters, {} to the treasury)",
					short(who),
					noderr(*amount),
					noderr(*to_reporters),
					noderr(*to_treasury)
				)
			}
		}
		StakingEvent::SlashCancelled { id, who } => {
			if as_json {
				json!({ "block": block, "kind": "slash-cancelled", "slash": id, "who": who.to_string() })
					.to_string()
			} else {
				format!("#{block} slash {id} of {} cancelled by governance", short(who))
			}
		}
		_ => return None,
	})
}

/// `YYYY-MM-DDTHH:MM:SSZ` for a Unix time (civil-from-days, proleptic Gregorian calendar).
fn chrono_free_utc(unix: u64) -> String {
	let days = (unix / 86_400) as i64;
	let secs = unix % 86_400;
	let z = days + 719_468;
	let era = z.div_euclid(146_097);
	let doe = z.rem_euclid(146_097);
	let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
	let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	let mp = (5 * doy + 2) / 153;
	let day = doy - (153 * mp + 2) / 5 + 1;
	let month = if mp < 10 { mp + 3 } else { mp - 9 };
	let year = yoe + era * 400 + i64::from(month <= 2);
	format!(
		"{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
		secs / 3_600,
		secs % 3_600 / 60,
		secs % 60
	)
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn times_and_amounts_read_as_people_write_them() {
		assert_eq!(chrono_free_utc(0), "1970-01-01T00:00:00Z");
		assert_eq!(chrono_free_utc(1_709_251_200), "2024-03-01T00:00:00Z", "after a leap day");
		assert_eq!(chrono_free_utc(951_782_400), "2000-02-29T00:00:00Z");
		assert_eq!(chrono_free_utc(1_735_689_599), "2024-12-31T23:59:59Z");
		assert_eq!(noderr(5_000_000_000_000), "5");
		assert_eq!(noderr(400_000_000_000), "0.4");
		assert_eq!(noderr(1_234_567_890_123), "1.2345");
	}
}
