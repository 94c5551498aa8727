"""The Atom feeds — all-in-one, per drug, per drug × condition group, per group — after two nights
served over real HTTP by the stand-ins, and What's new "since the last run" / "since my last visit".

Expected entries come from plain SQL on record_drugs, article_trials, trial_history and
v_record_condition_groups, never from the feed code's own query.
"""
from __future__ import annotations

from datetime import datetime, timedelta

import duckdb
import pytest
from lxml import etree

from extract.catalogue import Catalogue
from extract.condition_groups import GROUP_LABELS
from extract.standins import CtGovStandIn, PubMedRecord, PubMedStandIn
from flows import pipeline
from flows.digest import slug
from flows.jobs import Working, summarize, write_files
from flows.settings import Settings
from tests.helpers import TODAY
from warehouse import clock
from tests.test_dashboard import ok, open_page, scalar
from warehouse.db import open_warehouse

ATOM = "{http://www.w3.org/2005/Atom}"
DASHBOARD = "https://tw.example.org/dash"
RETRACTED, NO_LINK_PSILOCYBIN, NO_LINK_MDMA, ANAESTHESIA, LINKED = 32000001, 32000011, 32000012, 32000013, 32000014
RECRUITING_THEN_DONE, MDMA_TRIAL, KETAMINE_TRIAL = "NCT07000001", "NCT07000002", "NCT07000003"


def paper(pmid: int, title: str, abstract: str, day, *, bank: str | None = None, extra: str = "") -> PubMedRecord:
    banks = (f"<DataBankList><DataBank><DataBankName>ClinicalTrials.gov</DataBankName><AccessionNumberList>"
             f"<AccessionNumber>{bank}</AccessionNumber></AccessionNumberList></DataBank></DataBankList>") if bank else ""
    xml = (f'<PubmedArticle><MedlineCitation><PMID Version="1">{pmid}</PMID><Article>'
           f"<ArticleTitle>{title}</ArticleTitle><Abstract><AbstractText>{abstract}</AbstractText></Abstract>"
           f'<PublicationTypeList><PublicationType UI="D016428">Journal Article</PublicationType></PublicationTypeList>'
           f"{banks}</Article>{extra}</MedlineCitation></PubmedArticle>").encode()
    return PubMedRecord(pmid, xml, day, day, day)


def study(nct: str, title: str, drug: str, condition: str, status: str, updated, references=()) -> dict:
    return {"protocolSection": {
        "identificationModule": {"nctId": nct, "briefTitle": title},
        "statusModule": {"overallStatus": status, "lastUpdatePostDateStruct": {"date": updated.isoformat(),
                                                                                "type": "ACTUAL"}},
        "conditionsModule": {"conditions": [condition]},
        "designModule": {"studyType": "INTERVENTIONAL", "phases": ["PHASE2"]},
        "armsInterventionsModule": {"interventions": [{"type": "DRUG", "name": drug}]},
        "referencesModule": {"references": [{"pmid": str(pmid), "type": "RESULT", "citation": "x"}
                                            for pmid in references]},
    }}


RETRACTION = (b"<CommentsCorrectionsList><CommentsCorrections RefType=\"RetractionIn\"><RefSource>J Psych. "
              b"2026;1:1</RefSource><PMID Version=\"1\">32000099</PMID></CommentsCorrections></CommentsCorrectionsList>")


def world(night: int) -> tuple[list[PubMedRecord], list[dict]]:
    old, today = TODAY - timedelta(days=10), TODAY
    retracted = paper(RETRACTED, "Psilocybin for treatment-resistant depression: a randomized trial",
                      "Adults with treatment-resistant depression received psilocybin or placebo.", old)
    papers = [retracted]
    studies = [study(RECRUITING_THEN_DONE, "Psilocybin for major depressive disorder", "Psilocybin",
                     "Major Depressive Disorder", "RECRUITING", old)]
    if night == 1:
        return papers, studies
    papers = [PubMedRecord(RETRACTED, retracted.xml.replace(b"</MedlineCitation>", RETRACTION + b"</MedlineCitation>"),
                           old, today, old),
              paper(NO_LINK_PSILOCYBIN, "Psilocybin &amp; mood: &lt;3 sessions for major depression",
                    "Psilocybin reduced symptoms of major depressive disorder.", today),
              paper(NO_LINK_MDMA, "MDMA-assisted therapy for post-traumatic stress disorder",
                    "MDMA-assisted therapy reduced PTSD symptoms in veterans.", today),
              paper(ANAESTHESIA, "Hippocampal long-term potentiation after fear conditioning in rats",
                    "Rats were anaesthetised with ketamine (80 mg/kg) and xylazine (10 mg/kg) before electrodes "
                    "were implanted.", today),
              paper(LINKED, "MDMA for severe PTSD: results of a phase 2 trial",
                    f"MDMA-assisted therapy for post-traumatic stress disorder (registered as {MDMA_TRIAL}).", today,
                    bank=MDMA_TRIAL)]
    studies = [study(RECRUITING_THEN_DONE, "Psilocybin for major depressive disorder", "Psilocybin",
                     "Major Depressive Disorder", "COMPLETED", today),
               study(MDMA_TRIAL, "MDMA-assisted therapy for PTSD", "MDMA", "Post-traumatic Stress Disorder",
                     "COMPLETED", today, references=[LINKED]),
               study(KETAMINE_TRIAL, "Ketamine for treatment-resistant depression", "Ketamine",
                     "Treatment Resistant Depression", "RECRUITING", today)]
    return papers, studies


