//! The explanation of a match score as a waterfall: an SVG drawn on the
//! server (no JavaScript). The score starts at the model's prior and each
//! field moves it: a bar from the running total to the new one, to the
//! right (green) when the field agrees, to the left (red) when it does
//! not; a field missing on one record moves nothing. The last bar is the
//! total, with the probability it means. Every bar has a `<title>`; the
//! page has the same numbers in a table beside it for anyone who cannot
//! use the picture.

use crate::timeline::escape;

/// One step of the waterfall: a field, the level it reached, its weight
/// in thousandths of a bit.
pub struct Step {
    pub field: String,
    pub level: String,
    pub weight_milli: i64,
}

const LABEL_W: f64 = 210.0;
const PLOT_W: f64 = 420.0;
const ROW_H: f64 = 34.0;
const TOP: f64 = 28.0;

/// The chart: `steps` in order (the prior first), then the total and
/// `probability` (words, e.g. "87%").
pub fn svg(steps: &[Step], probability: &str) -> String {
    let mut running = 0i64;
    let mut spans = Vec::with_capacity(steps.len());
    for s in steps {
        let from = running;
        running = running.saturating_add(s.weight_milli);
        spans.push((from, running));
    }
    let total = running;
    // The scale covers every running total and zero, with a margin.
    let lo = spans
        .iter()
        .flat_map(|(a, b)| [*a, *b])
        .chain([0])
        .min()
        .unwrap_or(0);
    let hi = spans
        .iter()
        .flat_map(|(a, b)| [*a, *b])
        .chain([0])
        .max()
        .unwrap_or(0);
    let (lo, hi) = (
        lo.min(-1000).saturating_sub(500) as f64,
        hi.max(1000).saturating_add(500) as f64,
    );
    let x = |v: i64| LABEL_W + (v as f64 - lo) / (hi - lo) * PLOT_W;
    let rows = steps.len() + 1;
    let height = TOP + rows as f64 * ROW_H + 30.0;
    let width = LABEL_W + PLOT_W + 170.0;
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"v-waterfall\" viewBox=\"0 0 {width} {height}\" width=\"{width}\" height=\"{height}\" role=\"img\" aria-labelledby=\"wf-title\">\
<title id=\"wf-title\">How each field moved the match weight; the total means a probability of {}</title>",
        escape(probability)
    );
    // Axis: zero (even odds) and the scale's ends.
    let zero = x(0);
    out.push_str(&format!(
        "<line x1=\"{zero:.1}\" y1=\"{:.1}\" x2=\"{zero:.1}\" y2=\"{:.1}\" class=\"v-wf-axis\"/>\
<text x=\"{zero:.1}\" y=\"16\" text-anchor=\"middle\" class=\"v-wf-note\">even odds</text>",
        TOP - 6.0,
        TOP + rows as f64 * ROW_H
    ));
    for (i, (s, (from, to))) in steps.iter().zip(&spans).enumerate() {
        let y = TOP + i as f64 * ROW_H;
        let (left, right) = (x(*from.min(to)), x(*from.max(to)));
        let class = match s.weight_milli.signum() {
            1 => "v-wf-for",
            -1 => "v-wf-against",
            _ => "v-wf-none",
        };
        let words = format!(
            "{}: {} ({} bits)",
            s.field,
            s.level,
            vigil_app::score::bits(s.weight_milli)
        );
        out.push_str(&format!(
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" class=\"v-wf-label\">{}</text>",
            LABEL_W - 8.0,
            y + ROW_H / 2.0 + 5.0,
            escape(&s.field)
        ));
        out.push_str(&format!(
            "<rect x=\"{left:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" class=\"{class}\"><title>{}</title></rect>",
            y + 6.0,
            (right - left).max(2.0),
            ROW_H - 12.0,
            escape(&words)
        ));
        out.push_str(&format!(
            "<text x=\"{:.1}\" y=\"{:.1}\" class=\"v-wf-value\">{}</text>",
            right + 6.0,
            y + ROW_H / 2.0 + 5.0,
            escape(&vigil_app::score::bits(s.weight_milli))
        ));
        // The connector to the next bar.
        if i + 1 < rows {
            out.push_str(&format!(
                "<line x1=\"{:.1}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" class=\"v-wf-step\"/>",
                x(*to),
                y + ROW_H - 6.0,
                x(*to),
                y + ROW_H + 6.0
            ));
        }
    }
    let y = TOP + steps.len() as f64 * ROW_H;
    let (left, right) = (x(total.min(0)), x(total.max(0)));
    out.push_str(&format!(
        "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" class=\"v-wf-label v-wf-strong\">Total</text>\
<rect x=\"{left:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" class=\"v-wf-total\"><title>Total {} bits: {}</title></rect>\
<text x=\"{:.1}\" y=\"{:.1}\" class=\"v-wf-value v-wf-strong\">{} = {}</text>",
        LABEL_W - 8.0,
        y + ROW_H / 2.0 + 5.0,
        y + 6.0,
        (right - left).max(2.0),
        ROW_H - 12.0,
        escape(&vigil_app::score::bits(total)),
        escape(probability),
        right + 6.0,
        y + ROW_H / 2.0 + 5.0,
        escape(&vigil_app::score::bits(total)),
        escape(probability)
    ));
    out.push_str(&format!(
        "<text x=\"{:.1}\" y=\"{:.1}\" class=\"v-wf-note\">← against a match · for a match → (bits: log2 of the likelihood ratio)</text></svg>",
        LABEL_W,
        height - 8.0
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(field: &str, w: i64) -> Step {
        Step {
            field: field.into(),
            level: "x".into(),
            weight_milli: w,
        }
    }

    #[test]
    fn bars_follow_the_running_total_and_text_is_escaped() {
        let s = svg(
            &[step("prior", -6000), step("<family>", 5500), step("dob", 0)],
            "37%",
        );
        assert!(s.starts_with("<svg") && s.ends_with("</svg>"));
        assert!(s.contains("&lt;family&gt;") && !s.contains("<family>"));
        assert_eq!(s.matches("class=\"v-wf-for\"").count(), 1);
        assert_eq!(s.matches("class=\"v-wf-against\"").count(), 1);
        assert_eq!(s.matches("class=\"v-wf-none\"").count(), 1);
        assert!(s.contains("\u{2212}0.5 = 37%"), "{s}");
        // Nothing to draw is still a drawing, and huge weights do not overflow.
        assert!(svg(&[], "50%").contains("Total"));
        assert!(svg(&[step("a", i64::MAX), step("b", i64::MAX)], "100%").contains("Total"));
    }
}
