#!/usr/bin/env python3
"""Deduplicate a person-records CSV with Splink 4 (DuckDB), the peer of
`vigil link --csv`, and write the same two files Vigil writes:

  OUT/pairs.csv     left_id,right_id,probability   (pairs at or above the threshold)
  OUT/clusters.csv  record_id,entity_id            (every record)

The input has the columns `vigil synth records` writes (record_id,
given_name, family_name, other_name, date_of_birth, address, postcode,
locality, phone, email, vehicle_registration, identifier; any may be
absent). Sex, and the agency, are never compared, as in Vigil.

The model follows Splink's own guidance: standardised columns, comparison
levels per field (Jaro-Winkler bands on names with term-frequency
adjustment, date-of-birth levels, postcode levels, exact identifiers),
lambda from deterministic rules, u from random sampling, m by
expectation maximisation on two blocking rules, prediction at the
threshold, connected components for clusters. Nothing in it was tuned on
the benchmark's files. Run by bench/link/run.sh inside target/splink-venv.
"""

import argparse
import os
import sys
import time

import duckdb
import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on

FIELDS = [
    "given_name",
    "family_name",
    "other_name",
    "date_of_birth",
    "address",
    "postcode",
    "locality",
    "phone",
    "email",
    "vehicle_registration",
    "identifier",
]


def clean_sql(columns):
    """SQL that standardises the raw columns (all text) into the model's."""

    def col(name):
        return f'"{name}"' if name in columns else "NULL"

    def text(name):
        # lower case, letters/digits/space only, empty -> NULL
        return (
            f"NULLIF(TRIM(REGEXP_REPLACE(LOWER({col(name)}), '[^a-z0-9 ]', '', 'g')), '')"
        )

    dob = col("date_of_birth")
    iso = f"""CASE
        WHEN REGEXP_MATCHES({dob}, '^[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}$') THEN {dob}
        WHEN REGEXP_MATCHES({dob}, '^[0-9]{{2}}/[0-9]{{2}}/[0-9]{{4}}$')
            THEN SUBSTR({dob}, 7, 4) || '-' || SUBSTR({dob}, 4, 2) || '-' || SUBSTR({dob}, 1, 2)
        WHEN REGEXP_MATCHES({dob}, '^[0-9]{{8}}$')
            THEN SUBSTR({dob}, 1, 4) || '-' || SUBSTR({dob}, 5, 2) || '-' || SUBSTR({dob}, 7, 2)
        ELSE NULL END"""
    year = f"""CASE
        WHEN REGEXP_MATCHES({dob}, '^[0-9]{{4}}$') THEN {dob}
        ELSE SUBSTR(({iso}), 1, 4) END"""
    return f"""
        SELECT
            CAST("record_id" AS VARCHAR) AS unique_id,
            {text('given_name')} AS given_name,
            {text('family_name')} AS family_name,
            {text('other_name')} AS other_name,
            TRY_STRPTIME(({iso}), '%Y-%m-%d') IS NOT NULL AS dob_valid,
            CASE WHEN TRY_STRPTIME(({iso}), '%Y-%m-%d') IS NOT NULL
                 THEN ({iso}) END AS dob,
            TRY_CAST(({year}) AS INTEGER) AS dob_year,
            {text('address')} AS address,
            NULLIF(UPPER(REGEXP_REPLACE({col('postcode')}, '[^A-Za-z0-9]', '', 'g')), '') AS postcode_raw,
            {text('locality')} AS locality,
            NULLIF(REGEXP_REPLACE(REGEXP_REPLACE({col('phone')}, '^\\+44', '0'), '[^0-9]', '', 'g'), '') AS phone,
            NULLIF(LOWER(TRIM({col('email')})), '') AS email,
            NULLIF(UPPER(REGEXP_REPLACE({col('vehicle_registration')}, '[^A-Za-z0-9?]', '', 'g')), '') AS vehicle_registration,
            NULLIF(REGEXP_REPLACE({col('identifier')}, '[^0-9A-Za-z]', '', 'g'), '') AS identifier
        FROM raw
    """


