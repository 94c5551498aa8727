"""The dashboard in a real browser: `launch()` serves the demo warehouse on a free local port and
headless Debian Chromium, driven by Playwright, loads every page.

Streamlit renders over a websocket, so each check waits for text the page renders from the
warehouse. Screenshots go to test-artifacts/screenshots/. Chromium and Playwright missing is a
failure, not a skip: CI installs both (apt `chromium`, pip `playwright`; never `playwright install`).
"""
from __future__ import annotations

import re
from urllib.parse import urlparse

import pytest

from flows.labels import status_label
from tests.dashboard_fixtures import FINISHED, SCREENSHOTS, SCRIPT, WAIT_MS
from tests.test_dashboard import ABOUT_A_DRUG, scalar


def visit(page, base: str, path: str, *texts: str, shot: str):
    page.goto(base + path)
    for text in texts:
        page.wait_for_selector(f"text={text}")
    page.wait_for_function(FINISHED)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{shot}.png"))
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.locator("text=No trialwatch data yet").count() == 0


def test_launch_listens_on_localhost_only(server):
    base, log_path = server
    assert "127.0.0.1" in base and f"URL: {base}" in log_path.read_text()


def test_overview_renders_counts_and_charts(server, browser_db, page):
    base, _ = server
    db, _ = browser_db
    trials = scalar(db, "SELECT count(*) FROM record_drugs WHERE record_kind = 'trial' AND drug = 'mdma'")
    visit(page, base, "/", "Pipeline: trials by phase", "Papers per year", "Ketamine / esketamine", shot="overview")
    page.wait_for_selector('[data-testid="stMetricValue"] >> text="%d"' % trials)
    charts = page.locator('[data-testid="stVegaLiteChart"]')
    assert charts.count() >= 5
    for index in range(charts.count()):
        chart = charts.nth(index)
        chart.locator("canvas, svg").first.wait_for()
        box = chart.bounding_box()
        assert box and box["width"] > 150 and box["height"] > 80
    assert page.locator('[data-testid="stDataFrame"]').first.is_visible()


def test_whats_new_page(server, page):
    base, _ = server
    visit(page, base, "/new", "What's new", "Status and date changes", "New paper↔trial links", shot="whats-new")
    assert page.locator('[data-testid="stDataFrame"]').first.is_visible()


def test_trials_page_filters_from_the_url_and_the_search_box(server, browser_db, page):
    base, _ = server
    db, _ = browser_db
    total = scalar(db, "SELECT count(*) FROM trials")
    mdma = scalar(db, "SELECT count(*) FROM record_drugs WHERE record_kind = 'trial' AND drug = 'mdma'")
    visit(page, base, "/trials", f"{total:,} matching trials", shot="trials")
    visit(page, base, "/trials?drug=mdma", f"{mdma:,} matching trials", shot="trials-mdma")
    ptsd = scalar(db, "SELECT count(*) FROM record_drugs d JOIN trials t ON d.record_kind = 'trial' "
                         "AND d.record_id = t.nct_id AND d.drug = 'mdma' WHERE t.brief_title ILIKE '%ptsd%' "
                         "OR t.official_title ILIKE '%ptsd%' OR t.acronym ILIKE '%ptsd%' "
                         "OR t.brief_summary ILIKE '%ptsd%' OR t.detailed_description ILIKE '%ptsd%'")
    search = page.get_by_label("Search titles and summaries")
    search.fill("ptsd")
    search.press("Enter")
    page.wait_for_selector(f"text={ptsd:,} matching trials")
    assert "q=ptsd" in page.url and "drug=mdma" in page.url


def test_trial_page_shows_history_and_papers(server, browser_db, page):
    base, _ = server
    db, _ = browser_db
    nct = scalar(db, "SELECT nct_id FROM trial_history WHERE field = 'overall_status' ORDER BY nct_id LIMIT 1")
    new_status = scalar(db, "SELECT new_value FROM trial_history WHERE nct_id = ? AND field = 'overall_status'", [nct])
    visit(page, base, f"/trials?nct={nct}", f"{nct}:", "Status history", "Linked papers", "Key facts",
          shot="trial-page")
    # a y-axis label of the timeline (SVG/canvas text), the status as its label, not its code
    page.wait_for_selector(f"text=Status → {status_label(new_status)}")
    link = page.get_by_role("link", name="Registry entry on ClinicalTrials.gov")
    assert link.get_attribute("href") == f"https://clinicaltrials.gov/study/{nct}"


