"""The CPU-bound half of storing a page: parse it, label its records with drugs, tag them.

`prepare_page` is a pure function of the page's bytes (no database, no network), so it can run
in worker processes or on a Dask cluster while the main process keeps DuckDB's single writer
busy loading what is already prepared (see `flows.workers`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from extract.catalogue import Catalogue
from extract.ctgov_parser import parse_ctgov_page
from extract.pages import RawPage
from extract.pubmed_parser import parse_pubmed
from extract.records import Reject
from extract.tagger import Tagger, about
from warehouse.tags import RecordTags

RECORD_KIND = {"pubmed": "article", "ctgov": "trial"}
RECORD_KEY = {"article": "pmid", "trial": "nct_id"}


@dataclass
class PreparedPage:
    """A parsed page whose records carry their drug labels, with every record's condition tags
    (only the records the load actually writes get their tags stored)."""

    source: str
    records: list[dict[str, Any]] = field(default_factory=list)
    deleted_ids: list[str] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)
    tags: list[RecordTags] = field(default_factory=list)
    tagger_version: str = ""

    @property
    def kind(self) -> str:
        return RECORD_KIND[self.source]


@lru_cache(maxsize=1)
def default_tagger() -> Tagger:
    """Built once per process: the spaCy pipeline and its phrase patterns take a moment."""
    return Tagger()


@lru_cache(maxsize=1)
def default_catalogue() -> Catalogue:
    return Catalogue.load()


def tag(kind: str, records: list[dict[str, Any]], tagger: Tagger) -> list[RecordTags]:
    """Condition mentions in each record's text, and what each record is about."""
    key = RECORD_KEY[kind]
    stream = tagger.tag_articles(records) if kind == "article" else tagger.tag_trials(records)
    return [RecordTags(kind, str(record[key]), mentions, about(kind, mentions, tagger.lexicon))
            for record, mentions in stream]


def prepare_page(page: RawPage, catalogue: Catalogue | None = None, tagger: Tagger | None = None) -> PreparedPage:
    """Parse → drug labels → condition tags, for one raw page."""
    catalogue = catalogue or default_catalogue()
    tagger = tagger or default_tagger()
    if page.source == "pubmed":
        parsed = parse_pubmed(page.body)
        label = catalogue.drugs_for_article
    else:
        parsed = parse_ctgov_page(page.body)
        label = catalogue.drugs_for_trial
    for record in parsed.records:
        record["drugs"] = label(record)
    prepared = PreparedPage(page.source, parsed.records, parsed.deleted_ids, parsed.rejects, parsed.skipped,
                            tagger_version=tagger.version)
    prepared.tags = tag(prepared.kind, prepared.records, tagger)
    return prepared


def prepare_pages(pages: list[RawPage], catalogue: Catalogue | None = None) -> list[PreparedPage]:
    """`prepare_page` over several pages: the unit of work shipped to a worker."""
    return [prepare_page(page, catalogue) for page in pages]
