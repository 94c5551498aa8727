"""Throughput of the condition tagger on synthetic abstracts (run by hand, one core).

    .venv/bin/python benchmarks/bench_tagger.py            # 50,000 abstracts
    .venv/bin/python benchmarks/bench_tagger.py --n 5000   # quicker

Abstracts are generated from a fixed seed: sentences about ketamine / psilocybin / MDMA trials
with condition terms, abbreviations, negations and side-effect lists mixed in, ~250 tokens
each. Reports docs/s and tokens/s for the spaCy pipeline on abstracts alone (`nlp.pipe`), and
records/s for `Tagger.tag_articles` (title + abstract + keywords, then `about()`).
"""
from __future__ import annotations

import argparse
import os
import random
import time

from extract.tagger import Tagger, about

DRUGS = ["ketamine", "esketamine", "psilocybin", "MDMA", "intranasal esketamine", "arketamine"]
CONDITIONS = [
    "treatment-resistant depression", "major depressive disorder", "depression", "PTSD",
    "post-traumatic stress disorder", "generalised anxiety disorder", "social anxiety",
    "bipolar depression", "suicidal ideation", "chronic pain", "neuropathic pain", "CRPS",
    "alcohol use disorder", "opioid use disorder", "cocaine dependence", "tobacco dependence",
    "obsessive-compulsive disorder", "anorexia nervosa", "cluster headache", "migraine",
    "end-of-life distress", "schizophrenia", "autism spectrum disorder", "insomnia",
    "postpartum depression", "fibromyalgia", "binge eating disorder", "delirium",
]
FILLER = (
    "patients were randomised to receive a single infusion or placebo and were followed for "
    "four weeks with validated rating scales at baseline day one day seven and day twenty-eight "
    "the primary outcome was the change in total score and secondary outcomes included response "
    "remission quality of life and cognitive performance measured by trained raters blind to "
    "allocation mixed models for repeated measures were used and missing data were handled by "
    "multiple imputation under a missing at random assumption"
).split()
TEMPLATES = [
    "We studied {drug} in adults with {cond}.",
    "{Cond} ({abbr}) affects millions; later {abbr} patients responded to {drug}.",
    "Patients without {cond} were excluded from the comparison group.",
    "There was no increase in {cond2} after {drug}.",
    "Adverse events included nausea, headache, dizziness and {cond2}.",
    "Exclusion criteria included {cond2}, psychosis or current substance use disorder.",
    "{drug} reduced symptoms of {cond} compared with placebo (p < 0.01).",
]


def synthetic_abstract(rng: random.Random, target_tokens: int = 250) -> tuple[str, str, list[str]]:
    cond, cond2 = rng.choice(CONDITIONS), rng.choice(CONDITIONS)
    words = "".join(w[0] for w in cond.replace("-", " ").split()).upper()
    abbr = words if 2 <= len(words) <= 5 else "TX"
    sentences, tokens = [], 0
    while tokens < target_tokens:
        if rng.random() < 0.4:
            s = rng.choice(TEMPLATES).format(drug=rng.choice(DRUGS), cond=cond, Cond=cond.capitalize(),
                                             cond2=cond2, abbr=abbr)
        else:
            n = rng.randint(12, 28)
            s = " ".join(rng.choice(FILLER) for _ in range(n)).capitalize() + "."
        sentences.append(s)
        tokens += len(s.split()) + 2
    title = f"{rng.choice(DRUGS).capitalize()} for {cond}: a randomised controlled trial"
    return title, " ".join(sentences), [cond, rng.choice(DRUGS)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=50_000)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--seed", type=int, default=20240601)
    args = parser.parse_args()

    rng = random.Random(args.seed)
    records = []
    for i in range(args.n):
        title, abstract, keywords = synthetic_abstract(rng)
        records.append({"pmid": i, "title": title, "abstract": abstract, "abstract_sections": [],
                        "keywords": keywords})
    tagger = Tagger()
    texts = [r["abstract"] for r in records]
    list(tagger.nlp.pipe(texts[:200]))  # warm up

    start = time.perf_counter()
    tokens = mentions = 0
    for doc in tagger.nlp.pipe(texts, batch_size=args.batch_size):
        tokens += len(doc)
        mentions += len(doc._.conditions)
    pipe_s = time.perf_counter() - start

    start = time.perf_counter()
    about_count = 0
    for _record, found in tagger.tag_articles(records, batch_size=args.batch_size):
        about_count += len(about("article", found))
    records_s = time.perf_counter() - start

    print(f"cpu: {os.cpu_count()} visible, single process")
    print(f"abstracts: {args.n}, tokens: {tokens} ({tokens / args.n:.0f}/abstract), "
          f"mentions: {mentions}")
    print(f"nlp.pipe, abstracts only: {args.n / pipe_s:,.0f} docs/s, {tokens / pipe_s:,.0f} tokens/s "
          f"({pipe_s:.1f} s)")
    print(f"tag_articles + about(), title+abstract+keywords: {args.n / records_s:,.0f} records/s "
          f"({records_s:.1f} s, {about_count} record conditions)")


if __name__ == "__main__":
    main()
