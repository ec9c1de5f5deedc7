//! `noderr-node status`: an operator's standing, read from a running node's JSON-RPC endpoint.
//! What the operator guide tells a new operator to run after linking its worker key, and the
//! first thing to run when something looks wrong: each line says what is missing and what to do.

use crate::{
	cli::StatusCmd,
	results::{block_on, noderr, parse_number, Chain},
};
use codec::{Decode, Encode};
use noderr_ml::store::Http;
use noderr_primitives::Tier;
use noderr_runtime::{AccountId, Balance, BlockNumber};
use pallet_inference::{Expected, OperatorStatus as WorkStatus};
use pallet_staking_tiers::{OperatorState, OperatorStatus as StakeStatus};
use serde_json::{json, Value};
use sp_core::crypto::{Ss58AddressFormat, Ss58Codec};

type Work = WorkStatus<AccountId, Balance, BlockNumber>;
type Stake = StakeStatus<Balance, BlockNumber>;
type Offences = (Vec<pallet_guardian::Offence<BlockNumber>>, u32);

/// Runs the command.
pub fn run(cmd: &StatusCmd) -> Result<(), String> {
	block_on(status(cmd))
}

fn ss58(who: &AccountId) -> String {
	who.to_ss58check_with_version(Ss58AddressFormat::custom(42))
}

fn tier_name(tier: Option<Tier>) -> &'static str {
	match tier {
		Some(Tier::All) => "ALL",
		Some(Tier::Oracle) => "ORACLE",
		Some(Tier::Guardian) => "GUARDIAN",
		None => "none",
	}
}

/// The worker keys in the node's keystore, with the operator each is linked to (if any).
async fn worker_keys(
	chain: &Chain<'_>,
	at: &str,
) -> Result<Vec<(AccountId, Option<AccountId>)>, String> {
	let keys = chain.call("worker_keys", json!([])).await.map_err(|e| {
		format!("{e} (listing worker keys is an unsafe method: use the node's localhost RPC port, or pass --operator)")
	})?;
	let mut out = Vec::new();
	for k in keys.as_array().cloned().unwrap_or_default() {
		let hex = k["public"].as_str().unwrap_or_default();
		let raw =
			sp_core::bytes::from_hex(hex).map_err(|_| format!("worker_keys: bad key {hex}"))?;
		let worker =
			AccountId::decode(&mut &raw[..]).map_err(|_| format!("worker_keys: bad key {hex}"))?;
		let key = pallet_inference::OperatorOf::<noderr_runtime::Runtime>::hashed_key_for(&worker);
		let operator =
			chain.storage(&key, at).await?.and_then(|b| AccountId::decode(&mut &b[..]).ok());
		out.push((worker, operator));
	}
	Ok(out)
}

