//! # Randomness beacon
//!
//! Randomness for task assignment that nobody can predict before a block exists and that no
//! single block author can choose. Each block author signs, with its Aura (sr25519) key through
//! the node's keystore, a VRF over the transcript `(previous beacon, slot)`
//! ([`vrf_sign_data`]) and puts the signature into its block as an inherent
//! ([`Call::contribute`]). The runtime verifies it once per block against the key of the slot's
//! author and folds the VRF output into the beacon: `beacon = blake2_256(previous ‖ output)`.
//! A block without the inherent advances the beacon as `blake2_256(previous ‖ block number)`,
//! adding nothing an author could choose.
//!
//! Bias bound: the VRF output is fixed by the key, the previous beacon and the slot, so an
//! author's only choice is to publish its block (with the output) or not. Consumers read the
//! beacon `D` blocks after the event they seed ([`noderr_primitives::Beacon::beacon_after`]);
//! an adversary that authors `j` of those `D` blocks can choose among at most `2^j` beacons,
//! and withholding a block costs it the block's rewards and is visible to everyone.
//!
//! The author's key is read in `on_initialize` ([`AuthorVrfKey`]), before any session change of
//! the same block can replace the authority set the block was authored under.

#![cfg_attr(not(feature = "std"), no_std)]
#![deny(missing_docs)]

extern crate alloc;

pub use pallet::*;

#[cfg(test)]
mod tests;

use codec::Encode;
use sp_core::sr25519::{
	vrf::{VrfInput, VrfSignData, VrfSignature},
	Public,
};
use sp_runtime::traits::{BlakeTwo256, Hash};

/// The inherent's identifier.
pub const INHERENT_IDENTIFIER: sp_inherents::InherentIdentifier = *b"nodrbcn0";
/// Domain label of the VRF transcript.
const VRF_LABEL: &[u8] = b"noderr-beacon";
/// Context of the VRF output bytes.
const VRF_OUTPUT_CONTEXT: &[u8] = b"noderr-beacon-output";

/// A VRF signature as the call and the inherent carry it: the 32-byte pre-output and the
/// 64-byte proof of [`VrfSignature`], as plain bytes.
#[derive(
	Clone,
	PartialEq,
	Eq,
	codec::Encode,
	codec::Decode,
	codec::DecodeWithMemTracking,
	codec::MaxEncodedLen,
	scale_info::TypeInfo,
	Debug,
)]
pub struct VrfBytes {
	/// The VRF pre-output.
	pub pre_output: [u8; 32],
	/// The proof that the pre-output is the key's.
	pub proof: [u8; 64],
}

impl VrfBytes {
	/// The bytes of a signature.
	pub fn from_signature(signature: &VrfSignature) -> Self {
		use codec::Decode;
		Self::decode(&mut &signature.encode()[..]).expect("a VRF signature is 32 + 64 bytes")
	}

	/// The signature, if the bytes are one (a valid curve point).
	pub fn signature(&self) -> Option<VrfSignature> {
		use codec::Decode;
		VrfSignature::decode(&mut &self.encode()[..]).ok()
	}
}

/// The VRF input of the block at `slot` whose parent left the beacon at `previous`.
pub fn vrf_input(previous: &[u8; 32], slot: u64) -> VrfInput {
	VrfInput::new(VRF_LABEL, &[(b"previous beacon", previous), (b"slot", &slot.to_le_bytes())])
}

/// What the author signs: [`vrf_input`], nothing extra.
pub fn vrf_sign_data(previous: &[u8; 32], slot: u64) -> VrfSignData {
	vrf_input(previous, slot).into()
}

/// The beacon after a block whose author contributed `signature` (already verified).
pub fn fold(
	previous: &[u8; 32],
	slot: u64,
	author: &Public,
	signature: &VrfSignature,
) -> Option<[u8; 32]> {
	let output: [u8; 32] = author
		.make_bytes(VRF_OUTPUT_CONTEXT, &vrf_input(previous, slot), &signature.pre_output)
		.ok()?;
	Some(BlakeTwo256::hash(&(previous, output).encode()).0)
}

/// The beacon after a block without a contribution.
pub fn advance(previous: &[u8; 32], block: u64) -> [u8; 32] {
	BlakeTwo256::hash(&(previous, b"no contribution", block).encode()).0
}

sp_api::decl_runtime_apis! {
	/// What the node needs to contribute to the beacon.
	pub trait BeaconApi {
		/// The beacon after the last finished block: what the next block's author signs over.
		fn current() -> [u8; 32];
	}
}

