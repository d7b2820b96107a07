//! Why a pair scores as it does: the prior, then each field's level and
//! its contribution (Bayes factor m/u, and its log2, the match weight),
//! then any term-frequency adjustment, adding up to the final weight and
//! probability. As a struct, a plain-text table and an SVG waterfall.

use crate::compare::Comparison;
use serde::{Deserialize, Serialize};
use std::fmt::Write;

/// One step of the waterfall.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Term {
    pub comparison: Comparison,
    pub level: u8,
    pub level_name: String,
    pub left: Option<String>,
    pub right: Option<String>,
    /// m and u of the level (none for "missing" and term-frequency terms).
    pub m: Option<f64>,
    pub u: Option<f64>,
    pub bayes_factor: f64,
    pub log2: f64,
    /// An adjustment for how common the value is, not a level's m/u.
    pub term_frequency: bool,
}

/// The explanation of one pair.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Explanation {
    pub left_id: String,
    pub right_id: String,
    pub prior_probability: f64,
    pub prior_log2: f64,
    pub terms: Vec<Term>,
    /// Final match weight (prior plus every term).
    pub log2: f64,
    pub probability: f64,
}

fn shown(v: &Option<String>) -> String {
    match v {
        None => "-".into(),
        Some(s) => {
            let s: String = s.chars().filter(|c| !c.is_control()).collect();
            if s.chars().count() > 24 {
                format!("{}…", s.chars().take(23).collect::<String>())
            } else {
                s
            }
        }
    }
}

fn pad(s: &str, w: usize) -> String {
    let n = s.chars().count();
    if n >= w {
        s.to_owned()
    } else {
        format!("{s}{}", " ".repeat(w - n))
    }
}

