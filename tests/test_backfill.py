"""A complete backfill past PubMed's 9,999-record esearch cap, through the whole pipeline."""
from __future__ import annotations

from datetime import timedelta

from extract.catalogue import Catalogue
from extract.standins import CtGovStandIn, PubMedStandIn, pubmed_records_from_xml
from flows import pipeline
from flows.demo import generate_sample
from flows.settings import Settings
from pydantic import SecretStr
from warehouse.db import open_warehouse
from tests.helpers import TODAY


def test_backfill_of_more_than_9999_papers_stores_every_one(tmp_path):
    sample = generate_sample(today=TODAY - timedelta(days=1), n_articles=12_000, n_trials=20)
    records = pubmed_records_from_xml(sample.pubmed_xml)
    assert len(records) == 12_000
    settings = Settings(db_path=tmp_path / "w.duckdb", data_dir=tmp_path / "data", ncbi_api_key=SecretStr("test-key"))
    messages: list[str] = []
    with PubMedStandIn(records) as pubmed, CtGovStandIn(sample.studies):
        served = settings.with_overrides(pubmed_url=pubmed.url)
        with open_warehouse(served.db_path) as conn:
            summary = pipeline.ingest_source(conn, served, "pubmed", pipeline.Window("full"),
                                             catalogue=Catalogue.load(), progress=messages.append)
            stored = {row[0] for row in conn.execute("SELECT pmid FROM articles").fetchall()}
        beyond_cap = [r for r in pubmed.requests if int(r.params.get("retstart", 0)) > 9998]
        rate_limited = pubmed.rate_limited
    assert summary.status == "succeeded", summary.message
    assert stored == {r.pmid for r in records}
    assert summary.counts.new == 12_000
    assert "date slices" in messages[0] and not messages[0].startswith("pubmed: 12,000 records to fetch (1 ")
    assert not beyond_cap and rate_limited == 0
