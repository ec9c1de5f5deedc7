//! Configuration of every pallet in the runtime.

use crate::{
	AccountId, Aura, Balance, Balances, Block, BlockNumber, Hash, Nonce, PalletInfo, Runtime,
	RuntimeCall, RuntimeEvent, RuntimeFreezeReason, RuntimeHoldReason, RuntimeOrigin, RuntimeTask,
	SessionKeys, System, ValidatorSet, EXISTENTIAL_DEPOSIT, MICRO_UNIT, SLOT_DURATION, SS58_PREFIX,
	UNIT, VERSION,
};
use frame_support::{
	derive_impl,
	dispatch::DispatchClass,
	parameter_types,
	traits::{ConstBool, ConstU128, ConstU32, ConstU64, ConstU8, VariantCountOf},
	weights::{
		constants::{ParityDbWeight, WEIGHT_REF_TIME_PER_SECOND},
		ConstantMultiplier, IdentityFee, Weight,
	},
	PalletId,
};
use frame_system::{
	limits::{BlockLength, BlockWeights},
	EnsureRoot,
};
use pallet_transaction_payment::{FungibleAdapter, Multiplier, TargetedFeeAdjustment};
use sp_consensus_aura::sr25519::AuthorityId as AuraId;
use sp_runtime::{
	traits::{AccountIdConversion, ConvertInto, One, OpaqueKeys},
	FixedPointNumber, Perbill, Perquintill,
};
use sp_version::RuntimeVersion;

const NORMAL_DISPATCH_RATIO: Perbill = Perbill::from_percent(75);
const MAX_BLOCK_LENGTH: u32 = 5 * 1024 * 1024;

parameter_types! {
	pub const BlockHashCount: BlockNumber = 2400;
	pub const Version: RuntimeVersion = VERSION;
	/// Two seconds of compute in a six-second block.
	pub RuntimeBlockWeights: BlockWeights = BlockWeights::with_sensible_defaults(
		Weight::from_parts(2u64 * WEIGHT_REF_TIME_PER_SECOND, u64::MAX),
		NORMAL_DISPATCH_RATIO,
	);
	/// 5 MiB blocks, of which normal transactions may fill 75 %.
	pub RuntimeBlockLength: BlockLength = BlockLength::builder()
		.max_length(MAX_BLOCK_LENGTH)
		.modify_max_length_for_class(DispatchClass::Normal, |max| {
			*max = NORMAL_DISPATCH_RATIO * *max
		})
		.build();
	pub const SS58Prefix: u16 = SS58_PREFIX;
}

#[derive_impl(frame_system::config_preludes::SolochainDefaultConfig)]
impl frame_system::Config for Runtime {
	type Block = Block;
	type BlockWeights = RuntimeBlockWeights;
	type BlockLength = RuntimeBlockLength;
	type AccountId = AccountId;
	type Nonce = Nonce;
	type Hash = Hash;
	type BlockHashCount = BlockHashCount;
	/// The node stores state in ParityDB.
	type DbWeight = ParityDbWeight;
	type Version = Version;
	type AccountData = pallet_balances::AccountData<Balance>;
	type SS58Prefix = SS58Prefix;
	type MaxConsumers = ConstU32<16>;
}

impl pallet_timestamp::Config for Runtime {
	/// Milliseconds since the Unix epoch.
	type Moment = u64;
	type OnTimestampSet = Aura;
	type MinimumPeriod = ConstU64<{ SLOT_DURATION / 2 }>;
	type WeightInfo = ();
}

impl pallet_balances::Config for Runtime {
	type MaxLocks = ConstU32<50>;
	type MaxReserves = ();
	type ReserveIdentifier = [u8; 8];
	type Balance = Balance;
	type RuntimeEvent = RuntimeEvent;
	type DustRemoval = ();
	type ExistentialDeposit = ConstU128<EXISTENTIAL_DEPOSIT>;
	type AccountStore = System;
	type WeightInfo = pallet_balances::weights::SubstrateWeight<Runtime>;
	type FreezeIdentifier = RuntimeFreezeReason;
	type MaxFreezes = VariantCountOf<RuntimeFreezeReason>;
	type RuntimeHoldReason = RuntimeHoldReason;
	type RuntimeFreezeReason = RuntimeFreezeReason;
	type DoneSlashHandler = ();
}