/// Who authors the current block: its slot and the author's sr25519 (Aura) key, as the
/// authority set of the parent block says.
pub trait AuthorVrfKey {
	/// The slot and author key of the block being built or imported.
	fn author() -> Option<(u64, Public)>;
}

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use frame_support::pallet_prelude::*;
	use frame_system::pallet_prelude::*;
	use sp_core::crypto::VrfPublic;
	use sp_runtime::traits::{Saturating, UniqueSaturatedInto};

	#[pallet::pallet]
	pub struct Pallet<T>(_);

	/// The pallet's configuration.
	#[pallet::config]
	pub trait Config: frame_system::Config<RuntimeEvent: From<Event<Self>>> {
		/// The current block's slot and author key.
		type AuthorKey: AuthorVrfKey;
		/// Beacons kept, by block (consumers read at most this far back).
		#[pallet::constant]
		type History: Get<u32>;
	}

	/// The beacon after the last finished block.
	#[pallet::storage]
	pub type Current<T: Config> = StorageValue<_, [u8; 32], ValueQuery>;

	/// The beacon after each of the last `History` blocks.
	#[pallet::storage]
	pub type ByBlock<T: Config> =
		StorageMap<_, Twox64Concat, BlockNumberFor<T>, [u8; 32], OptionQuery>;

	/// This block's slot and author key, read in `on_initialize` (cleared when it finishes).
	#[pallet::storage]
	pub type Author<T: Config> = StorageValue<_, (u64, Public), OptionQuery>;

	/// Whether this block's author contributed (cleared when it finishes).
	#[pallet::storage]
	pub type Contributed<T: Config> = StorageValue<_, bool, ValueQuery>;

	/// Blocks whose author contributed, and blocks in all, since genesis.
	#[pallet::storage]
	pub type Participation<T: Config> = StorageValue<_, (u64, u64), ValueQuery>;

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// The block's author contributed its VRF output.
		Contributed {
			/// The beacon after this block.
			beacon: [u8; 32],
		},
	}

	#[pallet::error]
	pub enum Error<T> {
		/// The block already holds a contribution.
		AlreadyContributed,
		/// The block's author is unknown (no slot in the digest, or no authorities).
		NoAuthor,
		/// The VRF signature is not the author's over this slot and the previous beacon.
		BadSignature,
	}

	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// The first beacon (any public value; the authors' outputs make it unpredictable).
		pub initial: [u8; 32],
		#[serde(skip)]
		#[allow(missing_docs)]
		pub _config: core::marker::PhantomData<T>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			Current::<T>::put(self.initial);
			ByBlock::<T>::insert(BlockNumberFor::<T>::zero(), self.initial);
		}
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn on_initialize(_n: BlockNumberFor<T>) -> Weight {
			match T::AuthorKey::author() {
				Some(author) => Author::<T>::put(author),
				None => Author::<T>::kill(),
			}
			T::DbWeight::get().reads_writes(2, 1)
		}

		fn on_finalize(n: BlockNumberFor<T>) {
			let previous = Current::<T>::get();
			let contributed = Contributed::<T>::take();
			if !contributed {
				Current::<T>::put(advance(&previous, n.unique_saturated_into()));
			}
			Participation::<T>::mutate(|(c, all)| {
				*c = c.saturating_add(contributed as u64);
				*all = all.saturating_add(1);
			});
			Author::<T>::kill();
			ByBlock::<T>::insert(n, Current::<T>::get());
			let history: BlockNumberFor<T> = T::History::get().into();
			if n >= history {
				ByBlock::<T>::remove(n.saturating_sub(history));
			}
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// The block author's VRF output over (previous beacon, slot). Inherent: at most once
		/// per block, checked against the author's key.
		#[pallet::call_index(0)]
		#[pallet::weight((
			// sr25519 VRF verification measures about 1.3 ms; the storage access on top.
			Weight::from_parts(1_500_000_000, 200).saturating_add(T::DbWeight::get().reads_writes(3, 3)),
			DispatchClass::Mandatory
		))]
		pub fn contribute(origin: OriginFor<T>, vrf: VrfBytes) -> DispatchResult {
			ensure_none(origin)?;
			let signature = vrf.signature().ok_or(Error::<T>::BadSignature)?;
			ensure!(!Contributed::<T>::get(), Error::<T>::AlreadyContributed);
			let (slot, author) = Author::<T>::get().ok_or(Error::<T>::NoAuthor)?;
			let previous = Current::<T>::get();
			ensure!(
				author.vrf_verify(&vrf_sign_data(&previous, slot), &signature),
				Error::<T>::BadSignature
			);
			let beacon =
				fold(&previous, slot, &author, &signature).ok_or(Error::<T>::BadSignature)?;
			Current::<T>::put(beacon);
			Contributed::<T>::put(true);
			Self::deposit_event(Event::Contributed { beacon });
			Ok(())
		}
	}

	#[pallet::inherent]
	impl<T: Config> ProvideInherent for Pallet<T> {
		type Call = Call<T>;
		type Error = sp_inherents::MakeFatalError<()>;
		const INHERENT_IDENTIFIER: InherentIdentifier = INHERENT_IDENTIFIER;

		fn create_inherent(data: &InherentData) -> Option<Self::Call> {
			let vrf: VrfBytes = data.get_data(&INHERENT_IDENTIFIER).ok().flatten()?;
			Some(Call::contribute { vrf })
		}

		fn is_inherent(call: &Self::Call) -> bool {
			matches!(call, Call::contribute { .. })
		}
	}
}

impl<T: Config> noderr_primitives::Beacon<frame_system::pallet_prelude::BlockNumberFor<T>>
	for Pallet<T>
{
	fn beacon_after(block: frame_system::pallet_prelude::BlockNumberFor<T>) -> Option<[u8; 32]> {
		ByBlock::<T>::get(block)
	}
}
