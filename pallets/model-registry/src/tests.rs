//! Unit tests: every call, every bound and every error leaves state unchanged; invariants are
//! checked after each test (see `mock.rs`).

use crate::{mock::*, *};
use frame_support::{assert_noop, assert_ok};
use noderr_primitives::Tier;
use sp_runtime::{DispatchError, DispatchResult};

const V1: SemVer = SemVer { major: 1, minor: 0, patch: 0 };
const V2: SemVer = SemVer { major: 1, minor: 1, patch: 0 };
const V3: SemVer = SemVer { major: 2, minor: 0, patch: 0 };
const V4: SemVer = SemVer { major: 3, minor: 0, patch: 0 };

fn reg(hash: u8) -> Registration<u64> {
	Registration {
		spec: VersionSpec {
			kind: TaskKind::Regression { outputs: 3 },
			min_tier: Tier::All,
			input: InputSpec::Features { pipeline_version: 1, window: 60, feature_count: 94 },
			output: OutputSpec { scale: 1_000_000, tolerance: 500 },
			artifact_hash: [hash; 32],
			artifact_size: 97_063,
		},
		locations: vec![b"https://models.example/price.nrm".to_vec()],
		activate_at: 5,
	}
}

fn register(name: &[u8], version: SemVer, r: Registration<u64>) -> DispatchResult {
	ModelRegistry::register(RuntimeOrigin::root(), name.to_vec(), version, r)
}

fn name(n: &[u8]) -> NameOf<Test> {
	n.to_vec().try_into().unwrap()
}

#[test]
fn register_stores_indexes_and_emits() {
	new_test_ext(|| {
		assert_ok!(register(b"price", V1, reg(1)));
		let v = Versions::<Test>::get(name(b"price"), V1).unwrap();
		assert_eq!(v.spec.artifact_hash, [1; 32]);
		assert_eq!(v.status, Status::Live);
		assert_eq!(v.locations.len(), 1);
		assert_eq!(LiveVersions::<Test>::get(name(b"price")), 1);
		assert_eq!(ByHash::<Test>::get([1; 32]), Some((name(b"price"), V1)));
		System::assert_last_event(
			Event::Registered {
				name: name(b"price"),
				version: V1,
				artifact_hash: [1; 32],
				activate_at: 5,
			}
			.into(),
		);
		assert_eq!(ModelRegistry::model(b"price".to_vec(), V1), Some(v));
	});
}

#[test]
fn only_the_model_admin_changes_the_registry() {
	new_test_ext(|| {
		assert_noop!(
			ModelRegistry::register(RuntimeOrigin::signed(1), b"price".to_vec(), V1, reg(1)),
			DispatchError::BadOrigin
		);
		assert_ok!(register(b"price", V1, reg(1)));
		assert_noop!(
			ModelRegistry::deprecate(RuntimeOrigin::signed(1), b"price".to_vec(), V1),
			DispatchError::BadOrigin
		);
		assert_noop!(
			ModelRegistry::retire(RuntimeOrigin::signed(1), b"price".to_vec(), V1),
			DispatchError::BadOrigin
		);
	});
}

