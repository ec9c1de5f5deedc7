//! The registry as other pallets see it: [`ModelProvider`], a version by its artifact hash.

use crate::{ByHash, Config, Pallet, Status, Versions};
use noderr_primitives::{ModelProvider, ModelSpec, ModelState};

impl<T: Config> ModelProvider for Pallet<T> {
	fn model(artifact_hash: &[u8; 32]) -> Option<ModelSpec> {
		let (name, version) = ByHash::<T>::get(artifact_hash)?;
		let v = Versions::<T>::get(&name, version)?;
		let state = if v.activate_at > frame_system::Pallet::<T>::block_number() {
			ModelState::NotYetActive
		} else {
			match v.status {
				Status::Live => ModelState::Live,
				Status::Deprecated(_) => ModelState::Deprecated,
			}
		};
		Some(ModelSpec {
			kind: v.kind,
			min_tier: v.min_tier,
			input: v.input,
			output: v.output,
			state,
		})
	}
}
