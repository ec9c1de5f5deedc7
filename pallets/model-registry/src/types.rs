//! The registry's records: a version's spec (one embedded record), what governance submits, what
//! is stored and what the runtime API reports.

use crate::Config;
use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::{pallet_prelude::*, BoundedVec};
use frame_system::pallet_prelude::BlockNumberFor;
use noderr_primitives::Tier;
pub use noderr_primitives::{InputSpec, OutputSpec, TaskKind};
use scale_info::TypeInfo;

/// Largest fixed-point scale accepted (10^18).
pub const MAX_SCALE: u64 = 1_000_000_000_000_000_000;

/// Semantic version of a trained model.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	PartialOrd,
	Ord,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Debug,
	serde::Serialize,
	serde::Deserialize,
)]
pub struct SemVer {
	/// Incompatible changes.
	pub major: u16,
	/// Compatible additions.
	pub minor: u16,
	/// Fixes.
	pub patch: u16,
}

impl core::fmt::Display for SemVer {
	fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
		write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
	}
}

/// Life cycle of a version.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Debug,
	serde::Serialize,
	serde::Deserialize,
)]
pub enum Status<BlockNumber> {
	/// Active from `activate_at` on.
	Live,
	/// Still served, no longer chosen for new work, since this block.
	Deprecated(BlockNumber),
}

/// What a version is: what it computes and reads, how it reports, who serves it and which
/// artifact it is. The same record is submitted, stored and reported.
#[derive(
	Clone,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Debug,
	serde::Serialize,
	serde::Deserialize,
)]
pub struct VersionSpec {
	/// What it computes.
	pub kind: TaskKind,
	/// Lowest tier whose nodes serve it.
	pub min_tier: Tier,
	/// What it reads.
	pub input: InputSpec,
	/// How it reports.
	pub output: OutputSpec,
	/// blake2-256 of the artifact file.
	pub artifact_hash: [u8; 32],
	/// Size of the artifact file in bytes.
	pub artifact_size: u64,
}

/// A registered model version.
#[derive(
	frame_support::CloneNoBound,
	frame_support::PartialEqNoBound,
	frame_support::EqNoBound,
	frame_support::DebugNoBound,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
#[scale_info(skip_type_params(MaxLocations, MaxLocationLength))]
// The no-bound derives need the block number bounds on the declaration.
#[allow(clippy::multiple_bound_locations)]
pub struct ModelVersion<
	BlockNumber: Clone + PartialEq + Eq + core::fmt::Debug,
	MaxLocations: Get<u32>,
	MaxLocationLength: Get<u32>,
> {
	/// What it is.
	pub spec: VersionSpec,
	/// HTTP(S) URLs the artifact can be fetched from (peers can serve it too).
	pub locations: BoundedVec<BoundedVec<u8, MaxLocationLength>, MaxLocations>,
	/// First block at which it is active.
	pub activate_at: BlockNumber,
	/// Where it is in its life cycle.
	pub status: Status<BlockNumber>,
}

/// What governance submits for a new version (lengths checked by the pallet).
#[derive(
	Clone,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	Debug,
	serde::Serialize,
	serde::Deserialize,
)]
pub struct Registration<BlockNumber> {
	/// What it is.
	pub spec: VersionSpec,
	/// Fetch URLs.
	pub locations: Vec<Vec<u8>>,
	/// First block at which it is active (not in the past).
	pub activate_at: BlockNumber,
}

/// A model version as the runtime API reports it: plain vectors, for clients and the node.
#[derive(Clone, PartialEq, Eq, Encode, Decode, TypeInfo, Debug)]
pub struct ModelInfo<BlockNumber> {
	/// Model name (UTF-8).
	pub name: Vec<u8>,
	/// Its version.
	pub version: SemVer,
	/// What it is.
	pub spec: VersionSpec,
	/// Fetch URLs.
	pub locations: Vec<Vec<u8>>,
	/// First active block.
	pub activate_at: BlockNumber,
	/// Live or deprecated.
	pub status: Status<BlockNumber>,
}

impl<B, L, M> ModelVersion<B, L, M>
where
	B: Clone + PartialEq + Eq + core::fmt::Debug,
	L: Get<u32>,
	M: Get<u32>,
{
	/// This version as the runtime API reports it.
	pub fn info(self, name: Vec<u8>, version: SemVer) -> ModelInfo<B> {
		ModelInfo {
			name,
			version,
			spec: self.spec,
			locations: self.locations.into_iter().map(|l| l.into_inner()).collect(),
			activate_at: self.activate_at,
			status: self.status,
		}
	}
}

/// A model version with this runtime's types.
pub type ModelVersionOf<T> =
	ModelVersion<BlockNumberFor<T>, <T as Config>::MaxLocations, <T as Config>::MaxLocationLength>;
/// Fetch locations with this runtime's bounds.
pub type LocationsOf<T> =
	BoundedVec<BoundedVec<u8, <T as Config>::MaxLocationLength>, <T as Config>::MaxLocations>;
/// A model name with this runtime's bound.
pub type NameOf<T> = BoundedVec<u8, <T as Config>::MaxNameLength>;
