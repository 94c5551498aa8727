"""The generated demo sample: deterministic, well-formed, realistic enough, and night 2 = night 1 + a day."""
from __future__ import annotations

import re
from collections import Counter
from datetime import date, timedelta

import duckdb
import pytest
from lxml import etree

from flows.demo import NIGHT2_NEW_ARTICLES, NIGHT2_NEW_TRIALS, generate_sample
from tests.helpers import TODAY

NEXT_DAY = TODAY + timedelta(days=1)
PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True)
NCT = re.compile(r"\bNCT\d{8}\b")
DRUG_NAMES = {  # whole-word, case-insensitive
    "ketamine": ("ketamine", "esketamine", "arketamine", "(r)-ketamine", "ketalar", "spravato"),
    "psilocybin": ("psilocybin", "psilocin", "comp360"),
    "mdma": ("mdma", "midomafetamine", "3,4-methylenedioxymethamphetamine", "ecstasy"),
}


def _names_pattern(names) -> re.Pattern:
    return re.compile(r"(?<![\w-])(" + "|".join(map(re.escape, names)) + r")(?![\w])", re.I)


DRUG_PATTERNS = {drug: _names_pattern(names) for drug, names in DRUG_NAMES.items()}


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------

def parse(sample) -> list[etree._Element]:
    root = etree.fromstring(sample.pubmed_xml, PARSER)
    assert root.tag == "PubmedArticleSet"
    return root.findall("PubmedArticle")


def raw_articles(sample) -> dict[int, bytes]:
    """PMID → the exact bytes of its <PubmedArticle> element in the document."""
    chunks = re.findall(rb"<PubmedArticle>.*?</PubmedArticle>", sample.pubmed_xml, re.S)
    return {int(re.search(rb"<PMID Version=\"1\">(\d+)</PMID>", c).group(1)): c for c in chunks}


def studies_by_id(sample) -> dict[str, dict]:
    return {s["protocolSection"]["identificationModule"]["nctId"]: s for s in sample.studies}


def pmid(article) -> int:
    return int(article.findtext("MedlineCitation/PMID"))


def history_date(article, status: str) -> date:
    node = article.find(f"PubmedData/History/PubMedPubDate[@PubStatus='{status}']")
    return date(int(node.findtext("Year")), int(node.findtext("Month")), int(node.findtext("Day")))


def revised(article) -> date:
    node = article.find("MedlineCitation/DateRevised")
    return date(int(node.findtext("Year")), int(node.findtext("Month")), int(node.findtext("Day")))


def text_of(article) -> str:
    parts = [article.find("MedlineCitation/Article/ArticleTitle")]
    parts += article.findall("MedlineCitation/Article/Abstract/AbstractText")
    return " ".join("".join(p.itertext()) for p in parts)


def linked_ncts(article) -> set[str]:
    banks = article.findall("MedlineCitation/Article/DataBankList/DataBank")
    found = {n.text for b in banks if b.findtext("DataBankName") == "ClinicalTrials.gov"
             for n in b.findall("AccessionNumberList/AccessionNumber")}
    return found | set(NCT.findall(text_of(article)))


def links(article) -> set[tuple[str, int]]:
    """(RefType, PMID) of the article's CommentsCorrectionsList."""
    return {(c.get("RefType"), int(c.findtext("PMID")))
            for c in article.iterfind("MedlineCitation/CommentsCorrectionsList/CommentsCorrections")}


def publication_types(article) -> set[str]:
    return {t.text for t in article.iterfind(".//PublicationType")}


def iso(text: str) -> date:
    """'2021-09' or '2021-09-14' → the first day of that period."""
    parts = [int(p) for p in text.split("-")]
    return date(parts[0], parts[1], parts[2] if len(parts) > 2 else 1)


def date_structs(study) -> dict[str, dict]:
    status = study["protocolSection"]["statusModule"]
    return {k: v for k, v in status.items() if isinstance(v, dict) and "date" in v}


