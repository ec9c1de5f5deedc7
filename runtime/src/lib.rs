//! # Noderr runtime
//!
//! The FRAME runtime of the Noderr chain. It composes consensus (Aura block production,
//! GRANDPA finality, a governance-managed validator set through `pallet-session`), the
//! NODERR token (`pallet-balances`, 12 decimals), fees and, as they land, the project's
//! pallets: staking tiers, the model registry and inference tasks.
//!
//! Pallet configuration lives in [`configs`], runtime APIs in [`apis`], genesis presets in
//! [`genesis_config_presets`].

#![cfg_attr(not(feature = "std"), no_std)]
// `construct_runtime!` and `impl_runtime_apis!` expand to a deep recursion.
#![recursion_limit = "256"]

#[cfg(feature = "std")]
include!(concat!(env!("OUT_DIR"), "/wasm_binary.rs"));

extern crate alloc;

pub mod apis;
#[cfg(feature = "runtime-benchmarks")]
mod benchmarks;
pub mod configs;
pub mod genesis_config_presets;

use alloc::vec::Vec;
use sp_runtime::{
	generic, impl_opaque_keys,
	traits::{BlakeTwo256, IdentifyAccount, Verify},
	MultiAddress, MultiSignature,
};
use sp_version::RuntimeVersion;

pub use frame_system::Call as SystemCall;
pub use pallet_balances::Call as BalancesCall;
pub use pallet_timestamp::Call as TimestampCall;
#[cfg(any(feature = "std", test))]
pub use sp_runtime::BuildStorage;

/// Opaque types for the node: it does not need to know the runtime's extrinsic format.
pub mod opaque {
	use super::*;
	use sp_runtime::generic;

	pub use sp_runtime::OpaqueExtrinsic as UncheckedExtrinsic;

	/// Opaque block header type.
	pub type Header = generic::Header<BlockNumber, BlakeTwo256>;
	/// Opaque block type.
	pub type Block = generic::Block<Header, UncheckedExtrinsic>;
	/// Opaque block identifier type.
	pub type BlockId = generic::BlockId<Block>;
}

impl_opaque_keys! {
	/// The keys a validator registers with `session.setKeys`.
	pub struct SessionKeys {
		/// Block production.
		pub aura: Aura,
		/// Finality voting.
		pub grandpa: Grandpa,
	}
}

/// The runtime's identity. Bump `spec_version` on every change to runtime logic.
#[cfg(not(feature = "upgrade-test"))]
#[sp_version::runtime_version]
pub const VERSION: RuntimeVersion = RuntimeVersion {
	spec_name: alloc::borrow::Cow::Borrowed("noderr"),
	impl_name: alloc::borrow::Cow::Borrowed("noderr-node"),
	authoring_version: 1,
	spec_version: 100,
	impl_version: 1,
	apis: apis::RUNTIME_API_VERSIONS,
	transaction_version: 1,
	system_version: 1,
};

/// The same runtime one `spec_version` later: the code the forkless-upgrade test enacts through
/// `sudo(system.set_code)` on a running network. Built only as a wasm blob, by the
/// `noderr-runtime-upgrade-test` crate (`scripts/build-upgrade-runtime.sh`).
#[cfg(feature = "upgrade-test")]
#[sp_version::runtime_version]
pub const VERSION: RuntimeVersion = RuntimeVersion {
	spec_name: alloc::borrow::Cow::Borrowed("noderr"),
	impl_name: alloc::borrow::Cow::Borrowed("noderr-node"),
	authoring_version: 1,
	spec_version: 101,
	impl_version: 1,
	apis: apis::RUNTIME_API_VERSIONS,
	transaction_version: 1,
	system_version: 1,
};

/// Target block time. Changing it on a live chain stops block production.
pub const MILLI_SECS_PER_BLOCK: u64 = 6000;
/// Aura slot duration, equal to the block time.
pub const SLOT_DURATION: u64 = MILLI_SECS_PER_BLOCK;

/// Blocks in one minute.
pub const MINUTES: BlockNumber = 60_000 / (MILLI_SECS_PER_BLOCK as BlockNumber);
/// Blocks in one hour.
pub const HOURS: BlockNumber = MINUTES * 60;
/// Blocks in one day.
pub const DAYS: BlockNumber = HOURS * 24;

/// One NODERR: the token has 12 decimals.
pub const UNIT: Balance = 1_000_000_000_000;
/// One thousandth of a NODERR.
pub const MILLI_UNIT: Balance = UNIT / 1_000;
/// One millionth of a NODERR.
pub const MICRO_UNIT: Balance = UNIT / 1_000_000;
/// Below this balance an account is reaped.
pub const EXISTENTIAL_DEPOSIT: Balance = MILLI_UNIT;
/// Token symbol shown by wallets.
pub const TOKEN_SYMBOL: &str = "NODERR";
/// Token decimals shown by wallets.
pub const TOKEN_DECIMALS: u8 = 12;
/// SS58 address prefix (the generic Substrate prefix until one is registered).
pub const SS58_PREFIX: u16 = 42;