def test_trial_page_sections_render_and_nothing_is_fetched_from_other_hosts(server, browser_db, page):
    """Design, arms, outcomes, eligibility, sites (a map without tiles) and results in the
    rendered page, and every request the page makes goes to the dashboard itself."""
    base, _ = server
    db, _ = browser_db
    nct = scalar(db, """SELECT a.nct_id FROM outcome_analyses a
        WHERE EXISTS (SELECT 1 FROM facilities f WHERE f.nct_id = a.nct_id AND f.latitude IS NOT NULL)
        ORDER BY a.nct_id LIMIT 1""")
    term = scalar(db, "SELECT adverse_event_term FROM reported_events WHERE nct_id = ? AND event_type = 'serious' "
                      "ORDER BY subjects_affected DESC, adverse_event_term LIMIT 1", [nct])
    assert nct and term
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    visit(page, base, f"/trials?nct={nct}", f"{nct}:", "Adverse events", shot="trial-page-results")
    for heading in ("Design", "Arms", "Outcomes", "Eligibility", "Sites", "Results"):
        page.get_by_role("heading", name=heading, exact=True).wait_for()
    page.get_by_text("Eligibility criteria (as registered)").wait_for()
    page.get_by_text("Primary outcome:", exact=False).first.wait_for()
    # The grid paints cells on a canvas; its accessible table (in the DOM, not "visible") holds the text.
    events = page.locator('[data-testid="stDataFrame"]').filter(
        has=page.locator('th[role="columnheader"]', has_text=re.compile(r"^Adverse event$")))
    events.locator('td[role="gridcell"]', has_text=re.compile("^" + re.escape(term) + "$")).first.wait_for(
        state="attached")
    site_map = page.locator('[data-testid="stVegaLiteChart"]').filter(has_text="Longitude")
    site_map.first.wait_for()
    page.mouse.wheel(0, 10_000)  # bring everything below the fold into view, then let it settle
    page.wait_for_function(FINISHED)
    assert any(urlparse(url).path.startswith("/static/") for url in requested)  # the listener saw the page load
    foreign = [url for url in requested if urlparse(url).scheme not in ("data", "blob")
               and urlparse(url).hostname not in ("127.0.0.1", "localhost")]
    assert not foreign, foreign


def test_literature_and_paper_page_escape_html(server, browser_db, page):
    base, _ = server
    db, pmid = browser_db
    total = scalar(db, f"SELECT count(*) FROM articles WHERE {ABOUT_A_DRUG}")   # the default hides mention-only papers
    visit(page, base, "/literature", f"{total:,} matching papers", shot="literature")
    visit(page, base, f"/literature?pmid={pmid}", "Abstract", "Linked trials", shot="paper-page")
    abstract = page.locator(".tw-abstract")
    assert SCRIPT in abstract.inner_text()  # shown as text …
    assert abstract.locator("script").count() == 0  # … never as an element
    assert page.dialogs == []


def test_overdue_page_and_csv_download(server, browser_db, page, tmp_path):
    base, _ = server
    db, _ = browser_db
    overdue = scalar(db, "SELECT count(*) FROM v_overdue_trials")
    visit(page, base, "/overdue", "Overdue trials", "Median months results are late", shot="overdue")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download CSV").first.click()
    saved = tmp_path / "overdue.csv"
    download.value.save_as(saved)
    lines = saved.read_text().splitlines()
    assert lines[0].startswith("nct_id,") and len(lines) == overdue + 1
    assert "page" not in lines[0].split(",")  # no internal link column


def test_export_page(server, page):
    base, _ = server
    visit(page, base, "/export", "Export", "Dataset", shot="export")
    assert page.locator('[data-testid="stDataFrame"]').first.is_visible()


# --- nothing from other hosts, on any page ------------------------------------------------------------

def _foreign(urls) -> list[str]:
    return sorted({url for url in urls if urlparse(url).scheme not in ("data", "blob")
                   and urlparse(url).hostname not in ("127.0.0.1", "localhost")})


# Every url(...) in every stylesheet the page holds (@font-face sources, background images), also
# those the browser has not fetched yet because nothing on the page uses them.
CSS_URLS = """() => {
    const found = [];
    for (const sheet of document.styleSheets) {
        let rules;
        try { rules = sheet.cssRules; } catch (error) { found.push(sheet.href || "unreadable stylesheet"); continue; }
        for (const rule of rules) {
            for (const match of rule.cssText.matchAll(/url\\(["']?([^"')]+)["']?\\)/g)) {
                found.push(new URL(match[1], document.baseURI).href);
            }
        }
    }
    for (const image of document.images) { found.push(image.currentSrc || image.src); }
    return found;
}"""