def intervention_names(study) -> str:
    arms = study["protocolSection"]["armsInterventionsModule"]["interventions"]
    return " ".join([i["name"] for i in arms] + [n for i in arms for n in i.get("otherNames", [])])


def overdue(sample, today: date, older_than_days: int) -> set[str]:
    linked = set().union(*(linked_ncts(a) for a in parse(sample)))
    found = set()
    for nct, s in studies_by_id(sample).items():
        status = s["protocolSection"]["statusModule"]
        pc = status["primaryCompletionDateStruct"]
        if (status["overallStatus"] in ("COMPLETED", "TERMINATED") and pc["type"] == "ACTUAL"
                and iso(pc["date"]) < today - timedelta(days=older_than_days)
                and not s["hasResults"] and nct not in linked
                and "referencesModule" not in s["protocolSection"]):
            found.add(nct)
    return found


@pytest.fixture(scope="module")
def night1():
    return generate_sample(today=TODAY)


@pytest.fixture(scope="module")
def night2():
    return generate_sample(today=NEXT_DAY, night=2)


# ---------------------------------------------------------------------------------------------
# determinism
# ---------------------------------------------------------------------------------------------

def test_same_arguments_give_identical_output(night1):
    again = generate_sample(today=TODAY)
    assert again.pubmed_xml == night1.pubmed_xml
    assert again.studies == night1.studies


def test_other_seed_gives_other_sample(night1):
    other = generate_sample(seed=7, today=TODAY)
    assert other.pubmed_xml != night1.pubmed_xml
    assert other.studies != night1.studies
    assert {pmid(a) for a in parse(other)} != {pmid(a) for a in parse(night1)}


def test_bad_night_is_rejected():
    with pytest.raises(ValueError):
        generate_sample(today=TODAY, night=3)


# ---------------------------------------------------------------------------------------------
# articles
# ---------------------------------------------------------------------------------------------

def test_article_set_is_wellformed_efetch(night1):
    assert night1.pubmed_xml.startswith(b'<?xml version="1.0" ?>\n<!DOCTYPE PubmedArticleSet')
    articles = parse(night1)
    assert len(articles) == 300
    pmids = [pmid(a) for a in articles]
    assert len(set(pmids)) == len(pmids)
    assert all(25_000_000 <= p <= 45_000_000 for p in pmids)
    for a in articles:
        citation = a.find("MedlineCitation")
        assert citation.get("Owner") == "NLM"
        assert citation.find("PMID").get("Version") == "1"
        assert a.findtext("PubmedData/ArticleIdList/ArticleId[@IdType='pubmed']") == str(pmid(a))
        assert text_of(a).strip()
        assert citation.findtext("Article/Journal/ISOAbbreviation")
        assert citation.find("Article/AuthorList/Author") is not None
        assert a.findtext("PubmedData/PublicationStatus") in ("ppublish", "epublish",
                                                              "aheadofprint")
        assert history_date(a, "entrez") <= TODAY
        assert revised(a) <= TODAY


def test_entrez_dates_span_eight_years_denser_recently(night1):
    dates = sorted(history_date(a, "entrez") for a in parse(night1))
    assert dates[0] >= TODAY - timedelta(days=8 * 365 + 1)
    assert dates[0] <= TODAY - timedelta(days=6 * 365)
    middle = TODAY - timedelta(days=4 * 365)
    assert sum(d >= middle for d in dates) > 1.5 * sum(d < middle for d in dates)


