//! Check-in streaks (contract §2, "Check-in"): at most one check-in per
//! calendar day in the user's timezone; the day after the last check-in
//! extends the streak, a later day starts a new one, and a day before the
//! last check-in (possible after a timezone change) counts as the same day.

use chrono::{DateTime, NaiveDate, Utc};

use crate::domain::Timezone;

/// What a check-in does to a goal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckIn {
    /// Already checked in that day: nothing changes.
    Unchanged,
    /// Counted: the new streak and check-in day.
    Counted { streak_count: i32, day: NaiveDate },
}

/// The user's calendar day at `now`.
pub fn local_day(now: DateTime<Utc>, timezone: Timezone) -> NaiveDate {
    now.with_timezone(&timezone.0).date_naive()
}

/// A check-in on `today` of a goal last checked in on `last` with
/// `streak_count`.
pub fn check_in(last: Option<NaiveDate>, streak_count: i32, today: NaiveDate) -> CheckIn {
    match last {
        Some(last) if today <= last => CheckIn::Unchanged,
        Some(last) if last.succ_opt() == Some(today) => CheckIn::Counted {
            streak_count: streak_count.saturating_add(1),
            day: today,
        },
        _ => CheckIn::Counted {
            streak_count: 1,
            day: today,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[test]
    fn first_check_in_starts_a_streak() {
        assert_eq!(
            check_in(None, 0, day("2026-03-01")),
            CheckIn::Counted {
                streak_count: 1,
                day: day("2026-03-01")
            }
        );
    }

    #[test]
    fn same_day_and_earlier_days_change_nothing() {
        assert_eq!(
            check_in(Some(day("2026-03-01")), 4, day("2026-03-01")),
            CheckIn::Unchanged
        );
        assert_eq!(
            check_in(Some(day("2026-03-02")), 4, day("2026-03-01")),
            CheckIn::Unchanged
        );
    }

    #[test]
    fn next_day_extends_and_a_gap_resets() {
        assert_eq!(
            check_in(Some(day("2026-02-28")), 4, day("2026-03-01")),
            CheckIn::Counted {
                streak_count: 5,
                day: day("2026-03-01")
            }
        );
        assert_eq!(
            check_in(Some(day("2026-02-27")), 4, day("2026-03-01")),
            CheckIn::Counted {
                streak_count: 1,
                day: day("2026-03-01")
            }
        );
        assert_eq!(
            check_in(Some(day("2026-03-01")), i32::MAX, day("2026-03-02")),
            CheckIn::Counted {
                streak_count: i32::MAX,
                day: day("2026-03-02")
            }
        );
    }

    #[test]
    fn local_day_follows_the_timezone() {
        let instant = Utc.with_ymd_and_hms(2026, 11, 21, 23, 30, 0).unwrap();
        assert_eq!(local_day(instant, Timezone::default()), day("2026-11-21"));
        assert_eq!(
            local_day(instant, Timezone::parse("Asia/Tokyo").unwrap()),
            day("2026-11-22")
        );
        assert_eq!(
            local_day(instant, Timezone::parse("America/New_York").unwrap()),
            day("2026-11-21")
        );
    }
}