#[test]
fn bad_registrations_are_refused_with_specific_errors() {
	new_test_ext(|| {
		assert_ok!(register(b"price", V1, reg(1)));
		let refused = |change: fn(&mut Registration<u64>), error: Error<Test>| {
			let mut r = reg(2);
			change(&mut r);
			assert_noop!(register(b"price", V2, r), error);
		};
		assert_noop!(register(b"price", V1, reg(2)), Error::<Test>::DuplicateVersion);
		assert_noop!(register(b"other", V1, reg(1)), Error::<Test>::DuplicateArtifact);
		assert_noop!(register(b"", V1, reg(2)), Error::<Test>::EmptyName);
		assert_noop!(register(&[b'x'; 33], V1, reg(2)), Error::<Test>::NameTooLong);
		refused(|r| r.spec.output.scale = 1_000_001, Error::<Test>::ScaleOutOfRange);
		refused(|r| r.spec.output.scale = 0, Error::<Test>::ScaleOutOfRange);
		refused(|r| r.spec.output.tolerance = 1_000_001, Error::<Test>::ToleranceOutOfRange);
		refused(
			|r| {
				r.locations =
					vec![b"https://a".to_vec(), b"https://b".to_vec(), b"https://c".to_vec()]
			},
			Error::<Test>::TooManyLocations,
		);
		refused(|r| r.locations = vec![b"ftp://a".to_vec()], Error::<Test>::LocationNotHttp);
		refused(|r| r.locations = vec![Vec::new()], Error::<Test>::LocationNotHttp);
		refused(
			|r| r.locations = vec![[b"https://".as_slice(), &[b'a'; 60]].concat()],
			Error::<Test>::LocationTooLong,
		);
		refused(|r| r.activate_at = 0, Error::<Test>::ActivationInPast);
		refused(|r| r.spec.artifact_size = 0, Error::<Test>::EmptyArtifact);
		refused(|r| r.spec.artifact_size = (1 << 30) + 1, Error::<Test>::ArtifactTooLarge);
		refused(|r| r.spec.kind = TaskKind::Regression { outputs: 0 }, Error::<Test>::NoOutputs);
		refused(
			|r| r.spec.kind = TaskKind::Classification { classes: 1 },
			Error::<Test>::TooFewClasses,
		);
		refused(
			|r| r.spec.kind = TaskKind::TextClassification { classes: 0 },
			Error::<Test>::TooFewClasses,
		);
		refused(|r| r.spec.input = InputSpec::Text { max_bytes: 0 }, Error::<Test>::EmptyInput);
		refused(|r| r.spec.input = InputSpec::Bars { window: 0 }, Error::<Test>::EmptyInput);
		refused(
			|r| {
				r.spec.input =
					InputSpec::Features { pipeline_version: 1, window: 60, feature_count: 0 }
			},
			Error::<Test>::EmptyInput,
		);
		// Deprecation and retirement name their failures too.
		let deprecate =
			|n: &[u8], v| ModelRegistry::deprecate(RuntimeOrigin::root(), n.to_vec(), v);
		assert_noop!(deprecate(b"", V1), Error::<Test>::EmptyName);
		assert_noop!(deprecate(b"none", V1), Error::<Test>::UnknownModel);
		assert_noop!(deprecate(b"price", V2), Error::<Test>::UnknownVersion);
		assert_ok!(deprecate(b"price", V1));
		assert_noop!(deprecate(b"price", V1), Error::<Test>::AlreadyDeprecated);
	});
}

#[test]
fn live_versions_and_models_are_bounded() {
	new_test_ext(|| {
		for (i, v) in [V1, V2, V3].into_iter().enumerate() {
			assert_ok!(register(b"price", v, reg(i as u8 + 1)));
		}
		assert_noop!(register(b"price", V4, reg(9)), Error::<Test>::TooManyLiveVersions);
		// Retiring frees a slot; deprecating does not.
		assert_ok!(ModelRegistry::deprecate(RuntimeOrigin::root(), b"price".to_vec(), V1));
		assert_noop!(register(b"price", V4, reg(9)), Error::<Test>::TooManyLiveVersions);
		assert_ok!(ModelRegistry::retire(RuntimeOrigin::root(), b"price".to_vec(), V1));
		assert_ok!(register(b"price", V4, reg(9)));
		for (i, n) in [b"m1", b"m2", b"m3"].into_iter().enumerate() {
			assert_ok!(register(n, V1, reg(20 + i as u8)));
		}
		assert_eq!(LiveVersions::<Test>::count(), MAX_MODELS);
		assert_noop!(register(b"m4", V1, reg(30)), Error::<Test>::TooManyModels);
		// A new version of an existing model is still accepted.
		assert_ok!(register(b"m1", V2, reg(31)));
	});
}

#[test]
fn deprecate_and_retire_follow_the_life_cycle() {
	new_test_ext(|| {
		assert_ok!(register(b"price", V1, reg(1)));
		System::set_block_number(7);
		assert_ok!(ModelRegistry::deprecate(RuntimeOrigin::root(), b"price".to_vec(), V1));
		assert_eq!(
			Versions::<Test>::get(name(b"price"), V1).unwrap().status,
			Status::Deprecated(7)
		);
		System::assert_last_event(Event::Deprecated { name: name(b"price"), version: V1 }.into());
		assert_noop!(
			ModelRegistry::deprecate(RuntimeOrigin::root(), b"price".to_vec(), V1),
			Error::<Test>::AlreadyDeprecated
		);
		assert_noop!(
			ModelRegistry::deprecate(RuntimeOrigin::root(), b"price".to_vec(), V2),
			Error::<Test>::UnknownVersion
		);
		assert_noop!(
			ModelRegistry::deprecate(RuntimeOrigin::root(), b"nope".to_vec(), V1),
			Error::<Test>::UnknownModel
		);
		assert_ok!(ModelRegistry::retire(RuntimeOrigin::root(), b"price".to_vec(), V1));
		System::assert_last_event(Event::Retired { name: name(b"price"), version: V1 }.into());
		assert!(Versions::<Test>::get(name(b"price"), V1).is_none());
		assert!(ByHash::<Test>::get([1; 32]).is_none());
		assert!(!LiveVersions::<Test>::contains_key(name(b"price")));
		assert_noop!(
			ModelRegistry::retire(RuntimeOrigin::root(), b"price".to_vec(), V1),
			Error::<Test>::UnknownModel
		);
		// The hash is free again.
		let mut r = reg(1);
		r.activate_at = 10;
		assert_ok!(register(b"price", V2, r));
		assert_noop!(
			ModelRegistry::retire(RuntimeOrigin::root(), b"price".to_vec(), V1),
			Error::<Test>::UnknownVersion
		);
	});
}