/// Fee per byte of an extrinsic: 10 micro-NODERR, so that filling a block's normal length
/// (3.75 MiB) costs about 39 NODERR before the multiplier.
pub const TRANSACTION_BYTE_FEE: Balance = 10 * MICRO_UNIT;

parameter_types! {
	pub const TransactionByteFee: Balance = TRANSACTION_BYTE_FEE;
	/// The fee multiplier steers blocks towards a quarter full: above it fees rise, below it
	/// they fall back, never below the base fee.
	pub const TargetBlockFullness: Perquintill = Perquintill::from_percent(25);
	/// How fast the multiplier moves: with every block full it rises about 0.02 % per block,
	/// about 15 % an hour at 6-second blocks.
	pub AdjustmentVariable: Multiplier = Multiplier::saturating_from_rational(3, 10_000);
	pub MinimumMultiplier: Multiplier = Multiplier::one();
	pub MaximumMultiplier: Multiplier = Multiplier::saturating_from_integer(1_000_000);
}

/// The multiplier update: congestion pricing towards `TargetBlockFullness`.
pub type SlowAdjustingFeeUpdate<R> = TargetedFeeAdjustment<
	R,
	TargetBlockFullness,
	AdjustmentVariable,
	MinimumMultiplier,
	MaximumMultiplier,
>;

impl pallet_transaction_payment::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type OnChargeTransaction = FungibleAdapter<Balances, ()>;
	type OperationalFeeMultiplier = ConstU8<5>;
	type WeightToFee = IdentityFee<Balance>;
	type LengthToFee = ConstantMultiplier<Balance, TransactionByteFee>;
	type FeeMultiplierUpdate = SlowAdjustingFeeUpdate<Self>;
	type WeightInfo = pallet_transaction_payment::weights::SubstrateWeight<Runtime>;
}

impl pallet_sudo::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type RuntimeCall = RuntimeCall;
	type WeightInfo = pallet_sudo::weights::SubstrateWeight<Runtime>;
}

parameter_types! {
	/// The treasury: receives slashed stake. Its account is derived from this id and
	/// holds no private key.
	pub const TreasuryPalletId: PalletId = PalletId(*b"nodr/tsy");
	pub TreasuryAccount: AccountId = TreasuryPalletId::get().into_account_truncating();
}

/// Length of a session (validator-set rotation), in blocks.
#[cfg(feature = "fast-runtime")]
pub const SESSION_PERIOD: BlockNumber = 10;
/// Length of a session (validator-set rotation), in blocks.
#[cfg(not(feature = "fast-runtime"))]
pub const SESSION_PERIOD: BlockNumber = 60 * crate::MINUTES;

/// Shortest session in force, whatever governance stores: sessions rotate every block at worst.
pub const MIN_SESSION_PERIOD: BlockNumber = 1;

parameter_types! {
	/// Blocks per session as governance set it. A storage parameter: governance changes it
	/// without a runtime upgrade by `system.setStorage` of a SCALE `u32` at
	/// `twox_128(":SessionPeriod:")`. Read through [`SessionLength`].
	pub storage SessionPeriod: BlockNumber = SESSION_PERIOD;
	pub const SessionOffset: BlockNumber = 0;
}

/// The session length in force: [`SessionPeriod`], never below [`MIN_SESSION_PERIOD`]. A stored
/// 0 (or any value that is not a SCALE `u32`, which reads as the default) cannot stop the chain:
/// sessions end at `block % period`, and a period of 0 would panic in every block, `set_code`'s
/// included.
pub struct SessionLength;

