//! The registry as others see it: [`ModelProvider`] (a version by its artifact hash) for other
//! pallets, and the queries behind the runtime API.

use crate::{ByHash, Config, ModelVersionOf, NameOf, Pallet, SemVer, Status, Versions};
use alloc::vec::Vec;
use frame_system::pallet_prelude::BlockNumberFor;
use noderr_primitives::{ModelProvider, ModelSpec, ModelState, Tier};

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
		let spec = v.spec;
		Some(ModelSpec {
			kind: spec.kind,
			min_tier: spec.min_tier,
			input: spec.input,
			output: spec.output,
			state,
		})
	}
}

impl<T: Config> Pallet<T> {
	/// Versions a node of `tier` serves at block `now`: active (activation reached), live or
	/// deprecated, with `min_tier` at or below `tier`. Sorted by name, then version.
	pub fn served_by(
		tier: Tier,
		now: BlockNumberFor<T>,
	) -> Vec<(NameOf<T>, SemVer, ModelVersionOf<T>)> {
		let mut out: Vec<_> = Versions::<T>::iter()
			.filter(|(_, _, v)| v.spec.min_tier <= tier && v.activate_at <= now)
			.collect();
		out.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
		out
	}

	/// A version by name and version.
	pub fn model(name: Vec<u8>, version: SemVer) -> Option<ModelVersionOf<T>> {
		let name: NameOf<T> = name.try_into().ok()?;
		Versions::<T>::get(name, version)
	}
}
