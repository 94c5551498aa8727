"""The local stand-ins behave like the real services, over real HTTP (plain `requests`)."""
from __future__ import annotations

import json
import time
from datetime import date, timedelta

import pytest
import requests
from lxml import etree

from extract.standins import (
    BACKEND_ERRORS,
    CtGovStandIn,
    FaultPlan,
    PubMedRecord,
    PubMedStandIn,
    pubmed_records_from_xml,
)

CAP_ERROR_START = "Search Backend failed: Exception:\n'retstart' cannot be larger than 9998."


def article_xml(pmid: int, edat: date, mdat: date | None = None, year: int | None = None) -> bytes:
    """A minimal but well-formed PubmedArticle."""
    mdat = mdat or edat
    year = year or edat.year
    return (
        f"<PubmedArticle><MedlineCitation Status=\"MEDLINE\" Owner=\"NLM\">"
        f"<PMID Version=\"1\">{pmid}</PMID>"
        f"<DateRevised><Year>{mdat.year}</Year><Month>{mdat.month:02d}</Month>"
        f"<Day>{mdat.day:02d}</Day></DateRevised>"
        f"<Article><Journal><JournalIssue><PubDate><Year>{year}</Year><Month>Jan</Month></PubDate>"
        f"</JournalIssue></Journal><ArticleTitle>Ketamine study {pmid}</ArticleTitle></Article>"
        f"</MedlineCitation><PubmedData><History>"
        f"<PubMedPubDate PubStatus=\"entrez\"><Year>{edat.year}</Year><Month>{edat.month}</Month>"
        f"<Day>{edat.day}</Day></PubMedPubDate></History></PubmedData></PubmedArticle>"
    ).encode()


def make_record(pmid: int, edat: date, mdat: date | None = None, year: int | None = None):
    return PubMedRecord(pmid, article_xml(pmid, edat, mdat, year), edat, mdat or edat,
                        date(year or edat.year, 1, 1))


def make_study(n: int, updated: str = "2024-01-15") -> dict:
    return {
        "protocolSection": {
            "identificationModule": {"nctId": f"NCT{n:08d}", "briefTitle": f"Trial {n}"},
            "statusModule": {"overallStatus": "RECRUITING",
                             "lastUpdatePostDateStruct": {"date": updated, "type": "ACTUAL"}},
        },
        "hasResults": False,
    }


def esearch(server: PubMedStandIn, **params) -> dict:
    response = requests.get(f"{server.url}/esearch.fcgi",
                            params={"db": "pubmed", "term": "ketamine", "retmode": "json", **params},
                            timeout=5)
    assert response.status_code == 200, response.text
    return response.json()["esearchresult"]


# Twelve records: pmid 100+i entered PubMed on 2024-01-(1+i); revised / published as noted.
RECORDS = [make_record(100 + i, date(2024, 1, 1 + i), mdat=date(2024, 3, 1 + i),
                       year=2023 if i < 4 else 2024) for i in range(12)]


@pytest.fixture
def pubmed():
    with PubMedStandIn(RECORDS, enforce_rate_limit=False) as server:
        yield server


# --- pubmed_records_from_xml ------------------------------------------------------------------


def test_records_from_efetch_payload(corpus_dir):
    records = pubmed_records_from_xml((corpus_dir / "pubmed/biopython/pubmed1.xml").read_bytes())
    assert [r.pmid for r in records] == [12091962, 9997]
    first = records[0]
    assert first.entrez_date == date(1990, 4, 1)
    assert first.modified_date == date(2007, 11, 15)
    assert first.publication_date == date(1990, 1, 1)
    element = etree.fromstring(first.xml)
    assert element.tag == "PubmedArticle" and element.findtext("MedlineCitation/PMID") == "12091962"


def test_book_articles_are_records_too_and_empty_sets_have_none(corpus_dir):
    payload = (corpus_dir / "pubmed/metapub/20301546.xml").read_bytes()
    [book] = pubmed_records_from_xml(payload)
    assert book.pmid == 20301546
    assert book.entrez_date == date(2020, 9, 17) == book.create_date  # PubmedBookData/History
    assert book.modified_date == date(2020, 9, 17)  # BookDocument/DateRevised
    assert book.publication_date == date(1993, 1, 1)  # BookDocument/Book/PubDate
    element = etree.fromstring(book.xml)
    assert element.tag == "PubmedBookArticle" and element.findtext("BookDocument/PMID") == "20301546"
    assert pubmed_records_from_xml((corpus_dir / "pubmed/metapub/37909814.xml").read_bytes()) == []


