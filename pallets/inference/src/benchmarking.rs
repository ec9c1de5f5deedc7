//! FRAME benchmarks, each at its worst case within the pallet's bounds. What the pallet reads
//! from other pallets (tiers and stakes, registered models, the beacon) is set up through
//! [`Config::BenchmarkHelper`].

use super::*;
use crate::Pallet as Inference;
use alloc::{vec, vec::Vec};
use frame_benchmarking::v2::*;
use frame_support::{
	traits::{
		fungible::{Inspect, InspectHold, Mutate},
		EnsureOrigin, Get,
	},
	BoundedVec,
};
use frame_system::{pallet_prelude::BlockNumberFor, RawOrigin};
use noderr_primitives::{
	commitment, Answer, Beacon, InputSpec, ModelSpec, ModelState, OutputSpec, Participation,
	TaskKind, Tier, MAX_ANSWER_VALUES,
};
use sp_runtime::traits::{Bounded, Saturating, Verify, Zero};

/// Moves off the genesis block, as the benchmark runner does before the measured code but
/// after the set-up: the set-up then reckons from the block the measured code runs in.
fn start<T: Config>() -> BlockNumberFor<T> {
	if frame_system::Pallet::<T>::block_number().is_zero() {
		frame_system::Pallet::<T>::set_block_number(1u32.into());
	}
	frame_system::Pallet::<T>::block_number()
}

/// Ids no task will have (task ids count up from 0): deadline queues and the record ring are
/// filled with them.
const FILLER: TaskId = TaskId::MAX;

/// Operators drawn per task at most: `MaxAssigned`, within the configuration's `u8`.
fn max_k<T: Config>() -> u32 {
	T::MaxAssigned::get().min(u8::MAX as u32)
}

fn plenty<T: Config>() -> BalanceOf<T> {
	BalanceOf::<T>::max_value() / 1_000_000u32.into()
}

fn funded<T: Config>(name: &'static str, index: u32) -> T::AccountId {
	let who: T::AccountId = account(name, index, 0);
	T::Currency::set_balance(&who, plenty::<T>());
	who
}

/// An amount whose share among `max_k` operators is still far above the existential deposit.
fn ample<T: Config>() -> BalanceOf<T> {
	T::Currency::minimum_balance()
		.max(1u32.into())
		.saturating_mul(1_000u32.into())
		.saturating_mul(max_k::<T>().into())
}

/// A fee every class accepts, large enough that every agreeing operator gets a share of it.
fn fee<T: Config>() -> BalanceOf<T> {
	Configuration::<T>::get().classes.iter().map(|c| c.min_fee).fold(ample::<T>(), |a, b| a.max(b))
}

/// Sets every class to draw `max_k` operators and pays an emission every agreeing operator gets
/// a share of, from a funded treasury. The phases last at least two blocks, so that a task whose
/// operators all revealed is alone with the other such tasks in its settlement block, and a
/// heartbeat outlives the assignment delay.
fn configure<T: Config>() -> InferenceConfigOf<T> {
	let mut config = Configuration::<T>::get();
	let two: BlockNumberFor<T> = 2u32.into();
	for class in config.classes.iter_mut() {
		class.assigned = max_k::<T>() as u8;
		class.commit_blocks = class.commit_blocks.max(two);
		class.reveal_blocks = class.reveal_blocks.max(two);
	}
	config.heartbeat_period =
		config.heartbeat_period.max(config.assignment_delay.saturating_add(two));
	config.reward_per_task = config.reward_per_task.max(ample::<T>());
	let tasks_per_block: BalanceOf<T> = T::MaxDeadlinesPerBlock::get().saturating_add(1).into();
	config.emission_per_epoch =
		config.emission_per_epoch.max(config.reward_per_task.saturating_mul(tasks_per_block));
	Inference::<T>::do_set_config(config).expect("a valid configuration");
	T::Currency::set_balance(&T::Treasury::get(), plenty::<T>());
	config
}

