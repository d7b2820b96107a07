//! `vigil link --csv` as an analyst meets it: the real binary on real
//! files, the happy path and every kind of bad input (one sentence naming
//! the line, exit 2, nothing half-written).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn vigil() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_vigil"));
    c.env_remove("VIGIL_DATA").env_remove("VIGIL_DATABASE_URL");
    c
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

const GIVEN: &[&str] = &[
    "oliver",
    "amelia",
    "jack",
    "isla",
    "harry",
    "ava",
    "george",
    "mia",
    "noah",
    "grace",
    "aisha",
    "mohammed",
    "yusuf",
    "fatima",
    "tomasz",
    "zofia",
    "william",
    "elizabeth",
    "thomas",
    "rebecca",
];
const FAMILY: &[&str] = &[
    "stone", "ward", "begum", "khan", "nowak", "reed", "cole", "hall", "carter", "fisher", "mason",
    "price", "hughes", "patel", "singh", "kowalski", "ahmed", "hussain", "brook", "lowe",
];

/// A file of people, some recorded twice with the errors agencies make,
/// with columns named so that no `--map` is needed. Returns the path and
/// the pairs of ids that are one person.
fn people_csv(dir: &Path) -> (PathBuf, Vec<(String, String)>) {
    let mut rows =
        vec!["record_id,first_name,surname,dob,sex,address,postcode,nhs_number".to_string()];
    let mut same = Vec::new();
    for k in 0..400usize {
        let g = GIVEN[k % GIVEN.len()];
        let f = FAMILY[(k * 7 + k / 20) % FAMILY.len()];
        let (y, m, d) = (1960 + (k * 13) % 50, 1 + (k * 5) % 12, 1 + (k * 11) % 28);
        let addr = format!(
            "{} {} Road",
            1 + k % 90,
            ["Mill", "Church", "Acacia", "Quarry"][k % 4]
        );
        let pc = format!(
            "NS{} {}{}{}",
            1 + k % 9,
            1 + k % 8,
            (b'A' + (k % 26) as u8) as char,
            (b'A' + (k / 26 % 26) as u8) as char
        );
        let nhs = format!("999{:07}", k * 7919 % 10_000_000);
        let id = format!("P{k:04}");
        rows.push(format!(
            "{id},{g},{f},{y}-{m:02}-{d:02},F,{addr},{pc},{nhs}"
        ));
        if k % 3 == 0 {
            // The same person again: a typo or a nickname, the date written
            // the UK way round (or day and month swapped), the postcode
            // without its space, no NHS number.
            let g2 = match g {
                "william" => "Bill".to_string(),
                "elizabeth" => "Liz".to_string(),
                "mohammed" => "Muhammad".to_string(),
                _ => {
                    let mut c: Vec<char> = g.chars().collect();
                    let n = c.len();
                    c.swap(n - 2, n - 1);
                    c.into_iter().collect()
                }
            };
            let date = if k % 2 == 0 && d <= 12 {
                format!("{m:02}/{d:02}/{y}")
            } else {
                format!("{d:02}/{m:02}/{y}")
            };
            let id2 = format!("Q{k:04}");
            rows.push(format!(
                "{id2},{},{},{date},M,\"{addr}\",{},",
                g2.to_uppercase(),
                f,
                pc.replace(' ', "")
            ));
            same.push((id, id2));
        }
    }
    let path = dir.join("people.csv");
    std::fs::write(&path, rows.join("\n") + "\n").unwrap();
    (path, same)
}

fn read_csv(p: &Path) -> Vec<Vec<String>> {
    std::fs::read_to_string(p)
        .unwrap()
        .lines()
        .map(|l| l.split(',').map(str::to_owned).collect())
        .collect()
}

fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