def test_efetch_serves_a_book_inside_the_article_set_as_it_came(corpus_dir):
    [book] = pubmed_records_from_xml((corpus_dir / "pubmed/metapub/20301546.xml").read_bytes())
    with PubMedStandIn([book, *RECORDS], enforce_rate_limit=False) as server:
        response = requests.post(f"{server.url}/efetch.fcgi", timeout=5,
                                 data={"db": "pubmed", "retmode": "xml", "id": "100,20301546"})
    root = _parse_set(response.content)
    assert [child.tag for child in root] == ["PubmedArticle", "PubmedBookArticle"]
    assert book.xml in response.content
    assert [r.pmid for r in pubmed_records_from_xml(response.content)] == [100, 20301546]


def test_records_from_bulk_file(corpus_dir):
    payload = (corpus_dir / "pubmed/bulk/pubmed20n0014_even.xml.gz").read_bytes()
    records = pubmed_records_from_xml(payload)  # gzip is detected
    assert len(records) == 15000 == len({r.pmid for r in records})
    assert records[0].pmid == 399296 and records[-1].pmid == 429553
    assert records[0].entrez_date == date(1979, 6, 1)
    assert records[0].modified_date == date(2003, 11, 14)
    assert records[0].publication_date == date(1979, 1, 1)


# --- esearch ----------------------------------------------------------------------------------


def test_esearch_json_shape_count_and_order(pubmed):
    response = requests.get(f"{pubmed.url}/esearch.fcgi",
                            params={"db": "pubmed", "term": "ketamine", "retmode": "json"}, timeout=5)
    body = response.json()
    assert response.headers["Content-Type"].startswith("application/json")
    assert body["header"] == {"type": "esearch", "version": "0.3"}
    result = body["esearchresult"]
    assert list(result) == ["count", "retmax", "retstart", "idlist", "translationset",
                            "querytranslation"]
    assert result["count"] == "12" and result["retmax"] == "12" and result["retstart"] == "0"
    assert result["idlist"] == [str(p) for p in range(111, 99, -1)]  # newest edat first


def test_esearch_paging_and_post(pubmed):
    page = esearch(pubmed, retstart=10, retmax=5)
    assert page["idlist"] == ["101", "100"] and page["retmax"] == "2" and page["count"] == "12"
    posted = requests.post(f"{pubmed.url}/esearch.fcgi", timeout=5, data={
        "db": "pubmed", "term": "ketamine", "retmode": "json", "retmax": "3"}).json()
    assert posted["esearchresult"]["idlist"] == ["111", "110", "109"]
    assert pubmed.requests[-1].params["retmax"] == "3" and pubmed.requests[-1].method == "POST"
    assert esearch(pubmed)["retmax"] == "12"  # default retmax 20


def test_esearch_date_filters(pubmed):
    edat = esearch(pubmed, datetype="edat", mindate="2024/01/03", maxdate="2024/01/05")
    assert edat["idlist"] == ["104", "103", "102"] and edat["count"] == "3"
    mdat = esearch(pubmed, datetype="mdat", mindate="2024/03/11", maxdate="2024/03")
    assert mdat["idlist"] == ["111", "110"]  # partial maxdate = end of that month
    pdat = esearch(pubmed, datetype="pdat", mindate="2023", maxdate="2023")
    assert pdat["count"] == "4"
    assert esearch(pubmed, mindate="2023", maxdate="2023")["count"] == "4"  # pdat by default
    assert esearch(pubmed, datetype="edat", mindate="2024/01/11")["count"] == "12"  # one bound: ignored
    assert esearch(pubmed, datetype="edat", reldate=30)["count"] == "0"