def read(path) -> etree._Element:
    return etree.fromstring(path.read_bytes())


def entry_ids(feed: etree._Element) -> list[str]:
    return [entry.findtext(f"{ATOM}id").removeprefix("tag:trialwatch,2026:") for entry in feed.iter(f"{ATOM}entry")]


@pytest.fixture(scope="module")
def two_nights(tmp_path_factory):
    """Two nights into a warehouse, then the files the nightly flow writes (digests, feeds)."""
    tmp = tmp_path_factory.mktemp("feeds")
    settings = Settings(db_path=tmp / "w.duckdb", data_dir=tmp / "data", workers=1, dashboard_url=DASHBOARD)
    feeds = settings.feed_path.parent
    feeds.mkdir(parents=True)
    (feeds / "ketamine--sleep.xml").write_bytes(b"<feed/>")   # a group feed a former run wrote
    (feeds / "notes.xml").write_bytes(b"<notes/>")            # not trialwatch's
    papers, studies = world(1)
    with PubMedStandIn(papers) as pubmed, CtGovStandIn(studies) as ctgov, open_warehouse(settings.db_path) as conn:
        served = settings.with_overrides(pubmed_url=pubmed.url, ctgov_url=ctgov.url)
        for night, window in ((1, pipeline.Window("full")), (2, pipeline.Window("since", TODAY - timedelta(days=2)))):
            papers, studies = world(night)
            pubmed.replace(papers)
            ctgov.replace(studies)
            for source in ("pubmed", "ctgov"):
                summary = pipeline.ingest_source(conn, served, source, window, catalogue=Catalogue.load(),
                                                 progress=lambda _: None, today=TODAY)
                assert summary.status == "succeeded", summary.message
        write_files(settings, summarize(Working(conn), settings, []))
        conn.execute("CHECKPOINT")
    with duckdb.connect(str(settings.db_path), read_only=True) as conn:
        yield settings, conn


def expected_entries(conn, drug: str | None = None, group: str | None = None) -> set[str]:
    """What a feed must hold, by plain SQL: the records of `drug` (a paper's only if it is about it)
    and in `group`; a paper-trial pair if its paper or its trial is."""
    records = """
        SELECT d.record_kind, d.record_id FROM record_drugs d
        WHERE ($drug IS NULL OR d.drug = $drug) AND (d.record_kind = 'trial' OR d.role IS DISTINCT FROM 'mention')
          AND ($drug IS NOT NULL OR $grp IS NOT NULL)
          AND ($grp IS NULL OR EXISTS (SELECT 1 FROM v_record_condition_groups g WHERE g.record_kind = d.record_kind
                                       AND g.record_id = d.record_id AND g.condition_group = $grp))
        UNION
        SELECT g.record_kind, g.record_id FROM v_record_condition_groups g WHERE $drug IS NULL AND g.condition_group = $grp
        UNION  -- the all-in-one feed: every trial, every paper about a drug or naming none
        SELECT 'trial', nct_id FROM trials WHERE $drug IS NULL AND $grp IS NULL
        UNION
        SELECT 'article', CAST(pmid AS VARCHAR) FROM articles a WHERE $drug IS NULL AND $grp IS NULL
          AND coalesce((SELECT bool_or(d.role IS DISTINCT FROM 'mention') FROM record_drugs d
                        WHERE d.record_kind = 'article' AND d.record_id = CAST(a.pmid AS VARCHAR)), true)
    """
    chosen = {"drug": drug, "grp": group}
    kept = set(conn.execute(records, chosen).fetchall())
    trials = {rid for kind, rid in kept if kind == "trial"}
    papers = {rid for kind, rid in kept if kind == "article"}
    # a paper's entry needs the paper to be about a drug (or name none), whichever feed it is in
    about = {rid for (rid,) in conn.execute(
        "SELECT CAST(pmid AS VARCHAR) FROM articles a WHERE coalesce((SELECT bool_or(d.role IS DISTINCT FROM "
        "'mention') FROM record_drugs d WHERE d.record_kind = 'article' AND d.record_id = CAST(a.pmid AS VARCHAR)), "
        "true)").fetchall()}
    entries = {f"trial/{nct}/new" for nct in trials} | {f"paper/{pmid}/new" for pmid in papers & about}
    entries |= {f"trial/{nct}/status/{at:%Y%m%dT%H%M%S}" for nct, at in conn.execute(
        "SELECT nct_id, observed_at FROM trial_history WHERE field = 'overall_status'").fetchall() if nct in trials}
    pairs = conn.execute("SELECT DISTINCT CAST(pmid AS VARCHAR), nct_id FROM article_trials "
                         "WHERE pmid IN (SELECT pmid FROM articles)").fetchall()
    everything = drug is None and group is None
    entries |= {f"link/{pmid}/{nct}" for pmid, nct in pairs if everything or pmid in papers or nct in trials}
    return entries


