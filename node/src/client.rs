//! The node's client type, shared by the service that builds it and the parts that use it.

use noderr_runtime::{apis::RuntimeApi, opaque::Block};

/// The client type: the runtime always runs as wasm.
pub type FullClient = sc_service::TFullClient<
	Block,
	RuntimeApi,
	sc_executor::WasmExecutor<sp_io::SubstrateHostFunctions>,
>;
