//! The Noderr chain node.

#![warn(missing_docs)]

mod beacon;
mod chain_metrics;
mod chain_spec;
mod cli;
mod client;
mod command;
mod model_store;
mod preflight;
mod results;
mod rpc;
mod service;
mod status;
mod worker_metrics;

fn main() {
	if let Err(error) = command::run() {
		// One clear line for the operator, no backtrace: these are configuration errors,
		// not bugs.
		eprintln!("Error: {error}");
		std::process::exit(1);
	}
}
