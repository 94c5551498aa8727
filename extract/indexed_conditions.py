"""Conditions a record's indexers gave it, merged with the text tagger's.

NLM indexes a paper with MeSH headings weeks or months after it appears; ClinicalTrials.gov maps
a study's registered conditions to MeSH (``conditionBrowseModule``) when it is posted. Where that
indexing exists it is the better evidence of what a record is about, so `record_conditions` holds
it beside what the text tagger found, each row saying where it came from (``source``):

* ``mesh`` — an article's MeSH heading; ``registry`` — a trial's conditionBrowse mesh;
* ``text`` — the text tagger's `about()` (its own rows stay identifiable: the tagger's evaluation
  measures text alone).

Only headings that are conditions of interest are copied: a concept of the lexicon
(``extract/conditions.toml``) or a descriptor with a condition group in ``extract/mesh_groups.tsv``
(derived from NLM's MeSH tree). "Rats", "Ketamine" or "Anesthesia" are not conditions.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from extract.condition_groups import GROUP_CATEGORY
from extract.mesh import is_major_topic, load_mesh_groups, normalize_ui
from extract.tagger import Lexicon, RecordCondition

SOURCE_OF_KIND = {"article": "mesh", "trial": "registry"}


@dataclass(frozen=True)
class SourcedCondition:
    """A record condition with the sources that gave it (sorted: 'mesh', 'registry', 'text')."""

    mesh_id: str
    concept: str
    category: str
    evidence: str
    source: tuple[str, ...]


@lru_cache(maxsize=1)
def _mesh_groups() -> dict[str, frozenset[str]]:
    return load_mesh_groups()


def indexed_conditions(kind: str, record: dict, lexicon: Lexicon) -> list[RecordCondition]:
    """The record's indexing (article MeSH headings, trial conditionBrowse meshes) that names a
    condition of interest, as record conditions; evidence 'MeSH' / 'MeSH (major)' / 'registry'."""
    groups = _mesh_groups()
    if kind == "article":
        indexed = [(h.get("ui"), h.get("name"), is_major_topic(h)) for h in record.get("mesh_headings") or []]
    else:
        indexed = [(m.get("id"), m.get("term"), False) for m in record.get("condition_mesh") or []]
    found: dict[str, RecordCondition] = {}
    for raw_ui, name, major in indexed:
        if not raw_ui:
            continue
        ui = normalize_ui(raw_ui)
        concept = lexicon.concepts.get(ui)
        if concept is not None:
            concept_name, category = concept.name, concept.category
        elif ui in groups:
            concept_name, category = name or ui, GROUP_CATEGORY.get(min(groups[ui]), "other")
        else:
            continue
        evidence = "registry" if kind == "trial" else "MeSH (major)" if major else "MeSH"
        if ui not in found or evidence == "MeSH (major)":
            found[ui] = RecordCondition(ui, concept_name, category, evidence)
    return list(found.values())


# Where a text-only condition must be named for an indexed record to keep it (the headline
# fields of extract/tagger.py: article title and keywords; trial registered conditions, titles).
STRONG_TEXT_FIELDS = frozenset({"title", "keywords", "conditions", "brief_title", "official_title"})


def strongly_supported(condition: RecordCondition) -> bool:
    """Whether the text tagger's evidence ("title; abstract x3") names a headline field."""
    fields = {part.split(" x", 1)[0].split(":", 1)[0] for part in condition.evidence.split("; ")}
    return bool(fields & STRONG_TEXT_FIELDS)


def merge_conditions(kind: str, text: list[RecordCondition], indexed: list[RecordCondition],
                     record_indexed: bool | None = None) -> list[SourcedCondition]:
    """One row per concept: the indexing's and the text tagger's, sources and evidence joined.

    For an indexed record (``record_indexed``; by default: `indexed` is not empty) the indexers
    have said what it is about, so a condition only the text found is kept only when it is
    named in the title, keywords or a registered condition (`strongly_supported`): a concept the
    abstract names that the indexers left out is mostly mentioned in passing. Text rows that
    agree with the indexing are always kept (source 'mesh'/'registry' and 'text'). A record
    without indexing keeps every text condition.
    """
    if record_indexed is None:
        record_indexed = bool(indexed)
    merged: dict[str, SourcedCondition] = {}
    for condition in indexed:
        merged[condition.mesh_id] = SourcedCondition(condition.mesh_id, condition.concept, condition.category,
                                                     condition.evidence, (SOURCE_OF_KIND[kind],))
    for condition in text:
        earlier = merged.get(condition.mesh_id)
        if earlier is None:
            if record_indexed and not strongly_supported(condition):
                continue
            merged[condition.mesh_id] = SourcedCondition(condition.mesh_id, condition.concept, condition.category,
                                                         condition.evidence, ("text",))
        else:
            merged[condition.mesh_id] = SourcedCondition(
                earlier.mesh_id, condition.concept, condition.category, f"{earlier.evidence}; {condition.evidence}",
                tuple(sorted({*earlier.source, "text"})))
    return list(merged.values())

