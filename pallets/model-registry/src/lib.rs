//! # Model registry
//!
//! The chain is the registry of the ML models nodes run: every model version is registered by
//! governance (the `ModelAdmin` origin) with what a node needs to fetch, verify and serve it:
//! task kind, minimum tier, input and output specification, agreement tolerance, the
//! blake2-256 hash and size of its artifact (the `noderr-ml` artifact format) and where to fetch
//! it. A version becomes active at a block chosen at registration, may be deprecated (still
//! served, no longer chosen for new work) and is finally retired (removed).
//!
//! Bounds: name and label lengths, labels per model, fetch locations and their length, live
//! (not retired) versions per model, and the number of models are all `Config` constants.

#![cfg_attr(not(feature = "std"), no_std)]
#![deny(missing_docs)]

extern crate alloc;

pub use pallet::*;
pub use weights::WeightInfo;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
#[cfg(test)]
mod mock;
mod provider;
#[cfg(test)]
mod tests;
pub mod weights;

use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::{pallet_prelude::*, BoundedVec};
use frame_system::pallet_prelude::BlockNumberFor;
use noderr_primitives::Tier;
pub use noderr_primitives::{InputSpec, OutputSpec, TaskKind};
use scale_info::TypeInfo;

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
			kind: self.kind,
			min_tier: self.min_tier,
			input: self.input,
			output: self.output,
			artifact_hash: self.artifact_hash,
			artifact_size: self.artifact_size,
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

/// Largest fixed-point scale accepted (10^18).
pub const MAX_SCALE: u64 = 1_000_000_000_000_000_000;

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use frame_system::pallet_prelude::*;

	#[pallet::pallet]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config: frame_system::Config<RuntimeEvent: From<Event<Self>>> {
		/// Who changes the registry.
		type ModelAdmin: EnsureOrigin<Self::RuntimeOrigin>;
		/// Longest model name in bytes.
		#[pallet::constant]
		type MaxNameLength: Get<u32>;
		/// Most fetch locations per version.
		#[pallet::constant]
		type MaxLocations: Get<u32>;
		/// Longest fetch location in bytes.
		#[pallet::constant]
		type MaxLocationLength: Get<u32>;
		/// Most versions per model that are not retired.
		#[pallet::constant]
		type MaxLiveVersions: Get<u32>;
		/// Most models.
		#[pallet::constant]
		type MaxModels: Get<u32>;
		/// Largest artifact in bytes.
		#[pallet::constant]
		type MaxArtifactSize: Get<u64>;
		/// Weights of the calls.
		type WeightInfo: WeightInfo;
	}

	/// Every version not retired, by model name and version.
	#[pallet::storage]
	pub type Versions<T: Config> = StorageDoubleMap<
		_,
		Blake2_128Concat,
		NameOf<T>,
		Blake2_128Concat,
		SemVer,
		ModelVersionOf<T>,
		OptionQuery,
	>;

	/// Number of versions not retired, per model; a model with none is removed.
	#[pallet::storage]
	pub type LiveVersions<T: Config> =
		CountedStorageMap<_, Blake2_128Concat, NameOf<T>, u32, ValueQuery>;

	/// Which version an artifact hash belongs to: a hash is registered once.
	#[pallet::storage]
	pub type ByHash<T: Config> =
		StorageMap<_, Identity, [u8; 32], (NameOf<T>, SemVer), OptionQuery>;

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A version was registered.
		Registered {
			/// Model name.
			name: NameOf<T>,
			/// Its version.
			version: SemVer,
			/// Artifact hash.
			artifact_hash: [u8; 32],
			/// First active block.
			activate_at: BlockNumberFor<T>,
		},
		/// A version was deprecated.
		Deprecated {
			/// Model name.
			name: NameOf<T>,
			/// Its version.
			version: SemVer,
		},
		/// A version was retired and removed.
		Retired {
			/// Model name.
			name: NameOf<T>,
			/// Its version.
			version: SemVer,
		},
	}

	#[pallet::error]
	pub enum Error<T> {
		/// The name is empty or longer than `MaxNameLength`.
		BadName,
		/// No such model.
		UnknownModel,
		/// The model has no such version.
		UnknownVersion,
		/// This version of the model is already registered.
		DuplicateVersion,
		/// This artifact hash is already registered.
		DuplicateArtifact,
		/// The model already has `MaxLiveVersions` versions that are not retired.
		TooManyLiveVersions,
		/// The registry already holds `MaxModels` models.
		TooManyModels,
		/// More than `MaxLocations` fetch locations.
		TooManyLocations,
		/// A fetch location is empty, longer than `MaxLocationLength` or not http(s).
		BadLocation,
		/// The scale is not a power of ten between 1 and 10^18.
		ScaleOutOfRange,
		/// The tolerance exceeds the scale (more than a whole unit).
		ToleranceOutOfRange,
		/// The artifact size is zero or above `MaxArtifactSize`.
		BadArtifactSize,
		/// The activation block is in the past.
		ActivationInPast,
		/// A count of outputs, classes, rows, features or bytes is zero.
		EmptySpec,
		/// The version is already deprecated.
		AlreadyDeprecated,
	}

	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// Versions registered at genesis: (name, version, registration).
		pub models: Vec<(Vec<u8>, SemVer, Registration<BlockNumberFor<T>>)>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			for (name, version, registration) in &self.models {
				Pallet::<T>::do_register(name.clone(), *version, registration.clone())
					.expect("genesis model registrations are valid");
			}
		}
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::check_invariants().map_err(Into::into)
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Registers a model version. Origin: `ModelAdmin`.
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::register(registration.locations.len() as u32))]
		pub fn register(
			origin: OriginFor<T>,
			name: Vec<u8>,
			version: SemVer,
			registration: Registration<BlockNumberFor<T>>,
		) -> DispatchResult {
			T::ModelAdmin::ensure_origin(origin)?;
			Self::do_register(name, version, registration)
		}

		/// Deprecates a version: nodes keep serving it, new work uses other versions. Origin:
		/// `ModelAdmin`.
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::deprecate())]
		pub fn deprecate(origin: OriginFor<T>, name: Vec<u8>, version: SemVer) -> DispatchResult {
			T::ModelAdmin::ensure_origin(origin)?;
			let name = Self::known_name(name)?;
			Versions::<T>::try_mutate(&name, version, |v| {
				let v = v.as_mut().ok_or(Error::<T>::UnknownVersion)?;
				ensure!(v.status == Status::Live, Error::<T>::AlreadyDeprecated);
				v.status = Status::Deprecated(frame_system::Pallet::<T>::block_number());
				Ok::<_, DispatchError>(())
			})?;
			Self::deposit_event(Event::Deprecated { name, version });
			Ok(())
		}

		/// Retires a version: removed from the registry; nodes stop serving it. Origin:
		/// `ModelAdmin`.
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::retire())]
		pub fn retire(origin: OriginFor<T>, name: Vec<u8>, version: SemVer) -> DispatchResult {
			T::ModelAdmin::ensure_origin(origin)?;
			let name = Self::known_name(name)?;
			let v = Versions::<T>::take(&name, version).ok_or(Error::<T>::UnknownVersion)?;
			ByHash::<T>::remove(v.artifact_hash);
			let left = LiveVersions::<T>::get(&name).saturating_sub(1);
			if left == 0 {
				LiveVersions::<T>::remove(&name);
			} else {
				LiveVersions::<T>::insert(&name, left);
			}
			Self::deposit_event(Event::Retired { name, version });
			Ok(())
		}
	}
}