impl frame_support::traits::Get<BlockNumber> for SessionLength {
	fn get() -> BlockNumber {
		SessionPeriod::get().max(MIN_SESSION_PERIOD)
	}
}

impl pallet_validator_set::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type ValidatorAdminOrigin = EnsureRoot<AccountId>;
	type MaxValidators = ConstU32<32>;
	type MinValidators = ConstU32<1>;
	type HasSessionKeys = HasSessionKeys;
	type SessionValidators = SessionValidators;
	type WeightInfo = pallet_validator_set::weights::SubstrateWeight<Runtime>;
}

/// The session's current validators (read at genesis only).
pub struct SessionValidators;
impl frame_support::traits::Get<alloc::vec::Vec<AccountId>> for SessionValidators {
	fn get() -> alloc::vec::Vec<AccountId> {
		pallet_session::Validators::<Runtime>::get()
	}
}

/// Whether a validator account has session keys for the next session.
pub struct HasSessionKeys;
impl frame_support::traits::Contains<AccountId> for HasSessionKeys {
	fn contains(who: &AccountId) -> bool {
		pallet_session::NextKeys::<Runtime>::contains_key(who)
	}
}

impl pallet_session::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type ValidatorId = AccountId;
	type ValidatorIdOf = ConvertInto;
	type ShouldEndSession = pallet_session::PeriodicSessions<SessionLength, SessionOffset>;
	type NextSessionRotation = pallet_session::PeriodicSessions<SessionLength, SessionOffset>;
	type SessionManager = ValidatorSet;
	type SessionHandler = <SessionKeys as OpaqueKeys>::KeyTypeIdProviders;
	type Keys = SessionKeys;
	type DisablingStrategy = ();
	type WeightInfo = pallet_session::weights::SubstrateWeight<Runtime>;
	type Currency = Balances;
	/// Setting keys holds nothing: only governance-approved validators use them.
	type KeyDeposit = ();
}

impl pallet_aura::Config for Runtime {
	type AuthorityId = AuraId;
	type DisabledValidators = ();
	type MaxAuthorities = ConstU32<32>;
	type AllowMultipleBlocksPerSlot = ConstBool<false>;
	type SlotDuration = pallet_aura::MinimumPeriodTimesTwo<Runtime>;
}

impl pallet_grandpa::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type WeightInfo = ();
	type MaxAuthorities = ConstU32<32>;
	type MaxNominators = ConstU32<0>;
	type MaxSetIdSessionEntries = ConstU64<0>;
	type KeyOwnerProof = sp_core::Void;
	type EquivocationReportSystem = ();
}

/// Epoch, unbonding and slash-defer periods of the staking tiers.
#[cfg(feature = "fast-runtime")]
mod staking_periods {
	use super::BlockNumber;
	pub const EPOCH: BlockNumber = 10;
	pub const UNBONDING: BlockNumber = 20;
	pub const SLASH_DEFER: BlockNumber = 5;
}
/// Epoch, unbonding and slash-defer periods of the staking tiers.
#[cfg(not(feature = "fast-runtime"))]
mod staking_periods {
	use crate::{BlockNumber, DAYS, HOURS};
	pub const EPOCH: BlockNumber = HOURS;
	pub const UNBONDING: BlockNumber = 7 * DAYS;
	pub const SLASH_DEFER: BlockNumber = 2 * DAYS;
}

parameter_types! {
	/// The tier table of the design: 1,000 / 5,000 / 10,000 NODERR, 1x / 2x / 5x. Governance
	/// replaces it with `stakingTiers.setConfig`.
	pub const DefaultTierConfig: pallet_staking_tiers::TierConfig<Balance, BlockNumber> =
		pallet_staking_tiers::TierConfig {
			thresholds: pallet_staking_tiers::PerTier {
				all: 1_000 * UNIT,
				oracle: 5_000 * UNIT,
				guardian: 10_000 * UNIT,
			},
			reward_multipliers: pallet_staking_tiers::PerTier { all: 100, oracle: 200, guardian: 500 },
			epoch_length: staking_periods::EPOCH,
			unbonding_period: staking_periods::UNBONDING,
			slash_defer_period: staking_periods::SLASH_DEFER,
		};
	pub const ApplicationDeposit: Balance = 10 * UNIT;
}

