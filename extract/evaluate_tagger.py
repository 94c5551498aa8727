"""How well the condition tagger's `about()` agrees with MeSH indexing.

The yardstick is the indexing NLM (articles: ``mesh_headings``) or ClinicalTrials.gov
(trials: ``condition_mesh``) gave each record; the tagger never sees it. Two levels:

* **exact** — the same descriptor UI. Recall counts only indexed descriptors the lexicon has
  (a descriptor the lexicon lacks cannot be predicted; that gap is the lexicon's size, shown
  apart as ``gold outside lexicon``).
* **group** — condition groups defined by MeSH tree branches (GROUP_BRANCHES). A record's gold
  groups are the groups of its indexed descriptors, its predicted groups those of its `about()`
  concepts; precision / recall / F1 are micro-averaged over (record, group) pairs. Every missed
  pair is also sorted by cause (``Report.recall_loss``): named in the text but not kept by
  `about()`, or never named; ``Report.mention_ceiling`` is the recall a perfect decision rule
  would reach with the same lexicon.

Descriptor → group comes from the shipped ``extract/mesh_groups.tsv``, derived from NLM's 2017
MeSH tree listing by :func:`build_mesh_groups` (``python -m extract.evaluate_tagger
--write-mesh-groups TREE_FILE``); a test checks that the shipped file is what the function
derives.

Run on the corpus: ``python -m extract.evaluate_tagger --corpus ../shared/corpus``.
"""
from __future__ import annotations

import argparse
import gzip
import json
import sys
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from extract.indexed_conditions import indexed_conditions, merge_conditions
from extract.mesh import (
    GROUP_BRANCHES, build_mesh_groups, format_mesh_groups, is_major_topic, load_mesh_groups, normalize_ui,
)
from extract.tagger import Lexicon, Mention, RecordCondition, Tagger, about, field_text, load_lexicon

GROUPS = tuple(GROUP_BRANCHES)
SNIPPET = 70


# --------------------------------------------------------------------------- scoring


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def add(self, gold: set[str], predicted: set[str]) -> None:
        self.tp += len(gold & predicted)
        self.fp += len(predicted - gold)
        self.fn += len(gold - predicted)


@dataclass
class Error:
    record_id: str
    group: str
    strength: float
    detail: str
    snippet: str


# Why a gold (record, group) pair was missed: the text names the group but `about()` did not
# keep it, or the text never names it (split by whether the record has more than a title).
LOSS_CAUSES = ("named, not kept by about()", "not named, record has an abstract or trial text",
               "not named, title only")


@dataclass
class Report:
    population: str = ""
    records: int = 0
    skipped_unindexed: int = 0
    records_with_gold_group: int = 0
    group: Counts = field(default_factory=Counts)
    per_group: dict[str, Counts] = field(default_factory=lambda: {g: Counts() for g in GROUPS})
    exact: Counts = field(default_factory=Counts)
    major: Counts = field(default_factory=Counts)
    gold_outside_lexicon: int = 0
    recall_loss: Counter = field(default_factory=Counter)  # missed gold pairs by LOSS_CAUSES
    false_positives: list[Error] = field(default_factory=list)
    false_negatives: list[Error] = field(default_factory=list)
    combined: Report | None = None  # the same records, text merged with their indexing

    def summary(self) -> str:
        """One line: records, gold pairs, P / R / F1 of the text tagger and, if scored, combined."""
        c = self.group
        line = (f"{self.population:<58} n={self.records:>6} gold={c.tp + c.fn:>4}  text P {c.precision:.3f} "
                f"R {c.recall:.3f} F1 {c.f1:.3f} (ceiling R {self.mention_ceiling:.3f})")
        if self.combined is not None:
            k = self.combined.group
            line += f"  | combined P {k.precision:.3f} R {k.recall:.3f}"
        return line

    @property
    def mention_ceiling(self) -> float:
        """Group recall if `about()` kept every group the text names (not negated): the most a
        better decision rule could reach without a bigger lexicon."""
        gold = self.group.tp + self.group.fn
        return (self.group.tp + self.recall_loss[LOSS_CAUSES[0]]) / gold if gold else 0.0

    def format(self, examples: int = 10) -> str:
        lines = [
            f"population: {self.population}".rstrip(),
            f"records evaluated: {self.records} (skipped without MeSH indexing: "
            f"{self.skipped_unindexed}); with a gold group: {self.records_with_gold_group}",
            "",
            f"{'group':<20}{'gold':>6}{'pred':>6}{'tp':>6}{'fp':>6}{'fn':>6}"
            f"{'P':>8}{'R':>8}{'F1':>8}",
        ]

        def row(name: str, c: Counts) -> str:
            return (f"{name:<20}{c.tp + c.fn:>6}{c.tp + c.fp:>6}{c.tp:>6}{c.fp:>6}{c.fn:>6}"
                    f"{c.precision:>8.3f}{c.recall:>8.3f}{c.f1:>8.3f}")

        for g in GROUPS:
            c = self.per_group[g]
            if c.tp + c.fp + c.fn:
                lines.append(row(g, c))
        lines += ["-" * 74, row("ALL GROUPS (micro)", self.group),
                  row("  major-topic gold", self.major), row("exact descriptor", self.exact)]
        lines.append("(major-topic gold: recall of groups of the record's MeSH major topics; "
                     "precision as above, any indexed group)")
        lines.append(f"(exact recall counts gold descriptors in the lexicon; "
                     f"{self.gold_outside_lexicon} gold condition descriptors in a group are "
                     f"outside the lexicon)")
        lines.append("missed gold pairs: " + "; ".join(f"{self.recall_loss[c]} {c}" for c in LOSS_CAUSES)
                     + f" (mention-level ceiling R {self.mention_ceiling:.3f})")
        for title, errors in (("false positives", self.false_positives),
                              ("false negatives", self.false_negatives)):
            lines += ["", f"worst {title} ({len(errors)} in all):"]
            for e in sorted(errors, key=lambda e: -e.strength)[:examples]:
                lines.append(f"  {e.record_id} [{e.group}] {e.detail}")
                lines.append(f"      {e.snippet}")
        if self.combined is not None:
            lines += ["", "=" * 74, "COMBINED: record_conditions as stored (text merged with the record's "
                      "own indexing;", "the indexing is also the gold, so recall is 1 by construction)",
                      "", self.combined.format(examples)]
        return "\n".join(lines)


