//! # Validator set
//!
//! Owns the list of accounts that author blocks (Aura) and vote on finality (GRANDPA).
//! Governance adds and removes validators with ordinary extrinsics; the change takes effect
//! at the next session rotation through [`pallet_session::SessionManager`], so no runtime
//! upgrade is needed to change who produces blocks.
//!
//! A validator must also register its session keys with `session.setKeys` before it can
//! author; until then `pallet-session` leaves it out of the active authority set.

#![cfg_attr(not(feature = "std"), no_std)]
#![deny(missing_docs)]

extern crate alloc;

pub use pallet::*;
pub use weights::WeightInfo;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
#[cfg(test)]
mod mock;
mod session;
#[cfg(test)]
mod tests;
pub mod weights;

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use alloc::vec::Vec;
	use frame_support::pallet_prelude::*;
	use frame_system::pallet_prelude::*;

	/// The pallet's configuration.
	#[pallet::config]
	pub trait Config: frame_system::Config {
		/// The overarching event type.
		#[allow(deprecated)]
		type RuntimeEvent: From<Event<Self>> + IsType<<Self as frame_system::Config>::RuntimeEvent>;
		/// Origin allowed to add and remove validators (root or a council).
		type ValidatorAdminOrigin: EnsureOrigin<Self::RuntimeOrigin>;
		/// Upper bound on the number of validators.
		#[pallet::constant]
		type MaxValidators: Get<u32>;
		/// A removal that would leave fewer validators than this is refused, so the chain
		/// can never lose its last block author.
		#[pallet::constant]
		type MinValidators: Get<u32>;
		/// Whether an account has session keys registered (its next session's keys): a removal
		/// must leave at least `MinValidators` validators that do, or the next session could
		/// have no block author at all.
		type HasSessionKeys: frame_support::traits::Contains<Self::AccountId>;
		/// The session's current validators. Read once, when the genesis session starts and the
		/// genesis named no validators: then the owners of the genesis session's authority keys
		/// are the validator set (how a launcher such as zombienet, which writes the session
		/// keys of the nodes it declares, makes its validators the chain's).
		type SessionValidators: Get<Vec<Self::AccountId>>;
		/// Weights from this pallet's benchmarks.
		type WeightInfo: WeightInfo;
	}

	#[pallet::pallet]
	pub struct Pallet<T>(_);

	/// The validators that the next session will use, sorted and free of duplicates.
	#[pallet::storage]
	pub type Validators<T: Config> =
		StorageValue<_, BoundedVec<T::AccountId, T::MaxValidators>, ValueQuery>;

	/// Set when [`Validators`] changed since the last session rotation picked it up.
	#[pallet::storage]
	pub type PendingChange<T: Config> = StorageValue<_, bool, ValueQuery>;

	/// Genesis validators.
	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// Accounts that author from block 1. Empty: the owners of the genesis session keys.
		pub initial_validators: Vec<T::AccountId>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			let mut validators = self.initial_validators.clone();
			validators.sort();
			let before = validators.len();
			validators.dedup();
			assert_eq!(before, validators.len(), "duplicate genesis validator");
			// An empty list: the session's genesis authority keys decide (`start_session(0)`).
			assert!(
				validators.is_empty() || validators.len() as u32 >= T::MinValidators::get(),
				"fewer genesis validators than MinValidators"
			);
			let bounded: BoundedVec<_, T::MaxValidators> =
				validators.try_into().expect("more genesis validators than MaxValidators");
			Validators::<T>::put(bounded);
		}
	}

	/// Events of this pallet.
	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A validator was added; it authors from the session after next once its keys are set.
		ValidatorAdded {
			/// The new validator's account.
			who: T::AccountId,
		},
		/// A validator was removed; it stops authoring from the session after next.
		ValidatorRemoved {
			/// The removed validator's account.
			who: T::AccountId,
		},
	}

	/// Errors of this pallet.
	#[pallet::error]
	pub enum Error<T> {
		/// The account is a validator already.
		AlreadyValidator,
		/// The account is not a validator.
		NotValidator,
		/// The set is full: `MaxValidators` reached.
		TooManyValidators,
		/// The removal would leave fewer than `MinValidators` validators.
		TooFewValidators,
		/// The removal would leave fewer than `MinValidators` validators with session keys: the
		/// next session could have no block author.
		TooFewWithKeys,
	}

	#[pallet::call(weight(<T as Config>::WeightInfo))]
	impl<T: Config> Pallet<T> {
		/// Add `who` to the validator set.
		///
		/// Origin: `ValidatorAdminOrigin`. Complexity: O(V), V = number of validators
		/// (bounded by `MaxValidators`).
		#[pallet::call_index(0)]
		pub fn add_validator(origin: OriginFor<T>, who: T::AccountId) -> DispatchResult {
			T::ValidatorAdminOrigin::ensure_origin(origin)?;
			Self::do_add_validator(who)
		}

		/// Remove `who` from the validator set.
		///
		/// Origin: `ValidatorAdminOrigin`. Complexity: O(V).
		#[pallet::call_index(1)]
		pub fn remove_validator(origin: OriginFor<T>, who: T::AccountId) -> DispatchResult {
			T::ValidatorAdminOrigin::ensure_origin(origin)?;
			Self::do_remove_validator(who)
		}
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	impl<T: Config> Pallet<T> {
		pub(crate) fn do_add_validator(who: T::AccountId) -> DispatchResult {
			Validators::<T>::try_mutate(|validators| -> DispatchResult {
				let pos =
					validators.binary_search(&who).err().ok_or(Error::<T>::AlreadyValidator)?;
				validators
					.try_insert(pos, who.clone())
					.map_err(|_| Error::<T>::TooManyValidators)?;
				Ok(())
			})?;
			PendingChange::<T>::put(true);
			Self::deposit_event(Event::ValidatorAdded { who });
			Ok(())
		}

		pub(crate) fn do_remove_validator(who: T::AccountId) -> DispatchResult {
			Validators::<T>::try_mutate(|validators| -> DispatchResult {
				let pos = validators.binary_search(&who).map_err(|_| Error::<T>::NotValidator)?;
				ensure!(
					validators.len() as u32 > T::MinValidators::get(),
					Error::<T>::TooFewValidators
				);
				validators.remove(pos);
				use frame_support::traits::Contains;
				let with_keys =
					validators.iter().filter(|v| T::HasSessionKeys::contains(v)).count() as u32;
				ensure!(with_keys >= T::MinValidators::get(), Error::<T>::TooFewWithKeys);
				Ok(())
			})?;
			PendingChange::<T>::put(true);
			Self::deposit_event(Event::ValidatorRemoved { who });
			Ok(())
		}

		/// Invariants: the set is sorted, has no duplicates and holds at least
		/// `MinValidators` accounts.
		#[cfg(any(feature = "try-runtime", feature = "std"))]
		pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
			let validators = Validators::<T>::get();
			ensure!(
				validators.windows(2).all(|w| w[0] < w[1]),
				"validators must be sorted and unique"
			);
			ensure!(
				validators.len() as u32 >= T::MinValidators::get(),
				"fewer validators than MinValidators"
			);
			Ok(())
		}
	}
}
