//! `vigil check-language` as a script meets it: text on standard input, one
//! JSON object per finding on standard output (byte offsets, the phrase, why
//! and a suggestion), nothing when the text is fine, exit 0 either way; a
//! clear one-line error for input that is not text.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn check(input: &[u8], args: &[&str]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_vigil"));
    c.arg("check-language")
        .args(args)
        .env_remove("VIGIL_DATA")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let owned = input.to_vec();
    // Written from a thread so a large input cannot fill both pipes at once.
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&owned);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    out
}

fn findings(o: &Output) -> Vec<serde_json::Value> {
    String::from_utf8(o.stdout.clone())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect()
}

#[test]
fn a_finding_is_one_json_line_with_byte_offsets() {
    let text = "Zoë’s record: she is putting herself at risk.\nHe is 30. He is her boyfriend.\n";
    let o = check(text.as_bytes(), &[]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let f = findings(&o);
    assert_eq!(f.len(), 2, "{f:?}");
    for x in &f {
        let (s, e) = (
            x["start"].as_u64().unwrap() as usize,
            x["end"].as_u64().unwrap() as usize,
        );
        assert_eq!(&text[s..e], x["phrase"].as_str().unwrap());
        assert!(!x["why"].as_str().unwrap().is_empty());
        assert!(!x["suggestion"].as_str().unwrap().is_empty());
        let keys: Vec<&String> = x.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["end", "phrase", "start", "suggestion", "why"]);
    }
    assert_eq!(f[0]["phrase"], "putting herself at risk");
    assert_eq!(f[1]["phrase"], "boyfriend");
}

#[test]
fn fine_text_prints_nothing_and_exits_0() {
    for text in [
        "",
        "She said he is her boyfriend; he is 30.",
        "Mum gave consent for the referral.",
    ] {
        let o = check(text.as_bytes(), &[]);
        assert!(o.status.success());
        assert!(
            o.stdout.is_empty(),
            "{text:?}: {}",
            String::from_utf8_lossy(&o.stdout)
        );
    }
}

#[test]
fn the_age_decides_what_sexual_wording_means() {
    let text = b"She is sexually active.";
    assert_eq!(findings(&check(text, &["--age", "12"])).len(), 1);
    assert!(findings(&check(text, &["--age", "15"])).is_empty());
}

#[test]
fn wrong_huge_and_hostile_input_gets_a_clear_error_or_a_check() {
    let o = check(b"\xff\xfe not text", &[]);
    assert_eq!(o.status.code(), Some(2));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        e.starts_with("vigil: standard input is not UTF-8 text"),
        "{e}"
    );
    assert_eq!(e.trim().lines().count(), 1);

    for bad in ["-1", "abc", "500", ""] {
        let o = check(b"x", &["--age", bad]);
        assert_eq!(o.status.code(), Some(2), "--age {bad:?}");
        assert!(o.stdout.is_empty());
    }

    // Larger than the 16 MiB bound: refused, not read without end.
    let big = vec![b'a'; 16 * 1024 * 1024 + 10];
    let o = check(&big, &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("longer than 16 MiB"));

    // A megabyte of quotes, nulls and the harmful phrase: checked, no panic.
    let hostile = "\"\u{0}'“ she is putting herself at risk; ".repeat(20_000);
    let o = check(hostile.as_bytes(), &[]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// `vigil bench alerts` runs the default rules over a small synthetic
/// borough and reports days to alert beside the alert rate.
#[test]
fn bench_alerts_reports_days_to_alert_and_the_alert_rate() {
    let o = Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args([
            "bench",
            "alerts",
            "--children",
            "600",
            "--years",
            "2",
            "--seed",
            "3",
        ])
        .env_remove("VIGIL_DATA")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8(o.stdout).unwrap();
    for words in [
        "victims recorded:",
        "never alerted:",
        "days from the first recorded event about a victim to the first alert: median",
        "alerts per practitioner per week",
        "repeated-missing",
    ] {
        assert!(out.contains(words), "{words:?} in:\n{out}");
    }
}