def test_no_page_fetches_anything_from_another_host(server, browser_db, page):
    """Every page, record pages included, charts and fonts loaded and the page scrolled to the end:
    every request the browser makes (the Streamlit bundle's own fonts, Vega's, images) and every
    url() in the stylesheets goes to the dashboard's host."""
    base, _ = server
    db, _ = browser_db
    nct = scalar(db, """SELECT nct_id FROM facilities WHERE latitude IS NOT NULL
        AND nct_id IN (SELECT nct_id FROM trial_history) ORDER BY nct_id LIMIT 1""") or scalar(
        db, "SELECT min(nct_id) FROM facilities WHERE latitude IS NOT NULL")
    pmid = scalar(db, "SELECT min(pmid) FROM articles WHERE pmid IN (SELECT pmid FROM article_trials)")
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    pages = [("/", "Pipeline: trials by phase"), ("/new", "Status and date changes"), ("/trials", "matching trials"),
             (f"/trials?nct={nct}", "Status history"), ("/literature", "matching papers"),
             (f"/literature?pmid={pmid}", "Linked trials"), ("/overdue", "Overdue trials"), ("/export", "Dataset")]
    in_css: list[str] = []
    for path, text in pages:
        visit(page, base, path, text, shot="hosts-" + (path.strip("/").replace("?", "-").replace("=", "-") or "overview"))
        for chart in page.locator('[data-testid="stVegaLiteChart"]').all():
            chart.locator("canvas, svg").first.wait_for()
        page.mouse.wheel(0, 20_000)
        page.wait_for_function(FINISHED)
        page.evaluate("document.fonts.ready.then(() => true)")
        in_css += page.evaluate(CSS_URLS)
    assert any(urlparse(url).path.startswith("/static/") for url in requested)  # the listener saw the loads
    assert any(urlparse(url).path.endswith((".woff2", ".woff", ".ttf")) for url in requested + in_css), \
        "the page's fonts were seen (from the dashboard's host)"
    assert not _foreign(requested), _foreign(requested)
    assert not _foreign(in_css), _foreign(in_css)


# --- wide tables and opening records ------------------------------------------------------------------

@pytest.fixture
def wide_page(browser):
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    yield page
    context.close()


def test_at_1440_px_the_trials_list_shows_id_title_and_status_in_full(server, wide_page):
    """The pinned id and title plus the status column fit the list's width at 1440 px (the rest
    scrolls under them)."""
    from dashboard import ui

    base, _ = server
    visit(wide_page, base, "/trials", "matching trials", shot="trials-1440")
    grid = wide_page.locator('[data-testid="stDataFrame"]').last.bounding_box()
    needed = ui.ROW_MARKER_WIDTH + ui.ID_WIDTH + ui.TITLE_WIDTH + ui.STATUS_WIDTH
    assert grid and grid["width"] >= needed, (grid, needed)
    scroller = wide_page.locator('[data-testid="stDataFrame"]').last.locator(".dvn-scroll-inner > .dvn-stack > div")
    content = scroller.first.evaluate("e => e.getBoundingClientRect().width")
    assert content > grid["width"], "the list is wider than the window: it scrolls, with id and title pinned"


def _click_first_row(page) -> None:
    """Tick the first data row of the page's last table (the row marker, left of the pinned id)."""
    grid = page.locator('[data-testid="stDataFrame"]').last
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    page.mouse.click(box["x"] + 18, box["y"] + 36 + 17)


