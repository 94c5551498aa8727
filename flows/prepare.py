"""The CPU-bound half of storing a page: parse it, label its records with drugs, tag them.

`prepare_page` is a pure function of the page's bytes (no database, no network), so it can run
in worker processes or on a Dask cluster while the main process keeps DuckDB's single writer
busy loading what is already prepared (see `flows.workers`).
"""
from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from extract.catalogue import Catalogue
from extract.derive import derive_article
from extract.pages import RawPage
from extract.records import Reject
from extract.sources import BY_KIND, SOURCES
from warehouse.load import build_batch
from warehouse.tags import RecordTags, TagTables, tag_tables

if TYPE_CHECKING:  # spaCy is imported only where pages are tagged: the loading process never needs it
    from extract.tagger import Tagger


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
        return SOURCES[self.source].kind


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

    source = BY_KIND[kind]
    stream = tagger.tag_articles(records) if kind == "article" else tagger.tag_trials(records)
    # Indexed with no condition of interest still means the indexers looked: text-only conditions
    # then need a headline mention (merge_conditions).
    return [RecordTags(kind, str(record[source.key]), mentions,
                       merge_conditions(kind, about(kind, mentions, tagger.lexicon),
                                        indexed_conditions(kind, record, tagger.lexicon),
                                        record_indexed=bool(record.get(source.indexing_field))))
            for record, mentions in stream]


@contextmanager
def _cycle_collector_paused() -> Iterator[None]:
    """Preparing a 200-record page allocates enough containers to set off the cyclic garbage
    collector ~15 times, and each time it scans the ~5,000 the records hold so far (they live
    until the page is done) and finds nothing to free: records hold no reference cycles, and
    reference counting frees them as usual (anything cyclic a page leaves is collected after
    it). Pausing it saves ~5–8 % of a page's CPU (measured page by page). Whichever call paused
    the collector resumes it."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def prepare_page(page: RawPage, catalogue: Catalogue | None = None, tagger: Tagger | None = None,
                 tagged: frozenset[str] = frozenset()) -> PreparedPage:
    """Parse → drug labels → Arrow batch, and condition tags, for one raw page. Records whose
    content hash is in `tagged` are not tagged (a replay copies their tags from the published
    warehouse: warehouse/tag_reuse.py). A page with nothing to tag (a quiet night's answer)
    does not build the tagger."""
    with _cycle_collector_paused():
        return _prepare_page(page, catalogue, tagger, tagged)


def _prepare_page(page: RawPage, catalogue: Catalogue | None, tagger: Tagger | None,
                  tagged: frozenset[str]) -> PreparedPage:
    catalogue = catalogue or default_catalogue()
    source = SOURCES[page.source]
    payload = source.read(page.body)
    parsed = source.parse(payload)
    label = source.drug_labels(catalogue)
    kind = source.kind
    for record in parsed.records:
        record["drugs"] = label(record)
        if kind == "article":  # what is derived about a paper (design, drug roles)
            derive_article(record, catalogue)
    batch, unfit = build_batch(kind, parsed.records)
    prepared = PreparedPage(page.source, len(parsed.records), batch, parsed.deleted_ids, [*parsed.rejects, *unfit],
                            parsed.skipped)
    if batch is not None:
        prepared.children = source.children(payload, set(batch.column(source.key).to_pylist()))
    to_tag = _untagged(parsed.records, batch, source.key, tagged) if tagged else parsed.records
    if to_tag:
        tagger = tagger or default_tagger()
        prepared.tags = tag_tables(tag(kind, to_tag, tagger), tagger.version)
        prepared.tagger_version = tagger.version
    return prepared


def _untagged(records: list[dict[str, Any]], batch: pa.Table | None, key: str, tagged: frozenset[str]
              ) -> list[dict[str, Any]]:
    """The records whose stored version (the batch's, with its content hash) is not in `tagged`."""
    if batch is None:
        return records
    done = {record_id for record_id, digest in zip(batch.column(key).to_pylist(),
                                                   batch.column("content_hash").to_pylist()) if digest in tagged}
    return [record for record in records if record.get(key) not in done]


def prepare_pages(pages: list[RawPage], catalogue: Catalogue | None = None,
                  tagged: frozenset[str] = frozenset()) -> list[PreparedPage]:
    """`prepare_page` over several pages: the unit of work shipped to a worker."""
    return [prepare_page(page, catalogue, tagged=tagged) for page in pages]
