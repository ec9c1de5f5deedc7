//! Unit tests with a small runtime: contributions verified against the slot's author, the
//! beacon folded from them, the fallback without one, the kept history.

use crate as pallet_beacon;
use crate::*;
use frame_support::{assert_noop, assert_ok, derive_impl, traits::Hooks};
use noderr_primitives::Beacon;
use sp_core::{
	crypto::{Pair as _, VrfSecret},
	sr25519::Pair,
};
use sp_runtime::{BuildStorage, DispatchError};
use std::cell::RefCell;

type Block = frame_system::mocking::MockBlock<Test>;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		BeaconPallet: pallet_beacon,
	}
);

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
}

thread_local! {
	static AUTHOR: RefCell<Option<(u64, Public)>> = const { RefCell::new(None) };
}

pub struct TestAuthor;
impl AuthorVrfKey for TestAuthor {
	fn author() -> Option<(u64, Public)> {
		AUTHOR.with(|a| *a.borrow())
	}
}

impl pallet_beacon::Config for Test {
	type AuthorKey = TestAuthor;
	type History = frame_support::traits::ConstU32<4>;
}

fn alice() -> Pair {
	Pair::from_string("//Alice", None).unwrap()
}

fn bob() -> Pair {
	Pair::from_string("//Bob", None).unwrap()
}

fn new_test_ext(test: impl FnOnce()) {
	let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	pallet_beacon::GenesisConfig::<Test> { initial: [7; 32], _config: Default::default() }
		.assimilate_storage(&mut storage)
		.unwrap();
	sp_io::TestExternalities::new(storage).execute_with(test)
}

/// Starts block `n` authored by `author` at slot `n + 100`.
fn start(n: u64, author: &Pair) -> u64 {
	let slot = n + 100;
	AUTHOR.with(|a| *a.borrow_mut() = Some((slot, author.public())));
	System::set_block_number(n);
	BeaconPallet::on_initialize(n);
	slot
}

fn finish(n: u64) {
	BeaconPallet::on_finalize(n);
}

fn sign(author: &Pair, previous: &[u8; 32], slot: u64) -> VrfBytes {
	VrfBytes::from_signature(&author.vrf_sign(&vrf_sign_data(previous, slot)))
}

#[test]
fn the_authors_vrf_output_advances_the_beacon() {
	new_test_ext(|| {
		let slot = start(1, &alice());
		let previous = Current::<Test>::get();
		assert_eq!(previous, [7; 32]);
		let sig = sign(&alice(), &previous, slot);
		assert_ok!(BeaconPallet::contribute(RuntimeOrigin::none(), sig.clone()));
		let expected = fold(&previous, slot, &alice().public(), &sig.signature().unwrap()).unwrap();
		assert_eq!(Current::<Test>::get(), expected);
		System::assert_last_event(Event::Contributed { beacon: expected }.into());
		finish(1);
		assert_eq!(BeaconPallet::beacon_after(1), Some(expected));
		assert_eq!(Participation::<Test>::get(), (1, 1));
		assert_eq!(Author::<Test>::get(), None);
	});
}

#[test]
fn a_contribution_that_is_not_the_authors_is_refused() {
	new_test_ext(|| {
		let slot = start(1, &alice());
		let previous = Current::<Test>::get();
		// Bob's key, another slot, another previous beacon: each refused.
		assert_noop!(
			BeaconPallet::contribute(RuntimeOrigin::none(), sign(&bob(), &previous, slot)),
			Error::<Test>::BadSignature
		);
		assert_noop!(
			BeaconPallet::contribute(RuntimeOrigin::none(), sign(&alice(), &previous, slot + 1)),
			Error::<Test>::BadSignature
		);
		assert_noop!(
			BeaconPallet::contribute(RuntimeOrigin::none(), sign(&alice(), &[0; 32], slot)),
			Error::<Test>::BadSignature
		);
		assert_noop!(
			BeaconPallet::contribute(RuntimeOrigin::signed(1), sign(&alice(), &previous, slot)),
			DispatchError::BadOrigin
		);
		assert_ok!(BeaconPallet::contribute(
			RuntimeOrigin::none(),
			sign(&alice(), &previous, slot)
		));
		assert_noop!(
			BeaconPallet::contribute(RuntimeOrigin::none(), sign(&alice(), &previous, slot)),
			Error::<Test>::AlreadyContributed
		);
	});
}

#[test]
fn bytes_that_are_no_signature_are_refused() {
	new_test_ext(|| {
		start(1, &alice());
		let garbage = VrfBytes { pre_output: [0xff; 32], proof: [0xff; 64] };
		assert_noop!(
			BeaconPallet::contribute(RuntimeOrigin::none(), garbage),
			Error::<Test>::BadSignature
		);
	});
}

#[test]
fn without_an_author_nothing_can_be_contributed() {
	new_test_ext(|| {
		AUTHOR.with(|a| *a.borrow_mut() = None);
		System::set_block_number(1);
		BeaconPallet::on_initialize(1);
		assert_noop!(
			BeaconPallet::contribute(RuntimeOrigin::none(), sign(&alice(), &[7; 32], 101)),
			Error::<Test>::NoAuthor
		);
	});
}

#[test]
fn a_block_without_a_contribution_advances_without_choice() {
	new_test_ext(|| {
		start(1, &alice());
		finish(1);
		assert_eq!(Current::<Test>::get(), advance(&[7; 32], 1));
		assert_eq!(Participation::<Test>::get(), (0, 1));
	});
}

#[test]
fn different_authors_give_different_beacons_and_history_is_bounded() {
	let run = |author: Pair| {
		let mut beacons = Vec::new();
		new_test_ext(|| {
			for n in 1..=6 {
				let slot = start(n, &author);
				let sig = sign(&author, &Current::<Test>::get(), slot);
				assert_ok!(BeaconPallet::contribute(RuntimeOrigin::none(), sig));
				finish(n);
				beacons.push(BeaconPallet::beacon_after(n).unwrap());
			}
			assert_eq!(BeaconPallet::beacon_after(2), None, "older than History");
			assert!(BeaconPallet::beacon_after(3).is_some());
			assert_eq!(BeaconPallet::beacon_after(7), None, "not built yet");
		});
		beacons
	};
	let a = run(alice());
	let b = run(bob());
	assert!(a.iter().zip(&b).all(|(x, y)| x != y));
	let mut unique = a.clone();
	unique.sort();
	unique.dedup();
	assert_eq!(unique.len(), a.len());
}

#[test]
fn the_inherent_is_made_from_the_nodes_signature() {
	use frame_support::inherent::ProvideInherent;
	let sig = sign(&alice(), &[7; 32], 101);
	let mut data = sp_inherents::InherentData::new();
	assert_eq!(BeaconPallet::create_inherent(&data), None);
	data.put_data(INHERENT_IDENTIFIER, &sig).unwrap();
	assert_eq!(BeaconPallet::create_inherent(&data), Some(Call::contribute { vrf: sig }));
}