def test_opening_a_trial_from_the_list_keeps_the_filters_and_back_returns_to_them(server, browser_db, page):
    base, _ = server
    db, _ = browser_db
    mdma = scalar(db, "SELECT count(*) FROM record_drugs WHERE record_kind = 'trial' AND drug = 'mdma'")
    first = scalar(db, """SELECT t.nct_id FROM trials t JOIN record_drugs d ON d.record_kind = 'trial'
        AND d.record_id = t.nct_id AND d.drug = 'mdma' ORDER BY t.last_update_posted_date DESC NULLS LAST, t.nct_id
        LIMIT 1""")
    visit(page, base, "/trials", "matching trials", shot="open-1")
    page.get_by_label("Search titles and summaries").fill("mdma")  # a filter set on the page …
    page.get_by_label("Search titles and summaries").press("Enter")
    page.wait_for_function(FINISHED)
    visit(page, base, "/trials?drug=mdma", f"{mdma:,} matching trials", shot="open-2")  # … and one from a link
    tabs = len(page.context.pages)
    _click_first_row(page)
    page.get_by_role("heading", name=re.compile("^" + first + ":")).wait_for()
    page.wait_for_function(FINISHED)
    assert len(page.context.pages) == tabs, "the record opened in this tab"
    assert f"nct={first}" in page.url and "drug=mdma" in page.url
    page.wait_for_selector(f"text={mdma:,} matching trials")  # the list below is still filtered
    page.go_back()
    page.wait_for_function("() => !location.search.includes('nct=')")
    page.wait_for_selector(f"text={mdma:,} matching trials")
    page.wait_for_function(FINISHED)
    assert "drug=mdma" in page.url
    # the record's page is gone (waited for: the rerun Back starts may still be drawing the old page)
    page.get_by_role("heading", name=re.compile("^" + first + ":")).wait_for(state="detached")
    assert page.locator('[data-testid="stMultiSelect"]').first.get_by_text("MDMA", exact=True).count() == 1


def test_opening_a_paper_keeps_the_filters_and_the_papers_download_as_ris_and_bibtex(server, browser_db, page,
                                                                                    tmp_path):
    base, _ = server
    db, _ = browser_db
    papers = scalar(db, """SELECT count(*) FROM articles a JOIN record_drugs d ON d.record_kind = 'article'
        AND d.record_id = CAST(a.pmid AS VARCHAR) AND d.drug = 'psilocybin' AND d.role = 'subject'""")
    first = scalar(db, """SELECT a.pmid FROM articles a JOIN record_drugs d ON d.record_kind = 'article'
        AND d.record_id = CAST(a.pmid AS VARCHAR) AND d.drug = 'psilocybin' AND d.role = 'subject'
        ORDER BY a.entrez_date DESC NULLS LAST, a.pmid DESC LIMIT 1""")
    visit(page, base, "/literature?drug=psilocybin", f"{papers:,} matching papers", shot="papers-psilocybin")
    files = {}
    for label in ("Download RIS", "Download BibTeX"):
        with page.expect_download() as download:
            page.get_by_role("button", name=label).click()
        files[label] = tmp_path / download.value.suggested_filename
        download.value.save_as(files[label])
    ris, bib = files["Download RIS"].read_text(), files["Download BibTeX"].read_text()
    assert ris.count("ER  - ") == papers and ris.startswith("TY  - ")
    assert f"AN  - PMID:{first}" in ris.split("ER  - ")[0]  # in the list's order
    assert len(re.findall(r"^@(article|book)\{", bib, re.M)) == papers and f"pmid = {{{first}}}" in bib
    _click_first_row(page)
    page.get_by_role("heading", name="Abstract").wait_for()
    assert f"pmid={first}" in page.url and "drug=psilocybin" in page.url
    page.go_back()
    page.wait_for_function("() => !location.search.includes('pmid=')")
    page.wait_for_selector(f"text={papers:,} matching papers")
    assert "drug=psilocybin" in page.url


def test_psilocybin_and_depressive_disorders_lists_every_psilocybin_trial_with_a_depressive_concept(
        server, browser_db, page):
    """A condition group includes every narrower concept (major depression, treatment-resistant,
    postpartum …), in the browser, from a shared link."""
    base, _ = server
    db, _ = browser_db
    depressive = scalar(db, """
        SELECT count(DISTINCT c.record_id) FROM record_conditions c
        JOIN record_drugs d ON d.record_kind = 'trial' AND d.record_id = c.record_id AND d.drug = 'psilocybin'
        WHERE c.record_kind = 'trial'
          AND c.mesh_id IN (SELECT mesh_id FROM condition_concepts WHERE condition_group = 'depressive')""")
    exact = scalar(db, """
        SELECT count(DISTINCT c.record_id) FROM record_conditions c
        JOIN record_drugs d ON d.record_kind = 'trial' AND d.record_id = c.record_id AND d.drug = 'psilocybin'
        WHERE c.record_kind = 'trial' AND c.concept = 'Depression'""")
    assert depressive > exact   # narrower concepts add trials the exact concept would miss
    visit(page, base, "/trials?drug=psilocybin&condition=Depressive+disorders", f"{depressive:,} matching trials",
          shot="trials-psilocybin-depressive")
    visit(page, base, "/trials?drug=psilocybin&condition=Depression", f"{depressive:,} matching trials",
          shot="trials-psilocybin-depression")
