"""Where pages are prepared: in order, bounded, failures surfaced — in the main process, in a
local process pool, or on a Dask cluster through Prefect's DaskTaskRunner — with the same
warehouse at the end."""
from __future__ import annotations

import dataclasses
import gc
import multiprocessing
import os
import signal
import sys
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import duckdb
import psutil
import pyarrow as pa
import pytest

from extract.archive import RawArchive
from extract.catalogue import Catalogue
from extract.pages import RawPage
from extract.standins import CtGovStandIn, PubMedStandIn
from flows import pipeline, prepare
from flows.prepare import PreparedPage, prepare_page
from flows.settings import ConfigError, Settings, load_settings
from flows.workers import InlineWorkers, ProcessWorkers, WorkerDied, ordered_map
from flows.workers.dask import DaskMissing, dask_task_runner
from tests.helpers import corpus_pubmed_records, corpus_studies, gunzip, ingest_in_process, warehouse_content
from warehouse.db import open_warehouse
from warehouse.load import build_batch, concat_batches

# ------------------------------------------------------------------------------ ordered_map

def page(n: int) -> RawPage:
    return RawPage("pubmed", str(n).encode(), "xml")


def test_ordered_map_keeps_input_order_when_later_chunks_finish_first():
    def slow_first(chunk):
        time.sleep(0.2 if chunk[0].body == b"0" else 0.0)
        return [int(p.body) for p in chunk]

    with ThreadPoolExecutor(4) as pool:
        out = list(ordered_map(lambda chunk: pool.submit(slow_first, chunk), map(page, range(7)), chunk=2, ahead=3))
    assert out == list(range(7))


def test_ordered_map_keeps_at_most_ahead_chunks_in_flight_and_passes_markers_through():
    in_flight, peak, lock = [0], [0], threading.Lock()

    def submit(chunk):
        with lock:
            in_flight[0] += 1
            peak[0] = max(peak[0], in_flight[0])
        future: Future = Future()
        future.set_result([int(p.body) for p in chunk])
        return future

    def consumed(items):
        for item in items:
            if item is not None:
                with lock:
                    in_flight[0] -= 1
            yield item

    stream = [page(0), page(1), None, page(2), None, page(3), page(4), page(5)]
    assert list(consumed(ordered_map(submit, stream, chunk=1, ahead=2))) == [0, 1, None, 2, None, 3, 4, 5]
    assert peak[0] <= 3  # `ahead` waiting plus the one being submitted


def test_a_failing_chunk_raises_at_its_place_and_later_work_is_cancelled():
    started = []

    def work(chunk):
        started.append(chunk[0].body)
        if chunk[0].body == b"2":
            raise ValueError("bad page 2")
        time.sleep(0.05)
        return [int(chunk[0].body)]

    seen = []
    with ThreadPoolExecutor(1) as pool:
        with pytest.raises(ValueError, match="bad page 2"):
            for item in ordered_map(lambda chunk: pool.submit(work, chunk), map(page, range(50)), chunk=1, ahead=3):
                seen.append(item)
    assert seen == [0, 1]
    assert len(started) < 10  # the rest of the 50 was never submitted or was cancelled


def test_a_page_without_records_is_prepared_without_the_tagger():
    untouchable = object()  # any use as a tagger would raise AttributeError
    empty = prepare_page(RawPage("ctgov", b'{"studies": [], "totalCount": 0}', "json"), tagger=untouchable)
    assert (empty.record_count, empty.batch, empty.tags, empty.rejects) == (0, None, None, [])


def test_the_cycle_collector_is_paused_while_a_page_is_prepared_and_left_as_it_was(corpus_dir, monkeypatch):
    seen = []
    pubmed = prepare.SOURCES["pubmed"]
    watched = dataclasses.replace(pubmed, parse=lambda payload: seen.append(gc.isenabled()) or pubmed.parse(payload))
    monkeypatch.setitem(prepare.SOURCES, "pubmed", watched)
    body = next(body for path in sorted((corpus_dir / "pubmed").rglob("*.xml"))
                if b"<PubmedArticle>" in (body := path.read_bytes()))
    assert gc.isenabled()
    assert prepare_page(RawPage("pubmed", body, "xml")).record_count > 0
    assert gc.isenabled() and seen == [False]
    gc.disable()
    try:
        prepare_page(RawPage("pubmed", body, "xml"))
        assert not gc.isenabled()  # a caller that paused it keeps it paused
    finally:
        gc.enable()


# ---------------------------------------------------------------------------- load groups

def prepared(records: int, deleted: list[str] = ()) -> PreparedPage:
    return PreparedPage("pubmed", record_count=records, deleted_ids=list(deleted))


