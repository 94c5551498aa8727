"""The one line per source that `trialwatch ingest` prints."""
from __future__ import annotations

from flows.pipeline import SourceSummary, Window


def summary(**fields) -> SourceSummary:
    return SourceSummary("ctgov", "run-1", Window("full"), status="succeeded", **fields)


def test_request_counts_read_as_english():
    assert "(1 request, 0 retried)" in summary(fetched=150, http_requests=1).line()
    assert "(1,234 requests, 5 retried)" in summary(http_requests=1234, http_retries=5).line()


def test_a_failed_source_says_nothing_was_stored_and_why():
    line = SourceSummary("pubmed", "run-2", Window("full"), status="failed", message="HTTP 503").line()
    assert line.startswith("pubmed: FAILED — HTTP 503;") and "nothing of this source was stored" in line
