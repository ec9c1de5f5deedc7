//! Invariants, checked by `try-runtime` and after every unit test.

use crate::{ByHash, Config, LiveVersions, NameOf, Pallet, Versions};
use frame_support::{ensure, traits::Get};
use sp_runtime::TryRuntimeError;

impl<T: Config> Pallet<T> {
	/// Checks every invariant of the registry's storage:
	/// - `LiveVersions` counts exactly the versions stored per model, never zero, never above
	///   `MaxLiveVersions`, and there are at most `MaxModels` models;
	/// - the hash index and the versions point at each other, one entry per version.
	pub fn do_try_state() -> Result<(), TryRuntimeError> {
		let mut counts: alloc::collections::BTreeMap<NameOf<T>, u32> = Default::default();
		for (name, version, v) in Versions::<T>::iter() {
			*counts.entry(name.clone()).or_default() += 1;
			ensure!(
				ByHash::<T>::get(v.spec.artifact_hash) == Some((name, version)),
				"a version's artifact hash is not indexed to it"
			);
		}
		for (name, count) in LiveVersions::<T>::iter() {
			ensure!(
				counts.remove(&name) == Some(count) && count > 0,
				"LiveVersions does not match the versions stored"
			);
			ensure!(
				count <= T::MaxLiveVersions::get(),
				"a model has more live versions than MaxLiveVersions"
			);
		}
		ensure!(counts.is_empty(), "a model has versions but no LiveVersions entry");
		ensure!(LiveVersions::<T>::count() <= T::MaxModels::get(), "more models than MaxModels");
		for (hash, (name, version)) in ByHash::<T>::iter() {
			let indexed =
				Versions::<T>::get(&name, version).is_some_and(|v| v.spec.artifact_hash == hash);
			ensure!(indexed, "the hash index points at a missing version");
		}
		Ok(())
	}
}