def test_articles_vary_like_real_ones(night1):
    articles = parse(night1)
    xml = night1.pubmed_xml
    types = Counter(t.text for a in articles for t in a.iterfind(".//PublicationType"))
    for kind in ("Randomized Controlled Trial", "Review", "Meta-Analysis", "Case Reports",
                 "Observational Study", "Clinical Trial Protocol"):
        assert types[kind] > 0, kind
    labelled = [a for a in articles if a.find(".//AbstractText[@Label]") is not None]
    plain = [a for a in articles if a.find(".//AbstractText") is not None
             and a.find(".//AbstractText[@Label]") is None]
    assert len(labelled) > len(plain) > 10
    assert any(a.find(".//AbstractText/i") is not None or a.find(".//AbstractText/sup") is not None
               or a.find(".//AbstractText/sub") is not None for a in articles)
    assert b"<MedlineDate>" in xml
    assert b"<CollectiveName>" in xml
    assert re.search(rb"without bipolar disorder|no increase in anxiety|no history of bipolar",
                     xml, re.I)
    assert sum(a.find(".//ELocationID[@EIdType='doi']") is not None for a in articles) > 0.9 * len(articles)
    assert len({a.findtext(".//Journal/ISOAbbreviation") for a in articles}) >= 15
    assert len({a.findtext(".//Affiliation") for a in articles}) >= 15


def test_mesh_indexing_about_70_percent_newest_not_yet(night1):
    articles = parse(night1)
    status = Counter(a.find("MedlineCitation").get("Status") for a in articles)
    assert 0.6 <= status["MEDLINE"] / len(articles) <= 0.8
    indexed = [a for a in articles if a.find(".//MeshHeadingList") is not None]
    assert all(a.find("MedlineCitation").get("Status") == "MEDLINE" for a in indexed)
    assert len(indexed) == status["MEDLINE"]
    waiting = [a for a in articles
               if a.find("MedlineCitation").get("Status") in ("In-Process", "In-Data-Review")]
    assert waiting
    assert min(history_date(a, "entrez") for a in waiting) >= max(
        history_date(a, "entrez") for a in indexed)


def test_mesh_uis_exist_in_the_mesh_tree(night1, corpus_dir):
    tree = {}
    with open(corpus_dir / "mesh" / "jzsh2000_pubmed" / "2017MeshTree.txt",
              encoding="utf-8-sig") as lines:
        for line in lines:
            _, ui, name = line.rstrip("\n").split("\t")
            tree[ui] = name
    used = set()
    for a in parse(night1):
        for node in a.iterfind(".//MeshHeading/DescriptorName"):
            used.add((node.get("UI"), node.text))
        for node in a.iterfind(".//Chemical/NameOfSubstance"):
            used.add((node.get("UI"), node.text))
    for s in night1.studies:
        for module in s["derivedSection"].values():
            used.update((m["id"], m["term"]) for m in module["meshes"])
    assert len(used) >= 30
    wrong = sorted((ui, name, tree.get(ui)) for ui, name in used if tree.get(ui) != name)
    assert not wrong


# ---------------------------------------------------------------------------------------------
# studies
# ---------------------------------------------------------------------------------------------

def test_studies_have_v2_structure_and_unique_ids(night1):
    studies = night1.studies
    assert len(studies) == 150
    ids = [s["protocolSection"]["identificationModule"]["nctId"] for s in studies]
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch(r"NCT0\d{7}", i) for i in ids)
    for s in studies:
        ps = s["protocolSection"]
        for module in ("identificationModule", "statusModule", "sponsorCollaboratorsModule",
                       "descriptionModule", "conditionsModule", "designModule",
                       "armsInterventionsModule", "eligibilityModule", "contactsLocationsModule"):
            assert module in ps, module
        assert isinstance(s["hasResults"], bool)
        criteria = ps["eligibilityModule"]["eligibilityCriteria"]
        assert "Inclusion Criteria:" in criteria and "Exclusion Criteria:" in criteria
        assert ps["contactsLocationsModule"]["locations"]
        assert ps["designModule"]["studyType"] in ("INTERVENTIONAL", "OBSERVATIONAL")
    statuses = Counter(s["protocolSection"]["statusModule"]["overallStatus"] for s in studies)
    assert {"RECRUITING", "NOT_YET_RECRUITING", "ACTIVE_NOT_RECRUITING", "COMPLETED",
            "TERMINATED", "WITHDRAWN", "ENROLLING_BY_INVITATION"} <= set(statuses)
    assert all(s["protocolSection"]["statusModule"].get("whyStopped") for s in studies
               if s["protocolSection"]["statusModule"]["overallStatus"] in ("TERMINATED",
                                                                          "WITHDRAWN"))
    phases = {tuple(s["protocolSection"]["designModule"].get("phases", [])) for s in studies}
    assert {("PHASE2",), ("PHASE3",), ("PHASE2", "PHASE3")} <= phases
    classes = {s["protocolSection"]["sponsorCollaboratorsModule"]["leadSponsor"]["class"]
               for s in studies}
    assert {"INDUSTRY", "OTHER"} <= classes
    countries = {loc["country"] for s in studies
                 for loc in s["protocolSection"]["contactsLocationsModule"]["locations"]}
    assert len(countries) >= 6


