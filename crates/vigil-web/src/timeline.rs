//! The timeline on a child's record: an SVG drawn on the server (no
//! JavaScript), one lane per kind of thing, so that clusters show at a
//! glance: a run of missing episodes, placement moves, changes of worker,
//! referrals piling up.
//!
//! Periods (a missing episode, a placement, an allocation) are bars from
//! their start to their end (still open: to the right edge, drawn
//! dashed); single events (a referral, a decision, an offence) are marks.
//! Dates known only to the month or year are drawn over that period with a
//! lighter fill, so an imprecise date never looks exact. Every mark has a
//! `<title>` (shown on hover and read by screen readers); the chronology
//! table beside it says the same in words for anyone who cannot use the
//! picture.

use chrono::{Datelike, NaiveDate};
use std::fmt::Write as _;

/// The lanes, top to bottom.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Lane {
    Referrals,
    Missing,
    Placements,
    Workers,
    Police,
    Other,
}

impl Lane {
    pub const ALL: [Lane; 6] = [
        Lane::Referrals,
        Lane::Missing,
        Lane::Placements,
        Lane::Workers,
        Lane::Police,
        Lane::Other,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Lane::Referrals => "Referrals",
            Lane::Missing => "Missing",
            Lane::Placements => "Placements",
            Lane::Workers => "Workers",
            Lane::Police => "Police",
            Lane::Other => "Other",
        }
    }

    fn class(self) -> &'static str {
        match self {
            Lane::Referrals => "v-tl-referral",
            Lane::Missing => "v-tl-missing",
            Lane::Placements => "v-tl-placement",
            Lane::Workers => "v-tl-worker",
            Lane::Police => "v-tl-police",
            Lane::Other => "v-tl-other",
        }
    }
}

/// One thing on the timeline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mark {
    pub lane: Lane,
    /// The first day it covers (for a month-only date, the first of the month).
    pub from: NaiveDate,
    /// The last day it covers: `None` for a period still open; equal to
    /// `from` for an exact single event.
    pub to: Option<NaiveDate>,
    /// A period (bar) rather than a single event whose date is imprecise.
    pub period: bool,
    /// The date is known only roughly (month, year, approximate).
    pub imprecise: bool,
    /// What it is, in words (the mark's title).
    pub label: String,
}

const WIDTH: f64 = 960.0;
const LEFT: f64 = 96.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 8.0;
const LANE_H: f64 = 28.0;
const AXIS_H: f64 = 24.0;

