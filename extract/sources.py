"""The sources trialwatch ingests, one declaration each: the one place that knows a source's
client, parser, tables, key and record kind. Loading, preparing, replay, reconciliation and the
digest read these entries instead of branching on the source's name; a third source (Europe PMC
preprints, the EU CTIS registry) is a new module for its client and parser plus one entry here.

Settings are duck-typed (`pubmed_url`, `ctgov_url`, `ncbi_key`, `ncbi_email`, `http_timeout`,
`http_retries`), so this module does not depend on the flows.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Callable, Iterator

import pyarrow as pa

from extract.aact import AACT_TABLES, study_tables
from extract.catalogue import Catalogue
from extract.ctgov import CtGovClient, ctgov_http
from extract.ctgov_parser import parse_ctgov_page, study_objects
from extract.http import HttpClient
from extract.pages import RawPage
from extract.pubmed import PubMedClient, ncbi_http
from extract.pubmed_parser import parse_pubmed
from extract.records import ParsedPage

_NCT = re.compile(r"^NCT\d{8}$")
Progress = Callable[[str], None]


@dataclass(frozen=True)
class Source:
    """One source: how it is fetched and parsed, and where its records live."""

    name: str                 # ingest_runs.source, the archive folder, deleted_records.source
    kind: str                 # record_kind in record_drugs / record_conditions / condition_tags
    table: str                # the parent table, one row per record
    key: str                  # its key column
    indexing_field: str       # the record field holding the record's own condition indexing
    child_tables: tuple[str, ...]  # rows replaced together with their record
    record_url: str           # the record on the service, `{id}` replaced
    dashboard_path: str       # the record's dashboard page, `{id}` replaced
    backfill_in_slices: bool  # a full pull commits date slice by date slice (PubMed's cap)
    http: Callable[[Any], HttpClient]        # settings → a client within the service's limits
    pages: Callable[..., Iterator[RawPage]]  # (http, catalogue, since, progress, keep_query)
    remote_ids: Callable[[HttpClient, Catalogue], list[str]]  # every id for the catalogue query
    read: Callable[[bytes], Any]             # a raw page as the parser and child tables read it
    parse: Callable[[Any], ParsedPage]
    drug_labels: Callable[[Catalogue], Callable[[dict], list[str]]]
    children: Callable[[Any, set[str]], dict[str, pa.Table] | None]  # child tables built from the page
    problem: Callable[[dict], str | None]    # why a parsed record cannot be stored (None: it can)
    # Batch columns that are not table columns: they feed record_drugs, article_trials and the
    # child tables loaded from the batch; those listed in `defaulted` are [] when a record lacks them.
    batch_extras: tuple[tuple[str, pa.DataType], ...] = ()
    defaulted: tuple[str, ...] = ()

    def url(self, record_id: object) -> str:
        return self.record_url.format(id=record_id)


# --- PubMed ---------------------------------------------------------------------------------

def _pubmed_http(settings: Any) -> HttpClient:
    return ncbi_http(settings.pubmed_url, api_key=settings.ncbi_key, email=settings.ncbi_email,
                     timeout=settings.http_timeout, max_retries=settings.http_retries)


def _pubmed_pages(http: HttpClient, catalogue: Catalogue, since, progress: Progress,
                  keep_query: Callable[[PubMedClient], None]) -> Iterator[RawPage]:
    client = PubMedClient(http, catalogue.pubmed_term())
    ids, plans = client.window_ids(since)
    keep_query(client)  # what esearch made of the term, for the run ledger
    slices = sum(len(plan.slices) for plan in plans)
    progress(f"pubmed: {len(ids):,} records to fetch ({slices:,} date slice{'s' * (slices != 1)})")
    yield from client.fetch(ids)


def _pubmed_problem(record: dict[str, Any]) -> str | None:
    if not isinstance(record.get("pmid"), int) or record["pmid"] <= 0:
        return f"invalid pmid {record.get('pmid')!r}"
    for link in record.get("nct_links") or []:
        if not _NCT.match(link["nct_id"] or ""):
            return f"malformed NCT id {link['nct_id']!r} in DataBankList"
    return None


PUBMED = Source(
    name="pubmed", kind="article", table="articles", key="pmid", indexing_field="mesh_headings",
    child_tables=("comments_corrections", "grants"),  # these travel in the batch (extra columns)
    record_url="https://pubmed.ncbi.nlm.nih.gov/{id}/", dashboard_path="literature?pmid={id}",
    backfill_in_slices=True,
    http=_pubmed_http,
    pages=_pubmed_pages,
    remote_ids=lambda http, catalogue: PubMedClient(http, catalogue.pubmed_term(), warn=False).catalogue_ids(),
    read=lambda body: body,
    parse=parse_pubmed,
    drug_labels=lambda catalogue: catalogue.drugs_for_article,
    children=lambda payload, stored_ids: None,
    problem=_pubmed_problem,
    batch_extras=(
        ("drugs", pa.list_(pa.string())),
        ("mentioned_drugs", pa.list_(pa.string())),  # of `drugs`, those only mentioned (record_drugs.role)
        ("nct_links", pa.list_(pa.struct([("nct_id", pa.string()), ("evidence", pa.string())]))),
        ("comments_corrections", pa.list_(pa.struct(
            [("ref_type", pa.string()), ("ref_pmid", pa.int64()), ("ref_source", pa.string())]))),
        ("grants", pa.list_(pa.struct(
            [("grant_id", pa.string()), ("acronym", pa.string()), ("agency", pa.string()), ("country", pa.string())]))),
    ),
    defaulted=("drugs", "mentioned_drugs"),
)


# --- ClinicalTrials.gov -----------------------------------------------------------------------

def _ctgov_read(body: bytes) -> Any:
    try:  # JSON once: for the trial records and their AACT tables
        return json.loads(body.decode("utf-8", errors="surrogateescape"))
    except ValueError:
        return body  # the parser quarantines what is not JSON


def _ctgov_children(payload: Any, stored_ids: set[str]) -> dict[str, pa.Table]:
    """The AACT tables of the page's studies that made it into the batch (a rejected one has none)."""
    return study_tables([study for study in study_objects(payload) if isinstance(study, dict)
                         and study.get("protocolSection", {}).get("identificationModule", {}).get("nctId")
                         in stored_ids])


