"""The shared HTTP layer, over real HTTP against the local stand-ins."""
from __future__ import annotations

import json
from email.utils import format_datetime
from datetime import datetime, timedelta, timezone

import pytest

from extract.ctgov import ctgov_http
from extract.http import HttpClient, RateLimiter, ServiceUnavailable, retry_after_seconds
from extract.pubmed import ncbi_http
from extract.standins import CtGovStandIn, FaultPlan, PubMedStandIn
from tests.helpers import corpus_studies


class FakeClock:
    def __init__(self):
        self.now = 100.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_rate_limiter_spaces_quick_requests():
    clock = FakeClock()
    limiter = RateLimiter(4, 1.0, clock=clock, sleep=clock.sleep)
    for _ in range(5):
        with limiter.slot():
            pass
    assert clock.sleeps == pytest.approx([0.25, 0.25, 0.25, 0.25])


def test_rate_limiter_waits_a_window_after_the_request_limit_places_back_has_finished():
    clock = FakeClock()
    limiter = RateLimiter(3, 1.0, clock=clock, sleep=clock.sleep)
    spans = []
    for _ in range(7):
        with limiter.slot():
            start = clock.now
            clock.now += 0.5  # the request takes half a second
            spans.append((start, clock.now))
    # the service may count request i as late as its end, and request i+3 as early as its start
    assert all(spans[i + 3][0] >= spans[i][1] + 1.0 for i in range(len(spans) - 3))
    assert spans[3][0] == pytest.approx(spans[0][1] + 1.0)  # and no later than that


def test_rate_limiter_holds_across_threads_with_requests_in_flight():
    import threading
    import time

    limiter = RateLimiter(2, 0.3)
    spans, lock = [], threading.Lock()

    def requests_in_a_thread():
        for _ in range(3):
            with limiter.slot():
                start = time.monotonic()
                time.sleep(0.05)
                end = time.monotonic()
            with lock:
                spans.append((start, end))

    threads = [threading.Thread(target=requests_in_a_thread) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    spans.sort()
    assert len(spans) == 12
    # any 0.3 s window of arrival times holds at most 2 requests, wherever in its span each arrived
    assert all(spans[i + 2][0] >= spans[i][1] + 0.3 - 0.005 for i in range(len(spans) - 2))


def test_retry_after_accepts_seconds_and_http_dates():
    assert retry_after_seconds("7") == 7.0
    assert retry_after_seconds(None) is None
    assert retry_after_seconds("soon") is None
    later = format_datetime(datetime.now(timezone.utc) + timedelta(seconds=30), usegmt=True)
    assert 25 <= retry_after_seconds(later) <= 30
    assert retry_after_seconds("99999") == 120.0  # capped


@pytest.fixture
def studies(corpus_dir):
    return corpus_studies(corpus_dir)


def _client(url: str, sleeps: list[float], **kwargs) -> HttpClient:
    def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    return HttpClient("test", url, rate_per_second=1000, backoff_base=0.01, sleep=sleep, **kwargs)


def test_every_transient_fault_is_retried_until_a_good_answer(studies):
    faults = FaultPlan({"studies": ["503", "500", "502", "429", "truncate", "drop", "empty"]})
    with CtGovStandIn(studies, faults=faults) as server:
        sleeps: list[float] = []
        client = _client(server.url, sleeps, max_retries=8)

        def must_have_studies(body: bytes) -> None:
            if not json.loads(body)["studies"]:
                raise ValueError("no studies")

        response = client.get("/studies", {"pageSize": "5"}, validate=must_have_studies)
    assert len(response.json()["studies"]) == 5
    assert client.stats.retries == 7
    assert client.stats.requests == 8
    assert client.stats.retry_reasons["invalid body"] == 2
    assert sum(server.faults_served.values()) == 7


def test_retry_after_is_honoured(studies):
    with CtGovStandIn(studies, faults=FaultPlan({"studies": ["retry-after"]})) as server:
        sleeps: list[float] = []
        _client(server.url, sleeps).get("/studies")
    assert 1.0 in sleeps  # the server said Retry-After: 1


def test_a_stall_past_the_timeout_is_retried(studies):
    with CtGovStandIn(studies, faults=FaultPlan({"studies": ["stall"]}, stall_seconds=2.0)) as server:
        client = _client(server.url, [], timeout=0.3)
        assert client.get("/studies").status_code == 200
    assert client.stats.retry_reasons["timeout"] == 1


def test_retry_budget_exhausted_raises_one_clear_error(studies):
    with CtGovStandIn(studies, faults=FaultPlan({"studies": ["503"] * 5})) as server:
        client = _client(server.url, [], max_retries=2)
        with pytest.raises(ServiceUnavailable, match="still failing after 2 retries.*HTTP 503"):
            client.get("/studies")
    assert client.stats.requests == 3


def test_client_errors_are_not_retried(studies):
    with CtGovStandIn(studies) as server:
        client = _client(server.url, [])
        with pytest.raises(ServiceUnavailable, match="HTTP 400"):
            client.get("/studies", {"pageSize": "not-a-number"})
    assert client.stats.requests == 1


def test_unreachable_service_fails_after_retries():
    client = _client("http://127.0.0.1:9", [], max_retries=1)  # port 9 (discard) is closed here
    with pytest.raises(ServiceUnavailable, match="connection error"):
        client.get("/studies")


def test_ncbi_requests_carry_tool_email_and_user_agent_but_errors_hide_the_key():
    with PubMedStandIn([], faults=FaultPlan({"esearch": ["503"] * 3})) as server:
        client = ncbi_http(server.url, api_key="SECRET-KEY", email="me@example.org", max_retries=1,
                           backoff_base=0.01)
        with pytest.raises(ServiceUnavailable) as error:
            client.get("/esearch.fcgi", {"db": "pubmed", "term": "x", "retmode": "json"})
        logged = server.requests[0]
    assert logged.params["tool"] == "trialwatch"
    assert logged.params["email"] == "me@example.org"
    assert logged.params["api_key"] == "SECRET-KEY"
    assert "trialwatch" in logged.headers["User-Agent"]
    assert "SECRET-KEY" not in str(error.value)


def test_ctgov_client_is_paced_politely():
    assert ctgov_http("http://127.0.0.1:1").limiter.interval >= 1.0