def test_the_world_has_what_the_feeds_are_tested_on(two_nights):
    _, conn = two_nights
    assert conn.execute("SELECT list(evidence ORDER BY evidence) FROM article_trials WHERE pmid = ? AND nct_id = ?",
                        [LINKED, MDMA_TRIAL]).fetchall() == [(["abstract", "ctgov_reference", "databank"],)]
    assert conn.execute("SELECT count(*) FROM trial_history WHERE field = 'overall_status'").fetchall() == [(1,)]
    assert conn.execute("SELECT retracted FROM articles WHERE pmid = ?", [RETRACTED]).fetchall() == [(True,)]
    assert conn.execute("SELECT role FROM record_drugs WHERE record_id = ?", [str(ANAESTHESIA)]).fetchall() == [("mention",)]
    groups = {row for row in conn.execute("SELECT DISTINCT record_id, condition_group FROM v_record_condition_groups")
              .fetchall()}
    assert {(RECRUITING_THEN_DONE, "depressive"), (MDMA_TRIAL, "trauma"), (str(NO_LINK_MDMA), "trauma")} <= groups


def test_the_all_in_one_feed_has_every_new_record_once_and_the_pair_once(two_nights):
    settings, conn = two_nights
    ids = entry_ids(read(settings.feed_path))
    assert len(ids) == len(set(ids))
    assert set(ids) == expected_entries(conn)
    (changed_at,) = conn.execute("SELECT observed_at FROM trial_history WHERE field = 'overall_status'").fetchone()
    assert set(ids) == {f"trial/{RECRUITING_THEN_DONE}/new", f"trial/{MDMA_TRIAL}/new", f"trial/{KETAMINE_TRIAL}/new",
                        f"trial/{RECRUITING_THEN_DONE}/status/{changed_at:%Y%m%dT%H%M%S}",
                        f"paper/{RETRACTED}/new", f"paper/{NO_LINK_PSILOCYBIN}/new", f"paper/{NO_LINK_MDMA}/new",
                        f"paper/{LINKED}/new", f"link/{LINKED}/{MDMA_TRIAL}"}   # the anaesthesia paper stays out
    titles = {entry.findtext(f"{ATOM}id"): entry.findtext(f"{ATOM}title")
              for entry in read(settings.feed_path).iter(f"{ATOM}entry")}
    assert titles[f"tag:trialwatch,2026:paper/{RETRACTED}/new"].startswith("⚠ RETRACTED — New paper: ")
    assert titles[f"tag:trialwatch,2026:paper/{NO_LINK_PSILOCYBIN}/new"] == \
        "New paper: Psilocybin & mood: <3 sessions for major depression"   # escaped in the XML, whole when read


