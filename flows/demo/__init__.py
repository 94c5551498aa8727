"""The offline demo: a generated sample (`sample`, its vocabulary in ``vocabulary/`` loaded by
`tables`) served by local stand-ins of PubMed and ClinicalTrials.gov and ingested by the real
pipeline (`run`)."""
from flows.demo.run import DEMO_DATA_DIR, DEMO_DB_NAME, demo_settings, demo_warehouse, run_demo
from flows.demo.sample import NIGHT2_NEW_ARTICLES, NIGHT2_NEW_TRIALS, DemoSample, generate_sample

__all__ = [
    "DEMO_DATA_DIR",
    "DEMO_DB_NAME",
    "NIGHT2_NEW_ARTICLES",
    "NIGHT2_NEW_TRIALS",
    "DemoSample",
    "demo_settings",
    "demo_warehouse",
    "generate_sample",
    "run_demo",
]
