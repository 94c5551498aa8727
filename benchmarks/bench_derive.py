"""Throughput of the paper derivations — study design and drug role — on the real 15,000-record
1970s bulk file of the corpus (run by hand, one core; targets in docs/benchmarks.md).

    .venv/bin/python benchmarks/bench_derive.py [--corpus ../shared/corpus]

Study design is timed on its text path (publication types withheld: the slow path); drug role
both as prepare.py asks it (only the labelled drugs) and in the worst case (every drug asked of
every record). Best of three runs, so a busy machine reports its least disturbed pass.
"""
from __future__ import annotations

import argparse
import gzip
import os
import time
from pathlib import Path

from extract.catalogue import Catalogue
from extract.drug_role import mentioned_drugs
from extract.pubmed_parser import parse_pubmed
from extract.study_design import study_design

BULK = "pubmed/bulk/pubmed20n0014_even.xml.gz"
RUNS = 3


def best_rate(records: list[dict], work) -> float:
    best = 0.0
    for _ in range(RUNS):
        start = time.perf_counter()
        for record in records:
            work(record)
        best = max(best, len(records) / (time.perf_counter() - start))
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "corpus")
    args = parser.parse_args()
    records = parse_pubmed(gzip.decompress((args.corpus / BULK).read_bytes())).records
    catalogue = Catalogue.load()
    for record in records:
        record["drugs"] = catalogue.drugs_for_article(record)
    keys = [drug.key for drug in catalogue.drugs]
    untyped = [{**record, "publication_types": []} for record in records]

    print(f"cpu: {os.cpu_count()} visible, single process; {len(records):,} records of {BULK}")
    print(f"study_design, text path: {best_rate(untyped, study_design):,.0f} records/s (target 5,000)")
    print(f"mentioned_drugs, labelled drugs only: "
          f"{best_rate(records, lambda r: mentioned_drugs(r, r['drugs'], catalogue)):,.0f} records/s")
    print(f"mentioned_drugs, every drug asked: "
          f"{best_rate(records, lambda r: mentioned_drugs(r, keys, catalogue)):,.0f} records/s")


if __name__ == "__main__":
    main()