def _kind(record: dict) -> str:
    return "trial" if "nct_id" in record else "article"


def gold_descriptors(record: dict) -> list[tuple[str, bool]]:
    """(UI, major topic) of the record's MeSH indexing."""
    if _kind(record) == "trial":
        return [(normalize_ui(m["id"]), False) for m in record.get("condition_mesh") or [] if m.get("id")]
    return [(normalize_ui(h["ui"]), is_major_topic(h)) for h in record.get("mesh_headings") or [] if h.get("ui")]


def _record_id(record: dict) -> str:
    return record["nct_id"] if _kind(record) == "trial" else f"PMID {record.get('pmid')}"


def _snippet(kind: str, record: dict, mention: Mention) -> str:
    text = field_text(kind, record, mention.field)
    a, b = max(0, mention.start - SNIPPET), min(len(text), mention.end + SNIPPET)
    body = text[a:mention.start] + "[[" + text[mention.start:mention.end] + "]]" + text[mention.end:b]
    return f"{mention.field}: …{' '.join(body.split())}…"


def _score(report: Report, record: dict, kind: str, gold: list[tuple[str, bool]],
           conditions: list, mentions: list[Mention], groups_of: dict[str, frozenset[str]],
           lexicon_uis: set[str]) -> None:
    """Add one record's predicted conditions (anything with mesh_id / concept / evidence) to a
    report."""
    report.records += 1
    gold_uis = {ui for ui, _ in gold}
    major = {ui for ui, is_major in gold if is_major}
    pred_uis = {c.mesh_id for c in conditions}
    gold_groups = {g for ui in gold_uis for g in groups_of.get(ui, ())}
    pred_groups = {g for ui in pred_uis for g in groups_of.get(ui, ())}
    report.records_with_gold_group += bool(gold_groups)
    report.group.add(gold_groups, pred_groups)
    major_groups = {g for ui in major for g in groups_of.get(ui, ())}
    report.major.tp += len(major_groups & pred_groups)
    report.major.fn += len(major_groups - pred_groups)
    report.major.fp += len(pred_groups - gold_groups)
    for g in GROUPS:
        report.per_group[g].add({g} & gold_groups, {g} & pred_groups)
    report.exact.tp += len(gold_uis & pred_uis)
    report.exact.fp += len(pred_uis - gold_uis)
    report.exact.fn += len((gold_uis & lexicon_uis) - pred_uis)
    report.gold_outside_lexicon += sum(1 for ui in gold_uis - lexicon_uis if groups_of.get(ui))
    counted = [m for m in mentions if not m.negated]
    named = {g for m in counted for g in groups_of.get(m.mesh_id, ())}
    report.recall_loss.update(_loss_cause(kind, record, g in named) for g in gold_groups - pred_groups)
    for g in sorted(pred_groups - gold_groups):
        uis = {c.mesh_id for c in conditions if g in groups_of.get(c.mesh_id, ())}
        hits = [m for m in counted if m.mesh_id in uis]
        names = ", ".join(sorted({c.concept + f" ({c.evidence})" for c in conditions if c.mesh_id in uis}))
        report.false_positives.append(Error(
            _record_id(record), g, float(len(hits)), f"predicted {names}",
            _snippet(kind, record, hits[0]) if hits else "",
        ))
    for g in sorted(gold_groups - pred_groups):
        in_group = [ui for ui in gold_uis if g in groups_of.get(ui, ())]
        names = [h.get("name") or h.get("term") for h in
                 (record.get("mesh_headings") or record.get("condition_mesh") or [])
                 if normalize_ui(h.get("ui") or h.get("id") or "") in in_group]
        seen = sorted({m.text + (" (negated)" if m.negated else "") for m in mentions
                       if g in groups_of.get(m.mesh_id, ())})
        title = record.get("title") or record.get("brief_title") or ""
        report.false_negatives.append(Error(
            _record_id(record), g, 1.0 + any(ui in major for ui in in_group),
            f"indexed {', '.join(n for n in names if n)}; mentions seen: {seen or 'none'}",
            f"title: {title[:160]}",
        ))