def test_study_dates_agree_with_today(night1):
    partial = 0
    for s in night1.studies:
        status = s["protocolSection"]["statusModule"]
        for name, struct in date_structs(s).items():
            when = iso(struct["date"])
            partial += len(struct["date"]) == 7
            if struct["type"] == "ACTUAL":
                assert when <= TODAY, (name, struct)
            elif status["overallStatus"] not in ("UNKNOWN", "WITHDRAWN"):
                assert when > TODAY, (status["overallStatus"], name, struct)
        assert iso(status["studyFirstSubmitDate"]) <= iso(status["lastUpdateSubmitDate"]) <= TODAY
        assert (iso(status["studyFirstPostDateStruct"]["date"])
                <= iso(status["lastUpdatePostDateStruct"]["date"]) <= TODAY)
    assert 0.3 <= partial / (3 * len(night1.studies)) <= 0.7


def test_every_study_involves_one_of_the_three_drugs(night1):
    for s in night1.studies:
        names = intervention_names(s)
        assert any(p.search(names) for p in DRUG_PATTERNS.values()), names


def test_all_three_drugs_appear_in_articles_and_studies(night1):
    article_texts = [text_of(a) for a in parse(night1)]
    study_texts = [intervention_names(s) for s in night1.studies]
    for drug, pattern in DRUG_PATTERNS.items():
        assert sum(bool(pattern.search(t)) for t in article_texts) >= 10, drug
        assert sum(bool(pattern.search(t)) for t in study_texts) >= 5, drug


# ---------------------------------------------------------------------------------------------
# links between the two sides
# ---------------------------------------------------------------------------------------------

def test_articles_and_studies_link_to_each_other(night1):
    articles = parse(night1)
    studies = studies_by_id(night1)
    links = {pmid(a): linked_ncts(a) for a in articles}
    linked = [p for p, ncts in links.items() if ncts]
    assert set().union(*links.values()) <= set(studies)
    assert 0.12 <= len(linked) / len(articles) <= 0.3
    by_bank = sum(a.find(".//DataBankList") is not None for a in articles)
    by_text = sum(bool(NCT.search(text_of(a))) for a in articles)
    assert by_bank > 10 and by_text > 10
    pmids = set(links)
    cited = [r for s in studies.values()
             for r in s["protocolSection"].get("referencesModule", {}).get("references", [])]
    assert len({r["pmid"] for r in cited}) >= 20
    assert {int(r["pmid"]) for r in cited} <= pmids
    assert {"RESULT", "BACKGROUND", "DERIVED"} <= {r["type"] for r in cited}


def test_about_ten_overdue_studies_and_no_borderline_ones(night1):
    strict = overdue(night1, TODAY, 365)
    assert len(strict) == 10
    assert overdue(night1, TODAY, 300) == strict


def test_some_studies_are_recent(night1):
    recent = [s for s in night1.studies if iso(
        s["protocolSection"]["statusModule"]["studyFirstPostDateStruct"]["date"])
        > TODAY - timedelta(days=60)]
    assert len(recent) >= 5


