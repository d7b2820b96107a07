//! How a child's assessed risk of exploitation changed, as a step line: an
//! SVG drawn on the server (no JavaScript), small enough for a phone. The
//! solid line is the practitioners' judgement after each screening, the
//! dashed one the level the answers supported; each screening is a dot
//! with a `<title>`. The page has the same in a table beside it for anyone
//! who cannot use the picture.

use crate::timeline::escape;
use chrono::NaiveDate;
use vigil_model::codes::RiskLevel;

/// One screening: the day it was done, the judged and the supported level.
pub struct Point {
    pub day: NaiveDate,
    pub judged: RiskLevel,
    pub supported: RiskLevel,
}

const W: f64 = 360.0;
const H: f64 = 150.0;
const LEFT: f64 = 62.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 14.0;
const BOTTOM: f64 = 30.0;

fn level_y(l: RiskLevel) -> f64 {
    let band = (H - TOP - BOTTOM) / 2.0;
    match l {
        RiskLevel::High => TOP,
        RiskLevel::Medium => TOP + band,
        RiskLevel::Low => TOP + 2.0 * band,
    }
}

/// The chart of `points` (in the order done) up to `today`; empty when
/// there are none.
pub fn svg(points: &[Point], today: NaiveDate) -> String {
    let Some(first) = points.first() else {
        return String::new();
    };
    let start = first.day;
    let end = today.max(points.last().map_or(today, |p| p.day));
    let span = ((end - start).num_days().max(1)) as f64;
    let x = |d: NaiveDate| LEFT + (d - start).num_days() as f64 / span * (W - LEFT - RIGHT);
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"v-risk\" viewBox=\"0 0 {W} {H}\" width=\"100%\" role=\"img\" aria-labelledby=\"risk-title\">\
<title id=\"risk-title\">Assessed risk after each of {} screening{}, from {} to {}</title>",
        points.len(),
        if points.len() == 1 { "" } else { "s" },
        crate::display::date(start),
        crate::display::date(end),
    );
    for l in RiskLevel::ALL {
        let y = level_y(*l);
        out.push_str(&format!(
            "<line x1=\"{LEFT}\" x2=\"{}\" y1=\"{y}\" y2=\"{y}\" stroke=\"#b1b4b6\" stroke-width=\"1\"/>\
<text x=\"{}\" y=\"{}\" font-size=\"12\" text-anchor=\"end\" fill=\"#0b0c0c\">{}</text>",
            W - RIGHT,
            LEFT - 6.0,
            y + 4.0,
            l.label()
        ));
    }
    let step = |level: fn(&Point) -> RiskLevel| -> String {
        let mut d = String::new();
        for (i, p) in points.iter().enumerate() {
            let (px, py) = (x(p.day), level_y(level(p)));
            if i == 0 {
                d.push_str(&format!("M{px:.1},{py:.1}"));
            } else {
                d.push_str(&format!("H{px:.1}V{py:.1}"));
            }
        }
        d.push_str(&format!("H{:.1}", x(end)));
        d
    };
    out.push_str(&format!(
        "<path d=\"{}\" fill=\"none\" stroke=\"#505a5f\" stroke-width=\"2\" stroke-dasharray=\"5 4\"><title>What the answers supported</title></path>",
        step(|p| p.supported)
    ));
    out.push_str(&format!(
        "<path d=\"{}\" fill=\"none\" stroke=\"#d4351c\" stroke-width=\"3\"><title>The judged risk</title></path>",
        step(|p| p.judged)
    ));
    for p in points {
        out.push_str(&format!(
            "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"4.5\" fill=\"#d4351c\"><title>{}: judged {}, the answers supported {}</title></circle>",
            x(p.day),
            level_y(p.judged),
            escape(&crate::display::date(p.day)),
            p.judged.label().to_lowercase(),
            p.supported.label().to_lowercase()
        ));
    }
    let axis_y = H - BOTTOM + 18.0;
    out.push_str(&format!(
        "<text x=\"{LEFT}\" y=\"{axis_y}\" font-size=\"11\" fill=\"#505a5f\">{}</text>\
<text x=\"{}\" y=\"{axis_y}\" font-size=\"11\" text-anchor=\"end\" fill=\"#505a5f\">{}</text></svg>",
        escape(&crate::display::date(start)),
        W - RIGHT,
        escape(&crate::display::date(end)),
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn a_step_for_each_change_and_nothing_without_screenings() {
        assert_eq!(svg(&[], d("2025-06-01")), "");
        let pts = [
            Point {
                day: d("2025-01-01"),
                judged: RiskLevel::Medium,
                supported: RiskLevel::Low,
            },
            Point {
                day: d("2025-03-01"),
                judged: RiskLevel::High,
                supported: RiskLevel::High,
            },
        ];
        let s = svg(&pts, d("2025-06-01"));
        assert!(s.starts_with("<svg") && s.ends_with("</svg>"));
        assert_eq!(s.matches("<circle").count(), 2);
        // The judged line starts at medium and steps up to high.
        let medium = level_y(RiskLevel::Medium);
        let high = level_y(RiskLevel::High);
        assert!(s.contains(&format!("M{LEFT:.1},{medium:.1}H")), "{s}");
        assert!(s.contains(&format!("V{high:.1}H{:.1}", W - RIGHT)), "{s}");
        assert!(s.contains("judged high, the answers supported high"));
        assert!(s.contains("viewBox=\"0 0 360 150\""));
    }
}
