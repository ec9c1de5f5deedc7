//! The node's part of the randomness beacon (`pallet-beacon`): when this node authors a slot,
//! it signs the VRF over the parent's beacon and the slot with its Aura key, through the
//! keystore, and hands the signature to the block as an inherent. Off-chain workers cannot make
//! VRF signatures; the keystore can.

use noderr_runtime::{opaque::Block, Hash};
use pallet_beacon::{vrf_sign_data, BeaconApi, INHERENT_IDENTIFIER};
use sp_api::ProvideRuntimeApi;
use sp_consensus_aura::{sr25519::AuthorityId as AuraId, AuraApi};
use sp_core::sr25519::vrf::VrfSignature;
use sp_inherents::{InherentData, InherentIdentifier};
use sp_keystore::KeystorePtr;

/// This node's contribution to the next block's beacon, if it is the slot's author.
pub struct BeaconContribution(Option<VrfSignature>);

impl BeaconContribution {
	/// Signs for `slot` on top of `parent` when the slot's author key is in `keystore`.
	pub fn new<C>(client: &C, keystore: &KeystorePtr, parent: Hash, slot: u64) -> Self
	where
		C: ProvideRuntimeApi<Block>,
		C::Api: BeaconApi<Block> + AuraApi<Block, AuraId>,
	{
		let api = client.runtime_api();
		let signature = (|| {
			let previous = api.current(parent).ok()?;
			let authorities = api.authorities(parent).ok()?;
			if authorities.is_empty() {
				return None;
			}
			let author = &authorities[(slot % authorities.len() as u64) as usize];
			let sign = vrf_sign_data(&previous, slot);
			match keystore.sr25519_vrf_sign(
				sp_core::crypto::key_types::AURA,
				author.as_ref(),
				&sign,
			) {
				Ok(signature) => signature,
				Err(e) => {
					log::warn!(target: "beacon", "cannot sign the beacon VRF for slot {slot}: {e}");
					None
				}
			}
		})();
		Self(signature)
	}
}

#[async_trait::async_trait]
impl sp_inherents::InherentDataProvider for BeaconContribution {
	async fn provide_inherent_data(
		&self,
		data: &mut InherentData,
	) -> Result<(), sp_inherents::Error> {
		if let Some(signature) = &self.0 {
			data.put_data(
				INHERENT_IDENTIFIER,
				&pallet_beacon::VrfBytes::from_signature(signature),
			)?;
		}
		Ok(())
	}

	async fn try_handle_error(
		&self,
		_: &InherentIdentifier,
		_: &[u8],
	) -> Option<Result<(), sp_inherents::Error>> {
		None
	}
}