impl pallet_staking_tiers::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type GovernanceOrigin = EnsureRoot<AccountId>;
	type Treasury = TreasuryAccount;
	type ApplicationDeposit = ApplicationDeposit;
	type DefaultConfig = DefaultTierConfig;
	type MaxOperators = ConstU32<512>;
	type MaxApplications = ConstU32<128>;
	type MaxUnlockingChunks = ConstU32<32>;
	type MaxNameLength = ConstU32<64>;
	type MaxContactLength = ConstU32<128>;
	type MaxRegionLength = ConstU32<32>;
	type MaxReasonLength = ConstU32<256>;
	type MaxReporters = ConstU32<16>;
	type MaxSlashesPerBlock = ConstU32<16>;
	type MaxPendingSlashes = ConstU32<256>;
	type WeightInfo = pallet_staking_tiers::weights::SubstrateWeight<Runtime>;
}

parameter_types! {
	/// Largest model artifact: 512 MiB.
	pub const MaxArtifactSize: u64 = 512 << 20;
}

impl pallet_model_registry::Config for Runtime {
	type ModelAdmin = EnsureRoot<AccountId>;
	type MaxNameLength = ConstU32<64>;
	type MaxLocations = ConstU32<8>;
	type MaxLocationLength = ConstU32<256>;
	type MaxLiveVersions = ConstU32<8>;
	type MaxModels = ConstU32<64>;
	type MaxArtifactSize = MaxArtifactSize;
	type WeightInfo = pallet_model_registry::weights::SubstrateWeight<Runtime>;
}

/// The block author for the beacon: the slot from the block's Aura pre-runtime digest, the key
/// at `slot % authorities` of the authority set in storage. Read in the beacon's
/// `on_initialize`, which runs before Session's, so the set is the one the block was authored
/// under even in a block that changes it.
pub struct AuraAuthorVrfKey;
impl pallet_beacon::AuthorVrfKey for AuraAuthorVrfKey {
	fn author() -> Option<(u64, sp_core::sr25519::Public)> {
		use codec::Decode;
		let digest = frame_system::Pallet::<Runtime>::digest();
		let slot = digest.logs.iter().find_map(|log| {
			let (id, mut data) = log.as_pre_runtime()?;
			if id != sp_consensus_aura::AURA_ENGINE_ID {
				return None;
			}
			sp_consensus_aura::Slot::decode(&mut data).ok()
		})?;
		let authorities = pallet_aura::Authorities::<Runtime>::get();
		let index = (*slot % authorities.len().max(1) as u64) as usize;
		let key: &sp_core::sr25519::Public = authorities.get(index)?.as_ref();
		Some((*slot, *key))
	}
}

impl pallet_beacon::Config for Runtime {
	type AuthorKey = AuraAuthorVrfKey;
	/// A day of beacons at 6-second blocks.
	type History = ConstU32<14_400>;
}

/// Windows, heartbeat period and emission epoch of the inference tasks.
#[cfg(feature = "fast-runtime")]
mod task_periods {
	use super::BlockNumber;
	pub const COMMIT: BlockNumber = 3;
	pub const REVEAL: BlockNumber = 3;
	pub const HEARTBEAT: BlockNumber = 20;
	pub const EMISSION_EPOCH: BlockNumber = 10;
}
/// Windows, heartbeat period and emission epoch of the inference tasks.
#[cfg(not(feature = "fast-runtime"))]
mod task_periods {
	use crate::{BlockNumber, HOURS, MINUTES};
	pub const COMMIT: BlockNumber = 5;
	pub const REVEAL: BlockNumber = 5;
	pub const HEARTBEAT: BlockNumber = 10 * MINUTES;
	pub const EMISSION_EPOCH: BlockNumber = HOURS;
}