def test_create_date_defaults_to_the_entrez_date_and_ranges_in_the_term_filter():
    late = PubMedRecord(900, b"<PubmedArticle/>", date(2019, 3, 1), date(2019, 3, 1), date(2019, 3, 1),
                        create_date=date(2024, 1, 20))
    assert RECORDS[0].create_date == RECORDS[0].entrez_date
    with PubMedStandIn([*RECORDS, late], enforce_rate_limit=False) as server:
        created = esearch(server, term='(ketamine) AND ("2024/01/12"[crdt] : "2024/01/31"[crdt])')
        published = esearch(server, term='ketamine AND ("2023/01/01"[dp] : "2023/12/31"[dp])')
        both = esearch(server, term='ketamine AND ("2023"[dp] : "2023"[dp])', datetype="edat",
                       mindate="2024/01/02", maxdate="2024/01/31")
        bad = esearch(server, term='ketamine AND ("2023/13/01"[dp] : "2023/12/31"[dp])')
    assert created["idlist"] == ["111", "900"]  # created (= entered) 2024-01-12, and the late one
    assert published["count"] == "4" and published["querytranslation"].endswith('"2023/12/31"[dp])')
    assert both["idlist"] == ["103", "102", "101"]  # the datetype window and the term range together
    assert "ERROR" in bad and "count" not in bad


def test_esearch_reldate_counts_back_from_today():
    today = date.today()
    records = [make_record(1, today - timedelta(days=2)), make_record(2, today - timedelta(days=40))]
    with PubMedStandIn(records, enforce_rate_limit=False) as server:
        assert esearch(server, datetype="edat", reldate=7)["idlist"] == ["1"]


def test_phrases_that_match_nothing_are_named_in_the_answer():
    phrases = ['"comp 360"[tiab]', "zqxv[tiab]", "absent[mh]"]
    with PubMedStandIn(RECORDS, phrases_not_found=phrases, enforce_rate_limit=False) as server:
        warned = esearch(server, term='ketamine OR "COMP 360"[tiab] OR zqxv[tiab]')
        clean = esearch(server, term="ketamine")
        xml = requests.get(f"{server.url}/esearch.fcgi", timeout=5, params={"term": 'x OR "comp 360"[tiab] OR zqxv[tiab]'})
    assert warned["count"] == "12"  # the rest of the term still matches
    assert warned["errorlist"] == {"phrasesnotfound": ["zqxv[tiab]"], "fieldsnotfound": []}
    assert warned["warninglist"] == {"phrasesignored": [], "quotedphrasesnotfound": ['"comp 360"[tiab]'],
                                     "outputmessages": []}
    assert "errorlist" not in clean and "warninglist" not in clean
    root = etree.fromstring(xml.content, etree.XMLParser(load_dtd=False, no_network=True))
    assert root.findtext("ErrorList/PhraseNotFound") == "zqxv[tiab]"
    assert root.findtext("WarningList/QuotedPhraseNotFound") == '"comp 360"[tiab]'


def test_esearch_xml(pubmed):
    response = requests.get(f"{pubmed.url}/esearch.fcgi", timeout=5,
                            params={"db": "pubmed", "term": "x", "retmax": "2"})
    root = etree.fromstring(response.content, etree.XMLParser(load_dtd=False, no_network=True))
    assert root.tag == "eSearchResult"
    assert root.findtext("Count") == "12" and root.findtext("RetMax") == "2"
    assert [e.text for e in root.iterfind("IdList/Id")] == ["111", "110"]


def test_esearch_reaches_only_9999_positions():
    first = date(2000, 1, 1)
    records = [PubMedRecord(n, b"<PubmedArticle/>", first + timedelta(days=n), first, first)
               for n in range(1, 10051)]
    with PubMedStandIn(records, enforce_rate_limit=False) as server:
        refused = esearch(server, retstart=9999, retmax=100)
        assert refused["count"] == "10050" and refused["retmax"] == "0" and refused["idlist"] == []
        assert refused["ERROR"].startswith(CAP_ERROR_START)
        assert "https://www.ncbi.nlm.nih.gov/books/NBK25499/" in refused["ERROR"]

        last = esearch(server, retstart=9990, retmax=100)
        assert len(last["idlist"]) == 9 and last["retmax"] == "9" and "ERROR" not in last
        assert last["idlist"][-1] == str(10050 - 9998)  # position 9,998 is the last reachable
        assert last["warninglist"]["outputmessages"] == [
            "Restrictions achieved. start and count adjusted to 9990, 9"]

        everything = esearch(server, retmax=20000)
        assert len(everything["idlist"]) == 9999 and everything["count"] == "10050"

        narrowed = esearch(server, datetype="edat", mindate="2000/01/01", maxdate="2010/12/31")
        assert int(narrowed["count"]) < 9999  # the way around the cap: slice by date