impl<T: Config> Pallet<T> {
	fn bounded_name(name: Vec<u8>) -> Result<NameOf<T>, Error<T>> {
		if name.is_empty() {
			return Err(Error::<T>::BadName);
		}
		name.try_into().map_err(|_| Error::<T>::BadName)
	}

	fn known_name(name: Vec<u8>) -> Result<NameOf<T>, DispatchError> {
		let name = Self::bounded_name(name)?;
		ensure!(LiveVersions::<T>::contains_key(&name), Error::<T>::UnknownModel);
		Ok(name)
	}

	fn check_spec(r: &Registration<BlockNumberFor<T>>) -> Result<(), Error<T>> {
		let counts_ok = match r.kind {
			TaskKind::Regression { outputs } => outputs > 0,
			TaskKind::Classification { classes } | TaskKind::TextClassification { classes } => {
				classes > 1
			}
		} && match r.input {
			InputSpec::Features { window, feature_count, .. } => window > 0 && feature_count > 0,
			InputSpec::Bars { window } => window > 0,
			InputSpec::Text { max_bytes } => max_bytes > 0,
		};
		ensure!(counts_ok, Error::<T>::EmptySpec);
		let scale = r.output.scale;
		let power_of_ten = (0..=18u32).any(|k| 10u64.pow(k) == scale);
		ensure!(power_of_ten && scale <= MAX_SCALE, Error::<T>::ScaleOutOfRange);
		ensure!(r.output.tolerance <= scale, Error::<T>::ToleranceOutOfRange);
		ensure!(
			r.artifact_size > 0 && r.artifact_size <= T::MaxArtifactSize::get(),
			Error::<T>::BadArtifactSize
		);
		Ok(())
	}

