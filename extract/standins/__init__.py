"""Local stand-ins for NCBI E-utilities (PubMed) and the ClinicalTrials.gov API v2.

There is no internet where trialwatch is developed and tested, so the demo and the tests run the
real HTTP clients against these servers on 127.0.0.1. They imitate what the clients depend on,
including how the real services misbehave:

* PubMed's esearch can reach only the first 9,999 positions of a result (``retstart`` > 9998 is an
  error while ``count`` still reports the full total), and NCBI answers more than 3 requests a
  second (10 with ``api_key=``) with HTTP 429 and no ``Retry-After``.
* ClinicalTrials.gov pages with an opaque ``nextPageToken`` that is only valid with otherwise
  identical parameters, and reports ``totalCount`` on the first page only.
* Both fail transiently: 429, 5xx with HTML bodies, bodies cut short behind a matching
  Content-Length, empty answers, stalls and dropped connections, and PubMed's esearch also with
  an in-band "Search Backend failed" ERROR in a 200 answer (see `FaultPlan`).

Each service is one class on a small shared base (`_StandIn`) that owns the server thread, the
request log and fault handling. Every query term matches the whole store (PubMed's date ranges
in the term, and phrases declared to match nothing, aside): a stand-in's store is the result set of
whatever the client asks for, and tests change it with ``add``/``replace`` between runs to simulate
"the next night".

Usage::

    with PubMedStandIn(records) as pubmed, CtGovStandIn(studies) as ctgov:
        client = PubMedClient(base_url=pubmed.url)   # http://127.0.0.1:PORT/entrez/eutils
        ...
        assert pubmed.rate_limited == 0

Modules: ``pubmed`` (`PubMedStandIn`, `PubMedRecord`, `pubmed_records_from_xml`), ``ctgov``
(`CtGovStandIn`), ``server`` (the shared base, `RequestLog`) and ``faults`` (`FaultPlan`). Import
from the package: ``from extract.standins import PubMedStandIn, FaultPlan``.
"""
from extract.standins.ctgov import CtGovStandIn
from extract.standins.faults import ESEARCH_FAULT_KINDS, FAULT_KINDS, FaultPlan
from extract.standins.pubmed import (
    BACKEND_ERRORS,
    EFETCH_PROLOG,
    ESEARCH_CAP_ERROR,
    ESEARCH_REACH,
    PubMedRecord,
    PubMedStandIn,
    pubmed_records_from_xml,
)
from extract.standins.server import LoggedRequest, RequestLog

__all__ = [
    "BACKEND_ERRORS",
    "EFETCH_PROLOG",
    "ESEARCH_CAP_ERROR",
    "ESEARCH_FAULT_KINDS",
    "ESEARCH_REACH",
    "FAULT_KINDS",
    "CtGovStandIn",
    "FaultPlan",
    "LoggedRequest",
    "PubMedRecord",
    "PubMedStandIn",
    "RequestLog",
    "pubmed_records_from_xml",
]