def test_load_groups_fill_to_the_record_limit_and_end_at_deletions_and_markers():
    pages = [prepared(100), prepared(100), prepared(100), prepared(50, ["7"]), prepared(100), None, prepared(10)]
    groups = list(pipeline.load_groups(iter(pages), max_records=200))
    shapes = [None if g is None else [p.record_count for p in g] for g in groups]
    assert shapes == [[100, 100], [100, 50], [100], None, [10]]


def test_concat_batches_keeps_the_last_version_of_a_record_repeated_across_pages():
    def article(pmid: int, title: str) -> dict:
        return {"pmid": pmid, "title": title, "drugs": ["ketamine"], "nct_links": []}

    first, _ = build_batch("article", [article(1, "old"), article(2, "two")])
    second, _ = build_batch("article", [article(1, "new"), article(3, "three")])
    merged = concat_batches("article", [first, None, second])
    assert sorted(zip(merged["pmid"].to_pylist(), merged["title"].to_pylist())) == [
        (1, "new"), (2, "two"), (3, "three")]
    assert concat_batches("article", [None, pa.table({"pmid": pa.array([], pa.int64())})]) is None


# ---------------------------------------------------------------- the same warehouse anywhere

@pytest.fixture(scope="module")
def archive_and_ingested(corpus_dir, tmp_path_factory):
    """The real corpus ingested page by page in this process; its raw archive and content."""
    folder = tmp_path_factory.mktemp("ingested")
    settings = Settings(db_path=folder / "a.duckdb", data_dir=folder / "data", http_retries=1)
    ingested = ingest_in_process(settings, corpus_pubmed_records(corpus_dir), corpus_studies(corpus_dir))
    return settings.archive_dir, ingested


def test_a_pool_of_worker_processes_builds_the_same_warehouse_as_the_main_process(archive_and_ingested, tmp_path):
    archive_dir, ingested = archive_and_ingested
    workers = ProcessWorkers(2, ahead=3)
    try:
        with open_warehouse(tmp_path / "pool.duckdb") as conn:
            summaries = pipeline.replay_archive(conn, RawArchive(archive_dir), catalogue=Catalogue.load(),
                                                progress=lambda _: None, workers=workers)
            assert [s.status for s in summaries] == ["succeeded", "succeeded"]
            assert warehouse_content(conn) == ingested
    finally:
        workers.close()
    assert ingested["articles"] and ingested["condition_tags"] and ingested["trials"]


def test_prepared_pages_are_the_same_inline_and_in_a_worker_process(corpus_dir):
    raw = RawPage("pubmed", sorted((corpus_dir / "pubmed").rglob("*.xml"))[0].read_bytes(), "xml")
    inline = next(InlineWorkers().map([raw]))
    workers = ProcessWorkers(1)
    try:
        remote = next(workers.map([raw]))
    finally:
        workers.close()
    assert inline.batch is not None and inline.batch.num_rows > 0
    assert remote.batch.equals(inline.batch)
    assert remote.tags.mentions.equals(inline.tags.mentions) and remote.rejects == inline.rejects


def test_worker_processes_leave_untagged_the_records_whose_content_hash_they_were_given(corpus_dir):
    raw = RawPage("pubmed", gunzip(corpus_dir / "pubmed" / "bulk" / "test_current_medline.xml.gz"), "xml")
    inline = next(InlineWorkers().map([raw]))
    first, *others = inline.batch.column("pmid").to_pylist()
    workers = ProcessWorkers(1, tagged=frozenset(inline.batch.column("content_hash").to_pylist()[:1]))
    handed_over = Path(workers._tagged_file)  # the hashes reach the workers through a file
    try:
        remote = next(workers.map([raw]))
    finally:
        workers.close()
    assert others and remote.batch.equals(inline.batch)
    assert remote.tags.records["record_id"].to_pylist() == [str(pmid) for pmid in others]
    assert not handed_over.exists()  # and it goes with the pool


@pytest.fixture(scope="module")
def prefect_api():
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield PREFECT_API_URL.value()


def test_a_replay_on_a_dask_cluster_through_prefect_builds_the_same_warehouse(archive_and_ingested, tmp_path,
                                                                                 prefect_api):
    from distributed import Client, LocalCluster

    from flows.ingest import on_task_runner, replay_flow

    archive_dir, ingested = archive_and_ingested
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        settings = Settings(db_path=tmp_path / "dask.duckdb", data_dir=tmp_path / "data", task_runner="dask",
                            dask_address=cluster.scheduler_address)
        with on_task_runner(replay_flow, settings) as replay:
            summaries = replay(settings, archive_dir)
        with Client(cluster.scheduler_address) as client:
            prefixes = client.run_on_scheduler(lambda dask_scheduler: list(dask_scheduler.task_prefixes))
    assert [s.status for s in summaries] == ["succeeded", "succeeded"]
    assert any(prefix.startswith("prepare_pages_task") for prefix in prefixes), prefixes  # ran on the cluster
    with duckdb.connect(str(settings.db_path), read_only=True) as conn:
        assert warehouse_content(conn) == ingested