def postcode_sql():
    # Splink's postcode comparison expects the usual 'AB1 2CD' layout: put
    # the space back before the last three characters.
    return """
        SELECT * EXCLUDE (postcode_raw, dob_valid),
            CASE WHEN LENGTH(postcode_raw) >= 5
                 THEN SUBSTR(postcode_raw, 1, LENGTH(postcode_raw) - 3) || ' ' || RIGHT(postcode_raw, 3)
                 ELSE postcode_raw END AS postcode
        FROM cleaned
    """


def dob_comparison():
    swapped = (
        "SUBSTR(dob_l, 1, 4) = SUBSTR(dob_r, 1, 4) AND "
        "SUBSTR(dob_l, 6, 2) = SUBSTR(dob_r, 9, 2) AND "
        "SUBSTR(dob_l, 9, 2) = SUBSTR(dob_r, 6, 2)"
    )
    return cl.CustomComparison(
        output_column_name="dob",
        comparison_levels=[
            cll.And(cll.NullLevel("dob"), cll.NullLevel("dob_year")),
            cll.ExactMatchLevel("dob"),
            cll.DamerauLevenshteinLevel("dob", 1),
            cll.CustomLevel(swapped, label_for_charts="day and month swapped"),
            cll.ExactMatchLevel("dob_year"),
            cll.AbsoluteDifferenceLevel("dob_year", 2),
            cll.ElseLevel(),
        ],
        comparison_description="date of birth: exact, one edit, day/month swapped, same year, within 2 years",
    )