/// Transaction signature.
pub type Signature = MultiSignature;
/// Account identifier: the signer's public key.
pub type AccountId = <<Signature as Verify>::Signer as IdentifyAccount>::AccountId;
/// Token amount.
pub type Balance = u128;
/// Per-account transaction counter.
pub type Nonce = u32;
/// Block and state hash.
pub type Hash = sp_core::H256;
/// Block number.
pub type BlockNumber = u32;
/// Address format of extrinsics.
pub type Address = MultiAddress<AccountId, ()>;
/// Block header.
pub type Header = generic::Header<BlockNumber, BlakeTwo256>;
/// Block.
pub type Block = generic::Block<Header, UncheckedExtrinsic>;
/// Block identifier.
pub type BlockId = generic::BlockId<Block>;

/// Checks applied to every transaction. `AuthorizeCall` comes first: it gives calls with their
/// own authorization (the workers' signed submissions) the `Authorized` origin, which the later
/// extensions let through without a signer, nonce or fee. It adds no bytes to a transaction or
/// to what a signer signs.
pub type TxExtension = (
	frame_system::AuthorizeCall<Runtime>,
	frame_system::CheckNonZeroSender<Runtime>,
	frame_system::CheckSpecVersion<Runtime>,
	frame_system::CheckTxVersion<Runtime>,
	frame_system::CheckGenesis<Runtime>,
	frame_system::CheckEra<Runtime>,
	frame_system::CheckNonce<Runtime>,
	frame_system::CheckWeight<Runtime>,
	pallet_transaction_payment::ChargeTransactionPayment<Runtime>,
	frame_metadata_hash_extension::CheckMetadataHash<Runtime>,
);

/// Extrinsic format.
pub type UncheckedExtrinsic =
	generic::UncheckedExtrinsic<Address, RuntimeCall, Signature, TxExtension>;
/// What a signer signs.
pub type SignedPayload = generic::SignedPayload<RuntimeCall, TxExtension>;

/// Storage migrations run on the next runtime upgrade, besides the pallets' own.
#[allow(unused_parens)]
type Migrations = ();

/// Dispatches extrinsics and runs the pallets' hooks.
pub type Executive = frame_executive::Executive<
	Runtime,
	Block,
	frame_system::ChainContext<Runtime>,
	Runtime,
	AllPalletsWithSystem,
	Migrations,
>;

#[frame_support::runtime]
mod runtime {
	#[runtime::runtime]
	#[runtime::derive(
		RuntimeCall,
		RuntimeEvent,
		RuntimeError,
		RuntimeOrigin,
		RuntimeFreezeReason,
		RuntimeHoldReason,
		RuntimeSlashReason,
		RuntimeLockId,
		RuntimeTask,
		RuntimeViewFunction
	)]
	pub struct Runtime;

	#[runtime::pallet_index(0)]
	pub type System = frame_system;
	#[runtime::pallet_index(1)]
	pub type Timestamp = pallet_timestamp;
	#[runtime::pallet_index(2)]
	pub type Balances = pallet_balances;
	#[runtime::pallet_index(3)]
	pub type TransactionPayment = pallet_transaction_payment;
	#[runtime::pallet_index(4)]
	pub type Sudo = pallet_sudo;
	// Before Session: its on_initialize reads the block's author from the authority set the
	// block was authored under, before a session change replaces it.
	#[runtime::pallet_index(5)]
	pub type Beacon = pallet_beacon;

	// Consensus. The validator set comes before Session so that Session's genesis can ask
	// it for the first authorities; Aura and Grandpa get theirs from Session.
	#[runtime::pallet_index(10)]
	pub type ValidatorSet = pallet_validator_set;
	#[runtime::pallet_index(11)]
	pub type Session = pallet_session;
	#[runtime::pallet_index(12)]
	pub type Aura = pallet_aura;
	#[runtime::pallet_index(13)]
	pub type Grandpa = pallet_grandpa;

	// Noderr.
	#[runtime::pallet_index(20)]
	pub type StakingTiers = pallet_staking_tiers;
	#[runtime::pallet_index(21)]
	pub type ModelRegistry = pallet_model_registry;
	#[runtime::pallet_index(22)]
	pub type Inference = pallet_inference;
	// After Inference: its on_initialize charges the settlement hook's work of the same block.
	#[runtime::pallet_index(23)]
	pub type Guardian = pallet_guardian;
}
