"""Shared fixtures. The real-payload corpus lives beside the checkout in ../shared/corpus."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CORPUS = Path(os.environ.get("TRIALWATCH_CORPUS", REPO.parent / "shared" / "corpus"))


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    """The real PubMed/CT.gov payloads. Missing corpus is an error, never a silent skip."""
    if not (CORPUS / "README.md").exists():
        pytest.fail(f"real-payload corpus not found at {CORPUS}; set TRIALWATCH_CORPUS")
    return CORPUS
