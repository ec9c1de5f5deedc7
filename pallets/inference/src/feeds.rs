//! What governance sets (the configuration, feeds, schedules) and the feeds' price history: a ring of the newest `HistoryLength` aggregated bars per feed,
//! numbered in the order they were added. Workers of price, regime and MSRR tasks read their
//! window from it at the task's reference bar, so every worker computes on identical bytes.

use crate::*;
use alloc::vec::Vec;
use frame_support::{pallet_prelude::*, BoundedVec};
use sp_runtime::traits::Zero;

impl<T: Config> Pallet<T> {
	/// Replaces the configuration after checking it.
	pub(crate) fn do_set_config(config: InferenceConfigOf<T>) -> DispatchResult {
		let classes_ok = config.classes.iter().all(|c| {
			c.assigned > 0
				&& c.assigned as u32 <= T::MaxAssigned::get()
				&& !c.commit_blocks.is_zero()
				&& !c.reveal_blocks.is_zero()
		});
		ensure!(
			classes_ok && !config.heartbeat_period.is_zero() && !config.emission_epoch.is_zero(),
			Error::<T>::InvalidConfig
		);
		Configuration::<T>::put(config);
		Self::deposit_event(Event::ConfigSet);
		Ok(())
	}

	/// Adds or changes a feed.
	pub(crate) fn do_set_feed(
		id: FeedId,
		pair: BoundedVec<u8, T::MaxPairLength>,
		interval: u64,
		next_bar_time: u64,
		sources: BoundedVec<BoundedVec<u8, T::MaxSourceHintLength>, T::MaxSourceHints>,
	) -> DispatchResult {
		ensure!(!pair.is_empty() && interval > 0, Error::<T>::InvalidFeed);
		ensure!(
			Feeds::<T>::contains_key(id) || Feeds::<T>::count() < T::MaxFeeds::get(),
			Error::<T>::TooManyFeeds
		);
		Feeds::<T>::insert(id, Feed { pair, interval, next_bar_time, sources });
		Self::deposit_event(Event::FeedSet { feed: id });
		Ok(())
	}

	/// Sets or removes a feed's schedule.
	pub(crate) fn do_set_schedule(feed: FeedId, schedule: Option<ScheduleOf<T>>) -> DispatchResult {
		ensure!(Feeds::<T>::contains_key(feed), Error::<T>::UnknownFeed);
		let active = schedule.is_some();
		match schedule {
			Some(s) => {
				ensure!(!s.every.is_zero(), Error::<T>::InvalidSchedule);
				Schedules::<T>::insert(feed, s);
			}
			None => Schedules::<T>::remove(feed),
		}
		Self::deposit_event(Event::ScheduleSet { feed, active });
		Ok(())
	}

	/// Seeds an empty feed with archived bars, checked first, then appended one by one.
	pub(crate) fn do_seed_bars(
		feed: FeedId,
		bars: BoundedVec<Bar, T::HistoryLength>,
	) -> DispatchResult {
		let f = Feeds::<T>::get(feed).ok_or(Error::<T>::UnknownFeed)?;
		ensure!(
			BarCount::<T>::get(feed) == 0 && !Observing::<T>::contains_key(feed),
			Error::<T>::FeedHasHistory
		);
		ensure!(!bars.is_empty(), Error::<T>::NoBars);
		let mut expected = f.next_bar_time;
		for bar in bars.iter() {
			ensure!(bar.time == expected, Error::<T>::BarOutOfSequence);
			let fields = [bar.open, bar.high, bar.low, bar.close, bar.volume];
			ensure!(Bar::from_answer(bar.time, &fields).is_some(), Error::<T>::InvalidBar);
			expected = expected.saturating_add(f.interval);
		}
		let count = bars.len() as u32;
		for bar in bars {
			Self::append_bar(feed, bar);
		}
		Self::deposit_event(Event::HistorySeeded { feed, bars: count });
		Ok(())
	}

	/// Appends an aggregated bar to a feed's history (overwriting the oldest once the ring is
	/// full), scores the forecasts of it and moves the feed to its next bar. Returns the bar's
	/// number.
	pub(crate) fn append_bar(feed: FeedId, bar: Bar) -> u32 {
		let number = BarCount::<T>::get(feed);
		// Read before the insert: in a ring of one bar the new one takes its slot.
		let previous =
			number.checked_sub(1).and_then(|p| Bars::<T>::get(feed, p % T::HistoryLength::get()));
		Bars::<T>::insert(feed, number % T::HistoryLength::get(), bar);
		BarCount::<T>::insert(feed, number.saturating_add(1));
		Feeds::<T>::mutate(feed, |f| {
			if let Some(f) = f {
				f.next_bar_time = f.next_bar_time.max(bar.time.saturating_add(f.interval));
			}
		});
		Self::deposit_event(Event::BarAdded { feed, number, bar });
		Self::score_bar(feed, number, previous.map(|p| p.close), bar.close);
		number
	}

	/// The number of the feed's newest bar, if it has one.
	pub fn newest_bar(feed: FeedId) -> Option<u32> {
		BarCount::<T>::get(feed).checked_sub(1)
	}

	/// Whether bars `end + 1 - len ..= end` are all still in the history.
	pub fn window_available(feed: FeedId, end: u32, len: u32) -> bool {
		let count = BarCount::<T>::get(feed);
		len > 0 &&
			len <= T::HistoryLength::get() &&
			end < count &&
			end.saturating_add(1) >= len &&
			// The oldest bar still kept is count - HistoryLength.
			end.saturating_add(1) - len >= count.saturating_sub(T::HistoryLength::get())
	}

	/// Bars `end + 1 - len ..= end` of a feed, oldest first, if all are still kept.
	pub fn window(feed: FeedId, end: u32, len: u32) -> Option<Vec<Bar>> {
		if !Self::window_available(feed, end, len) {
			return None;
		}
		(end + 1 - len..=end).map(|n| Bars::<T>::get(feed, n % T::HistoryLength::get())).collect()
	}

	/// Bars a model's input needs from the history: its rows plus the feature warm-up, or its
	/// raw bars. `None` for a text model.
	pub fn bars_needed(input: &noderr_primitives::InputSpec) -> Option<u32> {
		match input {
			noderr_primitives::InputSpec::Features { window, .. } => {
				Some(window.saturating_add(FEATURE_WARMUP_BARS))
			}
			noderr_primitives::InputSpec::Bars { window } => Some(*window),
			noderr_primitives::InputSpec::Text { .. } => None,
		}
	}
}
