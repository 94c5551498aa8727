"""Study design and drug role through the whole pipeline: ingested over HTTP from the stand-in,
stored on articles / record_drugs, shown by v_articles, and derived again by retag after a rule
change — from the stored fields, with no refetching."""
from __future__ import annotations

from datetime import datetime, timedelta

import duckdb

from extract.catalogue import Catalogue
from extract.derive import DERIVATION_VERSION
from extract.standins import CtGovStandIn, PubMedRecord, PubMedStandIn
from flows import pipeline
from flows.retag import rederive
from flows.settings import Settings
from tests.helpers import TODAY
from warehouse.db import open_warehouse

ANAESTHESIA = (
    "Hippocampal long-term potentiation after fear conditioning in rats",
    "Rats were anaesthetised with ketamine (80 mg/kg) and xylazine (10 mg/kg) before electrodes were implanted. "
    "Fear conditioning increased long-term potentiation in CA1.", [])
TRIAL = (
    "Esketamine nasal spray for treatment-resistant depression: a randomized, double-blind trial",
    "Adults with treatment-resistant depression were randomized to esketamine or placebo nasal spray. "
    "Esketamine reduced MADRS scores at day 28.", [("D016449", "Randomized Controlled Trial")])


def article(pmid: int, title: str, abstract: str, types: list[tuple[str, str]]) -> PubMedRecord:
    kinds = "".join(f'<PublicationType UI="{ui}">{name}</PublicationType>' for ui, name in types)
    xml = (f'<PubmedArticle><MedlineCitation><PMID Version="1">{pmid}</PMID><Article>'
           f"<ArticleTitle>{title}</ArticleTitle><Abstract><AbstractText>{abstract}</AbstractText></Abstract>"
           f"<PublicationTypeList>{kinds}</PublicationTypeList></Article></MedlineCitation></PubmedArticle>").encode()
    day = TODAY - timedelta(days=10)
    return PubMedRecord(pmid, xml, day, day, day)


def test_design_and_roles_are_stored_shown_and_derived_again_after_a_rule_change(tmp_path):
    settings = Settings(db_path=tmp_path / "w.duckdb", data_dir=tmp_path, workers=1)
    records = [article(31_000_001, *ANAESTHESIA), article(31_000_002, *TRIAL)]
    with PubMedStandIn(records) as pubmed, CtGovStandIn([]) as ctgov, open_warehouse(settings.db_path) as conn:
        served = settings.with_overrides(pubmed_url=pubmed.url, ctgov_url=ctgov.url)
        summary = pipeline.ingest_source(conn, served, "pubmed", pipeline.Window("full"), catalogue=Catalogue.load(),
                                         progress=lambda _: None, today=TODAY)
        shown = "SELECT pmid, drugs, subject_drugs, study_design, study_design_source FROM v_articles ORDER BY pmid"
        ingested = conn.execute(shown).fetchall()
        roles = conn.execute("SELECT record_id, drug, role FROM record_drugs ORDER BY ALL").fetchall()
        versions = conn.execute("SELECT DISTINCT derivation_version FROM articles").fetchall()

        conn.execute("UPDATE articles SET study_design = NULL, study_design_source = NULL, derivation_version = 'old'")
        conn.execute("UPDATE record_drugs SET role = NULL")
        derived = rederive(conn, everything=False, catalogue=Catalogue.load(), progress=lambda _: None)
        again = conn.execute(shown).fetchall()
        roles_again = conn.execute("SELECT record_id, drug, role FROM record_drugs ORDER BY ALL").fetchall()
        second = rederive(conn, everything=False, catalogue=Catalogue.load(), progress=lambda _: None)

    assert summary.status == "succeeded"
    assert roles == [("31000001", "ketamine", "mention"), ("31000002", "ketamine", "subject")]
    anaesthesia, trial = ingested
    assert anaesthesia[1] == ["ketamine"] and anaesthesia[2] == []          # labelled, but only mentioned
    assert anaesthesia[3] == "preclinical" and anaesthesia[4] == "text"
    assert trial[2] == ["ketamine"] and trial[3:] == ("randomized controlled trial", "publication type")
    assert versions == [(DERIVATION_VERSION,)]
    assert derived == 2 and again == ingested and roles_again == roles and second == 0