/// Draws the timeline from `start` to `end` (inclusive). Marks outside
/// the window are clipped to it; an empty list still draws the lanes, so
/// the page says plainly that nothing is recorded.
pub fn svg(marks: &[Mark], start: NaiveDate, end: NaiveDate) -> String {
    let end = end.max(start);
    let days = ((end - start).num_days() + 1) as f64;
    let plot_w = WIDTH - LEFT - RIGHT;
    let x = |d: NaiveDate| LEFT + ((d - start).num_days() as f64).clamp(0.0, days) * plot_w / days;
    let height = TOP + LANE_H * Lane::ALL.len() as f64 + AXIS_H;
    let mut s = String::with_capacity(4096 + marks.len() * 110);
    s.push_str(&format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"v-timeline\" viewBox=\"0 0 {WIDTH} {height}\" role=\"img\" aria-labelledby=\"v-tl-title\">\
<title id=\"v-tl-title\">Timeline from {} to {}: {} referrals, {} missing episodes, {} placements, {} worker allocations</title>",
        start.format("%-d %b %Y"),
        end.format("%-d %b %Y"),
        count(marks, Lane::Referrals),
        count(marks, Lane::Missing),
        count(marks, Lane::Placements),
        count(marks, Lane::Workers),
    ));
    // Lanes and their labels.
    for (i, lane) in Lane::ALL.iter().enumerate() {
        let y = TOP + LANE_H * i as f64;
        s.push_str(&format!(
            "<rect class=\"v-tl-lane\" x=\"{LEFT}\" y=\"{y}\" width=\"{plot_w}\" height=\"{LANE_H}\"/>\
<text class=\"v-tl-label\" x=\"{:.1}\" y=\"{:.1}\">{}</text>",
            LEFT - 8.0,
            y + LANE_H / 2.0 + 4.0,
            lane.label()
        ));
    }
    // Year (or month, for a short window) gridlines on the axis.
    let axis_y = TOP + LANE_H * Lane::ALL.len() as f64;
    for (d, text) in ticks(start, end) {
        let gx = x(d);
        s.push_str(&format!(
            "<line class=\"v-tl-grid\" x1=\"{gx:.1}\" y1=\"{TOP}\" x2=\"{gx:.1}\" y2=\"{axis_y}\"/>\
<text class=\"v-tl-tick\" x=\"{gx:.1}\" y=\"{:.1}\">{text}</text>",
            axis_y + 16.0
        ));
    }
    // Marks, one group per lane: the group carries the lane's class and
    // height, so a mark carries only its place, its modifiers and its
    // title (a page of 1,000 items draws about 750 marks).
    for (i, lane) in Lane::ALL.iter().enumerate() {
        let mut open_group = false;
        for m in marks.iter().filter(|m| m.lane == *lane) {
            if m.to.is_some_and(|t| t < start) || m.from > end {
                continue;
            }
            if !open_group {
                let _ = write!(
                    s,
                    "<g class=\"{}\" transform=\"translate(0 {})\">",
                    lane.class(),
                    Num(TOP + LANE_H * i as f64)
                );
                open_group = true;
            }
            let x1 = x(m.from.max(start));
            let open = m.to.is_none();
            let last = m.to.unwrap_or(end).min(end);
            // A bar covers whole days: to the end of its last day.
            let x2 = (x(last) + plot_w / days).max(x1 + 2.0);
            let class = match (m.imprecise, open) {
                (true, true) => " class=\"v-tl-imprecise v-tl-open\"",
                (true, false) => " class=\"v-tl-imprecise\"",
                (false, true) => " class=\"v-tl-open\"",
                (false, false) => "",
            };
            let title = escape(&m.label);
            if m.period || m.imprecise || open {
                let _ = write!(
                    s,
                    "<rect{class} x=\"{}\" y=\"6\" width=\"{}\" height=\"{}\"><title>{title}</title></rect>",
                    Num(x1),
                    Num(x2 - x1),
                    Num(LANE_H - 12.0)
                );
            } else {
                // A single exact event: a diamond, so that many on one day still show.
                let cx = x1 + (plot_w / days) / 2.0;
                let _ = write!(
                    s,
                    "<path{class} d=\"M{} {}l5 7-5 7-5-7z\"><title>{title}</title></path>",
                    Num(cx),
                    Num(LANE_H / 2.0 - 7.0)
                );
            }
        }
        if open_group {
            s.push_str("</g>");
        }
    }
    s.push_str("</svg>");
    s
}

/// A coordinate to a tenth, without a trailing `.0`.
struct Num(f64);

impl std::fmt::Display for Num {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let tenths = (self.0 * 10.0).round() as i64;
        if tenths % 10 == 0 {
            write!(f, "{}", tenths / 10)
        } else {
            write!(f, "{:.1}", tenths as f64 / 10.0)
        }
    }
}

fn count(marks: &[Mark], lane: Lane) -> usize {
    marks.iter().filter(|m| m.lane == lane).count()
}