class DyingCatalogue:
    """The real catalogue, except that the worker process it runs in is SIGKILLed (as the OOM
    killer would) when it is asked to label a record it has labelled before: on the second page
    of the same record, in the middle of preparing it."""

    def __init__(self, real: Catalogue):
        self.real, self.seen = real, set()

    def __getattr__(self, name):
        if name in ("real", "seen"):   # unpickling looks these up before __init__ state exists
            raise AttributeError(name)
        return getattr(self.real, name)

    def drugs_for_article(self, article):
        if article["pmid"] in self.seen:
            os.kill(os.getpid(), signal.SIGKILL)
        self.seen.add(article["pmid"])
        return self.real.drugs_for_article(article)


def test_a_worker_process_that_dies_is_a_one_line_error_naming_the_way_out(corpus_dir):
    raw = RawPage("pubmed", sorted((corpus_dir / "pubmed").rglob("*.xml"))[0].read_bytes(), "xml")
    before = set(multiprocessing.active_children())   # other tests' children (a dashboard server, …)
    workers = ProcessWorkers(1, DyingCatalogue(Catalogue.load()), ahead=1)
    try:
        prepared = workers.map(iter([raw] * 6))
        assert next(prepared).batch.num_rows > 0   # the first page is prepared; the worker dies on the second
        with pytest.raises(WorkerDied, match="a worker process preparing pages died .* TRIALWATCH_WORKERS=1"):
            list(prepared)
    finally:
        workers.close()
    # the pool's processes are gone, not left running. Judged by the operating system, not by
    # Process.is_alive(): a child another waiter reaped first stays "alive" to multiprocessing
    # forever (its poll() gets ECHILD and answers None), which made this test fail once on CI.
    started = [child.pid for child in multiprocessing.active_children() if child not in before]
    deadline = time.monotonic() + 120   # generous: a loaded machine may be slow to end them
    while [pid for pid in started if _running(pid)] and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in started if _running(pid)]


def _running(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_a_nightly_run_on_a_dask_cluster_prepares_both_sources_there(corpus_dir, tmp_path, prefect_api):
    """The nightly flow's subflows inherit the Dask runner, and their run contexts (which Prefect
    ships to the workers) pickle although the flows pass an open warehouse around."""
    from distributed import Client, LocalCluster

    from flows.ingest import nightly_flow, on_task_runner

    with PubMedStandIn(corpus_pubmed_records(corpus_dir)[:300]) as pubmed, \
            CtGovStandIn(corpus_studies(corpus_dir)[:40]) as ctgov, \
            LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        settings = Settings(db_path=tmp_path / "w.duckdb", data_dir=tmp_path / "data", pubmed_url=pubmed.url,
                            ctgov_url=ctgov.url, task_runner="dask", dask_address=cluster.scheduler_address)
        with on_task_runner(nightly_flow, settings) as nightly:
            summaries = nightly(settings)
        with Client(cluster.scheduler_address) as client:
            prepared_there = client.run_on_scheduler(
                lambda dask_scheduler: sum(1 for key in dask_scheduler.task_prefixes if key.startswith("prepare_pages")))
    assert [(s.source, s.status) for s in summaries] == [("pubmed", "succeeded"), ("ctgov", "succeeded")]
    assert summaries[0].counts.new > 0 and summaries[1].counts.new > 0
    assert prepared_there >= 1


# -------------------------------------------------------------------------------- settings

def test_worker_settings_are_read_and_checked():
    chosen = load_settings({"TRIALWATCH_WORKERS": "3", "TRIALWATCH_TASK_RUNNER": "dask",
                            "TRIALWATCH_DASK_ADDRESS": "tcp://scheduler:8786"}, env_file=None)
    assert (chosen.workers, chosen.task_runner, chosen.dask_address) == (3, "dask", "tcp://scheduler:8786")
    assert (load_settings({}, env_file=None).workers, load_settings({}, env_file=None).task_runner) == (0, "local")
    with pytest.raises(ConfigError, match="TRIALWATCH_TASK_RUNNER='ray' is not one of local, dask"):
        load_settings({"TRIALWATCH_TASK_RUNNER": "ray"}, env_file=None)
    with pytest.raises(ConfigError, match="TRIALWATCH_DASK_ADDRESS='scheduler:8786' is not a scheduler address"):
        load_settings({"TRIALWATCH_DASK_ADDRESS": "scheduler:8786"}, env_file=None)
    with pytest.raises(ConfigError, match="TRIALWATCH_WORKERS='-2' must not be negative"):
        load_settings({"TRIALWATCH_WORKERS": "-2"}, env_file=None)


def test_dask_without_its_packages_is_a_clear_config_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "prefect_dask", None)  # what a missing package looks like to import
    with pytest.raises(DaskMissing, match=r"pip install 'trialwatch\[dask\]'"):
        with dask_task_runner(2, None):
            pass