# ---------------------------------------------------------------------------------------------
# night 2
# ---------------------------------------------------------------------------------------------

def test_night2_adds_new_records_newer_than_night1(night1, night2):
    old, new = raw_articles(night1), raw_articles(night2)
    assert set(old) <= set(new)
    added = set(new) - set(old)
    assert len(added) == NIGHT2_NEW_ARTICLES
    by_pmid = {pmid(a): a for a in parse(night2)}
    newest_old = max(history_date(by_pmid[p], "entrez") for p in old)
    assert all(history_date(by_pmid[p], "entrez") == NEXT_DAY > newest_old for p in added)
    old_trials, new_trials = studies_by_id(night1), studies_by_id(night2)
    assert any(linked_ncts(by_pmid[p]) & set(old_trials) for p in added)
    assert set(old_trials) <= set(new_trials)
    fresh = set(new_trials) - set(old_trials)
    assert len(fresh) == NIGHT2_NEW_TRIALS
    for nct in fresh:
        status = new_trials[nct]["protocolSection"]["statusModule"]
        assert status["studyFirstPostDateStruct"]["date"] == NEXT_DAY.isoformat()


def test_night2_changes_exactly_three_studies(night1, night2):
    old, new = studies_by_id(night1), studies_by_id(night2)
    changed = {nct for nct in old if old[nct] != new[nct]}
    assert len(changed) == 3
    kinds = set()
    for nct in changed:
        before, after = old[nct], new[nct]
        status = after["protocolSection"]["statusModule"]
        assert status["lastUpdatePostDateStruct"]["date"] == NEXT_DAY.isoformat()
        was = before["protocolSection"]["statusModule"]["overallStatus"]
        if was != status["overallStatus"]:
            assert was in ("RECRUITING", "ACTIVE_NOT_RECRUITING")
            assert status["overallStatus"] == "COMPLETED"
            for name in ("primaryCompletionDateStruct", "completionDateStruct"):
                assert status[name]["type"] == "ACTUAL"
                assert iso(status[name]["date"]) <= NEXT_DAY
            kinds.add("status")
        elif (before["protocolSection"]["designModule"]["enrollmentInfo"]["count"]
              != after["protocolSection"]["designModule"]["enrollmentInfo"]["count"]):
            kinds.add("enrollment")
        elif not before["hasResults"] and after["hasResults"]:
            kinds.add("results")
    assert kinds == {"status", "enrollment", "results"}


def test_night2_keeps_unchanged_articles_byte_identical(night1, night2):
    """Three night-1 papers are revised on night 2: one gets its MeSH indexing, one is retracted,
    one gets an expression of concern; every other one is served byte for byte as before."""
    old, new = raw_articles(night1), raw_articles(night2)
    differing = [p for p in old if old[p] != new[p]]
    assert len(differing) == 3
    changes = set()
    for p in differing:
        before, after = (etree.fromstring(x[p], PARSER) for x in (old, new))
        assert revised(after) == NEXT_DAY
        if before.find(".//MeshHeadingList") is None and after.find(".//MeshHeadingList") is not None:
            changes.add("indexed")
        gained = links(after) - links(before)
        if {kind for kind, _ in gained} == {"RetractionIn"} and "Retracted Publication" in publication_types(after):
            changes.add("retracted")
        if {kind for kind, _ in gained} == {"ExpressionOfConcernIn"}:
            changes.add("concern")
    assert changes == {"indexed", "retracted", "concern"}


def test_night2_is_itself_deterministic(night2):
    again = generate_sample(today=NEXT_DAY, night=2)
    assert again.pubmed_xml == night2.pubmed_xml and again.studies == night2.studies


# ---------------------------------------------------------------------------------------------
# size and speed
# ---------------------------------------------------------------------------------------------