/// The artifact hash of the benchmarks' model number `i` (never [`OBSERVATION_KEY`]).
fn model_hash(i: u32) -> [u8; 32] {
	let mut hash = [0xb3; 32];
	hash[..4].copy_from_slice(&i.to_le_bytes());
	hash
}

fn register<T: Config>(hash: [u8; 32], kind: TaskKind, input: InputSpec) {
	T::BenchmarkHelper::register_model(
		hash,
		ModelSpec {
			kind,
			min_tier: Tier::All,
			input,
			output: OutputSpec { scale: 1_000_000, tolerance: 1_000_000 },
			state: ModelState::Live,
		},
	);
}

/// A price model with the widest answer: the class whose settlement does the most (it also
/// keeps the forecast for scoring).
fn price_model<T: Config>() -> [u8; 32] {
	let hash = model_hash(u32::MAX);
	register::<T>(
		hash,
		TaskKind::Regression { outputs: MAX_ANSWER_VALUES as u8 },
		InputSpec::Features { pipeline_version: 1, window: 1, feature_count: 1 },
	);
	hash
}

/// A text model that accepts the longest text the chain does.
fn text_model<T: Config>() -> [u8; 32] {
	let hash = model_hash(u32::MAX - 1);
	register::<T>(
		hash,
		TaskKind::TextClassification { classes: 3 },
		InputSpec::Text { max_bytes: T::MaxTextLength::get() },
	);
	hash
}

fn pair<T: Config>() -> BoundedVec<u8, T::MaxPairLength> {
	BoundedVec::truncate_from(vec![b'P'; T::MaxPairLength::get() as usize])
}

fn sources<T: Config>() -> BoundedVec<BoundedVec<u8, T::MaxSourceHintLength>, T::MaxSourceHints> {
	let hint = BoundedVec::truncate_from(vec![b's'; T::MaxSourceHintLength::get() as usize]);
	BoundedVec::truncate_from(vec![hint; T::MaxSourceHints::get() as usize])
}

/// A feed id not in use.
fn unused_feed<T: Config>() -> FeedId {
	let mut id: FeedId = 0xb3_0000;
	while Feeds::<T>::contains_key(id) {
		id.saturating_inc();
	}
	id
}

/// Adds or removes feeds until there are `count`; returns them.
fn feeds<T: Config>(count: u32) -> Vec<FeedId> {
	while Feeds::<T>::count() < count {
		Inference::<T>::do_set_feed(unused_feed::<T>(), pair::<T>(), 3_600, 0, sources::<T>())
			.expect("room for a feed");
	}
	while Feeds::<T>::count() > count {
		let feed = Feeds::<T>::iter_keys().next().expect("a feed");
		Feeds::<T>::remove(feed);
	}
	Feeds::<T>::iter_keys().collect()
}

/// A feed, existing or new.
fn some_feed<T: Config>() -> FeedId {
	match Feeds::<T>::iter_keys().next() {
		Some(feed) => feed,
		None => feeds::<T>(1)[0],
	}
}

/// The input of a price task: a feed whose history holds the price model's window with its
/// warm-up.
fn history<T: Config>() -> TaskInputOf<T> {
	let feed = some_feed::<T>();
	while BarCount::<T>::get(feed) < FEATURE_WARMUP_BARS + 1 {
		let time = Feeds::<T>::get(feed).map(|f| f.next_bar_time).unwrap_or_default();
		let bar = Bar {
			time,
			open: 100_000_000,
			high: 101_000_000,
			low: 99_000_000,
			close: 100_000_000,
			volume: 1_000_000,
		};
		Inference::<T>::append_bar(feed, bar);
	}
	TaskInput::History { feed, end: 0 }
}

/// A schedule listing as many models as it may.
fn full_schedule<T: Config>() -> ScheduleOf<T> {
	let models = (0..T::MaxScheduledModels::get()).map(model_hash).collect();
	Schedule { every: 1u32.into(), models: BoundedVec::truncate_from(models) }
}

