"""Literature explorer: filter the PubMed papers, and open one paper's page (`?pmid=…`)."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import citations, data, ui
from dashboard.queries import ARTICLE_SORTS
from flows import labels

QP = "query-params"
MAX_PAGE_OPTIONS = 2000
MAX_AUTHORS = 12


def filters_from_sidebar() -> data.ArticleFilters:
    options = data.article_filter_options()
    source = data.condition_source()
    with st.sidebar:
        st.header("Filters")
        drug_keys = ui.url_multiselect("Drug", data.drugs(), "drug", ui.drug_label, help=ui.DRUG_HELP)
        conditions = st.multiselect("Condition", data.article_condition_options(), key="condition", bind=QP,
                                    help=source.note)
        types = st.multiselect("Publication type", options["publication_types"], key="ptype", bind=QP,
                               placeholder="e.g. Randomized Controlled Trial")
        year_from = year_to = None
        first, last = options["first_year"], options["last_year"]
        if first is not None and last is not None and first < last:
            chosen = st.slider("Publication year", min_value=first, max_value=last, value=(first, last),
                               key="year", bind=QP)
            if tuple(chosen) != (first, last):
                year_from, year_to = chosen
        designs = st.multiselect("Study design", options["study_designs"] or [], key="design", bind=QP,
                                 placeholder="e.g. randomized controlled trial",
                                 help="From the publication types where NLM or the publisher gave them, otherwise "
                                      "derived from the title and abstract (docs/study_design.md).")
        journals = st.multiselect("Journal", options["journals"], key="journal", bind=QP)
        include_mentions = st.toggle("Include papers that only mention a drug", key="mentions", bind=QP,
                                     help="Off: papers about a catalogue drug. On: also papers where it is only "
                                          "mentioned — e.g. ketamine as the anaesthetic in an animal study of "
                                          "something else (docs/drug_role.md).")
        search = st.text_input("Search titles and abstracts", key="q", bind=QP, placeholder="e.g. suicidal ideation")
        sort = st.selectbox("Sort by", list(ARTICLE_SORTS), key="sort", bind=QP)
        st.caption(ui.SHARE_HINT)
    return data.ArticleFilters(
        drugs=tuple(drug_keys), conditions=tuple(conditions), publication_types=tuple(types),
        year_from=year_from, year_to=year_to, journals=tuple(journals), search=search or "", sort=sort,
        designs=tuple(designs), include_mentions=bool(include_mentions),
    )


def _pmid(value) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def choose_paper(rows: pd.DataFrame) -> int | None:
    """The paper-page picker: the filtered papers, plus the one named in the link if it exists."""
    ids = [int(p) for p in rows["pmid"].tolist()[:MAX_PAGE_OPTIONS]]
    titles = dict(zip(ids, rows["title"]))
    return ui.record_picker("Paper page", "pmid", ids, titles, data.article_titles, _pmid,
                            placeholder="Choose a paper to open…")


def authors_line(authors) -> str:
    names = [a.get("collective_name") or " ".join(x for x in (a.get("last_name"), a.get("initials")) if x)
             for a in authors or []]
    names = [n for n in names if n]
    return ", ".join(names[:MAX_AUTHORS]) + (f", et al. ({len(names)} authors)" if len(names) > MAX_AUTHORS else "")


def render_paper(pmid: int) -> None:
    paper = data.article_detail(pmid)
    if paper is None:
        st.warning(f"PMID {pmid} is not in the warehouse.")
        return
    with st.container(border=True):
        st.header(ui.md_escape(paper["title"] or f"PMID {pmid}"))
        if paper.get("retracted"):
            st.error("**This paper has been retracted.** See the retraction notice under Corrections and comments.",
                     icon=":material/report:")
        elif paper.get("expression_of_concern"):
            st.warning("An expression of concern has been published about this paper.", icon=":material/flag:")
        st.caption(" · ".join(ui.md_escape(part) for part in (
            authors_line(paper.get("authors")), paper.get("journal"), paper.get("published"), f"PMID {pmid}") if part))
        buttons = st.container(horizontal=True)
        buttons.link_button("PubMed", paper["url"], icon=":material/open_in_new:")
        if paper.get("doi"):
            buttons.link_button("DOI", "https://doi.org/" + paper["doi"], icon=":material/open_in_new:")
        if paper.get("pmcid"):
            buttons.link_button("PubMed Central", f"https://pmc.ncbi.nlm.nih.gov/articles/{paper['pmcid']}/",
                                   icon=":material/open_in_new:")

        st.subheader("Abstract")
        mentions = data.abstract_mentions(pmid)
        st.html(ui.abstract_html(paper.get("abstract"), paper.get("abstract_sections"), mentions or ()))
        if mentions is None:
            st.caption("Condition highlighting appears once the warehouse has condition tags "
                       "(any `trialwatch ingest` adds them).")
        elif ui.mention_spans(paper.get("abstract") or "", mentions):
            st.caption("Highlighted: condition mentions found by trialwatch's condition tagger (hover for the MeSH "
                       "concept). Grey and struck through: negated or excluded; orange: in a sentence about side "
                       "effects.")

        left, right = st.columns(2)
        with left:
            types = [t["name"] for t in paper.get("publication_types") or []]
            st.markdown("**Publication types:** " + (" · ".join(ui.md_escape(t) for t in types) or "—"))
            keywords = paper.get("keywords") or []
            st.markdown("**Keywords:** " + (" · ".join(ui.md_escape(k) for k in keywords) or "—"))
            subject = set(paper.get("subject_drugs") or [])
            drugs = ", ".join(ui.drug_label(d) + ("" if d in subject else " (mentioned only)")
                              for d in paper.get("drugs") or [])
            st.markdown("**Drugs:** " + (ui.md_escape(drugs) or "—"))
            if paper.get("study_design"):
                st.markdown(f"**Study design:** {ui.md_escape(paper['study_design'])} "
                            f"(from the {ui.md_escape(paper.get('study_design_source') or '?')})")
        with right:
            mesh = paper.get("mesh_headings") or []
            st.markdown("**MeSH headings** (★ major topic):")
            if mesh:
                st.markdown("\n".join(
                    f"- {'★ ' if m.get('major') else ''}{ui.md_escape(m['name'])}"
                    + (" / " + ", ".join(ui.md_escape(x["name"]) for x in m.get("qualifiers") or [])
                       if m.get("qualifiers") else "")
                    for m in mesh))
            else:
                st.caption("Not indexed yet (NLM adds MeSH weeks to months after a paper appears).")

        affiliations = sorted({place for author in paper.get("authors") or [] for place in author.get("affiliations") or []})
        if affiliations:
            st.markdown("**Affiliations:**\n" + "\n".join(f"- {ui.md_escape(place)}" for place in affiliations))
        grants = data.article_grants(pmid)
        if not grants.empty:
            st.subheader("Funding")
            ui.table(grants, f"{pmid}-grants", key="paper-grants")
        corrections = data.article_corrections(pmid)
        if not corrections.empty:
            st.subheader("Corrections and comments")
            ui.table(corrections, f"{pmid}-corrections", key="paper-corrections",
                     column_config=ui.link_columns(pubmed_url="PubMed"))

        tagged = data.article_tagged_conditions(pmid)
        if tagged is not None:
            st.subheader("Conditions")
            st.caption("From MeSH indexing (source mesh) and trialwatch's text tagger (text).")
            if tagged.empty:
                st.caption("None found.")
            else:
                ui.table(tagged, f"{pmid}-conditions", key="paper-conditions")

        st.subheader("Linked trials")
        trials = data.article_trials(pmid)
        if trials.empty:
            st.caption("No linked trials.")
        else:
            openable = set(trials.loc[trials["in_warehouse"], "nct_id"])
            trials = trials.assign(overall_status=[labels.status_label(x) if isinstance(x, str) else "—"
                                                   for x in trials["overall_status"]])
            st.caption("Click a row to open the trial's page in this tab (Back returns here).")
            ui.table(trials[["nct_id", "brief_title", "overall_status", "evidence", "registry_url"]],
                     f"{pmid}-trials", key="paper-trials", pinned=("nct_id",),
                     column_config=ui.link_columns(registry_url="Registry"),
                     on_open=lambda row: open_trial(row["nct_id"], openable))


def open_trial(nct_id: str, openable: set) -> None:
    if nct_id in openable:
        ui.open_on("views/trials.py", "nct", nct_id)
    st.toast(f"{nct_id} is not in the warehouse: see it on ClinicalTrials.gov.")


def list_table(rows: pd.DataFrame) -> pd.DataFrame:
    """The papers list as shown: drug labels, subject drugs as "About"."""
    return rows.assign(drugs=rows["drugs"].map(ui.drug_labels), subject_drugs=rows["subject_drugs"].map(ui.drug_labels))


def citation_downloads(rows: pd.DataFrame) -> None:
    """RIS and BibTeX files of the papers shown, for reference managers (made when clicked)."""
    pmids = tuple(int(p) for p in rows["pmid"])
    stamp = ui.today_utc().isoformat()

    def records() -> list[dict]:
        return data.article_citations(pmids)

    with st.container(horizontal=True):
        st.download_button("Download RIS", data=lambda: citations.to_ris(records()).encode("utf-8"),
                           file_name=f"papers-{stamp}.ris", mime="application/x-research-info-systems",
                           key="papers-ris", on_click="ignore", icon=":material/menu_book:",
                           help="For Zotero, EndNote, Mendeley: authors, title, journal, year, volume, issue, "
                                "pages, DOI, PMID and abstract of the papers listed.")
        st.download_button("Download BibTeX", data=lambda: citations.to_bibtex(records()).encode("utf-8"),
                           file_name=f"papers-{stamp}.bib", mime="application/x-bibtex", key="papers-bibtex",
                           on_click="ignore", icon=":material/menu_book:",
                           help="For LaTeX and BibTeX-based managers; keys are stable (first author, year, PMID).")


st.title("Literature")
filters = filters_from_sidebar()
rows = data.articles(filters)
chosen = choose_paper(rows)
if chosen is not None:
    render_paper(int(chosen))

st.subheader(f"{len(rows):,} matching papers")
st.caption(ui.OPEN_HINT)
ui.table(list_table(rows), "papers", key="papers", pinned=("pmid", "title"),
         column_config={"pmid": st.column_config.NumberColumn("PMID", format="%d"), **ui.link_columns(url="PubMed")},
         on_open=lambda row: ui.open_here("pmid", int(row["pmid"])))
st.caption("The papers listed, for a reference manager:")
citation_downloads(rows)