/// Settings of one class of work: k operators, the windows, a 0.1 NODERR minimum fee, two
/// thirds of the assigned stake to reveal.
const fn class(assigned: u8) -> pallet_inference::ClassConfig<Balance, BlockNumber> {
	pallet_inference::ClassConfig {
		assigned,
		commit_blocks: task_periods::COMMIT,
		reveal_blocks: task_periods::REVEAL,
		min_fee: UNIT / 10,
		quorum: Perbill::from_parts(666_666_667),
	}
}

parameter_types! {
	/// The inference settings before governance sets its own (`inference.setConfig`).
	pub const DefaultInferenceConfig: pallet_inference::InferenceConfig<Balance, BlockNumber> =
		pallet_inference::InferenceConfig {
			classes: [class(3), class(3), class(3), class(3), class(3)],
			assignment_delay: 2,
			heartbeat_period: task_periods::HEARTBEAT,
			observation_tier: noderr_primitives::Tier::Oracle,
			observation_tolerance: Perbill::from_percent(1),
			reward_per_task: UNIT,
			emission_per_epoch: 1_000 * UNIT,
			emission_epoch: task_periods::EMISSION_EPOCH,
		};
}

impl pallet_inference::Config for Runtime {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Tiers = crate::StakingTiers;
	type Models = crate::ModelRegistry;
	type Beacon = crate::Beacon;
	type OnSettled = crate::Guardian;
	type GovernanceOrigin = EnsureRoot<AccountId>;
	type Treasury = TreasuryAccount;
	type DefaultConfig = DefaultInferenceConfig;
	type MaxAssigned = ConstU32<64>;
	type MaxTextLength = ConstU32<1024>;
	type MaxFeeds = ConstU32<8>;
	type MaxPairLength = ConstU32<16>;
	type MaxSourceHints = ConstU32<8>;
	type MaxSourceHintLength = ConstU32<128>;
	/// The longest default window (the price model, 60 rows + 250 warm-up = 310 bars; MSRR
	/// 168 bars) with room to spare.
	type HistoryLength = ConstU32<512>;
	type MaxScheduledModels = ConstU32<4>;
	/// Deadlines handled per block: each may be an assignment or a 64-operator settlement
	/// (tens of milliseconds of the 1.5 s normal class at worst); more spill to the next block.
	type MaxDeadlinesPerBlock = ConstU32<16>;
	type MaxRecords = ConstU32<4_096>;
	type MaxServedModels = ConstU32<16>;
	type WorkerSignature = crate::Signature;
	type WorkerKeys = KeystoreWorkers;
	type WeightInfo = pallet_inference::weights::SubstrateWeight<Runtime>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = InferenceBenchmarkHelper;
}

/// Vote window and missed-reveal window of guardian reports.
#[cfg(feature = "fast-runtime")]
mod guardian_periods {
	use super::BlockNumber;
	pub const VOTE: BlockNumber = 10;
	pub const MISSES: BlockNumber = 100;
}
/// Vote window and missed-reveal window of guardian reports.
#[cfg(not(feature = "fast-runtime"))]
mod guardian_periods {
	use crate::{BlockNumber, DAYS, HOURS};
	pub const VOTE: BlockNumber = HOURS;
	pub const MISSES: BlockNumber = DAYS;
}