/// An operator of the highest tier, eligible for every model.
fn operator<T: Config>(index: u32) -> T::AccountId {
	let who = funded::<T>("operator", index);
	T::BenchmarkHelper::set_operator(&who, Tier::Guardian, ample::<T>());
	who
}

/// Links a new worker key to `operator`; returns it.
fn linked<T: Config>(operator: &T::AccountId, index: u32) -> T::AccountId {
	let worker: T::AccountId = account("worker", index, 0);
	Inference::<T>::do_link_worker(operator.clone(), worker.clone()).expect("a fresh worker");
	worker
}

fn worker_of<T: Config>(operator: &T::AccountId) -> T::AccountId {
	WorkerOf::<T>::get(operator).expect("a linked operator")
}

fn keys<T: Config>(
	keys: impl IntoIterator<Item = [u8; 32]>,
) -> BoundedVec<[u8; 32], T::MaxServedModels> {
	BoundedVec::truncate_from(keys.into_iter().collect())
}

/// `count` operators with worker keys, whose heartbeats list `model`.
fn serving<T: Config>(model: [u8; 32], count: u32) {
	for i in 0..count {
		let who = operator::<T>(i);
		linked::<T>(&who, i);
		Inference::<T>::do_heartbeat(who, keys::<T>([model])).expect("a registered model");
	}
}

/// Fills the deadline queues from block `from` on until a deadline queued from `from` finds no
/// room, then frees `free` slots at the far end: each of the next `free` deadlines queued from
/// `from` reads every queue within reach before it finds its slot.
fn crowd_deadlines<T: Config>(from: BlockNumberFor<T>, free: u32) {
	let mut block = from;
	let mut filler = FILLER;
	while Inference::<T>::free_deadline(from).is_ok() {
		Deadlines::<T>::mutate(block, |queue| {
			while queue.try_push(filler).is_ok() {
				filler.saturating_dec();
			}
		});
		block.saturating_inc();
	}
	let mut freed = 0;
	while freed < free && block > from {
		block.saturating_dec();
		Deadlines::<T>::mutate(block, |queue| {
			while freed < free && queue.last().is_some_and(|id| *id > FILLER / 2) {
				queue.pop();
				freed += 1;
			}
		});
	}
	assert_eq!(freed, free, "the queues within reach have room for {free} deadlines");
}

/// A task of `model` on `input` from a new requester, waiting for its assignment.
fn requested<T: Config>(model: [u8; 32], input: TaskInputOf<T>, index: u32) -> TaskId {
	let requester = funded::<T>("requester", index);
	Inference::<T>::do_create_task(requester, model, input, fee::<T>()).expect("a valid task")
}

/// Moves to the block in which the waiting task `id` is assigned, with the beacon its draw is
/// seeded from. Returns the block.
fn to_assignment<T: Config>(id: TaskId) -> BlockNumberFor<T> {
	let task = Tasks::<T>::get(id).expect("an open task");
	let at = task.phase.deadline();
	frame_system::Pallet::<T>::set_block_number(at);
	let seed_block = task.created.saturating_add(Configuration::<T>::get().assignment_delay);
	T::BenchmarkHelper::set_beacon_after(seed_block);
	assert!(T::Beacon::beacon_after(seed_block).is_some(), "the helper provides the beacon");
	at
}

/// The operators assigned to `id`, in draw order.
fn assigned<T: Config>(id: TaskId) -> Vec<T::AccountId> {
	Tasks::<T>::get(id).expect("an open task").assigned.into_iter().map(|a| a.who).collect()
}

/// A price task assigned to `max_k` operators, in its commit phase, with its operators.
fn assigned_task<T: Config>() -> (TaskId, Vec<T::AccountId>) {
	start::<T>();
	configure::<T>();
	let model = price_model::<T>();
	serving::<T>(model, max_k::<T>());
	let id = requested::<T>(model, history::<T>(), 0);
	let at = to_assignment::<T>(id);
	Inference::<T>::process_deadlines(at);
	let operators = assigned::<T>(id);
	assert_eq!(operators.len() as u32, max_k::<T>());
	(id, operators)
}