async fn status(cmd: &StatusCmd) -> Result<(), String> {
	let chain = Chain { http: Http::new()?, url: &cmd.rpc_url };
	let health = chain.call("system_health", json!([])).await?;
	let best = parse_number(&chain.call("chain_getHeader", json!([])).await?["number"])?;
	let finalized = chain.finalized_number().await?;
	let at = chain.hash(finalized).await?;
	let peers = health["peers"].as_u64().unwrap_or_default();
	let syncing = health["isSyncing"].as_bool().unwrap_or_default();

	let keys = if cmd.operator.is_empty() { Some(worker_keys(&chain, &at).await?) } else { None };
	let mut operators: Vec<AccountId> = Vec::new();
	for s in &cmd.operator {
		operators.push(
			AccountId::from_ss58check(s)
				.map_err(|e| format!("--operator {s}: not an SS58 account ({e:?})"))?,
		);
	}
	for (_, op) in keys.iter().flatten() {
		if let Some(op) = op {
			if !operators.contains(op) {
				operators.push(op.clone());
			}
		}
	}

	let mut reports = Vec::new();
	for op in &operators {
		let stake: Stake =
			chain.runtime_api("StakingTiersApi_operator_status", op.encode(), &at).await?;
		let work: Work = chain.runtime_api("InferenceApi_operator", op.encode(), &at).await?;
		let offences: Offences =
			chain.runtime_api("GuardianApi_offences", op.encode(), &at).await?;
		let misses: u32 = chain.runtime_api("GuardianApi_misses", op.encode(), &at).await?;
		reports.push((op.clone(), stake, work, offences, misses));
	}

	if cmd.json {
		let keys_json: Vec<Value> = keys
			.iter()
			.flatten()
			.map(|(w, o)| json!({ "worker": ss58(w), "operator": o.as_ref().map(ss58) }))
			.collect();
		let ops: Vec<Value> = reports
			.iter()
			.map(|(op, stake, work, offences, misses)| {
				json!({
					"operator": ss58(op),
					"state": stake.state.map(|s| format!("{s:?}")),
					"tier": stake.tier.map(|t| format!("{t:?}")),
					"next_tier": stake.next_tier.map(|t| format!("{t:?}")),
					"bonded": stake.active.to_string(),
					"unlocking": stake.unlocking.iter().map(|(v, at)| json!([v.to_string(), at])).collect::<Vec<_>>(),
					"pending_slashes": stake.pending_slashes.iter().map(|(id, f, at)| json!([id, f.deconstruct(), at])).collect::<Vec<_>>(),
					"worker": work.worker.as_ref().map(ss58),
					"heartbeat": work.heartbeat.as_ref().map(|(b, _)| *b),
					"serves": work.heartbeat.as_ref().map_or(0, |(_, k)| k.len()),
					"live": work.live,
					"assigned": work.stats.assigned,
					"agreed": work.stats.agreed,
					"strikes": work.stats.strikes,
					"rewards": work.stats.rewards.to_string(),
					"open_tasks": work.tasks.iter().map(|(id, e)| json!([id, format!("{e:?}")])).collect::<Vec<_>>(),
					"offences": offences.1,
					"missed_reveals": misses,
				})
			})
			.collect();
		println!(
			"{}",
			json!({ "rpc": cmd.rpc_url, "best": best, "finalized": finalized, "peers": peers,
				"syncing": syncing, "worker_keys": keys_json, "operators": ops })
		);
		return Ok(());
	}

	println!(
		"node {}: best #{best}, finalized #{finalized}, {peers} peers{}",
		cmd.rpc_url,
		if syncing { ", syncing" } else { "" }
	);
	if let Some(keys) = &keys {
		if keys.is_empty() {
			println!(
				"worker keys: none in this node's keystore; make one with the worker_generateKey RPC \
				 (or `noderr-node key insert --key-type nwrk`), then link it with inference.linkWorker"
			);
		}
		for (worker, op) in keys {
			match op {
				Some(op) => {
					println!("worker key {}: linked to operator {}", ss58(worker), ss58(op))
				}
				None => println!(
					"worker key {}: not linked; from your operator account call inference.linkWorker({})",
					ss58(worker),
					format_args!("0x{}", sp_core::hexdisplay::HexDisplay::from(&worker.encode()))
				),
			}
		}
	}
	for (op, stake, work, offences, misses) in &reports {
		println!("operator {}", ss58(op));
		let state = match stake.state {
			None => "not an operator: apply with stakingTiers.apply".to_string(),
			Some(OperatorState::Pending) => "applied, waiting for governance's approval".into(),
			Some(s) => format!("{s:?}"),
		};
		let next = if stake.next_tier != stake.tier {
			format!(" (next epoch: {})", tier_name(stake.next_tier))
		} else {
			String::new()
		};
		println!(
			"  staking: {state}, tier {}{next}, bonded {} NODERR",
			tier_name(stake.tier),
			noderr(stake.active)
		);
		for (value, until) in &stake.unlocking {
			println!("  unbonding: {} NODERR, withdrawable at #{until}", noderr(*value));
		}
		for (id, fraction, apply_at) in &stake.pending_slashes {
			println!(
				"  pending slash {id}: {}% of the stake at #{apply_at} (governance may cancel it before)",
				fraction.deconstruct() as f64 / 1e7
			);
		}
		let worker = match &work.worker {
			Some(w) => ss58(w),
			None => "none linked (inference.linkWorker)".into(),
		};
		let heartbeat = match (&work.heartbeat, work.live) {
			(Some((b, keys)), true) => {
				format!("live (#{b}, serving {} models and market data keys)", keys.len())
			}
			(Some((b, _)), false) => {
				format!("lapsed since #{b}: is the node and its off-chain worker running?")
			}
			(None, _) => "never: the worker has not declared itself yet".into(),
		};
		println!("  worker: {worker}; heartbeat {heartbeat}");
		println!(
			"  record: {} tasks assigned, {} agreed, {} strikes, {} NODERR earned",
			work.stats.assigned,
			work.stats.agreed,
			work.stats.strikes,
			noderr(work.stats.rewards)
		);
		for (id, expected) in &work.tasks {
			let what = match expected {
				Expected::Commit { until } => format!("commit before #{until}"),
				Expected::Reveal { until } => format!("reveal before #{until}"),
				Expected::Wait => "nothing to do now".into(),
			};
			println!("  open task {id}: {what}");
		}
		println!(
			"  guardians: {} confirmed offences count, {misses} missed reveals in the window",
			offences.1
		);
	}
	Ok(())
}