def test_the_literature_list_leaves_out_papers_that_only_mention_a_drug_unless_asked(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from tests.test_dashboard import APP, PAGES, main_table, ok

    settings = Settings(db_path=tmp_path / "w.duckdb", data_dir=tmp_path, workers=1)
    with PubMedStandIn([article(31_000_001, *ANAESTHESIA), article(31_000_002, *TRIAL)]) as pubmed, \
            CtGovStandIn([]) as ctgov, open_warehouse(settings.db_path) as conn:
        served = settings.with_overrides(pubmed_url=pubmed.url, ctgov_url=ctgov.url)
        pipeline.ingest_source(conn, served, "pubmed", pipeline.Window("full"), catalogue=Catalogue.load(),
                               progress=lambda _: None, today=TODAY)
        conn.execute("UPDATE articles SET retracted = true WHERE pmid = 31000002")
        conn.execute("CHECKPOINT")
    monkeypatch.setenv("TRIALWATCH_DB", str(settings.db_path))

    def page(name: str) -> AppTest:
        at = AppTest.from_file(str(APP), default_timeout=60)
        at.run()
        return ok(at.switch_page(PAGES[name]).run())

    def new_papers_metric(at: AppTest) -> str:
        return next(m.value for m in at.metric if m.label == "New papers")

    literature, whats_new = page("literature"), page("whats_new")
    default, new_by_default = main_table(literature), new_papers_metric(whats_new)
    ok(literature.toggle(key="mentions").set_value(True).run())
    ok(whats_new.toggle(key="mentions").set_value(True).run())

    assert list(default["pmid"]) == [31_000_002]
    assert default["title"].iloc[0].startswith("⚠ RETRACTED · Esketamine nasal spray")
    assert set(main_table(literature)["pmid"]) == {31_000_001, 31_000_002}
    assert (new_by_default, new_papers_metric(whats_new)) == ("1", "2")
    with duckdb.connect(str(settings.db_path), read_only=True) as check:
        assert check.execute("SELECT count(*) FROM v_articles").fetchall() == [(2,)]   # the view keeps both


def test_the_digest_lists_papers_about_a_drug_and_a_retraction_arriving_for_a_stored_paper(tmp_path):
    from flows.digest import build_digest, render_markdown

    settings = Settings(db_path=tmp_path / "w.duckdb", data_dir=tmp_path, workers=1)
    retracted = article(31_000_002, *TRIAL)
    retracted = PubMedRecord(retracted.pmid, retracted.xml.replace(
        b"</Article>", b"</Article><CommentsCorrectionsList><CommentsCorrections RefType=\"RetractionIn\">"
                       b"<RefSource>J Psych. 2026;1:1</RefSource><PMID Version=\"1\">31000099</PMID>"
                       b"</CommentsCorrections></CommentsCorrectionsList>"),
        retracted.entrez_date, TODAY, retracted.publication_date)
    with PubMedStandIn([article(31_000_001, *ANAESTHESIA), article(31_000_002, *TRIAL)]) as pubmed, \
            CtGovStandIn([]) as ctgov, open_warehouse(settings.db_path) as conn:
        served = settings.with_overrides(pubmed_url=pubmed.url, ctgov_url=ctgov.url)

        def night(window: pipeline.Window) -> str:
            summary = pipeline.ingest_source(conn, served, "pubmed", window, catalogue=Catalogue.load(),
                                             progress=lambda _: None, today=TODAY)
            return render_markdown(build_digest(conn, [summary.run_id], datetime.now()))

        first = night(pipeline.Window("full"))
        first_feed = feed_titles(conn)
        pubmed.add([retracted])
        second = night(pipeline.Window("since", TODAY - timedelta(days=2)))
        second_feed = feed_titles(conn)

    new_papers = first.split("## New papers (1)", 1)[1].split("\n## ", 1)[0]
    assert "[PMID 31000002]" in new_papers and "[PMID 31000001]" not in new_papers
    assert "· Depressive disorders)" in new_papers   # each line names its condition groups
    mentions = first.split("## New papers that only mention a catalogue drug (1)", 1)[1].split("\n## ", 1)[0]
    assert "[PMID 31000001]" in mentions and "mentions ketamine" in mentions   # named, after the papers about a drug
    assert "Retracted since the last run" not in first
    assert "## Retracted since the last run (1)" in second and "⚠ [PMID 31000002]" in second
    assert "retraction: J Psych. 2026;1:1" in second
    # The feed has the paper about the drug (marked once retracted), not the anaesthetic mention.
    assert first_feed == {"tag:trialwatch,2026:paper/31000002/new": "New paper: " + TRIAL[0]}
    assert second_feed == {"tag:trialwatch,2026:paper/31000002/new": "⚠ RETRACTED — New paper: " + TRIAL[0]}


def feed_titles(conn) -> dict[str, str]:
    from lxml import etree

    from flows.digest import ATOM, render_atom

    feed = etree.fromstring(render_atom(conn, datetime.now()))
    return {e.findtext(f"{{{ATOM}}}id"): e.findtext(f"{{{ATOM}}}title") for e in feed.findall(f"{{{ATOM}}}entry")}


def with_links(record: PubMedRecord, links: list[tuple[str, int, str]], *, entered=None, revised=None
               ) -> PubMedRecord:
    """The record with CommentsCorrections (ref_type, PMID, RefSource) added, entered or revised on
    another day."""
    corrections = "".join(f'<CommentsCorrections RefType="{ref_type}"><RefSource>{source}</RefSource>'
                          f'<PMID Version="1">{pmid}</PMID></CommentsCorrections>' for ref_type, pmid, source in links)
    xml = record.xml.replace(b"</Article>", f"</Article><CommentsCorrectionsList>{corrections}"
                                            f"</CommentsCorrectionsList>".encode())
    return PubMedRecord(record.pmid, xml, entered or record.entrez_date, revised or entered or record.modified_date,
                        record.publication_date)


def test_retraction_and_correction_notices_are_listed_apart_from_new_papers(tmp_path, monkeypatch):
    """A notice names the drug of the paper it concerns, but it is not new research on it: the
    digest and What's new list it apart, with the paper it concerns; a notice known only by its
    link (no publication type, a title that says nothing) is one too, and retag derives the same."""
    from streamlit.testing.v1 import AppTest

    from flows.digest import build_digest, render_markdown
    from tests.test_dashboard import APP, PAGES, ok

    settings = Settings(db_path=tmp_path / "w.duckdb", data_dir=tmp_path, workers=1)
    paper = article(31_000_002, *TRIAL)
    retraction = with_links(article(31_000_099, "Retraction: " + TRIAL[0], "",
                                    [("D016440", "Retraction of Publication")]),
                            [("RetractionOf", 31_000_002, "J Psych. 2026;1:1")], entered=TODAY)
    erratum = with_links(article(31_000_098, "Statement.", "The dose of esketamine in Table 2 was 56 mg.", []),
                         [("ErratumFor", 31_000_002, "J Psych. 2026;1:1")], entered=TODAY)
    retracted = with_links(paper, [("RetractionIn", 31_000_099, "J Psych. 2026;2:2")], revised=TODAY)
    shown = "SELECT pmid, study_design, study_design_source FROM articles ORDER BY pmid"
    with PubMedStandIn([paper]) as pubmed, CtGovStandIn([]) as ctgov, open_warehouse(settings.db_path) as conn:
        served = settings.with_overrides(pubmed_url=pubmed.url, ctgov_url=ctgov.url)
        pipeline.ingest_source(conn, served, "pubmed", pipeline.Window("full"), catalogue=Catalogue.load(),
                               progress=lambda _: None, today=TODAY)
        pubmed.add([retraction, erratum, retracted])
        summary = pipeline.ingest_source(conn, served, "pubmed", pipeline.Window("since", TODAY - timedelta(days=2)),
                                         catalogue=Catalogue.load(), progress=lambda _: None, today=TODAY)
        digest = render_markdown(build_digest(conn, [summary.run_id], datetime.now()))
        designs = conn.execute(shown).fetchall()
        conn.execute("UPDATE articles SET study_design = NULL, study_design_source = NULL, derivation_version = 'old'")
        rederive(conn, everything=False, catalogue=Catalogue.load(), progress=lambda _: None)
        designs_again = conn.execute(shown).fetchall()
        feed = feed_titles(conn)
        conn.execute("CHECKPOINT")

    assert designs == [(31_000_002, "randomized controlled trial", "publication type"),
                       (31_000_098, "notice", "correction link"), (31_000_099, "notice", "publication type")]
    assert designs_again == designs
    assert "## New papers (0)" in digest
    notices = digest.split("## New retraction, correction and concern notices (2)", 1)[1].split("\n## ", 1)[0]
    concerns = f"concerns [PMID 31000002](https://pubmed.ncbi.nlm.nih.gov/31000002/) {TRIAL[0]}"
    assert f"[PMID 31000099](https://pubmed.ncbi.nlm.nih.gov/31000099/) retraction: Retraction: {TRIAL[0]} — {concerns}" \
        in notices
    assert f"[PMID 31000098](https://pubmed.ncbi.nlm.nih.gov/31000098/) erratum: Statement. — {concerns}" in notices
    assert "## Retracted since the last run (1)" in digest and "⚠ [PMID 31000002]" in digest
    assert feed["tag:trialwatch,2026:paper/31000099/new"] == "Notice about another paper: Retraction: " + TRIAL[0]
    assert feed["tag:trialwatch,2026:paper/31000002/new"] == "⚠ RETRACTED — New paper: " + TRIAL[0]

    monkeypatch.setenv("TRIALWATCH_DB", str(settings.db_path))
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    whats_new = ok(at.switch_page(PAGES["whats_new"]).run())
    whats_new = ok(whats_new.radio(key="since_mode").set_value("date").run())   # since a week ago: both nights
    assert next(m.value for m in whats_new.metric if m.label == "New papers") == "1"   # the trial paper only
    assert any("Retraction, correction and concern notices (2)" in m.value for m in whats_new.markdown)
    tables = [set(frame.value["pmid"]) for frame in whats_new.dataframe if "pmid" in frame.value.columns]
    assert {"31000002"} in tables and {"31000098", "31000099"} in tables   # new papers; the notices apart