def test_the_feed_with_mentions_adds_exactly_the_papers_that_only_mention_a_drug(two_nights):
    settings, conn = two_nights
    default = set(entry_ids(read(settings.feed_path)))
    with_mentions = entry_ids(read(settings.feed_path.parent / "new-with-mentions.xml"))
    mention_only = {f"paper/{pmid}/new" for (pmid,) in conn.execute(
        "SELECT pmid FROM v_articles WHERE len(subject_drugs) = 0 AND len(drugs) > 0").fetchall()}
    assert mention_only == {f"paper/{ANAESTHESIA}/new"}
    assert len(with_mentions) == len(set(with_mentions)) and set(with_mentions) == default | mention_only
    assert all(f"paper/{ANAESTHESIA}/new" not in entry_ids(read(path))
               for path in settings.feed_path.parent.glob("*.xml") if path.name != "new-with-mentions.xml")


def test_each_drug_feed_holds_exactly_that_drugs_entries(two_nights):
    settings, conn = two_nights
    folder = settings.feed_path.parent
    for drug in Catalogue.load().drugs:
        ids = entry_ids(read(folder / f"{drug.key}.xml"))
        assert len(ids) == len(set(ids))
        assert set(ids) == expected_entries(conn, drug.key), drug.key
    mdma = set(entry_ids(read(folder / "mdma.xml")))
    assert {f"trial/{MDMA_TRIAL}/new", f"paper/{NO_LINK_MDMA}/new", f"paper/{LINKED}/new",
            f"link/{LINKED}/{MDMA_TRIAL}"} == mdma
    assert f"paper/{ANAESTHESIA}/new" not in entry_ids(read(folder / "ketamine.xml"))


def test_each_drug_and_group_feed_holds_exactly_that_drugs_records_in_that_group(two_nights):
    settings, conn = two_nights
    folder = settings.feed_path.parent
    pairs = conn.execute("""
        SELECT DISTINCT d.drug, g.condition_group FROM record_drugs d
        JOIN v_record_condition_groups g USING (record_kind, record_id)
        WHERE d.record_kind = 'trial' OR d.role IS DISTINCT FROM 'mention'""").fetchall()
    group_slugs = {slug(group): group for group in GROUP_LABELS}
    written = {path.name for path in folder.glob("*--*.xml")}
    assert written == {f"{drug}--{slug(group)}.xml" for drug, group in pairs} | \
        {f"group--{slug(group)}.xml" for (group,) in conn.execute(
            "SELECT DISTINCT condition_group FROM v_record_condition_groups").fetchall()}
    assert not (folder / "ketamine--sleep.xml").exists() and (folder / "notes.xml").exists()   # stale one removed
    for name in written:
        first, _, group_slug = name.removesuffix(".xml").partition("--")
        group = group_slugs.get(group_slug, group_slug.replace("-", " "))
        ids = entry_ids(read(folder / name))
        assert len(ids) == len(set(ids)) and ids, name
        assert set(ids) == expected_entries(conn, None if first == "group" else first, group), name
    feed = read(folder / "psilocybin--depressive.xml")
    assert feed.findtext(f"{ATOM}title") == "trialwatch: Psilocybin · Depressive disorders"
    assert {f"trial/{RECRUITING_THEN_DONE}/new", f"paper/{NO_LINK_PSILOCYBIN}/new"} <= set(entry_ids(feed))
    assert f"trial/{MDMA_TRIAL}/new" not in entry_ids(feed)


def test_every_feed_is_atom_with_stable_ids_and_links_to_the_source_and_the_dashboard(two_nights):
    settings, _ = two_nights
    titles: dict[str, str] = {}
    feeds = [path for path in settings.feed_path.parent.glob("*.xml") if path.name != "notes.xml"]
    assert len(feeds) > 5
    for path in feeds:
        feed = read(path)
        assert feed.tag == f"{ATOM}feed"
        assert feed.findtext(f"{ATOM}id").startswith("tag:trialwatch,2026:feed/")
        assert feed.findtext(f"{ATOM}title").startswith("trialwatch: ")
        assert feed.findtext(f"{ATOM}author/{ATOM}name") == "trialwatch"
        datetime.fromisoformat(feed.findtext(f"{ATOM}updated"))
        for entry in feed.iter(f"{ATOM}entry"):
            entry_id, title = entry.findtext(f"{ATOM}id"), entry.findtext(f"{ATOM}title")
            assert title and titles.setdefault(entry_id, title) == title   # the same entry in every feed
            datetime.fromisoformat(entry.findtext(f"{ATOM}updated"))
            links = {link.get("rel"): link.get("href") for link in entry.iter(f"{ATOM}link")}
            assert set(links) == {"alternate", "related"}
            record = entry_id.split(":")[-1].split("/")
            if record[0] == "trial":
                assert links == {"alternate": f"https://clinicaltrials.gov/study/{record[1]}",
                                 "related": f"{DASHBOARD}/trials?nct={record[1]}"}
            else:
                assert links == {"alternate": f"https://pubmed.ncbi.nlm.nih.gov/{record[1]}/",
                                 "related": f"{DASHBOARD}/literature?pmid={record[1]}"}
    assert read(settings.feed_path).findtext(f"{ATOM}id") == "tag:trialwatch,2026:feed/new"