def _loss_cause(kind: str, record: dict, named: bool) -> str:
    """Which LOSS_CAUSES a missed pair is: tells a lexicon gap from a decision-rule miss."""
    if named:
        return LOSS_CAUSES[0]
    return LOSS_CAUSES[1] if kind == "trial" or record.get("abstract") else LOSS_CAUSES[2]


def evaluate(pairs: Iterable[tuple[dict, list[Mention]]], mesh_groups: dict[str, frozenset[str]] | None = None,
             lexicon: Lexicon | None = None, population: str = "", combined: bool = False) -> Report:
    """Score `about()` of each (record, mentions) — e.g. what `Tagger.tag_articles` yields —
    against the record's own MeSH indexing (records without any are counted and skipped).

    With ``combined``, ``report.combined`` scores the same records' conditions as
    record_conditions stores them: `merge_conditions` of `about()` and the record's own
    indexing (`indexed_conditions`). There the indexing is input and gold at once, so recall is
    1 by construction; what it measures is the precision the text side costs.
    """

    groups_of = mesh_groups if mesh_groups is not None else load_mesh_groups()
    lexicon = lexicon or load_lexicon(None)
    lexicon_uis = set(lexicon.concepts)
    report = Report(population=population)
    if combined:
        report.combined = Report(population=f"{population} — combined with indexing (as stored)".strip(" —"))
    for record, mentions in pairs:
        gold = gold_descriptors(record)
        if not gold:
            report.skipped_unindexed += 1
            if report.combined is not None:
                report.combined.skipped_unindexed += 1
            continue
        kind = _kind(record)
        conditions: list[RecordCondition] = about(kind, mentions, lexicon)
        _score(report, record, kind, gold, conditions, mentions, groups_of, lexicon_uis)
        if report.combined is not None:
            merged = merge_conditions(kind, conditions, indexed_conditions(kind, record, lexicon))
            _score(report.combined, record, kind, gold, merged, mentions, groups_of, lexicon_uis)
    return report


def evaluate_records(tagger: Tagger, articles: Iterable[dict], trials: Iterable[dict],
                     population: str = "", combined: bool = True) -> Report:
    """Tag the records and score them (articles and trials together): the text tagger alone,
    and in ``report.combined`` the conditions as stored (merged with the records' indexing)."""
    def pairs():
        yield from tagger.tag_articles(articles)
        yield from tagger.tag_trials(trials)
    return evaluate(pairs(), lexicon=tagger.lexicon, population=population, combined=combined)


# --------------------------------------------------------------------------- corpus


def load_corpus(corpus_dir: Path, sources: dict | None = None) -> tuple[list[dict], list[dict]]:
    """Every parsed PubMed record (by PMID) and CT.gov study (by NCT id) in the corpus. If
    ``sources`` is a dict, it is filled with PMID / NCT id → the file (relative path) it came from."""
    from extract.ctgov_parser import parse_ctgov_page
    from extract.pubmed_parser import parse_pubmed

    sources = sources if sources is not None else {}
    articles: dict[int, dict] = {}
    for path in sorted((corpus_dir / "pubmed").rglob("*.xml*")):
        payload = path.read_bytes()
        if path.suffix == ".gz":
            payload = gzip.decompress(payload)
        for record in parse_pubmed(payload).records:
            if record["pmid"] not in articles:
                articles[record["pmid"]] = record
                sources[record["pmid"]] = str(path.relative_to(corpus_dir))
    trials: dict[str, dict] = {}
    for path in sorted((corpus_dir / "ctgov").rglob("*.json")):
        try:
            json.loads(path.read_bytes())
        except ValueError:
            continue
        for record in parse_ctgov_page(path.read_bytes()).records:
            if record["nct_id"] not in trials:
                trials[record["nct_id"]] = record
                sources[record["nct_id"]] = str(path.relative_to(corpus_dir))
    return list(articles.values()), list(trials.values())


