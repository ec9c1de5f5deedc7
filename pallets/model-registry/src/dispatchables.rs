//! The calls: registration (also used by genesis), deprecation and retirement, each checking all
//! of its input before it writes anything.

use crate::{
	ByHash, Config, Error, Event, LiveVersions, LocationsOf, ModelVersion, NameOf, Pallet,
	Registration, SemVer, Status, VersionSpec, Versions, MAX_SCALE,
};
use alloc::vec::Vec;
use frame_support::{ensure, pallet_prelude::*, BoundedVec};
use frame_system::pallet_prelude::BlockNumberFor;
use noderr_primitives::{InputSpec, TaskKind};

impl<T: Config> Pallet<T> {
	/// Checks and stores a registration; used by the call and by genesis.
	pub fn do_register(
		name: Vec<u8>,
		version: SemVer,
		r: Registration<BlockNumberFor<T>>,
	) -> DispatchResult {
		let name = Self::bounded_name(name)?;
		Self::check_spec(&r.spec)?;
		let locations = Self::bounded_locations(r.locations)?;
		let now = frame_system::Pallet::<T>::block_number();
		ensure!(r.activate_at >= now, Error::<T>::ActivationInPast);
		ensure!(!Versions::<T>::contains_key(&name, version), Error::<T>::DuplicateVersion);
		let hash = r.spec.artifact_hash;
		ensure!(!ByHash::<T>::contains_key(hash), Error::<T>::DuplicateArtifact);
		let live = LiveVersions::<T>::get(&name);
		ensure!(live < T::MaxLiveVersions::get(), Error::<T>::TooManyLiveVersions);
		if live == 0 {
			ensure!(LiveVersions::<T>::count() < T::MaxModels::get(), Error::<T>::TooManyModels);
		}
		let stored = ModelVersion {
			spec: r.spec,
			locations,
			activate_at: r.activate_at,
			status: Status::Live,
		};
		Versions::<T>::insert(&name, version, stored);
		LiveVersions::<T>::insert(&name, live + 1);
		ByHash::<T>::insert(hash, (name.clone(), version));
		Self::deposit_event(Event::Registered {
			name,
			version,
			artifact_hash: hash,
			activate_at: r.activate_at,
		});
		Ok(())
	}

	/// Marks a live version deprecated from this block on.
	pub(crate) fn do_deprecate(name: Vec<u8>, version: SemVer) -> DispatchResult {
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

	/// Removes a version, its hash index entry and, with its last version, the model.
	pub(crate) fn do_retire(name: Vec<u8>, version: SemVer) -> DispatchResult {
		let name = Self::known_name(name)?;
		let v = Versions::<T>::take(&name, version).ok_or(Error::<T>::UnknownVersion)?;
		ByHash::<T>::remove(v.spec.artifact_hash);
		let left = LiveVersions::<T>::get(&name).saturating_sub(1);
		if left == 0 {
			LiveVersions::<T>::remove(&name);
		} else {
			LiveVersions::<T>::insert(&name, left);
		}
		Self::deposit_event(Event::Retired { name, version });
		Ok(())
	}

	fn bounded_name(name: Vec<u8>) -> Result<NameOf<T>, Error<T>> {
		ensure!(!name.is_empty(), Error::<T>::EmptyName);
		name.try_into().map_err(|_| Error::<T>::NameTooLong)
	}

	fn known_name(name: Vec<u8>) -> Result<NameOf<T>, DispatchError> {
		let name = Self::bounded_name(name)?;
		ensure!(LiveVersions::<T>::contains_key(&name), Error::<T>::UnknownModel);
		Ok(name)
	}

	fn check_spec(spec: &VersionSpec) -> Result<(), Error<T>> {
		match spec.kind {
			TaskKind::Regression { outputs } => ensure!(outputs > 0, Error::<T>::NoOutputs),
			TaskKind::Classification { classes } | TaskKind::TextClassification { classes } => {
				ensure!(classes > 1, Error::<T>::TooFewClasses)
			}
		}
		let input_ok = match spec.input {
			InputSpec::Features { window, feature_count, .. } => window > 0 && feature_count > 0,
			InputSpec::Bars { window } => window > 0,
			InputSpec::Text { max_bytes } => max_bytes > 0,
		};
		ensure!(input_ok, Error::<T>::EmptyInput);
		let scale = spec.output.scale;
		let power_of_ten = (0..=18u32).any(|k| 10u64.pow(k) == scale);
		ensure!(power_of_ten && scale <= MAX_SCALE, Error::<T>::ScaleOutOfRange);
		ensure!(spec.output.tolerance <= scale, Error::<T>::ToleranceOutOfRange);
		ensure!(spec.artifact_size > 0, Error::<T>::EmptyArtifact);
		ensure!(spec.artifact_size <= T::MaxArtifactSize::get(), Error::<T>::ArtifactTooLarge);
		Ok(())
	}

	fn bounded_locations(locations: Vec<Vec<u8>>) -> Result<LocationsOf<T>, Error<T>> {
		ensure!(locations.len() as u32 <= T::MaxLocations::get(), Error::<T>::TooManyLocations);
		let mut out = Vec::with_capacity(locations.len());
		for l in locations {
			let http = l.starts_with(b"https://") || l.starts_with(b"http://");
			ensure!(http, Error::<T>::LocationNotHttp);
			out.push(BoundedVec::try_from(l).map_err(|_| Error::<T>::LocationTooLong)?);
		}
		out.try_into().map_err(|_| Error::<T>::TooManyLocations)
	}
}