# --- What's new since … ------------------------------------------------------------------------------

LATEST_RUN_IDS = "SELECT run_ids FROM publications ORDER BY generation DESC LIMIT 1"


def test_whats_new_since_the_last_run_shows_exactly_what_the_latest_run_stored(demo_db, monkeypatch):
    at = ok(open_page(demo_db, "whats_new", monkeypatch))
    assert at.radio(key="since_mode").value == "run"
    runs = scalar(demo_db, LATEST_RUN_IDS)
    with duckdb.connect(str(demo_db), read_only=True) as conn:
        trials = {nct for (nct,) in conn.execute("SELECT nct_id FROM trials WHERE list_contains(?, first_run_id)",
                                                 [runs]).fetchall()}
        papers = {str(pmid) for (pmid,) in conn.execute(
            "SELECT pmid FROM articles a WHERE list_contains(?, first_run_id) AND coalesce((SELECT bool_or(d.role "
            "IS DISTINCT FROM 'mention') FROM record_drugs d WHERE d.record_kind = 'article' "
            "AND d.record_id = CAST(a.pmid AS VARCHAR)), true) AND study_design IS DISTINCT FROM 'notice'",
            [runs]).fetchall()}
        notices = {str(pmid) for (pmid,) in conn.execute(
            "SELECT pmid FROM articles WHERE list_contains(?, first_run_id) AND study_design = 'notice'",
            [runs]).fetchall()}
        changes = conn.execute("SELECT count(*) FROM trial_history WHERE list_contains(?, run_id) "
                               "AND field <> 'last_update_posted_date'", [runs]).fetchone()[0]
        links = conn.execute("SELECT count(DISTINCT (pmid, nct_id)) FROM article_trials WHERE list_contains(?, run_id)",
                             [runs]).fetchone()[0]
        everything = conn.execute("SELECT count(*) FROM trials").fetchone()[0]
    new_trials, trial_changes, new_papers, listed_notices, new_links = (df.value for df in at.dataframe)
    assert trials and set(new_trials["nct_id"]) == trials and len(new_trials) == len(trials) < everything
    assert set(new_papers["pmid"].astype(str)) == papers and len(new_papers) == len(papers)
    assert notices and set(listed_notices["pmid"].astype(str)) == notices   # apart from the new papers
    assert (len(trial_changes), len(new_links)) == (changes, links)
    assert any("What the last run brought" in c.value for c in at.caption)


def test_whats_new_since_my_last_visit_reads_the_cookie_and_remembers_this_visit(demo_db, monkeypatch):
    from streamlit.runtime.context import ContextProxy, StreamlitCookies

    with duckdb.connect(str(demo_db), read_only=True) as conn:
        (night_two,) = conn.execute("SELECT min(started_at) FROM ingest_runs WHERE list_contains((" + LATEST_RUN_IDS
                                    + "), run_id)").fetchone()
    visited = night_two - timedelta(days=20)   # before night 1 (stored 10 days before night 2)
    monkeypatch.setattr(ContextProxy, "cookies", property(
        lambda self: StreamlitCookies({"trialwatch_last_visit": f"{visited:%Y%m%dT%H%M%SZ}"})))
    at = ok(open_page(demo_db, "whats_new", monkeypatch, {"since_mode": "my last visit"}))
    assert len(at.dataframe[0].value) == scalar(demo_db, "SELECT count(*) FROM trials WHERE first_seen_at >= ?",
                                                [visited.replace(microsecond=0)])
    assert any(f"Since your last visit to this page in this browser, {visited:%Y-%m-%d %H:%M} UTC" in c.value
               for c in at.caption)
    scripts = [h.proto.body for h in at.get("html") if "document.cookie" in h.proto.body]
    assert len(scripts) == 1 and "trialwatch_last_visit=" in scripts[0] and "SameSite=Lax" in scripts[0]

    monkeypatch.setattr(ContextProxy, "cookies", property(lambda self: StreamlitCookies({})))
    at = ok(open_page(demo_db, "whats_new", monkeypatch, {"since_mode": "my last visit"}))   # a first visit
    assert any("no earlier visit" in i.value for i in at.info)
    assert len(at.dataframe[0].value) == scalar(
        demo_db, "SELECT count(*) FROM trials WHERE list_contains((" + LATEST_RUN_IDS + "), first_run_id)")