/// The answer of the `i`th operator of a task: every field filled, all within the model's
/// tolerance of each other but not equal, so that each median sorts.
fn answer(i: u32) -> Answer {
	let values = (0..MAX_ANSWER_VALUES)
		.map(|f| 10_000 * (f as i64 + 1) + ((i * 37 + f * 11) % 97) as i64)
		.collect();
	Answer::truncate_from(values)
}

fn salt(i: u32) -> [u8; 32] {
	let mut salt = [0x5a; 32];
	salt[..4].copy_from_slice(&i.to_le_bytes());
	salt
}

/// The `i`th operator's commitment to [`answer`]`(i)`.
fn committed_answer<T: Config>(id: TaskId, operator: &T::AccountId, i: usize) -> [u8; 32] {
	commitment(id, operator, &answer(i as u32), &salt(i as u32))
}

fn commit_all<T: Config>(id: TaskId, operators: &[T::AccountId]) {
	for (i, who) in operators.iter().enumerate() {
		let c = committed_answer::<T>(id, who, i);
		Inference::<T>::do_commit(who.clone(), id, c).expect("an assigned operator");
	}
}

fn reveal_all<T: Config>(id: TaskId, operators: &[T::AccountId]) {
	for (i, who) in operators.iter().enumerate() {
		Inference::<T>::do_reveal(who.clone(), id, answer(i as u32), salt(i as u32))
			.expect("a committed answer");
	}
}

/// Fills the record ring's next `n` slots, so that each of the next `n` records prunes one.
fn fill_records<T: Config>(n: u32) {
	let max = T::MaxRecords::get().max(1);
	let next = RecordCount::<T>::get();
	for j in 0..n.min(max) {
		let slot = next.wrapping_add(j) % max;
		if RecordRing::<T>::contains_key(slot) {
			continue;
		}
		let old = FILLER - j as TaskId;
		RecordRing::<T>::insert(slot, old);
		Records::<T>::insert(
			old,
			TaskRecord {
				class: TaskClass::Prediction,
				model: None,
				input: TaskInput::Observe { feed: 0, bar_time: 0 },
				audit_of: None,
				created: Zero::zero(),
				settled: Zero::zero(),
				outcome: Outcome::Unassigned,
				operators: BoundedVec::new(),
			},
		);
	}
}

fn governance<T: Config>() -> Result<T::RuntimeOrigin, BenchmarkError> {
	T::GovernanceOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)
}

#[benchmarks]
mod benchmarks {
	use super::*;

	/// A text task at the longest text; its assignment slot is the last within reach.
	#[benchmark]
	fn create_task() {
		start::<T>();
		let model = text_model::<T>();
		let requester = funded::<T>("requester", 0);
		let fee = fee::<T>();
		let text = BoundedVec::truncate_from(vec![b'x'; T::MaxTextLength::get() as usize]);
		let from = Inference::<T>::assignment_block();
		crowd_deadlines::<T>(from, 1);
		#[extrinsic_call]
		_(RawOrigin::Signed(requester.clone()), model, TaskInput::Text(text), fee);
		assert_eq!(T::Currency::balance_on_hold(&HoldReason::TaskFee.into(), &requester), fee);
		assert!(Inference::<T>::free_deadline(from).is_err(), "took the last slot in reach");
	}

	/// A price task on a feed's history; its assignment slot is the last within reach.
	#[benchmark]
	fn create_task_history() {
		start::<T>();
		let model = price_model::<T>();
		let input = history::<T>();
		let requester = funded::<T>("requester", 0);
		let fee = fee::<T>();
		let from = Inference::<T>::assignment_block();
		crowd_deadlines::<T>(from, 1);
		#[extrinsic_call]
		create_task(RawOrigin::Signed(requester.clone()), model, input, fee);
		assert_eq!(T::Currency::balance_on_hold(&HoldReason::TaskFee.into(), &requester), fee);
		assert!(Inference::<T>::free_deadline(from).is_err(), "took the last slot in reach");
	}