#[test]
fn links_a_file_and_writes_pairs_clusters_and_model() {
    let t = tempdir();
    let (csv, same) = people_csv(t.path());
    let out = t.path().join("out");
    let o = vigil()
        .args(["link", "--csv"])
        .arg(&csv)
        .args(["--id", "record_id", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("records"), "{}", stderr(&o));
    let pairs = read_csv(&out.join("pairs.csv"));
    assert_eq!(pairs[0], ["left_id", "right_id", "probability"]);
    let found: std::collections::HashSet<(String, String)> = pairs[1..]
        .iter()
        .map(|r| {
            let p: f64 = r[2].parse().unwrap();
            assert!((0.5..=1.0).contains(&p), "{r:?}");
            (r[0].clone(), r[1].clone())
        })
        .collect();
    let hit = same.iter().filter(|p| found.contains(p)).count();
    assert!(
        hit * 10 >= same.len() * 9,
        "found {hit} of {} duplicates",
        same.len()
    );
    // Few false links: every pair found is mostly a true one.
    let true_found = found.iter().filter(|p| same.contains(p)).count();
    assert!(
        true_found * 10 >= found.len() * 9,
        "{true_found} of {}",
        found.len()
    );
    // Clusters: every record once, in file order; duplicates share an entity.
    let clusters = read_csv(&out.join("clusters.csv"));
    assert_eq!(clusters[0], ["record_id", "entity_id"]);
    assert_eq!(clusters.len() - 1, 400 + same.len());
    assert_eq!(clusters[1][0], "P0000");
    let entity: std::collections::HashMap<&str, &str> = clusters[1..]
        .iter()
        .map(|r| (r[0].as_str(), r[1].as_str()))
        .collect();
    let together = same
        .iter()
        .filter(|(a, b)| entity[a.as_str()] == entity[b.as_str()])
        .count();
    assert!(together * 10 >= same.len() * 9);
    // The model is JSON, and no temporary file is left.
    let model = std::fs::read_to_string(out.join("model.json")).unwrap();
    assert!(model.starts_with('{') && model.contains("\"lambda\""));
    let names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 3, "{names:?}");

    // A higher threshold gives a subset of the pairs.
    let out2 = t.path().join("out2");
    let o = vigil()
        .args(["link", "--csv"])
        .arg(&csv)
        .args(["--id", "record_id", "--threshold", "0.99", "--out"])
        .arg(&out2)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let strict = read_csv(&out2.join("pairs.csv"));
    assert!(strict.len() <= pairs.len());
    for r in &strict[1..] {
        assert!(r[2].parse::<f64>().unwrap() >= 0.99);
    }

    // --explain prints the waterfall table of a pair.
    let (a, b) = &same[3];
    let o = vigil()
        .args(["link", "--csv"])
        .arg(&csv)
        .args(["--id", "record_id", "--explain", &format!("{a},{b}")])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let table = stdout(&o);
    assert!(table.contains(&format!("Records {a} and {b}")), "{table}");
    for word in [
        "prior",
        "given name",
        "date of birth",
        "address and postcode",
        "total",
    ] {
        assert!(table.contains(word), "{word}: {table}");
    }
}