impl Explanation {
    /// A plain-text table for a terminal.
    pub fn table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "Records {} and {}: probability {:.4} (match weight {:+.2})",
            self.left_id, self.right_id, self.probability, self.log2
        );
        let rows: Vec<[String; 6]> = std::iter::once([
            "prior".to_string(),
            String::new(),
            String::new(),
            format!("chance two records match: {:.3e}", self.prior_probability),
            format!("{:.3e}", self.prior_log2.exp2()),
            format!("{:+.2}", self.prior_log2),
        ])
        .chain(self.terms.iter().map(|t| {
            [
                if t.term_frequency {
                    format!("  {} (tf)", t.comparison.label())
                } else {
                    t.comparison.label().to_string()
                },
                shown(&t.left),
                shown(&t.right),
                t.level_name.clone(),
                format!("{:.3}", t.bayes_factor),
                format!("{:+.2}", t.log2),
            ]
        }))
        .collect();
        let head = ["field", "left", "right", "level", "Bayes factor", "log2"];
        let mut w = head.map(|h| h.chars().count());
        for r in &rows {
            for (k, c) in r.iter().enumerate() {
                w[k] = w[k].max(c.chars().count());
            }
        }
        let line = |cells: &[String]| {
            let mut s = String::new();
            for (k, c) in cells.iter().enumerate() {
                if k > 0 {
                    s.push_str("  ");
                }
                s.push_str(&pad(c, w[k]));
            }
            s.trim_end().to_string()
        };
        let _ = writeln!(out, "{}", line(&head.map(String::from)));
        let _ = writeln!(out, "{}", line(&w.map(|n| "-".repeat(n))));
        for r in &rows {
            let _ = writeln!(out, "{}", line(r));
        }
        let _ = writeln!(
            out,
            "{}",
            line(&[
                "total".into(),
                String::new(),
                String::new(),
                format!("probability {:.4}", self.probability),
                String::new(),
                format!("{:+.2}", self.log2),
            ])
        );
        out
    }

    /// A waterfall chart: one bar per step from the prior to the final
    /// weight, green for evidence for a match, red against, with text
    /// labels and a `<title>` (a small, self-contained SVG).
    pub fn svg(&self) -> String {
        let steps: Vec<(String, f64)> = std::iter::once(("prior".to_string(), self.prior_log2))
            .chain(self.terms.iter().filter(|t| t.log2 != 0.0).map(|t| {
                let label = if t.term_frequency {
                    format!("{} (how common)", t.comparison.label())
                } else {
                    format!("{}: {}", t.comparison.label(), t.level_name)
                };
                (label, t.log2)
            }))
            .collect();
        let mut lo: f64 = 0.0;
        let mut hi: f64 = 0.0;
        let mut acc = 0.0;
        for (_, v) in &steps {
            acc += v;
            lo = lo.min(acc).min(acc - v);
            hi = hi.max(acc).max(acc - v);
        }
        lo = lo.min(self.log2);
        hi = hi.max(self.log2);
        let span = (hi - lo).max(1.0);
        let (label_w, chart_w, row_h, top) = (300.0, 320.0, 22.0, 34.0);
        let width = label_w + chart_w + 70.0;
        let rows = steps.len() + 1;
        let height = top + row_h * rows as f64 + 30.0;
        let x = |v: f64| label_w + (v - lo) / span * chart_w;
        let mut s = String::new();
        let title = format!(
            "Why records {} and {} match with probability {:.3}",
            esc(&self.left_id),
            esc(&self.right_id),
            self.probability
        );
        let _ = write!(
            s,
            r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0} {height:.0}" width="{width:.0}" height="{height:.0}" role="img" aria-labelledby="lk-title" font-family="sans-serif" font-size="12"><title id="lk-title">{title}</title>"#
        );
        let _ = write!(
            s,
            r##"<text x="8" y="18" font-weight="bold">{title}</text><line x1="{z:.1}" y1="{t0:.1}" x2="{z:.1}" y2="{t1:.1}" stroke="#505a5f" stroke-dasharray="3 3"/>"##,
            z = x(0.0),
            t0 = top - 6.0,
            t1 = top + row_h * rows as f64,
        );
        let mut acc = 0.0;
        for (k, (label, v)) in steps.iter().enumerate() {
            let y = top + row_h * k as f64;
            let (from, to) = if k == 0 { (0.0, *v) } else { (acc, acc + v) };
            acc = if k == 0 { *v } else { acc + v };
            let (x0, x1) = (x(from.min(to)), x(from.max(to)));
            let colour = if k == 0 {
                "#505a5f"
            } else if *v > 0.0 {
                "#00703c"
            } else {
                "#d4351c"
            };
            let _ = write!(
                s,
                r#"<text x="8" y="{ty:.1}">{l}</text><rect x="{x0:.1}" y="{y:.1}" width="{w:.1}" height="{h:.1}" fill="{colour}"><title>{l}: {v:+.2}</title></rect><text x="{tx:.1}" y="{ty:.1}">{v:+.2}</text>"#,
                ty = y + 14.0,
                l = esc(&trunc(label, 46)),
                w = (x1 - x0).max(1.0),
                h = row_h - 6.0,
                tx = x1 + 4.0,
            );
        }
        let y = top + row_h * steps.len() as f64;
        let (x0, x1) = (x(self.log2.min(0.0)), x(self.log2.max(0.0)));
        let _ = write!(
            s,
            r##"<text x="8" y="{ty:.1}" font-weight="bold">final weight (probability {p:.3})</text><rect x="{x0:.1}" y="{y:.1}" width="{w:.1}" height="{h:.1}" fill="#1d70b8"><title>final weight {t:+.2}</title></rect><text x="{tx:.1}" y="{ty:.1}" font-weight="bold">{t:+.2}</text>"##,
            ty = y + 14.0,
            p = self.probability,
            w = (x1 - x0).max(1.0),
            h = row_h - 6.0,
            tx = x1 + 4.0,
            t = self.log2,
        );
        let _ = write!(
            s,
            r##"<text x="{lx:.1}" y="{by:.1}" fill="#505a5f">match weight (log2 odds); bars right of the dashed line are evidence for a match</text></svg>"##,
            lx = label_w - 120.0,
            by = height - 8.0,
        );
        s
    }
}

fn trunc(s: &str, n: usize) -> String {
    if s.chars().count() > n {
        format!("{}…", s.chars().take(n - 1).collect::<String>())
    } else {
        s.to_owned()
    }
}

fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '&' => o.push_str("&amp;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c if c.is_control() => {}
            c => o.push(c),
        }
    }
    o
}