	/// The last of `MaxAssigned` commitments, found at the end of the assigned list: it opens
	/// the reveal phase in the last slot within reach.
	#[benchmark]
	fn commit() {
		let (id, operators) = assigned_task::<T>();
		let (last, others) = operators.split_last().expect("operators");
		commit_all::<T>(id, others);
		let class = Tasks::<T>::get(id).expect("an open task").class;
		let reveal_blocks = Configuration::<T>::get().classes[class.index()].reveal_blocks;
		let from = frame_system::Pallet::<T>::block_number().saturating_add(reveal_blocks);
		crowd_deadlines::<T>(from, 1);
		let c = committed_answer::<T>(id, last, others.len());
		#[extrinsic_call]
		_(RawOrigin::Signed(worker_of::<T>(last)), id, c);
		let task = Tasks::<T>::get(id).expect("an open task");
		assert!(matches!(task.phase, Phase::Reveal { .. }));
		assert!(Deadlines::<T>::get(task.phase.deadline()).contains(&id));
		assert!(Inference::<T>::free_deadline(from).is_err(), "took the last slot in reach");
	}

	/// The last of `MaxAssigned` reveals, of an answer with every field: it moves the
	/// settlement to the last slot within reach.
	#[benchmark]
	fn reveal() {
		let (id, operators) = assigned_task::<T>();
		commit_all::<T>(id, &operators);
		let (last, others) = operators.split_last().expect("operators");
		reveal_all::<T>(id, others);
		let from = frame_system::Pallet::<T>::block_number().saturating_add(1u32.into());
		crowd_deadlines::<T>(from, 1);
		let i = others.len() as u32;
		#[extrinsic_call]
		_(RawOrigin::Signed(worker_of::<T>(last)), id, answer(i), salt(i));
		let task = Tasks::<T>::get(id).expect("an open task");
		assert_eq!(task.revealed as u32, max_k::<T>());
		assert!(Deadlines::<T>::get(task.phase.deadline()).contains(&id));
		assert!(Inference::<T>::free_deadline(from).is_err(), "took the last slot in reach");
	}

	/// `MaxServedModels` keys replacing as many others, under each of which another operator
	/// is listed after this one (every unlisting moves an entry).
	#[benchmark]
	fn heartbeat() {
		let served = T::MaxServedModels::get();
		for i in 0..2 * served {
			register::<T>(
				model_hash(i),
				TaskKind::Regression { outputs: 1 },
				InputSpec::Bars { window: 1 },
			);
		}
		let old = keys::<T>((0..served).map(model_hash));
		let new = keys::<T>((served..2 * served).map(model_hash));
		let who = operator::<T>(0);
		let worker = linked::<T>(&who, 0);
		Inference::<T>::do_heartbeat(who.clone(), old.clone()).expect("registered models");
		Inference::<T>::do_heartbeat(operator::<T>(1), old).expect("registered models");
		#[extrinsic_call]
		_(RawOrigin::Signed(worker), new.clone());
		assert_eq!(Heartbeats::<T>::get(&who).expect("a heartbeat").keys, new);
		assert!(!ListedAt::<T>::contains_key(model_hash(0), &who));
	}

	/// What authorizing a submission adds to the work itself (weighed separately, by kind):
	/// building the signed payload and checking the worker's signature.
	#[benchmark]
	fn authorize_submit() {
		let (id, operators) = assigned_task::<T>();
		let operator = operators[0].clone();
		let worker = T::BenchmarkHelper::worker_key();
		Inference::<T>::do_link_worker(operator.clone(), worker.clone()).expect("a new key");
		let commitment = committed_answer::<T>(id, &operator, 0);
		let submission = Submission { operator, work: Work::Commit { task: id, commitment } };
		let signature =
			T::BenchmarkHelper::sign(&worker, &Inference::<T>::signing_payload(&submission));
		#[block]
		{
			let payload = Inference::<T>::signing_payload(&submission);
			assert!(signature.verify(&payload[..], &worker));
		}
	}