# --- efetch -----------------------------------------------------------------------------------


def _parse_set(content: bytes) -> etree._Element:
    return etree.fromstring(content, etree.XMLParser(load_dtd=False, no_network=True,
                                                     resolve_entities=False))


def test_efetch_get_in_request_order_skipping_unknown(pubmed):
    response = requests.get(f"{pubmed.url}/efetch.fcgi", timeout=5,
                            params={"db": "pubmed", "retmode": "xml", "id": "105,999,101,103"})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/xml; charset=UTF-8"
    assert response.content.startswith(b'<?xml version="1.0" ?>\n<!DOCTYPE PubmedArticleSet PUBLIC')
    root = _parse_set(response.content)
    assert root.tag == "PubmedArticleSet"
    assert [e.findtext("MedlineCitation/PMID") for e in root] == ["105", "101", "103"]
    assert [r.pmid for r in pubmed_records_from_xml(response.content)] == [105, 101, 103]


def test_efetch_post_form(pubmed):
    ids = ",".join(str(p) for p in range(100, 112))
    response = requests.post(f"{pubmed.url}/efetch.fcgi", timeout=5,
                             data={"db": "pubmed", "retmode": "xml", "id": ids})
    assert len(_parse_set(response.content)) == 12
    assert pubmed.requests[-1].params["id"] == ids and pubmed.requests[-1].status == 200


def test_efetch_without_ids_is_an_error(pubmed):
    response = requests.get(f"{pubmed.url}/efetch.fcgi", params={"db": "pubmed"}, timeout=5)
    assert response.status_code == 400 and b"Empty id list" in response.content


# --- rate limit -------------------------------------------------------------------------------