def test_fifteen_thousand_articles_for_the_backfill_cap():
    """Large samples stay well-formed (how long they take is benchmarks/ business, not a test's)."""
    sample = generate_sample(today=TODAY, n_articles=15_000)
    pmids = re.findall(rb"<MedlineCitation[^>]*><PMID Version=\"1\">(\d+)</PMID>", sample.pubmed_xml)
    assert len(pmids) == len(set(pmids)) == 15_000
    assert sample.pubmed_xml.count(b"<PubmedArticle>") == 15_000


# ---------------------------------------------------------------------------------------------
# posted results
# ---------------------------------------------------------------------------------------------

RESULT_MODULES = ["participantFlowModule", "baselineCharacteristicsModule", "outcomeMeasuresModule",
                  "adverseEventsModule"]


def test_results_sections_exactly_where_has_results_is_true(night1):
    with_results = [s for s in night1.studies if s["hasResults"]]
    assert 10 <= len(with_results) < len(night1.studies)
    for s in night1.studies:
        assert ("resultsSection" in s) == s["hasResults"]
        status = s["protocolSection"]["statusModule"]
        if s["hasResults"]:
            assert status["overallStatus"] in ("COMPLETED", "TERMINATED")
            posted = iso(status["resultsFirstPostDateStruct"]["date"])
            assert iso(status["resultsFirstSubmitDate"]) <= iso(status["resultsFirstSubmitQcDate"]) <= posted <= TODAY
        else:
            assert "resultsFirstPostDateStruct" not in status


def test_results_sections_have_the_v2_structure(night1):
    for s in (s for s in night1.studies if s["hasResults"]):
        results = s["resultsSection"]
        assert list(results) == RESULT_MODULES
        arms = s["protocolSection"]["armsInterventionsModule"]["armGroups"]
        flow = results["participantFlowModule"]
        assert [g["title"] for g in flow["groups"]] == [a["label"] for a in arms]
        [period] = flow["periods"]
        milestones = {m["type"]: [int(a["numSubjects"]) for a in m["achievements"]] for m in period["milestones"]}
        assert sum(milestones["STARTED"]) == s["protocolSection"]["designModule"]["enrollmentInfo"]["count"]
        assert [a - b for a, b in zip(milestones["STARTED"], milestones["COMPLETED"])] == milestones["NOT COMPLETED"]
        assert milestones["NOT COMPLETED"] == [sum(int(r["numSubjects"]) for d in period["dropWithdraws"]
                                                   for r in d["reasons"] if r["groupId"] == g["id"])
                                               for g in flow["groups"]]
        [measure] = results["outcomeMeasuresModule"]["outcomeMeasures"]
        registered = s["protocolSection"]["outcomesModule"]["primaryOutcomes"][0]
        assert (measure["type"], measure["title"], measure["timeFrame"]) == (
            "PRIMARY", registered["measure"], registered["timeFrame"])
        codes = {g["id"] for g in measure["groups"]}
        measured = {m["groupId"] for c in measure["classes"] for cat in c["categories"] for m in cat["measurements"]}
        assert measured == codes
        assert ("analyses" in measure) == (len(arms) > 1)
        for analysis in measure.get("analyses", []):
            assert set(analysis["groupIds"]) <= codes
            assert float(analysis["ciLowerLimit"]) <= float(analysis["paramValue"]) <= float(analysis["ciUpperLimit"])
            assert re.fullmatch(r"<0\.001|0\.\d{3}|1\.000", analysis["pValue"])
        events = results["adverseEventsModule"]
        group_ids = [g["id"] for g in events["eventGroups"]]
        assert len(group_ids) == len(arms)
        for event in events["seriousEvents"] + events["otherEvents"]:
            assert [x["groupId"] for x in event["stats"]] == group_ids
            assert all(0 <= x["numAffected"] <= x["numAtRisk"] and x["numEvents"] >= x["numAffected"]
                       for x in event["stats"])
        assert events["seriousEvents"]