	/// A new worker key replacing the previous one.
	#[benchmark]
	fn link_worker() {
		let who = funded::<T>("operator", 0);
		let old = linked::<T>(&who, 0);
		let new: T::AccountId = account("worker", 1, 0);
		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), new.clone());
		assert_eq!(WorkerOf::<T>::get(&who), Some(new));
		assert!(!OperatorOf::<T>::contains_key(&old));
	}

	#[benchmark]
	fn set_config() -> Result<(), BenchmarkError> {
		let mut config = Configuration::<T>::get();
		for class in config.classes.iter_mut() {
			class.assigned = max_k::<T>() as u8;
		}
		config.heartbeat_period = config.heartbeat_period.saturating_add(1u32.into());
		let origin = governance::<T>()?;
		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, config);
		assert_eq!(Configuration::<T>::get(), config);
		Ok(())
	}

	/// A new feed, the last there is room for, with the longest pair and every source hint at
	/// its longest.
	#[benchmark]
	fn set_feed() -> Result<(), BenchmarkError> {
		feeds::<T>(T::MaxFeeds::get().saturating_sub(1));
		let id = unused_feed::<T>();
		let origin = governance::<T>()?;
		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, id, pair::<T>(), 3_600, 0, sources::<T>());
		assert_eq!(Feeds::<T>::count(), T::MaxFeeds::get());
		assert!(Feeds::<T>::contains_key(id));
		Ok(())
	}

	/// A schedule with as many models as it may hold.
	#[benchmark]
	fn set_schedule() -> Result<(), BenchmarkError> {
		let feed = some_feed::<T>();
		let schedule = full_schedule::<T>();
		let origin = governance::<T>()?;
		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, feed, Some(schedule.clone()));
		assert_eq!(Schedules::<T>::get(feed), Some(schedule));
		Ok(())
	}

	/// `n` archived bars into an empty feed.
	#[benchmark]
	fn seed_bars(n: Linear<1, { T::HistoryLength::get() }>) -> Result<(), BenchmarkError> {
		let feed = some_feed::<T>();
		let mut f = Feeds::<T>::get(feed).expect("a feed");
		f.next_bar_time = 1_500_000_000;
		Feeds::<T>::insert(feed, f.clone());
		BarCount::<T>::remove(feed);
		Observing::<T>::remove(feed);
		let bars: Vec<Bar> = (0..n as u64)
			.map(|i| Bar {
				time: f.next_bar_time + i * f.interval,
				open: 100_000_000,
				high: 101_000_000,
				low: 99_000_000,
				close: 100_000_000,
				volume: 1_000_000,
			})
			.collect();
		let origin = governance::<T>()?;
		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, feed, bars.try_into().expect("within the bound"));
		assert_eq!(BarCount::<T>::get(feed), n);
		Ok(())
	}

	/// `MaxFeeds` feeds, every one with a full schedule due now; `n` observations created,
	/// each in the last slot within reach, and the others refused after reading every queue
	/// within reach (the hook is charged by the observations created).
	#[benchmark]
	fn run_schedules(n: Linear<0, { T::MaxFeeds::get() }>) {
		let now = start::<T>();
		for feed in feeds::<T>(T::MaxFeeds::get()) {
			Inference::<T>::do_set_schedule(feed, Some(full_schedule::<T>()))
				.expect("an existing feed");
			Observing::<T>::remove(feed);
		}
		let from = Inference::<T>::assignment_block();
		crowd_deadlines::<T>(from, n);
		#[block]
		{
			Inference::<T>::run_schedules(now);
		}
		assert_eq!(Observing::<T>::iter().count() as u32, n);
		assert!(Inference::<T>::free_deadline(from).is_err(), "took the last slots in reach");
	}

	/// `n` settlements, each of a price task whose `MaxAssigned` operators all revealed answers
	/// of every field and all agree: each pays every operator a share of the fee and of the
	/// emission, and prunes the oldest record.
	#[benchmark]
	fn process_deadlines(n: Linear<0, { T::MaxDeadlinesPerBlock::get() }>) {
		start::<T>();
		configure::<T>();
		let model = price_model::<T>();
		serving::<T>(model, max_k::<T>());
		let input = history::<T>();
		let ids: Vec<TaskId> = (0..n).map(|i| requested::<T>(model, input.clone(), i)).collect();
		fill_records::<T>(n);
		if let Some(first) = ids.first() {
			// Created in one block, the tasks are assigned together.
			let at = to_assignment::<T>(*first);
			Inference::<T>::process_deadlines(at);
			for id in &ids {
				let operators = assigned::<T>(*id);
				assert_eq!(operators.len() as u32, max_k::<T>());
				commit_all::<T>(*id, &operators);
				reveal_all::<T>(*id, &operators);
			}
		}
		// Everyone revealed: every task settles in the next block.
		let now = frame_system::Pallet::<T>::block_number().saturating_add(1u32.into());
		frame_system::Pallet::<T>::set_block_number(now);
		assert_eq!(Deadlines::<T>::decode_len(now).unwrap_or(0) as u32, n);
		#[block]
		{
			Inference::<T>::process_deadlines(now);
		}
		for id in ids {
			assert!(!Tasks::<T>::contains_key(id));
			let record = Records::<T>::get(id).expect("a kept record");
			assert!(matches!(record.outcome, Outcome::Settled { .. }));
			assert!(record
				.operators
				.iter()
				.all(|o| o.participation == Participation::Agreed && !o.reward.is_zero()));
		}
	}

	/// One assignment from `n` listed operators: `min(MaxAssigned, n)` drawn. The draw reads as
	/// many candidates as it may (`4k + 8`, or all `n` when fewer): all but the last
	/// `min(MaxAssigned, n)` have lapsed and are unlisted. Its cost is flat in `n` beyond that.
	/// The commit deadline goes to the last slot within reach.
	#[benchmark]
	fn assign(n: Linear<1, 10_000>) {
		let config = configure::<T>();
		let model = price_model::<T>();
		let input = history::<T>();
		// Late enough that a heartbeat at block 0 has lapsed at the assignment.
		if start::<T>() < config.heartbeat_period {
			frame_system::Pallet::<T>::set_block_number(config.heartbeat_period);
		}
		for i in 0..n {
			Inference::<T>::do_heartbeat(operator::<T>(i), keys::<T>([model]))
				.expect("a registered model");
		}
		let id = requested::<T>(model, input, 0);
		let at = to_assignment::<T>(id);
		let task = Tasks::<T>::get(id).expect("an open task");
		let seed = T::Beacon::beacon_after(task.created.saturating_add(config.assignment_delay))
			.expect("a beacon");
		let picks = max_k::<T>().min(n);
		let reach = n.min(max_k::<T>().saturating_mul(4).saturating_add(8));
		// The candidates in the order the draw reaches them (all live so far: nothing written).
		let candidates = Inference::<T>::draw(id, &model, Tier::All, reach, &seed, at, &[]);
		assert_eq!(candidates.len() as u32, reach);
		for c in &candidates[..(reach - picks) as usize] {
			Heartbeats::<T>::mutate(&c.who, |h| {
				if let Some(h) = h {
					h.at = Zero::zero();
				}
			});
		}
		let from = at.saturating_add(config.classes[task.class.index()].commit_blocks);
		crowd_deadlines::<T>(from, 1);
		#[block]
		{
			Inference::<T>::assign(id, task, at);
		}
		assert_eq!(assigned::<T>(id).len() as u32, picks);
		assert_eq!(ListedCount::<T>::get(model), n - (reach - picks));
		assert!(Inference::<T>::free_deadline(from).is_err(), "took the last slot in reach");
	}

	impl_benchmark_test_suite!(Inference, crate::mock::build(), crate::mock::Test);
}