def test_rate_limit_without_and_with_api_key():
    with PubMedStandIn(RECORDS) as server:
        statuses = [requests.get(f"{server.url}/esearch.fcgi", timeout=5,
                                 params={"db": "pubmed", "term": "x", "retmode": "json"}).status_code
                    for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        time.sleep(1.05)
        keyed = [requests.get(f"{server.url}/efetch.fcgi", timeout=5,
                              params={"db": "pubmed", "id": "100", "api_key": "k"})
                 for _ in range(11)]
        assert [r.status_code for r in keyed] == [200] * 10 + [429]
        refused = keyed[-1]
        assert refused.headers["Content-Type"] == "application/json"
        assert "Retry-After" not in refused.headers
        assert refused.json() == {"error": "API rate limit exceeded", "api-key": "k",
                                  "count": "11", "limit": "10"}
        assert server.rate_limited == 2


def test_rate_limit_body_without_key():
    with PubMedStandIn(RECORDS) as server:
        for _ in range(4):
            response = requests.get(f"{server.url}/esearch.fcgi", params={"term": "x"}, timeout=5)
        assert response.status_code == 429
        assert response.content == (b'{"error":"API rate limit exceeded","api-key":"127.0.0.1",'
                                    b'"count":"4","limit":"3"}')


# --- store changes ----------------------------------------------------------------------------


def test_add_and_replace_between_runs(pubmed):
    pubmed.add([make_record(200, date(2024, 2, 1)), make_record(100, date(2024, 1, 1), year=1999)])
    result = esearch(pubmed)
    assert result["count"] == "13" and result["idlist"][0] == "200"
    assert esearch(pubmed, mindate="1999", maxdate="1999")["idlist"] == ["100"]  # revision won
    pubmed.replace([make_record(300, date(2024, 5, 1))])
    assert esearch(pubmed)["idlist"] == ["300"]


# --- ClinicalTrials.gov -----------------------------------------------------------------------

STUDIES = [make_study(n, updated) for n, updated in
           zip(range(1, 26), ["2023-12-31", "2024-01", "2024-01-15", "2024-02-01", "2025"] * 5)]


@pytest.fixture
def ctgov():
    with CtGovStandIn(reversed(STUDIES)) as server:
        yield server


def studies(server: CtGovStandIn, **params) -> requests.Response:
    return requests.get(f"{server.url}/studies", params=params, timeout=5)


def test_ctgov_paging_with_tokens(ctgov):
    query = {"query.intr": "ketamine", "pageSize": 10}
    first = studies(ctgov, countTotal="true", **query).json()
    assert first["totalCount"] == 25 and len(first["studies"]) == 10
    assert list(first) == ["studies", "totalCount", "nextPageToken"]
    seen = [s["protocolSection"]["identificationModule"]["nctId"] for s in first["studies"]]
    token = first["nextPageToken"]
    while token:
        page = studies(ctgov, countTotal="true", pageToken=token, **query).json()
        assert "totalCount" not in page
        seen += [s["protocolSection"]["identificationModule"]["nctId"] for s in page["studies"]]
        token = page.get("nextPageToken")
    assert seen == [f"NCT{n:08d}" for n in range(1, 26)]
    assert "nextPageToken" not in studies(ctgov, pageSize=25).json()


def test_ctgov_token_with_changed_params_is_refused(ctgov):
    token = studies(ctgov, **{"query.intr": "ketamine", "pageSize": 5}).json()["nextPageToken"]
    for changed in ({"query.intr": "psilocybin", "pageSize": 5}, {"query.intr": "ketamine"}):
        refused = studies(ctgov, pageToken=token, **changed)
        assert refused.status_code == 400 and "message" in refused.json()
    assert studies(ctgov, pageToken="not-a-token").status_code == 400


def test_ctgov_last_update_range(ctgov):
    def count(expression: str) -> int:
        response = studies(ctgov, countTotal="true", pageSize=1000,
                           **{"filter.advanced": expression})
        assert response.status_code == 200, response.text
        return response.json()["totalCount"]

    assert count("AREA[LastUpdatePostDate]RANGE[2024-01-01,MAX]") == 20  # "2024-01" is Jan 1
    assert count("AREA[LastUpdatePostDate]RANGE[2024-01-02,2024-12-31]") == 10
    assert count("AREA[LastUpdatePostDate]RANGE[MIN,2023-12-31]") == 5
    assert count("AREA[LastUpdatePostDate]RANGE[2025-01-01,MAX]") == 5


@pytest.mark.parametrize("params", [
    {"pageSize": 1001}, {"pageSize": "ten"}, {"pageSize": 0}, {"format": "csv"},
    {"filter.advanced": "AREA[Phase]PHASE3"}, {"sort": "LastUpdatePostDate"},
])
def test_ctgov_bad_requests(ctgov, params):
    response = studies(ctgov, **params)
    assert response.status_code == 400 and response.json()["message"]


def test_ctgov_single_study_and_404(ctgov):
    response = requests.get(f"{ctgov.url}/studies/NCT00000007", timeout=5)
    assert response.json() == STUDIES[6]
    assert requests.get(f"{ctgov.url}/studies/NCT09999999", timeout=5).status_code == 404


def test_ctgov_add_and_replace(ctgov):
    ctgov.add([make_study(3, "2026-01-01"), make_study(99)])
    assert studies(ctgov, countTotal="true").json()["totalCount"] == 26
    assert requests.get(f"{ctgov.url}/studies/NCT00000003", timeout=5).json() == \
        make_study(3, "2026-01-01")
    ctgov.replace([make_study(5)])
    assert studies(ctgov, countTotal="true").json()["totalCount"] == 1


# --- faults -----------------------------------------------------------------------------------

ENDPOINT_CALLS = {
    "esearch": lambda url: requests.get(f"{url}/esearch.fcgi", timeout=5,
                                        params={"term": "x", "retmode": "json"}),
    "efetch": lambda url: requests.post(f"{url}/efetch.fcgi", data={"id": "100,101"}, timeout=5),
    "studies": lambda url: requests.get(f"{url}/studies", params={"countTotal": "true"}, timeout=5),
}


def serve(endpoint: str, faults: FaultPlan):
    if endpoint == "studies":
        return CtGovStandIn(STUDIES, faults=faults)
    return PubMedStandIn(RECORDS, faults=faults, enforce_rate_limit=False)


@pytest.mark.parametrize("endpoint", ENDPOINT_CALLS)
@pytest.mark.parametrize("kind", ["429", "retry-after", "500", "502", "503"])
def test_fault_error_statuses(endpoint, kind):
    with serve(endpoint, FaultPlan({endpoint: [kind]})) as server:
        faulted = ENDPOINT_CALLS[endpoint](server.url)
        normal = ENDPOINT_CALLS[endpoint](server.url)
    assert normal.status_code == 200
    assert server.faults_served == {kind: 1}
    if kind in ("429", "retry-after"):
        assert faulted.status_code == 429
        assert faulted.headers.get("Retry-After") == ("1" if kind == "retry-after" else None)
        expected = ({"message": "Too Many Requests"} if endpoint == "studies"
                    else {"error": "API rate limit exceeded", "api-key": "127.0.0.1",
                          "count": "4", "limit": "3"})
        assert faulted.json() == expected
    else:
        assert faulted.status_code == int(kind)
        assert faulted.headers["Content-Type"] == "text/html"
        assert f"<title>{kind} ".encode() in faulted.content


def _parses(endpoint: str, content: bytes) -> bool:
    try:
        json.loads(content) if endpoint in ("esearch", "studies") else _parse_set(content)
    except (ValueError, etree.XMLSyntaxError):
        return False
    return True


@pytest.mark.parametrize("endpoint", ENDPOINT_CALLS)
def test_fault_truncate(endpoint):
    with serve(endpoint, FaultPlan({endpoint: ["truncate"]})) as server:
        cut = ENDPOINT_CALLS[endpoint](server.url)
        whole = ENDPOINT_CALLS[endpoint](server.url)
    assert cut.status_code == 200 and whole.status_code == 200
    assert int(cut.headers["Content-Length"]) == len(cut.content) == len(whole.content) // 2
    assert whole.content.startswith(cut.content)
    assert not _parses(endpoint, cut.content) and _parses(endpoint, whole.content)


def test_fault_backend_error_is_esearch_answering_only_an_error():
    with PubMedStandIn(RECORDS, faults=FaultPlan({"esearch": ["backend-error"] * 3}), enforce_rate_limit=False) as server:
        failed = [ENDPOINT_CALLS["esearch"](server.url) for _ in range(2)]
        xml = requests.get(f"{server.url}/esearch.fcgi", params={"term": "x"}, timeout=5)
        normal = ENDPOINT_CALLS["esearch"](server.url)
        assert server.faults_served == {"backend-error": 3}
    assert [r.status_code for r in (*failed, xml)] == [200, 200, 200]
    assert [r.json() for r in failed] == [
        {"header": {"type": "esearch", "version": "0.3"}, "esearchresult": {"ERROR": message}} for message in BACKEND_ERRORS]
    assert BACKEND_ERRORS[0].startswith("Search Backend failed: Couldn't resolve #pmquerysrv-mz")
    root = etree.fromstring(xml.content, etree.XMLParser(load_dtd=False, no_network=True))
    assert [child.tag for child in root] == ["ERROR"] and root.findtext("ERROR") == BACKEND_ERRORS[0]
    assert normal.json()["esearchresult"]["count"] == "12"  # then esearch answers normally


def test_backend_error_faults_are_for_esearch_only():
    with pytest.raises(ValueError, match="esearch"):
        FaultPlan({"efetch": ["backend-error"]})
    with pytest.raises(ValueError, match="rate_on"):
        FaultPlan(rate=0.5, kinds=["503", "backend-error"])
    with pytest.raises(ValueError):
        CtGovStandIn(STUDIES, faults=FaultPlan(rate=0.5, kinds=["backend-error"], rate_on=["esearch"]))
    plan = FaultPlan(rate=1.0, seed=1, kinds=["backend-error"], rate_on=["esearch"])
    assert [plan.next_fault("efetch"), plan.next_fault("esearch")] == [None, "backend-error"]


def test_fault_empty():
    with PubMedStandIn(RECORDS, faults=FaultPlan({"esearch": ["empty"], "efetch": ["empty"]}),
                       enforce_rate_limit=False) as pubmed:
        result = ENDPOINT_CALLS["esearch"](pubmed.url).json()["esearchresult"]
        assert result["count"] == "12" and result["idlist"] == [] and result["retmax"] == "0"
        fetched = ENDPOINT_CALLS["efetch"](pubmed.url)
        assert fetched.status_code == 200 and len(_parse_set(fetched.content)) == 0
        assert pubmed.faults_served == {"empty": 2}
    with CtGovStandIn(STUDIES, faults=FaultPlan({"studies": ["empty"]})) as ctgov:
        assert ENDPOINT_CALLS["studies"](ctgov.url).json() == {"studies": []}
        assert len(ENDPOINT_CALLS["studies"](ctgov.url).json()["studies"]) == 10


def test_fault_stall():
    plan = FaultPlan({"studies": ["stall", "stall"]}, stall_seconds=0.4)
    with CtGovStandIn(STUDIES, faults=plan) as server:
        started = time.monotonic()
        slow = ENDPOINT_CALLS["studies"](server.url)
        assert time.monotonic() - started >= 0.4 and slow.json()["totalCount"] == 25
        with pytest.raises(requests.ReadTimeout):
            requests.get(f"{server.url}/studies", timeout=0.1)
        assert server.faults_served == {"stall": 2}


@pytest.mark.parametrize("endpoint", ENDPOINT_CALLS)
def test_fault_drop(endpoint):
    with serve(endpoint, FaultPlan({endpoint: ["drop"]})) as server:
        with pytest.raises(requests.ConnectionError):
            ENDPOINT_CALLS[endpoint](server.url)
        assert ENDPOINT_CALLS[endpoint](server.url).status_code == 200
        assert [r.status for r in server.requests] == [None, 200]
        assert server.faults_served == {"drop": 1}


def test_scripted_faults_run_in_order_per_endpoint():
    plan = FaultPlan({"efetch": ["503", "truncate"], "esearch": ["429"]})
    with PubMedStandIn(RECORDS, faults=plan, enforce_rate_limit=False) as server:
        fetches = [ENDPOINT_CALLS["efetch"](server.url) for _ in range(3)]
        searches = [ENDPOINT_CALLS["esearch"](server.url) for _ in range(2)]
    assert [r.status_code for r in fetches] == [503, 200, 200]
    assert not _parses("efetch", fetches[1].content) and _parses("efetch", fetches[2].content)
    assert [r.status_code for r in searches] == [429, 200]
    assert server.faults_served == {"503": 1, "truncate": 1, "429": 1}
    assert server.rate_limited == 0  # scripted 429s are faults, not the rate limiter


def test_random_faults_are_seeded():
    def run() -> list[int]:
        with CtGovStandIn(STUDIES, faults=FaultPlan(rate=0.5, seed=7, kinds=["503", "500"])) as s:
            return [ENDPOINT_CALLS["studies"](s.url).status_code for _ in range(20)]

    first = run()
    assert first == run()
    assert {200, 500, 503} <= set(first)


def test_fault_plan_validation():
    with pytest.raises(ValueError):
        FaultPlan({"efetch": ["teapot"]})
    with pytest.raises(ValueError):
        PubMedStandIn(RECORDS, faults=FaultPlan({"studies": ["503"]}))


def test_latency():
    with CtGovStandIn(STUDIES, latency=0.2) as server:
        started = time.monotonic()
        ENDPOINT_CALLS["studies"](server.url)
        assert time.monotonic() - started >= 0.2


def test_requests_log_keeps_the_form_body_apart(pubmed):
    requests.post(f"{pubmed.url}/esearch.fcgi?db=pubmed", data={"term": "ketamine", "retmode": "json"}, timeout=5)
    [logged] = pubmed.requests
    assert logged.form == {"term": "ketamine", "retmode": "json"}
    assert logged.params == {"db": "pubmed", "term": "ketamine", "retmode": "json"}


def test_requests_log(ctgov):
    studies(ctgov, pageSize=3, **{"query.intr": "ketamine"})
    requests.get(f"{ctgov.url}/studies/NCT00000001", headers={"User-Agent": "trialwatch"}, timeout=5)
    first, second = ctgov.requests
    assert (first.method, first.path, first.endpoint, first.status) == \
        ("GET", "/api/v2/studies", "studies", 200)
    assert first.params == {"pageSize": "3", "query.intr": "ketamine"}
    assert second.endpoint == "study" and second.headers["User-Agent"] == "trialwatch"
