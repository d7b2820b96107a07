//! Placement and worker stability: how many placements (or allocated
//! workers) a child had in a window, counting every one that overlaps it,
//! not only those that began in it. A child in one placement for three
//! years and moved twice this spring had three placements this year.

use chrono::NaiveDate;

/// A period from `from` (inclusive) to `to` (inclusive; `None` while it
/// goes on).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    /// The first day.
    pub from: NaiveDate,
    /// The last day, if it has ended.
    pub to: Option<NaiveDate>,
}

/// How many of `spans` overlap the window `[start, end]` (both days
/// included). A span that ends before it starts is counted as one day.
pub fn count_overlapping(spans: &[Span], start: NaiveDate, end: NaiveDate) -> usize {
    spans
        .iter()
        .filter(|s| s.from <= end && s.to.is_none_or(|t| t.max(s.from) >= start))
        .count()
}

/// The twelve months ending with `today`: from the same day a year
/// earlier (the day after, so that the window is 365 or 366 days) to `today`.
pub fn last_twelve_months(today: NaiveDate) -> (NaiveDate, NaiveDate) {
    let start = today
        .checked_sub_months(chrono::Months::new(12))
        .and_then(|d| d.succ_opt())
        .unwrap_or(today);
    (start, today)
}

/// Placements (or workers) overlapping the twelve months ending `today`.
pub fn in_last_twelve_months(spans: &[Span], today: NaiveDate) -> usize {
    let (start, end) = last_twelve_months(today);
    count_overlapping(spans, start, end)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn counts_the_ones_that_overlap_the_window() {
        let today = d(2025, 6, 30);
        let spans = [
            // Long before, ended before the window: not counted.
            Span {
                from: d(2020, 1, 1),
                to: Some(d(2024, 6, 30)),
            },
            // Began before, ended on the window's first day: counted.
            Span {
                from: d(2021, 1, 1),
                to: Some(d(2024, 7, 1)),
            },
            // Inside.
            Span {
                from: d(2024, 7, 2),
                to: Some(d(2025, 1, 1)),
            },
            // Current.
            Span {
                from: d(2025, 1, 2),
                to: None,
            },
            // Began after today (recorded ahead): not counted.
            Span {
                from: d(2025, 7, 1),
                to: None,
            },
        ];
        assert_eq!(last_twelve_months(today), (d(2024, 7, 1), today));
        assert_eq!(in_last_twelve_months(&spans, today), 3);
        assert_eq!(in_last_twelve_months(&[], today), 0);
        // An old, still open placement counts.
        assert_eq!(
            in_last_twelve_months(
                &[Span {
                    from: d(2010, 1, 1),
                    to: None
                }],
                today
            ),
            1
        );
        // A bad span (ends before it starts) counts as its first day.
        assert_eq!(
            count_overlapping(
                &[Span {
                    from: d(2025, 1, 1),
                    to: Some(d(2020, 1, 1))
                }],
                d(2024, 7, 1),
                today
            ),
            1
        );
        // 29 February: the window starts on 1 March of the year before.
        assert_eq!(last_twelve_months(d(2024, 2, 29)).0, d(2023, 3, 1));
    }
}
