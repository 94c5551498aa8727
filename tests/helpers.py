"""Small helpers shared by tests: corpus loading and fast-retry clients."""
from __future__ import annotations

import gzip
import json
from pathlib import Path

from extract.standins import PubMedRecord, pubmed_records_from_xml


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


def gunzip(path: Path) -> bytes:
    return gzip.decompress(path.read_bytes())
