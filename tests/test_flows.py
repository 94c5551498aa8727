"""The Prefect flows under prefect_test_harness, against the stand-ins serving a generated world:
incremental windows, watermarks on failure, digest, Atom feed and the run artifact."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import duckdb
import pytest
from lxml import etree
from prefect.testing.utilities import prefect_test_harness

from extract.standins import CtGovStandIn, FaultPlan, PubMedStandIn, pubmed_records_from_xml
from flows.demo import generate_sample
from flows.ingest import ARTIFACT_KEY, nightly_flow
from flows.settings import Settings

ATOM = "{http://www.w3.org/2005/Atom}"
TODAY = datetime.now(timezone.utc).date()


@pytest.fixture(scope="module", autouse=True)
def prefect():
    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture
def world():
    night1 = generate_sample(today=TODAY - timedelta(days=1), night=1, n_articles=80, n_trials=30)
    night2 = generate_sample(today=TODAY, night=2, n_articles=80, n_trials=30)
    with PubMedStandIn(pubmed_records_from_xml(night1.pubmed_xml)) as pubmed, CtGovStandIn(night1.studies) as ctgov:
        yield pubmed, ctgov, night2


def settings_for(tmp_path, pubmed, ctgov, **extra) -> Settings:
    return Settings(db_path=tmp_path / "w.duckdb", data_dir=tmp_path / "data", pubmed_url=pubmed.url,
                    ctgov_url=ctgov.url, **extra)


def test_second_night_asks_only_for_the_new_window_and_reports_the_changes(tmp_path, world):
    pubmed, ctgov, night2 = world
    settings = settings_for(tmp_path, pubmed, ctgov)
    first = nightly_flow(settings)
    assert [s.window.mode for s in first] == ["full", "full"]

    pubmed.replace(pubmed_records_from_xml(night2.pubmed_xml))
    ctgov.replace(night2.studies)
    pubmed.requests.clear()
    ctgov.requests.clear()
    second = nightly_flow(settings)

    window_start = TODAY - timedelta(days=settings.overlap_days)
    assert [s.window for s in second][0].since == window_start
    esearch = [r.params for r in pubmed.requests if r.endpoint == "esearch"]
    assert {p["mindate"] for p in esearch if "datetype" in p} == {window_start.strftime("%Y/%m/%d")}
    assert {p.get("datetype") for p in esearch} == {"edat", "mdat", None}   # None: the create-date search
    assert any(f'"{window_start:%Y/%m/%d}"[crdt]' in p["term"] for p in esearch if "datetype" not in p)
    assert {r.params["filter.advanced"] for r in ctgov.requests} == {
        f"AREA[LastUpdatePostDate]RANGE[{window_start.isoformat()},MAX]"}

    with duckdb.connect(str(settings.db_path), read_only=True) as conn:
        changed = conn.execute("SELECT DISTINCT nct_id FROM trial_history WHERE field = 'overall_status'").fetchall()
        new_trials = conn.execute("SELECT nct_id FROM trials WHERE first_run_id = ?", [second[1].run_id]).fetchall()
        new_papers = conn.execute("SELECT pmid FROM articles WHERE first_run_id = ?", [second[0].run_id]).fetchall()
        mention_only = conn.execute(
            "SELECT record_id FROM record_drugs WHERE record_kind = 'article' AND CAST(record_id AS BIGINT) "
            "IN (SELECT pmid FROM articles WHERE first_run_id = ? AND study_design IS DISTINCT FROM 'notice') "
            "GROUP BY record_id "
            "HAVING bool_and(role IS NOT DISTINCT FROM 'mention')", [second[0].run_id]).fetchall()
        notices = conn.execute("SELECT pmid FROM articles WHERE first_run_id = ? AND study_design = 'notice'",
                               [second[0].run_id]).fetchall()
        designs = conn.execute("SELECT nct_id, allocation, masking, comparator FROM v_trial_design "
                               "WHERE nct_id IN (SELECT nct_id FROM trials WHERE first_run_id = ?)",
                               [second[1].run_id]).fetchall()
    assert changed and new_trials and new_papers

    digest = (settings.data_dir / "digests" / "latest.md").read_text()
    for (nct,) in changed + new_trials:
        assert nct in digest
    assert "**status** " in digest and "overall_status" not in digest   # human labels, not column names
    # every new paper, linked to a trial or not: about a drug first, those that only mention one last
    # a retraction notice is not new research: listed apart (the world's night 2 has one)
    assert f"## New papers ({len(new_papers) - len(mention_only) - len(notices)})" in digest
    assert notices and f"## New retraction, correction and concern notices ({len(notices)})" in digest
    assert mention_only and f"## New papers that only mention a catalogue drug ({len(mention_only)})" in digest
    assert all(f"[PMID {pmid}]" in digest for (pmid,) in new_papers)
    # each new trial's line says how it is designed: randomised? masked? against what?
    section = digest.split("## New trials (", 1)[1].split("\n## ", 1)[0]
    lines = {line.split("]", 1)[0][3:]: line for line in section.splitlines() if line.startswith("- [NCT")}
    assert len(designs) == len(new_trials)
    for nct, allocation, masking, comparator in designs:
        line = lines[nct]
        assert (allocation == "RANDOMIZED") == ("; randomized" in line), line
        assert masking is None or (("open label" in line) if masking == "NONE" else f"{masking.lower()}-masked" in line)
        assert (comparator in (None, "none")) or f"vs {comparator}" in line, line

    feed = etree.fromstring((settings.data_dir / "feeds" / "new.xml").read_bytes())
    assert feed.tag == f"{ATOM}feed" and feed.findtext(f"{ATOM}id") and feed.findtext(f"{ATOM}updated")
    entries = feed.findall(f"{ATOM}entry")
    ids = [entry.findtext(f"{ATOM}id") for entry in entries]
    assert len(ids) == len(set(ids)) and all(entry.findtext(f"{ATOM}title") and entry.findtext(f"{ATOM}updated")
                                             and entry.find(f"{ATOM}link").get("href") for entry in entries)
    status_entries = [i for i in ids if "/status/" in i]
    assert any(changed[0][0] in i for i in status_entries)


def test_the_run_summary_is_a_prefect_artifact_with_a_stable_key_and_short_lists(tmp_path, world, monkeypatch):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    monkeypatch.setattr("flows.jobs.ARTIFACT_ENTRIES", 3)
    pubmed, ctgov, _ = world
    settings = settings_for(tmp_path, pubmed, ctgov)
    nightly_flow(settings)

    async def latest():
        async with get_client() as client:
            return await client.read_artifacts(artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[ARTIFACT_KEY])))

    import asyncio
    artifact = max(asyncio.run(latest()), key=lambda a: a.created).data  # this run's (earlier tests made others)
    with duckdb.connect(str(settings.db_path), read_only=True) as conn:
        trials = [nct for (nct,) in conn.execute("SELECT nct_id FROM trials ORDER BY nct_id").fetchall()]
    full = (settings.data_dir / "digests" / "latest.md").read_text()
    assert len(trials) > 3 and all(nct in full for nct in trials)  # the digest file lists every new trial
    assert f"## New trials ({len(trials)})" in artifact
    in_full = full.split(f"## New trials ({len(trials)})", 1)[1].split("\n## ", 1)[0]
    first_three = [line for line in in_full.splitlines() if line.startswith("- ")][:3]
    shown = artifact.split(f"## New trials ({len(trials)})", 1)[1].split("\n## ", 1)[0]
    assert [line for line in shown.splitlines() if line.startswith("- [")] == first_three   # the list's head, cut at 3
    assert sum(f"[{nct}]" in shown for nct in trials) == 3
    more = next(line for line in artifact.splitlines() if line.startswith(f"- … and {len(trials) - 3} more"))
    stamped = [path for path in (settings.data_dir / "digests").glob("*.md") if path.name != "latest.md"]
    assert len(stamped) == 1 and str(stamped[0]) in more and stamped[0].read_text() == full


def test_a_source_that_stays_down_keeps_its_watermark_and_the_other_source_completes(tmp_path, world):
    pubmed, ctgov, _ = world
    settings = settings_for(tmp_path, pubmed, ctgov, http_retries=1)
    nightly_flow(settings)
    ctgov.faults = FaultPlan({"studies": ["503"] * 10})
    later = nightly_flow(settings)
    assert [s.status for s in later] == ["succeeded", "failed"]
    with duckdb.connect(str(settings.db_path), read_only=True) as conn:
        marks = dict(conn.execute("SELECT source, count(watermark) FROM ingest_runs GROUP BY source").fetchall())
    assert marks == {"pubmed": 2, "ctgov": 1}


def test_backfill_flow_pulls_everything_slice_by_slice_and_publishes(tmp_path, world):
    from flows.ingest import backfill_flow

    pubmed, ctgov, _ = world
    settings = settings_for(tmp_path, pubmed, ctgov)
    nightly_flow(settings)                       # an incremental history exists…
    summaries = backfill_flow(settings)          # …and a backfill still asks for everything
    assert [(s.window.mode, s.status) for s in summaries] == [("full", "succeeded")] * 2
    with duckdb.connect(str(settings.db_path), read_only=True) as conn:
        slices = conn.execute("SELECT count(*), count(done_at) FROM backfill_slices").fetchall()
        publications = conn.execute("SELECT count(*) FROM publications").fetchall()
    assert slices[0][0] >= 1 and slices[0][0] == slices[0][1] and publications == [(2,)]


def test_flow_heartbeats_are_off_only_when_the_prefect_server_is_a_temporary_one():
    from prefect.settings import PREFECT_API_URL, PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    from flows.ingest import without_heartbeats_on_a_temporary_server

    with temporary_settings(updates={PREFECT_API_URL: None, PREFECT_FLOWS_HEARTBEAT_FREQUENCY: 120}):
        with without_heartbeats_on_a_temporary_server():
            assert PREFECT_FLOWS_HEARTBEAT_FREQUENCY.value() is None
        assert PREFECT_FLOWS_HEARTBEAT_FREQUENCY.value() == 120
    with temporary_settings(updates={PREFECT_API_URL: "http://prefect.example:4200/api",
                                     PREFECT_FLOWS_HEARTBEAT_FREQUENCY: 120}):
        with without_heartbeats_on_a_temporary_server():
            assert PREFECT_FLOWS_HEARTBEAT_FREQUENCY.value() == 120