#[test]
fn several_columns_feed_one_field_and_mapped_names() {
    let t = tempdir();
    let csv = t.path().join("split.csv");
    let mut rows = vec!["ref,forename,middle,last,yyyy,mm,dd,house,road,pc,mob1,mob2".to_string()];
    for k in 0..300usize {
        let g = GIVEN[k % GIVEN.len()];
        let f = FAMILY[(k * 3 + k / 20) % FAMILY.len()];
        let (y, m, d) = (1970 + k % 40, 1 + k % 12, 1 + k % 28);
        rows.push(format!(
            "A{k},{g},,{f},{y},{m},{d},{},Mill Lane,NS{} {}AB,07700 900{:03},",
            k % 50,
            1 + k % 9,
            1 + k % 9,
            k % 1000
        ));
        if k % 4 == 0 {
            rows.push(format!(
                "B{k},{g},,{f},{y},{m},{d},{},Mill Lane,,,07700 900{:03}",
                k % 50,
                k % 1000
            ));
        }
    }
    std::fs::write(&csv, rows.join("\n")).unwrap();
    let out = t.path().join("out");
    let o = vigil()
        .args(["link", "--csv"])
        .arg(&csv)
        .args([
            "--id",
            "ref",
            "--map",
            "forename=given_name",
            "middle=other_name",
            "last=surname",
            "yyyy=dob",
            "mm=dob",
            "dd=dob",
            "house=address",
            "road=address",
            "pc=postcode",
            "mob1=phone",
            "mob2=phone",
            "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        !stderr(&o).contains("warning"),
        "dates were read: {}",
        stderr(&o)
    );
    let pairs = read_csv(&out.join("pairs.csv"));
    let found: std::collections::HashSet<(String, String)> = pairs[1..]
        .iter()
        .map(|r| (r[0].clone(), r[1].clone()))
        .collect();
    let mut hit = 0;
    for k in (0..300).step_by(4) {
        hit += found.contains(&(format!("A{k}"), format!("B{k}"))) as usize;
    }
    assert!(hit >= 70, "{hit} of 75");
}

/// Runs `vigil link` on a file with the given bytes; returns the output and
/// the output directory (which must hold no results).
fn bad(bytes: &[u8], extra: &[&str]) -> (Output, tempfile::TempDir) {
    let t = tempdir();
    let csv = t.path().join("in.csv");
    std::fs::write(&csv, bytes).unwrap();
    let out = t.path().join("out");
    let o = vigil()
        .args(["link", "--csv"])
        .arg(&csv)
        .args(["--id", "id"])
        .args(extra)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    (o, t)
}

fn assert_refused(o: &Output, t: &tempfile::TempDir, says: &[&str]) {
    let e = stderr(o);
    assert_eq!(o.status.code(), Some(2), "{e}");
    assert!(
        !e.contains("panicked") && !e.contains("RUST_BACKTRACE"),
        "{e}"
    );
    assert_eq!(e.trim().lines().count(), 1, "one sentence: {e}");
    assert!(e.starts_with("vigil: "), "{e}");
    for s in says {
        assert!(e.contains(s), "expected '{s}' in: {e}");
    }
    let out = t.path().join("out");
    for f in ["pairs.csv", "clusters.csv", "model.json"] {
        assert!(!out.join(f).exists(), "{f} was written");
    }
    if out.exists() {
        assert_eq!(
            std::fs::read_dir(&out).unwrap().count(),
            0,
            "nothing half-written"
        );
    }
}

#[test]
fn bad_input_gets_one_sentence_naming_the_line() {
    let ok_head = "id,given_name,family_name,dob\n";
    let good = format!("{ok_head}1,Ann,Lee,2001-02-03\n2,Bob,Ward,1999\n");

    // A missing id column, a missing --map column, an unknown field.
    let (o, t) = bad(b"ref,given_name\n1,Ann\n", &[]);
    assert_refused(&o, &t, &["no column 'id'", "line 1"]);
    let (o, t) = bad(good.as_bytes(), &["--map", "forename=given_name"]);
    assert_refused(&o, &t, &["no column 'forename'"]);
    let (o, t) = bad(good.as_bytes(), &["--map", "given_name=shoe_size"]);
    assert_refused(&o, &t, &["'shoe_size'", "not a field"]);
    let (o, t) = bad(good.as_bytes(), &["--map", "given_name"]);
    assert_refused(&o, &t, &["COLUMN=FIELD"]);
    // Nothing to compare.
    let (o, t) = bad(b"id,colour\n1,red\n2,blue\n", &[]);
    assert_refused(&o, &t, &["nothing to compare"]);

    // A ragged row: the line is named.
    let ragged = format!("{ok_head}1,Ann,Lee,2001-02-03\n2,Bob,Ward\n3,Cy,Hall,2000,extra\n");
    let (o, t) = bad(ragged.as_bytes(), &[]);
    assert_refused(&o, &t, &["line 3", "3 fields where the header has 4"]);

    // Invalid UTF-8 on line 3.
    let mut bytes = format!("{ok_head}1,Ann,Lee,2001-02-03\n2,B").into_bytes();
    bytes.extend_from_slice(&[0xff, 0xfe]);
    bytes.extend_from_slice(b"b,Ward,1999\n");
    let (o, t) = bad(&bytes, &[]);
    assert_refused(&o, &t, &["line 3", "UTF-8"]);

    // Not CSV at all: binary.
    let (o, t) = bad(&[0x7f, b'E', b'L', b'F', 0, 0, 1, 2, 3], &[]);
    assert_refused(&o, &t, &["not a CSV file"]);

    // A huge field on line 2.
    let huge = format!("{ok_head}1,{},Lee,2001-02-03\n", "a".repeat(20_000));
    let (o, t) = bad(huge.as_bytes(), &[]);
    assert_refused(&o, &t, &["line 2", "more than the 10000"]);

    // Empty file, header only.
    let (o, t) = bad(b"", &[]);
    assert_refused(&o, &t, &["is empty"]);
    let (o, t) = bad(ok_head.as_bytes(), &[]);
    assert_refused(&o, &t, &["no records"]);

    // An empty id, a repeated id.
    let (o, t) = bad(
        format!("{ok_head}1,Ann,Lee,2001\n,Bob,Ward,1999\n").as_bytes(),
        &[],
    );
    assert_refused(&o, &t, &["line 3", "no record id"]);
    let (o, t) = bad(
        format!("{ok_head}1,Ann,Lee,2001\n1,Bob,Ward,1999\n").as_bytes(),
        &[],
    );
    assert_refused(&o, &t, &["line 3", "also on line 2"]);

    // A quote left open runs to the end of the file: the line is named.
    let (o, t) = bad(
        format!("{ok_head}1,\"Ann,Lee,2001\n2,Bob,Ward,1999\n").as_bytes(),
        &[],
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("line "), "{}", stderr(&o));
    drop(t);

    // Arguments: a threshold that is not a probability, nowhere to write,
    // an unknown pair to explain, a file that does not exist.
    let (o, t) = bad(good.as_bytes(), &["--threshold", "1.5"]);
    assert_refused(&o, &t, &["--threshold", "between 0 and 1"]);
    let t = tempdir();
    let csv = t.path().join("in.csv");
    std::fs::write(&csv, &good).unwrap();
    let o = vigil()
        .args(["link", "--csv"])
        .arg(&csv)
        .args(["--id", "id"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--out DIR"), "{}", stderr(&o));
    let o = vigil()
        .args(["link", "--csv"])
        .arg(&csv)
        .args(["--id", "id", "--explain", "1,99"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no record '99'"), "{}", stderr(&o));
    let o = vigil()
        .args(["link", "--csv"])
        .arg(t.path().join("nope.csv"))
        .args(["--id", "id", "--out"])
        .arg(t.path().join("out"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("cannot read"), "{}", stderr(&o));
}

#[test]
fn unreadable_dates_are_missing_with_one_warning_and_old_results_survive_a_failure() {
    let t = tempdir();
    let csv = t.path().join("in.csv");
    std::fs::write(
        &csv,
        "id,given_name,family_name,dob\n1,Ann,Lee,31/02/2001\n2,Ann,Lee,2001-02-03\n3,Bob,Ward,last year\n",
    )
    .unwrap();
    let out = t.path().join("out");
    let o = vigil()
        .args(["link", "--csv"])
        .arg(&csv)
        .args(["--id", "id", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(
        e.contains("2 date(s) of birth could not be read") && e.contains("line 2"),
        "{e}"
    );
    let before = std::fs::read(out.join("clusters.csv")).unwrap();
    // A failing run into the same directory leaves the old results whole.
    std::fs::write(&csv, "id,given_name\n1,Ann\n1,Bob\n").unwrap();
    let o = vigil()
        .args(["link", "--csv"])
        .arg(&csv)
        .args(["--id", "id", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(std::fs::read(out.join("clusters.csv")).unwrap(), before);
}