def test_results_feed_the_aact_tables_with_the_usual_adverse_events(night1):
    from extract.aact import study_rows

    terms: Counter = Counter()
    for s in (s for s in night1.studies if s["hasResults"]):
        rows = study_rows(s)
        for table in ("outcomes", "outcome_measurements", "reported_events", "reported_event_totals",
                      "milestones", "baseline_measurements"):
            assert rows[table], table
        assert all(r["result_group_id"] for r in rows["outcome_measurements"] + rows["reported_events"])
        assert all(r["param_value_num"] is not None for r in rows["outcome_measurements"])
        terms.update(r["adverse_event_term"] for r in rows["reported_events"] if r["event_type"] == "other")
    assert {"Dissociation", "Blood pressure increased", "Nausea", "Headache"} <= set(terms)


def test_the_study_that_posts_results_on_night2_gets_a_results_section(night1, night2):
    old = studies_by_id(night1)
    [reporting] = [s for nct, s in studies_by_id(night2).items()
                   if nct in old and s["hasResults"] and not old[nct]["hasResults"]]
    assert list(reporting["resultsSection"]) == RESULT_MODULES
    assert reporting["protocolSection"]["statusModule"]["resultsFirstPostDateStruct"]["date"] == NEXT_DAY.isoformat()


# ---------------------------------------------------------------------------------------------
# drug roles, designs, comments and corrections: the demo as the pipeline stores it
# ---------------------------------------------------------------------------------------------
# demo_db (tests/dashboard_fixtures.py) is the two-night demo: night 1 served the world of the
# day before TODAY, night 2 the world of TODAY. Expectations come from the XML the generator
# serves (read with lxml here) or from plain SQL, never from the generator's plans.

ROLE_CUE = re.compile(r"an(?:a)?esthe|sedat|such as|both groups|all patients", re.I)
MENTION_ONLY = """
SELECT a.pmid FROM articles a
WHERE EXISTS (SELECT 1 FROM record_drugs d WHERE d.record_kind = 'article' AND d.record_id = CAST(a.pmid AS VARCHAR))
  AND NOT EXISTS (SELECT 1 FROM record_drugs d WHERE d.record_kind = 'article'
                  AND d.record_id = CAST(a.pmid AS VARCHAR) AND d.role = 'subject')
"""


@pytest.fixture(scope="module")
def served():
    """PMID → <PubmedArticle> of what the demo's two nights served, the newest version."""
    nights = (generate_sample(today=TODAY - timedelta(days=1)), generate_sample(today=TODAY, night=2))
    return {pmid(a): a for sample in nights for a in parse(sample)}


@pytest.fixture(scope="module")
def warehouse(demo_db):
    conn = duckdb.connect(str(demo_db), read_only=True)
    yield conn
    conn.close()


def rows(conn, sql: str, params=()) -> set:
    return {row[0] if len(row) == 1 else row for row in conn.execute(sql, list(params)).fetchall()}


def drug_sentences(article) -> list[str]:
    sentences = re.split(r"(?<=[.!?])\s+(?=[A-Z(\[\d])", text_of(article))
    return [s for s in sentences if any(p.search(s) for p in DRUG_PATTERNS.values())]


def test_demo_has_papers_that_only_mention_a_drug(warehouse, served):
    mention_only = rows(warehouse, MENTION_ONLY)
    assert set(served) == rows(warehouse, "SELECT pmid FROM articles")
    assert 0.06 <= len(mention_only) / len(served) <= 0.15
    for p in mention_only:
        article = served[p]
        title = article.findtext("MedlineCitation/Article/ArticleTitle")
        keywords = " ; ".join(k.text for k in article.iterfind(".//Keyword"))
        assert not any(d.search(keywords) for d in DRUG_PATTERNS.values()), p
        assert not any(d.search(title) for d in DRUG_PATTERNS.values()) or ROLE_CUE.search(title), title
        assert all(ROLE_CUE.search(s) for s in drug_sentences(article)), p
    mesh = Counter(h.text for p in mention_only for h in served[p].iterfind(".//MeshHeading/DescriptorName"))
    assert mesh["Animals"] >= 3 and mesh["Humans"] >= 3 and mesh["Anesthesia"] >= 3
    titles = {served[p].findtext(".//ArticleTitle") for p in mention_only}
    assert len(titles) >= 0.6 * len(mention_only)


