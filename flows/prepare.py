"""The CPU-bound half of storing a page: parse it, label its records with drugs, tag them.

`prepare_page` is a pure function of the page's bytes (no database, no network), so it can run
in worker processes or on a Dask cluster while the main process keeps DuckDB's single writer
busy loading what is already prepared (see `flows.workers`).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from extract.catalogue import Catalogue
from extract.ctgov_parser import parse_ctgov_page, study_objects
from extract.aact import study_tables
from extract.derive import derive_article
from extract.pages import RawPage
from extract.pubmed_parser import parse_pubmed
from extract.records import Reject
from warehouse.load import build_batch
from warehouse.tags import RecordTags, TagTables, tag_tables

if TYPE_CHECKING:  # spaCy is imported only where pages are tagged: the loading process never needs it
    from extract.tagger import Tagger

RECORD_KIND = {"pubmed": "article", "ctgov": "trial"}
RECORD_KEY = {"article": "pmid", "trial": "nct_id"}
# Where a record's own indexing is: indexed with no condition of interest still means the
# indexers looked (text-only conditions then need a headline mention, see merge_conditions).
INDEXING_FIELD = {"article": "mesh_headings", "trial": "condition_mesh"}


@dataclass
class PreparedPage:
    """A page ready to load: its records (with drug labels and content hashes) as an Arrow batch
    typed like the warehouse table — cheap to ship between processes — plus rejects, deletions,
    and every record's condition tags (only the records the load writes get them stored)."""

    source: str
    record_count: int = 0  # records parsed, before validation and de-duplication
    batch: pa.Table | None = None
    deleted_ids: list[str] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)
    tags: TagTables | None = None
    tagger_version: str = ""
    children: dict[str, pa.Table] | None = None  # trials: their AACT-named tables (extract/aact.py)

    @property
    def kind(self) -> str:
        return RECORD_KIND[self.source]


@lru_cache(maxsize=1)
def default_tagger() -> Tagger:
    """Built once per process: the spaCy pipeline and its phrase patterns take a moment."""
    from extract.tagger import Tagger

    return Tagger()


@lru_cache(maxsize=1)
def default_catalogue() -> Catalogue:
    return Catalogue.load()


def tag(kind: str, records: list[dict[str, Any]], tagger: Tagger) -> list[RecordTags]:
    """Condition mentions in each record's text, and what each record is about: the text
    tagger's conditions merged with the record's own indexing (MeSH, conditionBrowse)."""
    from extract.indexed_conditions import indexed_conditions, merge_conditions
    from extract.tagger import about

    key = RECORD_KEY[kind]
    stream = tagger.tag_articles(records) if kind == "article" else tagger.tag_trials(records)
    return [RecordTags(kind, str(record[key]), mentions,
                       merge_conditions(kind, about(kind, mentions, tagger.lexicon),
                                        indexed_conditions(kind, record, tagger.lexicon),
                                        record_indexed=bool(record.get(INDEXING_FIELD[kind]))))
            for record, mentions in stream]


def prepare_page(page: RawPage, catalogue: Catalogue | None = None, tagger: Tagger | None = None) -> PreparedPage:
    """Parse → drug labels → Arrow batch, and condition tags, for one raw page. A page without
    records (a quiet night's answer) is never tagged, so it does not build the tagger."""
    catalogue = catalogue or default_catalogue()
    if page.source == "pubmed":
        parsed = parse_pubmed(page.body)
        label = catalogue.drugs_for_article
    else:
        studies = _json_or_bytes(page.body)  # read once: for the trial records and their AACT tables
        parsed = parse_ctgov_page(studies)
        label = catalogue.drugs_for_trial
    kind = RECORD_KIND[page.source]
    for record in parsed.records:
        record["drugs"] = label(record)
        if kind == "article":
            derive_article(record, catalogue)
    batch, unfit = build_batch(kind, parsed.records)
    prepared = PreparedPage(page.source, len(parsed.records), batch, parsed.deleted_ids, [*parsed.rejects, *unfit],
                            parsed.skipped)
    if kind == "trial" and batch is not None:
        prepared.children = aact_tables(studies, set(batch.column("nct_id").to_pylist()))
    if parsed.records:
        tagger = tagger or default_tagger()
        prepared.tags = tag_tables(tag(kind, parsed.records, tagger), tagger.version)
        prepared.tagger_version = tagger.version
    return prepared


def _json_or_bytes(body: bytes) -> dict | bytes:
    """A studies page as JSON; its bytes when they are not JSON (the parser quarantines them)."""
    try:
        return json.loads(body.decode("utf-8", errors="surrogateescape"))
    except ValueError:
        return body


def aact_tables(page: dict | bytes, nct_ids: set[str]) -> dict[str, pa.Table]:
    """The AACT-named tables of the page's studies that made it into the batch (a rejected study
    has none)."""
    return study_tables([study for study in study_objects(page) if isinstance(study, dict)
                         and study.get("protocolSection", {}).get("identificationModule", {}).get("nctId") in nct_ids])


def prepare_pages(pages: list[RawPage], catalogue: Catalogue | None = None) -> list[PreparedPage]:
    """`prepare_page` over several pages: the unit of work shipped to a worker."""
    return [prepare_page(page, catalogue) for page in pages]
