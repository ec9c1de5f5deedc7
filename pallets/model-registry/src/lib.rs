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
//!
//! Code layout: declarations here; records in `types.rs`, the calls in `dispatchables.rs`, what
//! other pallets and the runtime API read in `provider.rs`, invariants in `invariants.rs`.

#![cfg_attr(not(feature = "std"), no_std)]
#![deny(missing_docs)]

extern crate alloc;

pub use pallet::*;
pub use types::*;
pub use weights::WeightInfo;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
mod dispatchables;
mod invariants;
#[cfg(test)]
mod mock;
mod provider;
#[cfg(test)]
mod tests;
pub mod types;
pub mod weights;

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use alloc::vec::Vec;
	use frame_support::pallet_prelude::*;
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
		/// The name is empty.
		EmptyName,
		/// The name is longer than `MaxNameLength`.
		NameTooLong,
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
		/// A fetch location is not an http:// or https:// URL.
		LocationNotHttp,
		/// A fetch location is longer than `MaxLocationLength`.
		LocationTooLong,
		/// The scale is not a power of ten between 1 and 10^18.
		ScaleOutOfRange,
		/// The tolerance exceeds the scale (more than a whole unit).
		ToleranceOutOfRange,
		/// The artifact size is zero.
		EmptyArtifact,
		/// The artifact size is above `MaxArtifactSize`.
		ArtifactTooLarge,
		/// The activation block is in the past.
		ActivationInPast,
		/// A regression model with no outputs.
		NoOutputs,
		/// A classifier with fewer than two classes.
		TooFewClasses,
		/// The input's window, feature count or byte limit is zero.
		EmptyInput,
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
			Self::do_try_state()
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
			Self::do_deprecate(name, version)
		}

		/// Retires a version: removed from the registry; nodes stop serving it. Origin:
		/// `ModelAdmin`.
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::retire())]
		pub fn retire(origin: OriginFor<T>, name: Vec<u8>, version: SemVer) -> DispatchResult {
			T::ModelAdmin::ensure_origin(origin)?;
			Self::do_retire(name, version)
		}
	}
}