parameter_types! {
	/// Guardian validation before governance sets its own (`guardian.setConfig`): one settled
	/// task in ten (and every disputed one) re-run by a panel of three GUARDIANs, two of whom
	/// must find an answer beyond tolerance (and none within it); slashes of 10% for
	/// equivocation, 5% for a wrong answer or an inactive model, 1% for persistent non-reveal,
	/// each earlier offence adding the base again, suspension at the third; a fifth of each slash
	/// to the reporter and the confirming panel; a 100 NODERR report bond.
	pub const DefaultGuardianConfig: pallet_guardian::GuardianConfig<Balance, BlockNumber> =
		pallet_guardian::GuardianConfig {
			sample_share: Perbill::from_percent(10),
			panel_size: 3,
			panel_quorum: Perbill::from_parts(666_666_667),
			vote_window: guardian_periods::VOTE,
			report_bond: 100 * UNIT,
			slash: [
				Perbill::from_percent(10),
				Perbill::from_percent(5),
				Perbill::from_percent(1),
				Perbill::from_percent(5),
			],
			escalation: Perbill::from_percent(100),
			suspend_after: 3,
			reporter_share: Perbill::from_percent(20),
			miss_window: guardian_periods::MISSES,
			miss_threshold: 10,
		};
}

impl pallet_guardian::Config for Runtime {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Tiers = crate::StakingTiers;
	type Models = crate::ModelRegistry;
	type Tasks = crate::Inference;
	type Slash = crate::StakingTiers;
	type Beacon = crate::Beacon;
	type GovernanceOrigin = EnsureRoot<AccountId>;
	type Treasury = TreasuryAccount;
	type DefaultConfig = DefaultGuardianConfig;
	type Signature = crate::Signature;
	/// Below the staking pallet's `MaxReporters` (16) with the reporter.
	type MaxPanel = ConstU32<15>;
	type MaxOpenReports = ConstU32<256>;
	type MaxOpenAudits = ConstU32<256>;
	type MaxOffenceHistory = ConstU32<32>;
	type MaxQueuedPerBlock = ConstU32<16>;
	/// The staking pallet's `MaxOperators`.
	type MaxGuardians = ConstU32<512>;
	/// The task pallet's `MaxAssigned`.
	type MaxAssigned = ConstU32<64>;
	type WeightInfo = pallet_guardian::weights::SubstrateWeight<Runtime>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = GuardianBenchmarkHelper;
}

/// The worker keys in the node's keystore (key type `nwrk`), signing through it: what the
/// off-chain worker submits with.
pub struct KeystoreWorkers;

impl pallet_inference::WorkerKeys<AccountId, crate::Signature> for KeystoreWorkers {
	fn local() -> alloc::vec::Vec<AccountId> {
		use sp_runtime::RuntimeAppPublic;
		noderr_primitives::worker_crypto::Public::all()
			.into_iter()
			.map(|key| {
				use sp_runtime::traits::IdentifyAccount;
				sp_runtime::MultiSigner::from(sp_core::sr25519::Public::from(key)).into_account()
			})
			.collect()
	}

	fn sign(worker: &AccountId, payload: &[u8]) -> Option<crate::Signature> {
		use sp_runtime::RuntimeAppPublic;
		let raw: &[u8; 32] = worker.as_ref();
		let key = noderr_primitives::worker_crypto::Public::from(
			sp_core::sr25519::Public::from_raw(*raw),
		);
		let signature = key.sign(&payload)?;
		Some(sp_runtime::MultiSignature::Sr25519(signature.into()))
	}
}

impl<C> frame_system::offchain::CreateTransactionBase<C> for Runtime
where
	RuntimeCall: From<C>,
{
	type Extrinsic = crate::UncheckedExtrinsic;
	type RuntimeCall = RuntimeCall;
}

impl<C> frame_system::offchain::CreateTransaction<C> for Runtime
where
	RuntimeCall: From<C>,
{
	type Extension = crate::TxExtension;

	fn create_transaction(
		call: RuntimeCall,
		extension: crate::TxExtension,
	) -> crate::UncheckedExtrinsic {
		crate::UncheckedExtrinsic::new_transaction(call, extension)
	}
}

