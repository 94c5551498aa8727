"""The offline demo: a generated sample served by local stand-ins of PubMed and
ClinicalTrials.gov, ingested by the real pipeline — the same code path as a real night.

Night 1 is the world as of yesterday, ingested on yesterday's date (the pipeline's clock is moved,
warehouse/clock.py); night 2 is today's world (a few new papers and trials, some trials changed),
ingested today — so running night 2 after night 1 shows an incremental run picking up changes, and
"since yesterday" or "since the last run" on the dashboard shows what night 2 brought.
"""
from __future__ import annotations

import sys
from datetime import date, timedelta
from pathlib import Path

from extract.sources import NAMES
from extract.standins import CtGovStandIn, PubMedStandIn, pubmed_records_from_xml
from flows.demo.sample import generate_sample
from flows.runner import job
from flows.settings import Settings
from warehouse import clock
from warehouse.publish import preflight

DEMO_DATA_DIR = Path("data/demo")
DEMO_DB_NAME = "trialwatch.duckdb"


def demo_settings(settings: Settings, demo_dir: Path = DEMO_DATA_DIR) -> Settings:
    """The demo's own warehouse and archive, whatever TRIALWATCH_DB / TRIALWATCH_DATA_DIR (or a
    production `.env`) say: a synthetic sample must never land in a user's real warehouse."""
    return settings.with_overrides(data_dir=demo_dir, db_path=demo_dir / DEMO_DB_NAME)


def demo_warehouse(demo_dir: Path = DEMO_DATA_DIR) -> Path | None:
    """The demo's warehouse if a demo has been run here, else None."""
    path = demo_dir / DEMO_DB_NAME
    return path if path.exists() else None


def run_demo(settings: Settings, *, night: int = 1, today: date | None = None, demo_dir: Path = DEMO_DATA_DIR):

    today = today or clock.today()
    chosen = settings.db_path
    settings = demo_settings(settings, demo_dir)
    if chosen != settings.db_path and chosen != Settings().db_path:
        print(f"demo: leaving your warehouse {chosen} alone (TRIALWATCH_DB); the demo has its own in {demo_dir}",
              file=sys.stderr)
    preflight(settings.db_path)  # a bad warehouse path fails before anything is served

    world_day = today - timedelta(days=1) if night == 1 else today
    sample = generate_sample(today=world_day, night=night)
    print(f"demo night {night}: serving a generated sample of {sample.pubmed_xml.count(b'<PubmedArticle>'):,} "
          f"papers and {len(sample.studies):,} trials on 127.0.0.1; warehouse {settings.db_path}", file=sys.stderr)
    with PubMedStandIn(pubmed_records_from_xml(sample.pubmed_xml)) as pubmed, CtGovStandIn(sample.studies) as ctgov:
        served = settings.with_overrides(pubmed_url=pubmed.url, ctgov_url=ctgov.url)
        with clock.on_day(world_day), job("nightly", served) as nightly:
            return nightly(served, NAMES)
