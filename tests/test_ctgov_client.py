"""ClinicalTrials.gov client against the CT.gov stand-in: paging, incremental filter, faults."""
from __future__ import annotations

import json
from datetime import date

import pytest

from extract.http import ServiceUnavailable
from extract.ctgov import CtGovClient, ctgov_http
from extract.standins import CtGovStandIn, FaultPlan
from tests.helpers import corpus_studies


def client_for(server: CtGovStandIn, page_size: int = 3) -> CtGovClient:
    http = ctgov_http(server.url, rate_per_second=1000, backoff_base=0.01)
    return CtGovClient(http, "ketamine OR psilocybin", page_size=page_size)


def nct_ids(pages) -> list[str]:
    return [s["protocolSection"]["identificationModule"]["nctId"] for p in pages for s in json.loads(p.body)["studies"]]


def test_follows_next_page_tokens_to_the_end_with_identical_parameters(corpus_dir):
    studies = corpus_studies(corpus_dir)
    with CtGovStandIn(studies) as server:
        client = client_for(server)
        got = nct_ids(client.pages())
        asked = [r.params for r in server.requests]
    assert sorted(got) == sorted(s["protocolSection"]["identificationModule"]["nctId"] for s in studies)
    assert len(asked) == -(-len(studies) // 3)
    assert "pageToken" not in asked[0] and all("pageToken" in p for p in asked[1:])
    assert all({k: v for k, v in p.items() if k != "pageToken"} == asked[0] for p in asked)
    assert client.total == len(studies) == client.received


def test_incremental_pull_filters_on_last_update_post_date(corpus_dir):
    studies = corpus_studies(corpus_dir)
    since = date(2024, 1, 1)
    expected = sorted(s["protocolSection"]["identificationModule"]["nctId"] for s in studies
                      if s["protocolSection"]["statusModule"].get("lastUpdatePostDateStruct", {}).get("date", "") >= "2024-01-01")
    with CtGovStandIn(studies) as server:
        got = nct_ids(client_for(server).pages(since))
        advanced = server.requests[0].params["filter.advanced"]
    assert advanced == "AREA[LastUpdatePostDate]RANGE[2024-01-01,MAX]"
    assert sorted(got) == expected and 0 < len(expected) < len(studies)


def test_faults_mid_paging_lose_nothing_and_double_nothing(corpus_dir):
    studies = corpus_studies(corpus_dir)
    # page 1: empty (no totalCount), 503, truncated, then good; page 2: 429, empty, dropped, then good
    faults = FaultPlan({"studies": ["empty", "503", "truncate", "429", "empty", "drop"]})
    with CtGovStandIn(studies, faults=faults) as server:
        client = client_for(server)
        got = nct_ids(client.pages())
    assert sorted(got) == sorted(s["protocolSection"]["identificationModule"]["nctId"] for s in studies)
    assert server.faults_served["empty"] == 2


def test_a_first_page_that_never_reports_its_total_fails_loudly(corpus_dir):
    with CtGovStandIn(corpus_studies(corpus_dir), faults=FaultPlan({"studies": ["empty"] * 3})) as server:
        with pytest.raises(ServiceUnavailable, match="totalCount"):
            list(client_for(server).pages())