def _ctgov_problem(record: dict[str, Any]) -> str | None:
    if not isinstance(record.get("nct_id"), str) or not _NCT.match(record["nct_id"]):
        return f"malformed nct_id {record.get('nct_id')!r}"
    return None


CTGOV = Source(
    name="ctgov", kind="trial", table="trials", key="nct_id", indexing_field="condition_mesh",
    child_tables=tuple(AACT_TABLES),
    record_url="https://clinicaltrials.gov/study/{id}", dashboard_path="trials?nct={id}",
    backfill_in_slices=False,
    http=lambda settings: ctgov_http(settings.ctgov_url, timeout=settings.http_timeout,
                                     max_retries=settings.http_retries),
    pages=lambda http, catalogue, since, progress, keep_query: CtGovClient(
        http, catalogue.ctgov_intervention_query()).pages(since),
    remote_ids=lambda http, catalogue: CtGovClient(http, catalogue.ctgov_intervention_query()).all_ids(),
    read=_ctgov_read,
    parse=parse_ctgov_page,
    drug_labels=lambda catalogue: catalogue.drugs_for_trial,
    children=_ctgov_children,
    problem=_ctgov_problem,
    batch_extras=(("drugs", pa.list_(pa.string())),),
    defaulted=("drugs",),
)

SOURCES: dict[str, Source] = {source.name: source for source in (PUBMED, CTGOV)}
BY_KIND: dict[str, Source] = {source.kind: source for source in SOURCES.values()}
NAMES: tuple[str, ...] = tuple(SOURCES)
