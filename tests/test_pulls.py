"""Both sources download from the start of a night; storing stays one source at a time."""
from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import timedelta

from extract.catalogue import Catalogue
from extract.standins import CtGovStandIn, PubMedStandIn, pubmed_records_from_xml
from flows import pipeline
from flows.demo import generate_sample
from flows.settings import Settings
from flows.workers import InlineWorkers
from tests.helpers import TODAY, ingest_in_process, warehouse_content
from warehouse.db import open_warehouse

FULL = pipeline.Window("full")


def wait_until(condition, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


class CountingWorkers(InlineWorkers):
    """Pages prepared in the calling thread, counted by kind as they are prepared."""

    def __init__(self):
        super().__init__(Catalogue.load())
        self.prepared: Counter[str] = Counter()

    def map(self, pages):
        for page in super().map(pages):
            if page is not None:
                self.prepared[page.kind] += 1
            yield page


def test_a_later_source_downloads_and_is_prepared_while_an_earlier_one_is_stored_and_the_result_is_unchanged(
        tmp_path):
    sample = generate_sample(today=TODAY - timedelta(days=1), n_articles=400, n_trials=40)
    records = pubmed_records_from_xml(sample.pubmed_xml)
    settings = Settings(db_path=tmp_path / "w.duckdb", data_dir=tmp_path / "data")
    with PubMedStandIn(records) as pubmed, CtGovStandIn(sample.studies) as ctgov:
        served = settings.with_overrides(pubmed_url=pubmed.url, ctgov_url=ctgov.url)
        catalogue = Catalogue.load()
        with open_warehouse(served.db_path) as conn:
            windows = {"pubmed": FULL, "ctgov": FULL}
            workers = CountingWorkers()
            with pipeline.started_pulls(conn, served, windows, catalogue=catalogue, progress=lambda _: None,
                                        workers=workers) as pulls:
                # nothing has been stored yet, and CT.gov has already been answered and prepared:
                assert wait_until(lambda: any(r.status == 200 for r in ctgov.requests))
                assert wait_until(lambda: workers.prepared["trial"] >= 1)
                assert conn.execute("SELECT count(*) FROM trials").fetchall() == [(0,)]
                summaries = [pipeline.store_pull(conn, pulls[source], catalogue=catalogue, progress=lambda _: None,
                                                 workers=workers) for source in ("pubmed", "ctgov")]
            concurrent = warehouse_content(conn)
    assert [s.status for s in summaries] == ["succeeded", "succeeded"], [s.message for s in summaries]
    assert summaries[1].counts.new == len(sample.studies)
    sequential = ingest_in_process(Settings(db_path=tmp_path / "seq.duckdb", data_dir=tmp_path / "seq"),
                                   records, sample.studies)
    assert concurrent == sequential


def test_pulls_left_unstored_stop_downloading_when_the_block_ends(tmp_path):
    sample = generate_sample(today=TODAY - timedelta(days=1), n_articles=50, n_trials=20)
    settings = Settings(db_path=tmp_path / "w.duckdb", data_dir=tmp_path / "data")
    with PubMedStandIn(pubmed_records_from_xml(sample.pubmed_xml)) as pubmed, CtGovStandIn(sample.studies) as ctgov:
        served = settings.with_overrides(pubmed_url=pubmed.url, ctgov_url=ctgov.url)
        with open_warehouse(served.db_path) as conn:
            windows = {"pubmed": FULL, "ctgov": FULL}
            workers = CountingWorkers()
            with pipeline.started_pulls(conn, served, windows, catalogue=Catalogue.load(), progress=lambda _: None,
                                        workers=workers):
                assert wait_until(lambda: workers.prepared["trial"] >= 1)  # downloading and preparing have begun
            running = conn.execute("SELECT count(*) FROM ingest_runs WHERE status = 'running'").fetchall()
    assert not any(t.name == "trialwatch-prefetch" and t.is_alive() for t in threading.enumerate())
    assert running == [(2,)]  # started runs stay 'running' until finished or marked interrupted
