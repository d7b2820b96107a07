#!/usr/bin/env python3
"""Print the side-by-side table of bench/link/run.sh from its work
directory: for each data set and tool, the scores `vigil bench link-eval
--json` wrote (TOOL.scores.json) and the wall time and peak memory that
`/usr/bin/time -v` wrote (TOOL.time). Standard library only."""

import json
import os
import re
import sys


def parse_time(path):
    wall = rss = None
    status = None
    try:
        text = open(path).read()
    except OSError:
        return None, None, "not run"
    m = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", text)
    if m:
        parts = [float(x) for x in m.group(1).split(":")]
        wall = 0.0
        for p in parts:
            wall = wall * 60 + p
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", text)
    if m:
        rss = int(m.group(1)) / 1024
    m = re.search(r"Exit status: (\d+)", text)
    if m and m.group(1) != "0":
        status = f"exit {m.group(1)}"
    if "Command terminated by signal" in text:
        status = "killed"
    return wall, rss, status


def fmt(x, digits=4):
    return "–" if x is None else f"{x:.{digits}f}"


def main():
    work = sys.argv[1]
    sets = sys.argv[2].split()
    tools = sys.argv[3].split()
    head = (
        "| data | records | tool | pairs P | pairs R | pairs F1 | clusters P | clusters R "
        "| clusters F1 | B-cubed F1 | exact F1 | wall s | peak MB |"
    )
    print(head)
    print("|" + "|".join(["---"] * 13) + "|")
    for s in sets:
        d = os.path.join(work, s)
        for t in tools:
            wall, rss, status = parse_time(os.path.join(d, f"{t}.time"))
            try:
                sc = json.load(open(os.path.join(d, f"{t}.scores.json")))
            except (OSError, ValueError):
                sc = None
            if sc is None:
                note = status or "no scores"
                print(f"| {s} | – | {t} | {note} |" + " |" * 7 + f" {fmt(wall, 1)} | {fmt(rss, 0)} |")
                continue
            p = sc.get("pairs") or {}
            c = sc.get("cluster_pairs") or {}
            b = sc.get("bcubed") or {}
            e = sc.get("exact") or {}
            print(
                f"| {s} | {sc['records']} | {t} | {fmt(p.get('precision'))} | {fmt(p.get('recall'))} "
                f"| {fmt(p.get('f1'))} | {fmt(c.get('precision'))} | {fmt(c.get('recall'))} "
                f"| {fmt(c.get('f1'))} | {fmt(b.get('f1'))} | {fmt(e.get('f1'))} "
                f"| {fmt(wall, 1)} | {fmt(rss, 0)} |"
            )


if __name__ == "__main__":
    main()
