use crate::{mock::*, Error, Event, PendingChange, Validators};
use frame_support::{assert_noop, assert_ok};
use pallet_session::SessionManager;
use sp_runtime::{BuildStorage, DispatchError};

fn validators() -> Vec<u64> {
	Validators::<Test>::get().into_inner()
}

#[test]
fn genesis_sorts_validators() {
	run_test(|| {
		assert_eq!(validators(), vec![1, 2]);
		assert_eq!(ValidatorSet::new_session_genesis(0), Some(vec![1, 2]));
	});
}

#[test]
fn a_genesis_without_validators_takes_the_sessions_first_validators() {
	let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	crate::GenesisConfig::<Test> { initial_validators: vec![] }
		.assimilate_storage(&mut storage)
		.unwrap();
	sp_io::TestExternalities::new(storage).execute_with(|| {
		// The session decides (from its authority keys), then the set adopts what it decided.
		assert_eq!(ValidatorSet::new_session_genesis(0), None);
		assert_eq!(ValidatorSet::new_session_genesis(1), None);
		KEY_OWNERS.with(|k| *k.borrow_mut() = vec![7, 3, 5, 3]);
		ValidatorSet::start_session(0);
		assert_eq!(validators(), vec![3, 5, 7], "stored, sorted, without duplicates");
		ValidatorSet::do_try_state().expect("invariants hold");
		// Only at genesis.
		KEY_OWNERS.with(|k| *k.borrow_mut() = vec![9]);
		ValidatorSet::start_session(1);
		assert_eq!(validators(), vec![3, 5, 7]);
	});
}

#[test]
fn the_default_genesis_without_validators_or_session_keys_stays_empty() {
	let storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	sp_io::TestExternalities::new(storage).execute_with(|| {
		ValidatorSet::start_session(0);
		assert!(validators().is_empty());
	});
}

#[test]
fn named_genesis_validators_win_over_the_session_keys() {
	run_test(|| {
		KEY_OWNERS.with(|k| *k.borrow_mut() = vec![4]);
		assert_eq!(ValidatorSet::new_session_genesis(0), Some(vec![1, 2]));
		ValidatorSet::start_session(0);
		assert_eq!(validators(), vec![1, 2]);
	});
}

#[test]
fn add_validator_works_and_reaches_next_session() {
	run_test(|| {
		assert_eq!(ValidatorSet::new_session(1), None, "no change yet");
		assert_ok!(ValidatorSet::add_validator(RuntimeOrigin::root(), 7));
		System::assert_last_event(Event::ValidatorAdded { who: 7 }.into());
		assert_eq!(validators(), vec![1, 2, 7]);
		assert!(PendingChange::<Test>::get());
		assert_eq!(ValidatorSet::new_session(2), Some(vec![1, 2, 7]));
		assert_eq!(ValidatorSet::new_session(3), None, "change is handed over once");
	});
}

#[test]
fn add_validator_rejects_bad_input() {
	run_test(|| {
		assert_noop!(
			ValidatorSet::add_validator(RuntimeOrigin::signed(1), 7),
			DispatchError::BadOrigin
		);
		assert_noop!(
			ValidatorSet::add_validator(RuntimeOrigin::root(), 2),
			Error::<Test>::AlreadyValidator
		);
		for who in 3..=8 {
			assert_ok!(ValidatorSet::add_validator(RuntimeOrigin::root(), who));
		}
		assert_noop!(
			ValidatorSet::add_validator(RuntimeOrigin::root(), 9),
			Error::<Test>::TooManyValidators
		);
	});
}

#[test]
fn remove_validator_works() {
	run_test(|| {
		assert_ok!(ValidatorSet::remove_validator(RuntimeOrigin::root(), 1));
		System::assert_last_event(Event::ValidatorRemoved { who: 1 }.into());
		assert_eq!(validators(), vec![2]);
		assert_eq!(ValidatorSet::new_session(2), Some(vec![2]));
	});
}

#[test]
fn remove_validator_rejects_bad_input() {
	run_test(|| {
		assert_noop!(
			ValidatorSet::remove_validator(RuntimeOrigin::signed(1), 1),
			DispatchError::BadOrigin
		);
		assert_noop!(
			ValidatorSet::remove_validator(RuntimeOrigin::root(), 5),
			Error::<Test>::NotValidator
		);
		assert_ok!(ValidatorSet::remove_validator(RuntimeOrigin::root(), 1));
		assert_noop!(
			ValidatorSet::remove_validator(RuntimeOrigin::root(), 2),
			Error::<Test>::TooFewValidators
		);
	});
}

#[test]
fn a_removal_must_leave_a_validator_with_session_keys() {
	run_test(|| {
		// Validator 1 never registered keys: removing 2 would leave no block author.
		KEYLESS.with(|k| k.borrow_mut().push(1));
		assert_noop!(
			ValidatorSet::remove_validator(RuntimeOrigin::root(), 2),
			Error::<Test>::TooFewWithKeys
		);
		// Once another validator with keys joins, 2 can go.
		assert_ok!(ValidatorSet::add_validator(RuntimeOrigin::root(), 3));
		assert_ok!(ValidatorSet::remove_validator(RuntimeOrigin::root(), 2));
		assert_eq!(validators(), vec![1, 3]);
		// And removing the keyless one is always fine.
		assert_ok!(ValidatorSet::remove_validator(RuntimeOrigin::root(), 1));
		KEYLESS.with(|k| k.borrow_mut().clear());
	});
}