def _has_gold_group(record: dict, groups_of: dict[str, frozenset[str]]) -> bool:
    return any(groups_of.get(ui) for ui, _ in gold_descriptors(record))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "corpus")
    parser.add_argument("--write-mesh-groups", type=Path, metavar="TREE_FILE",
                        help="derive extract/mesh_groups.tsv from an NLM tree listing and exit")
    parser.add_argument("--examples", type=int, default=10)
    args = parser.parse_args(argv)
    if args.write_mesh_groups:
        text = format_mesh_groups(build_mesh_groups(args.write_mesh_groups))
        out = Path(__file__).with_name("mesh_groups.tsv")
        out.write_text(text, encoding="utf-8")
        print(f"wrote {out} ({text.count(chr(10)) - 1} rows)")
        return 0
    sources: dict = {}
    articles, trials = load_corpus(args.corpus, sources)
    groups_of = load_mesh_groups()
    tagger = Tagger()

    def origin(record: dict) -> str:
        name = sources[record["pmid"]]
        return ("1970s" if "pubmed20n0014" in name else "2016" if "medline16n0902" in name else "modern")

    def odd(record: dict) -> bool:
        return (record["pmid"] if "pmid" in record else int(record["nct_id"][3:])) % 2 == 1

    with_abstract = [a for a in articles if a.get("abstract")]
    gold_abstract = [a for a in with_abstract if _has_gold_group(a, groups_of)]
    full = [
        ("articles with an abstract whose gold includes a group", gold_abstract, []),
        ("all MeSH-indexed articles and CT.gov studies", articles, trials),
    ]
    # (name, articles, trials): tuning split = odd PMIDs / NCT numbers, held out = even
    lines = [
        ("brief population (abstract, gold group), odd = tuning", [a for a in gold_abstract if odd(a)], []),
        ("brief population (abstract, gold group), even = held out", [a for a in gold_abstract if not odd(a)], []),
    ]
    for name, label in (("1970s", "pubmed20n0014_even (1970s)"), ("2016", "medline16n0902 (2016 update)"),
                        ("modern", "modern efetch files + test_current_medline")):
        for is_odd, split in ((True, "odd = tuning"), (False, "even = held out")):
            lines.append((f"{label}, {split}", [a for a in articles if origin(a) == name and odd(a) == is_odd], []))
    for is_odd, split in ((True, "odd = tuning"), (False, "even = held out")):
        lines.append((f"CT.gov studies, {split}", [], [t for t in trials if odd(t) == is_odd]))
    lines.append(("articles without an abstract, gold includes a group",
                  [a for a in articles if not a.get("abstract") and _has_gold_group(a, groups_of)], []))
    counts = Counter("abstract" if a.get("abstract") else "no abstract" for a in articles)
    print(f"corpus: {len(articles)} articles ({dict(counts)}), {len(trials)} studies\n")
    for name, arts, studies in full:
        report = evaluate_records(tagger, arts, studies, population=name)
        print(report.format(examples=args.examples))
        print("\n" + "=" * 74 + "\n")
    print("group-level micro P / R by corpus file and split (records with MeSH / condition MeSH):")
    for name, arts, studies in lines:
        print(evaluate_records(tagger, arts, studies, population=name).summary())
    splits = [evaluate_records(tagger, [a for a in articles if odd(a) == is_odd],
                               [t for t in trials if odd(t) == is_odd], combined=False)
              for is_odd in (True, False)]
    print("\n" + per_group_table(splits, ("odd = tuning", "even = held out")))
    return 0


def per_group_table(reports: list[Report], names: tuple[str, ...]) -> str:
    """Gold pairs and text P / R of each group, one column block per report (e.g. per split)."""
    head = f"{'group':<20}" + "".join(f"{name:>26}" for name in names)
    sub = f"{'':<20}" + "".join(f"{'gold':>10}{'P':>8}{'R':>8}" for _ in names)
    rows = [head, sub]
    for g in (*GROUPS, "ALL GROUPS"):
        cells = [r.group if g == "ALL GROUPS" else r.per_group[g] for r in reports]
        rows.append(f"{g:<20}" + "".join(f"{c.tp + c.fn:>10}{c.precision:>8.3f}{c.recall:>8.3f}" for c in cells))
    return "\n".join(rows)


if __name__ == "__main__":
    sys.exit(main())
