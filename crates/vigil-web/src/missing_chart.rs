//! A child's missing episodes in each of the last twelve months, as bars:
//! an SVG drawn on the server (no JavaScript), small enough for a phone.
//! Each bar has a `<title>`; the page lists the same months in words
//! beside it for anyone who cannot use the picture.

use vigil_rules::missing::MonthCount;

const W: f64 = 360.0;
const H: f64 = 130.0;
const LEFT: f64 = 28.0;
const RIGHT: f64 = 6.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 24.0;

/// The chart of `months` (oldest first); empty when there are none.
pub fn svg(months: &[MonthCount]) -> String {
    if months.is_empty() {
        return String::new();
    }
    let most = months.iter().map(|m| m.count).max().unwrap_or(0).max(1);
    let total: usize = months.iter().map(|m| m.count).sum();
    let slot = (W - LEFT - RIGHT) / months.len() as f64;
    let y = |n: usize| TOP + (H - TOP - BOTTOM) * (1.0 - n as f64 / most as f64);
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"v-missing\" viewBox=\"0 0 {W} {H}\" width=\"100%\" role=\"img\" aria-labelledby=\"missing-title\">\
<title id=\"missing-title\">{total} missing episode{} in the last 12 months, by month</title>\
<line x1=\"{LEFT}\" x2=\"{}\" y1=\"{}\" y2=\"{}\" stroke=\"#b1b4b6\" stroke-width=\"1\"/>\
<text x=\"{}\" y=\"{}\" font-size=\"11\" text-anchor=\"end\" fill=\"#0b0c0c\">{most}</text>\
<text x=\"{}\" y=\"{}\" font-size=\"11\" text-anchor=\"end\" fill=\"#0b0c0c\">0</text>",
        if total == 1 { "" } else { "s" },
        W - RIGHT,
        H - BOTTOM,
        H - BOTTOM,
        LEFT - 4.0,
        TOP + 4.0,
        LEFT - 4.0,
        H - BOTTOM,
    );
    for (i, m) in months.iter().enumerate() {
        let x = LEFT + i as f64 * slot;
        let top = y(m.count);
        let label = m.month.format("%b").to_string();
        out.push_str(&format!(
            "<rect x=\"{:.1}\" y=\"{top:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"#1d70b8\"><title>{} {}: {}</title></rect>\
<text x=\"{:.1}\" y=\"{}\" font-size=\"10\" text-anchor=\"middle\" fill=\"#0b0c0c\">{}</text>",
            x + slot * 0.15,
            slot * 0.7,
            (H - BOTTOM - top).max(0.0),
            label,
            m.month.format("%Y"),
            m.count,
            x + slot / 2.0,
            H - 8.0,
            &label[..1],
        ));
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    #[test]
    fn twelve_bars_with_titles() {
        let months: Vec<MonthCount> = (1..=12)
            .map(|m| MonthCount {
                month: NaiveDate::from_ymd_opt(2025, m, 1).unwrap(),
                count: if m == 6 { 4 } else { 0 },
            })
            .collect();
        let s = svg(&months);
        assert_eq!(s.matches("<rect").count(), 12);
        assert!(s.contains("4 missing episodes in the last 12 months"));
        assert!(s.contains("<title>Jun 2025: 4</title>"));
        assert!(s.len() < 6000, "{}", s.len());
        assert!(svg(&[]).is_empty());
    }
}