/// Authorized transactions (the workers' submissions) carry the standard extensions in their
/// neutral form: immortal, nonce and tip zero (none is checked or charged for an authorized
/// origin), no metadata hash.
impl<C> frame_system::offchain::CreateAuthorizedTransaction<C> for Runtime
where
	RuntimeCall: From<C>,
{
	fn create_extension() -> crate::TxExtension {
		(
			frame_system::AuthorizeCall::<Runtime>::new(),
			frame_system::CheckNonZeroSender::<Runtime>::new(),
			frame_system::CheckSpecVersion::<Runtime>::new(),
			frame_system::CheckTxVersion::<Runtime>::new(),
			frame_system::CheckGenesis::<Runtime>::new(),
			frame_system::CheckEra::<Runtime>::from(sp_runtime::generic::Era::Immortal),
			frame_system::CheckNonce::<Runtime>::from(0),
			frame_system::CheckWeight::<Runtime>::new(),
			pallet_transaction_payment::ChargeTransactionPayment::<Runtime>::from(0),
			frame_metadata_hash_extension::CheckMetadataHash::<Runtime>::new(false),
		)
	}
}

/// Sets up, for the guardian benchmarks, operators, a model and finished tasks directly in the
/// other pallets' storage.
#[cfg(feature = "runtime-benchmarks")]
pub struct GuardianBenchmarkHelper;

#[cfg(feature = "runtime-benchmarks")]
impl pallet_guardian::benchmarking::BenchmarkHelper<Runtime> for GuardianBenchmarkHelper {
	fn operator(who: &AccountId, tier: noderr_primitives::Tier) {
		use frame_support::traits::fungible::Mutate;
		let thresholds = pallet_staking_tiers::Configuration::<Runtime>::get().thresholds;
		let bond = match tier {
			noderr_primitives::Tier::All => thresholds.all,
			noderr_primitives::Tier::Oracle => thresholds.oracle,
			noderr_primitives::Tier::Guardian => thresholds.guardian,
		};
		let _ = Balances::mint_into(who, bond.saturating_add(10_000 * UNIT));
		crate::StakingTiers::genesis_operator(who, b"bench", bond).expect("a new operator");
	}

	fn model() -> [u8; 32] {
		use noderr_primitives::{InputSpec, ModelSpec, ModelState, OutputSpec, TaskKind, Tier};
		let hash = [9; 32];
		<InferenceBenchmarkHelper as pallet_inference::BenchmarkHelper<_, _, _, _>>::register_model(
			hash,
			ModelSpec {
				kind: TaskKind::Regression { outputs: 2 },
				min_tier: Tier::All,
				input: InputSpec::Text { max_bytes: 1024 },
				output: OutputSpec { scale: 1_000_000, tolerance: 1_000 },
				state: ModelState::Live,
			},
		);
		hash
	}

	fn finished_task(
		model: [u8; 32],
		answers: alloc::vec::Vec<(
			AccountId,
			noderr_primitives::Participation,
			Option<noderr_primitives::Answer>,
		)>,
		aggregate: Option<noderr_primitives::Answer>,
		audit_of: Option<u64>,
	) -> u64 {
		use pallet_inference::{
			NextTaskId, OperatorOutcome, Outcome, Records, TaskClass, TaskInput, TaskRecord,
		};
		let id = NextTaskId::<Runtime>::mutate(|n| {
			let id = *n;
			*n += 1;
			id
		});
		let outcome = match aggregate {
			Some(answer) => Outcome::Settled { answer: answer.clone(), dispersion: answer },
			None => Outcome::Failed,
		};
		let text = alloc::vec![b'x'; 1024].try_into().expect("within the text bound");
		Records::<Runtime>::insert(
			id,
			TaskRecord {
				class: TaskClass::Sentiment,
				model: Some(model),
				input: TaskInput::Text(text),
				audit_of,
				created: 0,
				settled: 0,
				outcome,
				operators: answers
					.into_iter()
					.map(|(who, participation, answer)| OperatorOutcome {
						who,
						participation,
						answer,
						reward: 0,
					})
					.collect::<alloc::vec::Vec<_>>()
					.try_into()
					.expect("within MaxAssigned"),
			},
		);
		id
	}

