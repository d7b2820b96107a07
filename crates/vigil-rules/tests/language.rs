//! The language check against a labelled set of sentences
//! (tests/data/language-sentences.tsv): half written the way the guidance
//! warns against, half acceptable, including quoting, ages under and over
//! 13 and near misses. A sentence counts as flagged when the check finds
//! anything in it. Precision and recall are printed (`cargo test -p
//! vigil-rules --test language -- --nocapture`) and must both be at least
//! 0.9; the sentences it gets wrong are listed when it fails.

use vigil_rules::language::{check, Guidance, LanguageContext};

struct Labelled {
    file: String,
    line: usize,
    harmful: bool,
    age: Option<u32>,
    sentence: String,
}

/// Every labelled file: the first set, and one written blind by a second
/// author from the guidance alone.
const FILES: &[&str] = &["language-sentences.tsv", "language-sentences-blind.tsv"];

fn labelled() -> Vec<Labelled> {
    FILES.iter().flat_map(|f| labelled_in(f)).collect()
}

fn labelled_in(file: &str) -> Vec<Labelled> {
    let path = format!("{}/tests/data/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(path).unwrap();
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let mut cols = line.splitn(3, '\t');
        let (label, age, sentence) = (
            cols.next().unwrap(),
            cols.next().expect("an age column"),
            cols.next().expect("a sentence column"),
        );
        let harmful = match label {
            "harmful" => true,
            "ok" => false,
            other => panic!(
                "{file} line {}: label {other:?} is not harmful or ok",
                i + 1
            ),
        };
        let age = (age != "-").then(|| age.parse().expect("an age or -"));
        out.push(Labelled {
            file: file.to_owned(),
            line: i + 1,
            harmful,
            age,
            sentence: sentence.to_owned(),
        });
    }
    out
}

#[test]
fn precision_and_recall_on_the_labelled_sentences_are_at_least_0_9() {
    let set = labelled();
    let harmful = set.iter().filter(|l| l.harmful).count();
    assert!(set.len() >= 400, "at least 400 sentences: {}", set.len());
    assert!(
        harmful * 10 >= set.len() * 4 && harmful * 10 <= set.len() * 6,
        "about half harmful: {harmful} of {}",
        set.len()
    );
    let (mut tp, mut fp, mut fn_) = (0, 0, 0);
    let mut wrong = Vec::new();
    for l in &set {
        let found = check(&l.sentence, &LanguageContext { age: l.age });
        match (l.harmful, !found.is_empty()) {
            (true, true) => tp += 1,
            (false, true) => {
                fp += 1;
                wrong.push(format!(
                    "line {} flagged, but ok: {} {:?}",
                    l.line,
                    l.sentence,
                    found.iter().map(|f| &f.phrase).collect::<Vec<_>>()
                ));
            }
            (true, false) => {
                fn_ += 1;
                wrong.push(format!("{} line {} missed: {}", l.file, l.line, l.sentence));
            }
            (false, false) => {}
        }
    }
    let precision = tp as f64 / (tp + fp).max(1) as f64;
    let recall = tp as f64 / (tp + fn_).max(1) as f64;
    println!(
        "language check: {} sentences ({harmful} harmful): precision {precision:.3}, recall {recall:.3} (tp {tp}, fp {fp}, fn {fn_})",
        set.len()
    );
    for w in &wrong {
        println!("  {w}");
    }
    assert!(
        precision >= 0.9 && recall >= 0.9,
        "precision {precision:.3}, recall {recall:.3}:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn every_finding_names_its_words_and_a_row_of_the_guidance() {
    for l in labelled().iter().filter(|l| l.harmful) {
        for f in check(&l.sentence, &LanguageContext { age: l.age }) {
            assert_eq!(&l.sentence[f.start..f.end], f.phrase);
            assert!(Guidance::ALL.contains(&f.guidance));
            assert_eq!(f.why, f.guidance.why());
            assert_eq!(f.suggestion, f.guidance.suggestion());
            assert!(!f.why.is_empty() && !f.suggestion.is_empty());
        }
    }
}

#[test]
fn acceptable_wording_from_the_guidance_itself_is_never_flagged() {
    for g in Guidance::ALL {
        for alternative in g.suggestion().split(';') {
            let s = format!("She {}.", alternative.trim());
            assert!(
                check(&s, &LanguageContext { age: Some(12) }).is_empty(),
                "the suggested wording {s:?} is flagged"
            );
        }
    }
}