def test_a_shared_link_with_a_day_opens_on_that_day_and_picking_a_day_switches_to_it(demo_db, monkeypatch):
    month = TODAY - timedelta(days=30)
    at = ok(open_page(demo_db, "whats_new", monkeypatch, {"since": month.isoformat()}))
    assert at.radio(key="since_mode").value == "date"
    assert len(at.dataframe[0].value) == scalar(demo_db, "SELECT count(*) FROM trials")
    at = ok(open_page(demo_db, "whats_new", monkeypatch))
    ok(at.date_input(key="since").set_value(month).run())
    assert at.radio(key="since_mode").value == "date"
    assert len(at.dataframe[0].value) == scalar(demo_db, "SELECT count(*) FROM trials")


def test_whats_new_lists_the_feed_files(demo_db, monkeypatch):
    at = ok(open_page(demo_db, "whats_new", monkeypatch))
    folder = demo_db.parent / "feeds"
    listing = next(m.value for m in at.markdown if m.value.startswith("| feed |"))
    files = sorted(folder.glob("*.xml"))
    assert len(files) > 3 and (folder / "new.xml") in files
    assert all(f"`{path.resolve()}`" in listing for path in files)
    assert listing.splitlines()[2].endswith(f"`{(folder / 'new.xml').resolve()}` |")   # the all-in-one feed first


def test_in_a_real_browser_the_next_visit_shows_what_is_new_since_this_one(server, page):
    """The inline script sets the cookie; the next page load sends it and Streamlit reads it."""
    from tests.test_dashboard_browser import FINISHED

    base, _ = server
    page.goto(base + "/new")
    page.wait_for_selector("text=What the last run brought")
    page.wait_for_function(FINISHED)
    page.wait_for_function("document.cookie.includes('trialwatch_last_visit=')")
    (cookie,) = [c for c in page.context.cookies() if c["name"] == "trialwatch_last_visit"]
    visited = datetime.strptime(cookie["value"], "%Y%m%dT%H%M%SZ")
    assert cookie["sameSite"] == "Lax" and cookie["expires"] > 0
    page.goto(base + "/new?since_mode=my+last+visit")   # a new session: the cookie comes with it
    page.wait_for_selector(f"text=Since your last visit to this page in this browser, {visited:%Y-%m-%d %H:%M} UTC")
    page.wait_for_function(FINISHED)
    assert page.locator('[data-testid="stException"]').count() == 0


def test_a_night_that_changes_nothing_leaves_the_feeds_as_they_were(tmp_path):
    """A quiet night (a day later, so a rewritten feed would carry a new `updated`) leaves the
    feeds' bytes as they were; the next night with news rewrites them, and a changed dashboard
    address is news for the feeds too."""
    from flows import jobs

    settings = Settings(db_path=tmp_path / "w.duckdb", data_dir=tmp_path / "data", workers=1, dashboard_url=DASHBOARD)
    papers, studies = world(1)
    with PubMedStandIn(papers) as pubmed, CtGovStandIn(studies) as ctgov:
        served = settings.with_overrides(pubmed_url=pubmed.url, ctgov_url=ctgov.url)
        feeds = []

        def night(day: int, night_settings: Settings = served) -> None:
            with clock.on_day(TODAY + timedelta(days=day)):
                jobs.nightly(night_settings)
            feeds.append({path.name: path.read_bytes() for path in settings.feed_path.parent.glob("*.xml")})

        night(0)
        night(1)                       # nothing new
        assert feeds[1] == feeds[0]
        papers, studies = world(2)
        pubmed.replace(papers)
        ctgov.replace(studies)
        night(2)
        assert f"paper/{NO_LINK_MDMA}/new" in entry_ids(etree.fromstring(feeds[2]["new.xml"]))
        night(3)                       # quiet again
        assert feeds[3] == feeds[2]
        night(4, served.with_overrides(dashboard_url="https://elsewhere.example.org"))
    assert b"https://elsewhere.example.org/new" in feeds[4]["new.xml"]
    assert feeds[4]["new.xml"].count(b"<entry>") == feeds[3]["new.xml"].count(b"<entry>")