/// Gridlines: each 1 January, or each month's first day when the window
/// is shorter than two years (then labelled by month).
fn ticks(start: NaiveDate, end: NaiveDate) -> Vec<(NaiveDate, String)> {
    let mut out = Vec::new();
    if (end - start).num_days() < 730 {
        let mut d = NaiveDate::from_ymd_opt(start.year(), start.month(), 1).unwrap_or(start);
        while d <= end {
            if d >= start {
                let text = if d.month() == 1 {
                    d.format("%Y").to_string()
                } else {
                    d.format("%b").to_string()
                };
                out.push((d, text));
            }
            d = d
                .checked_add_months(chrono::Months::new(1))
                .unwrap_or(end.succ_opt().unwrap_or(end));
            if out.len() > 40 {
                break;
            }
        }
    } else {
        let step = ((end.year() - start.year()) / 12 + 1).max(1);
        let mut y = start.year() + 1;
        while y <= end.year() {
            if let Some(d) = NaiveDate::from_ymd_opt(y, 1, 1) {
                out.push((d, y.to_string()));
            }
            y += step;
        }
    }
    out
}

/// Text for SVG: `&`, `<`, `>` and quotes escaped (labels come from the
/// record, so anything may be in them).
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn mark(lane: Lane, from: NaiveDate, to: Option<NaiveDate>, period: bool) -> Mark {
        Mark {
            lane,
            from,
            to,
            period,
            imprecise: false,
            label: "x".into(),
        }
    }

    #[test]
    fn each_mark_is_drawn_once_with_its_title() {
        let marks = vec![
            mark(Lane::Referrals, d(2024, 3, 1), Some(d(2024, 3, 1)), false),
            mark(Lane::Missing, d(2024, 4, 1), Some(d(2024, 4, 3)), true),
            mark(Lane::Placements, d(2024, 5, 1), None, true),
        ];
        let s = svg(&marks, d(2024, 1, 1), d(2024, 12, 31));
        assert_eq!(s.matches("<title>x</title>").count(), 3);
        assert!(
            s.contains("v-tl-open"),
            "an open placement is drawn as open"
        );
        assert!(s.contains("1 referrals, 1 missing episodes, 1 placements"));
        assert!(s.starts_with("<svg") && s.ends_with("</svg>"));
    }

    #[test]
    fn hostile_labels_are_escaped() {
        let mut m = mark(Lane::Other, d(2024, 3, 1), Some(d(2024, 3, 1)), false);
        m.label = "<script>alert('x')</script> & \"q\"".into();
        let s = svg(&[m], d(2024, 1, 1), d(2024, 12, 31));
        assert!(!s.contains("<script>"));
        assert!(s.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"));
    }

    #[test]
    fn marks_outside_the_window_are_left_out_and_coordinates_stay_inside() {
        let marks = vec![
            mark(Lane::Referrals, d(2019, 3, 1), Some(d(2019, 3, 1)), false),
            mark(Lane::Missing, d(2023, 12, 1), Some(d(2024, 1, 3)), true),
        ];
        let s = svg(&marks, d(2024, 1, 1), d(2024, 6, 30));
        assert_eq!(s.matches("<title>x</title>").count(), 1);
        for num in s
            .split(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-'))
            .filter_map(|t| t.parse::<f64>().ok())
        {
            assert!(
                (-1.0..=2100.0).contains(&num),
                "coordinate {num} is off the drawing"
            );
        }
    }

    #[test]
    fn an_empty_or_one_day_window_still_draws() {
        let s = svg(&[], d(2024, 1, 1), d(2024, 1, 1));
        assert!(s.contains("Referrals") && s.contains("Missing"));
        let s = svg(&[], d(2024, 1, 1), d(2023, 1, 1));
        assert!(s.ends_with("</svg>"));
    }

    #[test]
    fn long_windows_are_marked_by_year_short_ones_by_month() {
        assert!(ticks(d(2015, 6, 1), d(2024, 6, 1))
            .iter()
            .all(|(dt, _)| dt.month() == 1 && dt.day() == 1));
        let short = ticks(d(2024, 1, 15), d(2024, 12, 31));
        assert_eq!(short.len(), 11);
        assert_eq!(short[0].1, "Feb");
    }
}