	fn bounded_locations(locations: Vec<Vec<u8>>) -> Result<LocationsOf<T>, Error<T>> {
		ensure!(locations.len() as u32 <= T::MaxLocations::get(), Error::<T>::TooManyLocations);
		let mut out = Vec::with_capacity(locations.len());
		for l in locations {
			let scheme_ok = l.starts_with(b"https://") || l.starts_with(b"http://");
			ensure!(scheme_ok, Error::<T>::BadLocation);
			out.push(BoundedVec::try_from(l).map_err(|_| Error::<T>::BadLocation)?);
		}
		out.try_into().map_err(|_| Error::<T>::TooManyLocations)
	}

	/// Checks and stores a registration; used by the call and by genesis.
	pub fn do_register(
		name: Vec<u8>,
		version: SemVer,
		r: Registration<BlockNumberFor<T>>,
	) -> DispatchResult {
		let name = Self::bounded_name(name)?;
		Self::check_spec(&r)?;
		let locations = Self::bounded_locations(r.locations.clone())?;
		let now = frame_system::Pallet::<T>::block_number();
		ensure!(r.activate_at >= now, Error::<T>::ActivationInPast);
		ensure!(!Versions::<T>::contains_key(&name, version), Error::<T>::DuplicateVersion);
		ensure!(!ByHash::<T>::contains_key(r.artifact_hash), Error::<T>::DuplicateArtifact);
		let live = LiveVersions::<T>::get(&name);
		ensure!(live < T::MaxLiveVersions::get(), Error::<T>::TooManyLiveVersions);
		if live == 0 {
			ensure!(LiveVersions::<T>::count() < T::MaxModels::get(), Error::<T>::TooManyModels);
		}
		Versions::<T>::insert(
			&name,
			version,
			ModelVersion {
				kind: r.kind,
				min_tier: r.min_tier,
				input: r.input,
				output: r.output,
				artifact_hash: r.artifact_hash,
				artifact_size: r.artifact_size,
				locations,
				activate_at: r.activate_at,
				status: Status::Live,
			},
		);
		LiveVersions::<T>::insert(&name, live + 1);
		ByHash::<T>::insert(r.artifact_hash, (name.clone(), version));
		Self::deposit_event(Event::Registered {
			name,
			version,
			artifact_hash: r.artifact_hash,
			activate_at: r.activate_at,
		});
		Ok(())
	}

	/// Versions a node of `tier` serves at block `now`: active (activation reached), live or
	/// deprecated, with `min_tier` at or below `tier`. Sorted by name, then version.
	pub fn served_by(
		tier: Tier,
		now: BlockNumberFor<T>,
	) -> Vec<(NameOf<T>, SemVer, ModelVersionOf<T>)> {
		let mut out: Vec<_> = Versions::<T>::iter()
			.filter(|(_, _, v)| v.min_tier <= tier && v.activate_at <= now)
			.collect();
		out.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
		out
	}

	/// A version by name and version.
	pub fn model(name: Vec<u8>, version: SemVer) -> Option<ModelVersionOf<T>> {
		let name: NameOf<T> = name.try_into().ok()?;
		Versions::<T>::get(name, version)
	}

	/// The registry's invariants: counts match the versions stored, every model is within its
	/// bound, the hash index and the versions point at each other, and the model count bound
	/// holds.
	pub fn check_invariants() -> Result<(), &'static str> {
		let mut counts: alloc::collections::BTreeMap<NameOf<T>, u32> = Default::default();
		for (name, version, v) in Versions::<T>::iter() {
			*counts.entry(name.clone()).or_default() += 1;
			if ByHash::<T>::get(v.artifact_hash) != Some((name, version)) {
				return Err("a version's artifact hash is not indexed to it");
			}
		}
		for (name, count) in LiveVersions::<T>::iter() {
			if counts.remove(&name) != Some(count) || count == 0 {
				return Err("LiveVersions does not match the versions stored");
			}
			if count > T::MaxLiveVersions::get() {
				return Err("a model has more live versions than MaxLiveVersions");
			}
		}
		if !counts.is_empty() {
			return Err("a model has versions but no LiveVersions entry");
		}
		if LiveVersions::<T>::count() > T::MaxModels::get() {
			return Err("more models than MaxModels");
		}
		for (hash, (name, version)) in ByHash::<T>::iter() {
			match Versions::<T>::get(&name, version) {
				Some(v) if v.artifact_hash == hash => {}
				_ => return Err("the hash index points at a missing version"),
			}
		}
		Ok(())
	}
}