def test_papers_naming_a_drug_in_the_title_are_about_it(warehouse, served):
    mention_only = rows(warehouse, MENTION_ONLY)
    named = {p for p, a in served.items()
             if any(d.search(a.findtext(".//ArticleTitle")) for d in DRUG_PATTERNS.values())
             and not ROLE_CUE.search(a.findtext(".//ArticleTitle"))}
    assert len(named) > len(served) / 2
    assert not named & mention_only


def test_demo_has_preclinical_papers_about_a_drug(warehouse, served):
    about = rows(warehouse, """SELECT a.pmid FROM articles a JOIN record_drugs d ON d.record_kind = 'article'
        AND d.record_id = CAST(a.pmid AS VARCHAR) AND d.role = 'subject' WHERE a.study_design = 'preclinical'""")
    assert len(about) >= 0.04 * len(served)
    for p in about:
        text = text_of(served[p])
        assert re.search(r"\b(?:mice|rats|dogs)\b", text), p
        assert any(d.search(served[p].findtext(".//ArticleTitle")) for d in DRUG_PATTERNS.values()), p


def test_comments_and_corrections_are_stored_as_served(warehouse, served):
    expected = Counter((p, c.get("RefType"), int(c.findtext("PMID"))) for p, a in served.items()
                       for c in a.iterfind(".//CommentsCorrections"))
    stored = Counter(warehouse.execute("SELECT pmid, ref_type, ref_pmid FROM comments_corrections").fetchall())
    assert stored == expected
    kinds = Counter(kind for _, kind, _ in expected.elements())
    assert {"CommentIn", "CommentOn", "ErratumIn", "RetractionIn", "RetractionOf", "ExpressionOfConcernIn"} <= set(kinds)
    assert kinds["CommentIn"] == kinds["CommentOn"] and kinds["RetractionIn"] == kinds["RetractionOf"] == 2


def test_retraction_pairs_point_at_each_other(served):
    retracted = {p for p, a in served.items() if "Retracted Publication" in publication_types(a)}
    assert len(retracted) == 2
    for p in retracted:
        [(kind, notice)] = [link for link in links(served[p]) if link[0] == "RetractionIn"]
        assert "Retraction of Publication" in publication_types(served[notice])
        assert ("RetractionOf", p) in links(served[notice])
        assert history_date(served[notice], "entrez") > history_date(served[p], "entrez")


def test_a_paper_is_retracted_on_night1_and_another_on_night2(warehouse, demo_db):
    def retracted(sample) -> set[int]:
        return {pmid(a) for a in parse(sample) if any(kind == "RetractionIn" for kind, _ in links(a))}

    on_night1 = retracted(generate_sample(today=TODAY - timedelta(days=1)))
    newly = retracted(generate_sample(today=TODAY, night=2)) - on_night1
    assert len(on_night1) == 1 and len(newly) == 1
    assert rows(warehouse, "SELECT pmid FROM articles WHERE retracted") == on_night1 | newly
    concern = rows(warehouse, "SELECT pmid FROM articles WHERE expression_of_concern")
    assert len(concern) == 1 and not concern & (on_night1 | newly)
    digest = (demo_db.parent / "digests" / "latest.md").read_text(encoding="utf-8")
    section = digest.split("## Retracted since the last run", 1)[1].split("\n## ", 1)[0]
    assert f"PMID {newly.pop()}" in section and f"PMID {on_night1.pop()}" not in section
