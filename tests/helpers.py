"""Small helpers shared by tests: corpus loading and fast-retry clients."""
from __future__ import annotations

import gzip
import json
from datetime import date, datetime, timezone
from pathlib import Path

from extract.standins import PubMedRecord, pubmed_records_from_xml


def utc_today() -> date:
    """Today as the pipeline sees it (UTC). Tests derive their dates from this clock: a fixed
    "today" goes stale as soon as the real one moves past the incremental window."""
    return datetime.now(timezone.utc).date()


# The test run's "today", read once so every test in a run agrees on it.
TODAY = utc_today()


def corpus_pubmed_records(corpus: Path) -> list[PubMedRecord]:
    """Every real PubmedArticle in the corpus's efetch files (bulk files excluded), one per PMID."""
    by_pmid: dict[int, PubMedRecord] = {}
    for path in sorted((corpus / "pubmed").rglob("*.xml")):
        for record in pubmed_records_from_xml(path.read_bytes()):
            by_pmid.setdefault(record.pmid, record)
    return list(by_pmid.values())


def corpus_studies(corpus: Path) -> list[dict]:
    """Every real, whole study in the corpus (fields-filtered search pages excluded), one per NCT id."""
    studies: dict[str, dict] = {}
    for path in sorted((corpus / "ctgov").rglob("*.json")):
        if "search_" in path.name:
            continue
        payload = json.loads(path.read_bytes())
        for study in payload.get("studies", [payload]) if isinstance(payload, dict) else []:
            nct = study.get("protocolSection", {}).get("identificationModule", {}).get("nctId")
            if nct:
                studies.setdefault(nct, study)
    return list(studies.values())


def corpus_parsed_records(corpus: Path) -> dict[str, list[dict]]:
    """Every record of the corpus as the parsers give it: all PubMed files (bulk ones too) and
    every CT.gov page that parses, by record kind ('article', 'trial')."""
    from extract.ctgov_parser import parse_ctgov_page
    from extract.pubmed_parser import parse_pubmed

    articles: list[dict] = []
    for path in sorted((corpus / "pubmed").rglob("*.xml*")):
        payload = path.read_bytes()
        if path.suffix == ".gz":
            payload = gzip.decompress(payload)
        articles += parse_pubmed(payload).records
    trials: list[dict] = []
    for path in sorted((corpus / "ctgov").rglob("*.json")):
        try:
            page = json.loads(path.read_bytes())
        except ValueError:
            continue
        trials += parse_ctgov_page(page).records
    return {"article": articles, "trial": trials}


def gunzip(path: Path) -> bytes:
    return gzip.decompress(path.read_bytes())


# What a warehouse holds, minus load timestamps and run ids: equal content ⇔ equal warehouses.
WAREHOUSE_CONTENT = {
    "articles": "SELECT * EXCLUDE (first_seen_at, updated_at, first_run_id, last_run_id) FROM articles ORDER BY pmid",
    "trials": "SELECT * EXCLUDE (first_seen_at, updated_at, first_run_id, last_run_id) FROM trials ORDER BY nct_id",
    "article_trials": "SELECT pmid, nct_id, evidence FROM article_trials ORDER BY ALL",
    "record_drugs": "SELECT * FROM record_drugs ORDER BY ALL",
    "condition_tags": "SELECT * FROM condition_tags ORDER BY ALL",
    "record_conditions": "SELECT * FROM record_conditions ORDER BY ALL",
    "rejects": "SELECT source, record_id, reason FROM rejects ORDER BY ALL",
}


def warehouse_content(conn) -> dict[str, list]:
    return {name: conn.execute(sql).fetchall() for name, sql in WAREHOUSE_CONTENT.items()}


def ingest_in_process(settings, pubmed_records: list[PubMedRecord], studies: list[dict]) -> dict[str, list]:
    """A full pull of both sources from local stand-ins serving these records into
    `settings.db_path`, in this process (pages prepared inline); returns the warehouse content."""
    from extract.catalogue import Catalogue
    from extract.standins import CtGovStandIn, PubMedStandIn
    from flows import pipeline
    from warehouse.db import open_warehouse

    with PubMedStandIn(pubmed_records) as pubmed, CtGovStandIn(studies) as ctgov:
        served = settings.with_overrides(pubmed_url=pubmed.url, ctgov_url=ctgov.url)
        with open_warehouse(served.db_path) as conn:
            for source in ("pubmed", "ctgov"):
                summary = pipeline.ingest_source(conn, served, source, pipeline.Window("full"),
                                                 catalogue=Catalogue.load(), progress=lambda _: None)
                assert summary.status == "succeeded", summary.message
            return warehouse_content(conn)