#[test]
fn served_by_follows_tier_and_activation() {
	new_test_ext(|| {
		assert_ok!(register(b"price", V1, reg(1)));
		let mut r = reg(2);
		r.spec.min_tier = Tier::Oracle;
		r.spec.kind = TaskKind::Classification { classes: 4 };
		r.activate_at = 10;
		assert_ok!(register(b"regime", V1, r));
		let names = |tier, now| {
			ModelRegistry::served_by(tier, now)
				.into_iter()
				.map(|(n, v, _)| (n.to_vec(), v))
				.collect::<Vec<_>>()
		};
		assert_eq!(names(Tier::Guardian, 4), vec![]);
		assert_eq!(names(Tier::All, 5), vec![(b"price".to_vec(), V1)]);
		assert_eq!(names(Tier::Oracle, 9), vec![(b"price".to_vec(), V1)]);
		assert_eq!(
			names(Tier::Oracle, 10),
			vec![(b"price".to_vec(), V1), (b"regime".to_vec(), V1)]
		);
		assert_eq!(names(Tier::All, 10), vec![(b"price".to_vec(), V1)]);
		// Deprecated versions are still served.
		assert_ok!(ModelRegistry::deprecate(RuntimeOrigin::root(), b"price".to_vec(), V1));
		assert_eq!(names(Tier::All, 10), vec![(b"price".to_vec(), V1)]);
	});
}

#[test]
fn runtime_api_view_carries_every_field() {
	new_test_ext(|| {
		let r = reg(3);
		assert_ok!(register(b"price", V1, r.clone()));
		let info = ModelRegistry::model(b"price".to_vec(), V1).unwrap().info(b"price".to_vec(), V1);
		assert_eq!(
			info,
			ModelInfo {
				name: b"price".to_vec(),
				version: V1,
				spec: r.spec,
				locations: r.locations,
				activate_at: 5,
				status: Status::Live,
			}
		);
	});
}

#[test]
fn versions_print_as_semver() {
	assert_eq!(V2.to_string(), "1.1.0");
	assert_eq!(SemVer { major: 12, minor: 0, patch: 7 }.to_string(), "12.0.7");
}

#[test]
fn genesis_registers_models() {
	let mut r = reg(7);
	r.activate_at = 0;
	new_test_ext_with(vec![(b"sentiment".to_vec(), V1, r)], || {
		assert!(Versions::<Test>::get(name(b"sentiment"), V1).is_some());
		assert_eq!(ModelRegistry::served_by(Tier::All, 1).len(), 1);
	});
}

#[test]
fn invariants_detect_a_broken_index() {
	new_test_ext(|| {
		assert_ok!(register(b"price", V1, reg(1)));
		ByHash::<Test>::remove([1; 32]);
		assert!(ModelRegistry::do_try_state().is_err());
		ByHash::<Test>::insert([1; 32], (name(b"price"), V1));
	});
}

#[test]
fn other_pallets_read_a_version_by_its_artifact_hash() {
	use noderr_primitives::{ModelProvider, ModelState};
	new_test_ext(|| {
		assert_eq!(<ModelRegistry as ModelProvider>::model(&[1; 32]), None);
		assert_ok!(register(b"price", V1, reg(1)));
		let spec = <ModelRegistry as ModelProvider>::model(&[1; 32]).unwrap();
		assert_eq!(spec.state, ModelState::NotYetActive, "activation at block 5");
		assert_eq!(spec.kind, TaskKind::Regression { outputs: 3 });
		assert_eq!(spec.output, OutputSpec { scale: 1_000_000, tolerance: 500 });
		assert_eq!(spec.min_tier, Tier::All);
		System::set_block_number(5);
		assert_eq!(
			<ModelRegistry as ModelProvider>::model(&[1; 32]).unwrap().state,
			ModelState::Live
		);
		assert_ok!(ModelRegistry::deprecate(RuntimeOrigin::root(), b"price".to_vec(), V1));
		assert_eq!(
			<ModelRegistry as ModelProvider>::model(&[1; 32]).unwrap().state,
			ModelState::Deprecated
		);
		assert_ok!(ModelRegistry::retire(RuntimeOrigin::root(), b"price".to_vec(), V1));
		assert_eq!(<ModelRegistry as ModelProvider>::model(&[1; 32]), None);
	});
}