	fn link_worker(operator: &AccountId, worker: &AccountId) {
		pallet_inference::WorkerOf::<Runtime>::insert(operator, worker);
		pallet_inference::OperatorOf::<Runtime>::insert(worker, operator);
	}

	fn worker_key() -> AccountId {
		<InferenceBenchmarkHelper as pallet_inference::BenchmarkHelper<_, _, _, _>>::worker_key()
	}

	fn sign(worker: &AccountId, payload: &[u8]) -> crate::Signature {
		<InferenceBenchmarkHelper as pallet_inference::BenchmarkHelper<_, _, _, _>>::sign(
			worker, payload,
		)
	}

	fn set_beacon_after(block: BlockNumber) {
		<InferenceBenchmarkHelper as pallet_inference::BenchmarkHelper<_, _, _, _>>::set_beacon_after(
			block,
		)
	}
}

/// Sets up, for the inference benchmarks, state that the other pallets' calls could not reach
/// at the benchmarks' sizes (10,000 operators): written to their storage directly.
#[cfg(feature = "runtime-benchmarks")]
pub struct InferenceBenchmarkHelper;

#[cfg(feature = "runtime-benchmarks")]
impl pallet_inference::BenchmarkHelper<AccountId, Balance, BlockNumber, crate::Signature>
	for InferenceBenchmarkHelper
{
	fn set_operator(who: &AccountId, tier: noderr_primitives::Tier, stake: Balance) {
		use frame_support::traits::fungible::Mutate;
		let _ = Balances::mint_into(who, stake.saturating_add(1_000 * UNIT));
		pallet_staking_tiers::EffectiveTiers::<Runtime>::insert(who, tier);
		pallet_staking_tiers::Ledgers::<Runtime>::insert(
			who,
			pallet_staking_tiers::Ledger { active: stake, unlocking: Default::default() },
		);
	}

	fn register_model(hash: [u8; 32], spec: noderr_primitives::ModelSpec) {
		use pallet_model_registry::{
			ByHash, LiveVersions, ModelVersion, SemVer, Status, VersionSpec, Versions,
		};
		let name: pallet_model_registry::NameOf<Runtime> =
			hash[..16].to_vec().try_into().expect("16 bytes fit the name bound");
		let version = SemVer { major: 1, minor: 0, patch: 0 };
		let (activate_at, status) = match spec.state {
			noderr_primitives::ModelState::NotYetActive => (BlockNumber::MAX, Status::Live),
			noderr_primitives::ModelState::Live => (0, Status::Live),
			noderr_primitives::ModelState::Deprecated => (0, Status::Deprecated(0)),
		};
		Versions::<Runtime>::insert(
			&name,
			version,
			ModelVersion {
				spec: VersionSpec {
					kind: spec.kind,
					min_tier: spec.min_tier,
					input: spec.input,
					output: spec.output,
					artifact_hash: hash,
					artifact_size: 1,
				},
				locations: Default::default(),
				activate_at,
				status,
			},
		);
		ByHash::<Runtime>::insert(hash, (name.clone(), version));
		LiveVersions::<Runtime>::insert(&name, 1);
	}

	fn set_beacon_after(block: BlockNumber) {
		pallet_beacon::ByBlock::<Runtime>::insert(block, [7; 32]);
	}

	fn worker_key() -> AccountId {
		use sp_runtime::{traits::IdentifyAccount, RuntimeAppPublic};
		let key = noderr_primitives::worker_crypto::Public::generate_pair(None);
		sp_runtime::MultiSigner::from(sp_core::sr25519::Public::from(key)).into_account()
	}

	fn sign(worker: &AccountId, payload: &[u8]) -> crate::Signature {
		<KeystoreWorkers as pallet_inference::WorkerKeys<_, _>>::sign(worker, payload)
			.expect("the benchmark's keystore holds the key it generated")
	}
}