def settings(present, uk_postcodes):
    comparisons = []
    blocking = []

    def has(c):
        return c in present

    if has("given_name"):
        comparisons.append(cl.NameComparison("given_name").configure(term_frequency_adjustments=True))
    if has("family_name"):
        comparisons.append(cl.NameComparison("family_name").configure(term_frequency_adjustments=True))
    if has("other_name"):
        comparisons.append(cl.JaroWinklerAtThresholds("other_name", [0.92, 0.8]))
    if has("date_of_birth"):
        comparisons.append(dob_comparison())
    if has("address"):
        comparisons.append(cl.JaroWinklerAtThresholds("address", [0.95, 0.85]))
    if has("postcode"):
        # Splink's postcode levels (sector, district, area) are for UK
        # postcodes; others are compared exactly.
        if uk_postcodes:
            comparisons.append(cl.PostcodeComparison("postcode"))
        else:
            comparisons.append(cl.ExactMatch("postcode"))
    if has("locality"):
        comparisons.append(cl.ExactMatch("locality"))
    if has("phone"):
        comparisons.append(cl.ExactMatch("phone"))
    if has("email"):
        comparisons.append(cl.EmailComparison("email"))
    if has("vehicle_registration"):
        comparisons.append(cl.ExactMatch("vehicle_registration"))
    if has("identifier"):
        comparisons.append(cl.ExactMatch("identifier"))

    # Blocking: pairs that share an identifier, a contact, or a name and a
    # date; roughly the candidate pairs a person would look at.
    if has("identifier"):
        blocking.append(block_on("identifier"))
    if has("family_name") and has("date_of_birth"):
        blocking.append(block_on("family_name", "dob"))
    if has("given_name") and has("date_of_birth"):
        blocking.append(block_on("given_name", "dob"))
    if has("given_name") and has("family_name") and has("date_of_birth"):
        blocking.append(block_on("given_name", "family_name", "dob_year"))
    if has("given_name") and has("postcode"):
        blocking.append(block_on("given_name", "postcode"))
    if has("family_name") and has("postcode"):
        blocking.append(block_on("family_name", "postcode"))
    if has("phone"):
        blocking.append(block_on("phone"))
    if has("email"):
        blocking.append(block_on("email"))
    return SettingsCreator(
        link_type="dedupe_only",
        comparisons=comparisons,
        blocking_rules_to_generate_predictions=blocking,
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=False,
    )


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--csv", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--threshold", type=float, default=0.5)
    ap.add_argument("--max-pairs", type=float, default=1e7, help="pairs sampled to estimate u")
    ap.add_argument(
        "--memory-limit",
        default=os.environ.get("SPLINK_MEMORY_LIMIT", "8GB"),
        help="DuckDB's memory limit (it spills to --temp-dir beyond it); the machine is shared",
    )
    ap.add_argument("--temp-dir", default=None, help="DuckDB's spill directory (default: OUT/duckdb-tmp)")
    args = ap.parse_args()
    started = time.time()

    def stage(what):
        print(f"splink: {what} at {time.time() - started:.1f} s", file=sys.stderr)
    os.makedirs(args.out, exist_ok=True)

    con = duckdb.connect()
    con.execute(f"SET memory_limit = '{args.memory_limit}'")
    con.execute(f"SET temp_directory = '{args.temp_dir or os.path.join(args.out, 'duckdb-tmp')}'")
    # Cap the spill: at 1M records a full spill once filled the shared disk.
    con.execute(f"SET max_temp_directory_size = '{os.environ.get('SPLINK_MAX_SPILL', '20GB')}'")
    con.execute(
        "CREATE TABLE raw AS SELECT * FROM read_csv(?, header = true, all_varchar = true)",
        [args.csv],
    )
    columns = [r[0] for r in con.execute("DESCRIBE raw").fetchall()]
    if "record_id" not in columns:
        sys.exit(f"{args.csv} has no record_id column")
    present = [c for c in FIELDS if c in columns]
    con.execute(f"CREATE TABLE cleaned AS {clean_sql(columns)}")
    con.execute(f"CREATE TABLE records AS {postcode_sql()}")
    n = con.execute("SELECT COUNT(*) FROM records").fetchone()[0]
    print(f"splink: {n} records, fields {', '.join(present)}", file=sys.stderr)

    uk = con.execute(
        """SELECT AVG(CASE WHEN REGEXP_MATCHES(postcode, '^[A-Z]{1,2}[0-9][A-Z0-9]? [0-9][A-Z]{2}$')
                      THEN 1.0 ELSE 0.0 END) FROM records WHERE postcode IS NOT NULL"""
    ).fetchone()[0]
    uk_postcodes = uk is not None and uk >= 0.5

    stage("read and standardised")
    db_api = DuckDBAPI(connection=con)
    linker = Linker("records", settings(present, uk_postcodes), db_api=db_api)

    deterministic = []
    if "identifier" in present:
        deterministic.append(block_on("identifier"))
    deterministic.append(block_on("given_name", "family_name", "dob"))
    linker.training.estimate_probability_two_random_records_match(deterministic, recall=0.7)
    stage("lambda estimated")
    linker.training.estimate_u_using_random_sampling(max_pairs=args.max_pairs)
    stage("u estimated")
    # m by EM, each session blocked on one field so the others are estimated.
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("dob"))
    if "postcode" in present:
        linker.training.estimate_parameters_using_expectation_maximisation(block_on("postcode"))
    else:
        linker.training.estimate_parameters_using_expectation_maximisation(
            block_on("given_name", "family_name")
        )

    stage("m estimated")
    pred = linker.inference.predict(threshold_match_probability=args.threshold)
    stage("pairs predicted")
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        pred, threshold_match_probability=args.threshold
    )
    stage("clustered")
    pairs_path = os.path.join(args.out, "pairs.csv")
    clusters_path = os.path.join(args.out, "clusters.csv")
    con.execute(
        f"""COPY (SELECT unique_id_l AS left_id, unique_id_r AS right_id,
                         ROUND(match_probability, 6) AS probability
                  FROM {pred.physical_name}
                  WHERE match_probability >= {args.threshold})
            TO '{pairs_path}' (HEADER, DELIMITER ',')"""
    )
    con.execute(
        f"""COPY (SELECT unique_id AS record_id, cluster_id AS entity_id
                  FROM {clusters.physical_name})
            TO '{clusters_path}' (HEADER, DELIMITER ',')"""
    )
    print(f"splink: done in {time.time() - started:.1f} s", file=sys.stderr)
    con.close()
    import shutil

    shutil.rmtree(args.temp_dir or os.path.join(args.out, "duckdb-tmp"), ignore_errors=True)


if __name__ == "__main__":
    main()
