"""What changed, for people: the run digest (Markdown) and the Atom feeds of new things.

Both are read from the warehouse, so they say exactly what was published. The feeds are rebuilt
from the warehouse each run (the newest entries across all runs), which keeps entry ids stable:
a feed reader sees each new trial, status change, paper or paper-trial link once, with the same
id in the all-in-one feed (`new.xml`) and in the per-drug, per-condition-group and
per-drug × group feeds it is also in. Papers that only mention a catalogue drug (e.g. as an
anaesthetic) stay out of the feeds, as they stay out of the digest's list.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable, Mapping, Sequence
from urllib.parse import urlencode
from xml.etree import ElementTree as ET

import duckdb

from extract.condition_groups import group_label
from extract.sources import SOURCES
from flows.labels import FIELD_LABELS, code_label, phase_label
from flows.settings import DEFAULT_DASHBOARD_URL

ATOM = "http://www.w3.org/2005/Atom"
FEED_ID = "tag:trialwatch,2026:feed/new"
FEED_LIMIT = 200

# The condition groups (as researchers read them) of the run's new records (`new`).
RECORD_GROUPS = """
, record_groups AS (
    SELECT c.record_kind, c.record_id,
           list(DISTINCT coalesce(k.condition_group_label, c.category) ORDER BY 1) AS groups
    FROM record_conditions c LEFT JOIN condition_concepts k USING (mesh_id)
    WHERE c.record_id IN (SELECT record_id FROM new) GROUP BY ALL
)
"""
# New trials by drug, randomised ones first, with their design (allocation, masking, comparator).
NEW_TRIALS = """
WITH new AS (
    SELECT t.nct_id, t.nct_id AS record_id, t.brief_title, t.overall_status, array_to_string(t.phases, '/') AS phase,
           coalesce(list_sort(list(d.drug) FILTER (d.drug IS NOT NULL)), []) AS drugs
    FROM live_trials t LEFT JOIN record_drugs d ON d.record_kind = 'trial' AND d.record_id = t.nct_id
    WHERE list_contains(?, t.first_run_id) GROUP BY ALL
)""" + RECORD_GROUPS + """
SELECT n.nct_id, n.brief_title, n.overall_status, n.phase, n.drugs, coalesce(g.groups, []),
       s.allocation, s.masking, s.comparator, coalesce(s.comparator_interventions, [])
FROM new n
LEFT JOIN record_groups g ON g.record_kind = 'trial' AND g.record_id = n.nct_id
LEFT JOIN v_trial_design s ON s.nct_id = n.nct_id
ORDER BY n.drugs[1] NULLS LAST, coalesce(s.allocation, '') <> 'RANDOMIZED', n.nct_id
"""
# Meaningful changes: not the registry's own "last update posted" churn, and results posting
# has its section.
TRIAL_CHANGES = """
SELECT h.nct_id, t.brief_title, h.field, h.old_value, h.new_value
FROM trial_history h JOIN live_trials t USING (nct_id)
WHERE list_contains(?, h.run_id) AND h.field NOT IN ('last_update_posted_date', 'has_results')
ORDER BY h.field <> 'overall_status', h.nct_id, h.field
"""
RESULTS_POSTED = """
SELECT h.nct_id, t.brief_title, array_to_string(t.phases, '/'), t.results_first_posted_date
FROM trial_history h JOIN live_trials t USING (nct_id)
WHERE list_contains(?, h.run_id) AND h.field = 'has_results' AND h.new_value = 'true'
ORDER BY h.nct_id
"""
OUTCOME_CHANGES = """
SELECT c.nct_id, t.brief_title, c.outcome_type, c.change, c.old_measure, c.new_measure, c.after_start
FROM outcome_changes c JOIN live_trials t USING (nct_id)
WHERE list_contains(?, c.run_id)
ORDER BY c.outcome_type <> 'primary', c.nct_id, c.change
"""
# Each paper-trial pair once, with every way it was found.
NEW_LINKED_PAPERS = """
SELECT l.pmid, any_value(a.title), l.nct_id, string_agg(DISTINCT l.evidence, ', ' ORDER BY l.evidence)
FROM article_trials l JOIN live_articles a USING (pmid)
WHERE list_contains(?, l.run_id)
GROUP BY l.pmid, l.nct_id ORDER BY l.nct_id, l.pmid
"""
# The run's new papers with their condition groups; NEW_PAPERS and NEW_MENTION_ONLY add which ones.
NEW_ARTICLES = """
WITH new AS (
    SELECT v.*, CAST(v.pmid AS VARCHAR) AS record_id
    FROM v_articles v JOIN live_articles a USING (pmid) WHERE list_contains(?, a.first_run_id)
)""" + RECORD_GROUPS + """
SELECT v.pmid, v.title, coalesce(v.journal, v.book_title), v.study_design, v.drugs, v.subject_drugs, v.retracted,
       coalesce(g.groups, [])
FROM new v LEFT JOIN record_groups g ON g.record_kind = 'article' AND g.record_id = CAST(v.pmid AS VARCHAR)
"""
# New papers about a catalogue drug (not only mentioning it, e.g. as an anaesthetic), by drug,
# trials and syntheses first; then those that only mention one. Notices (a retraction, erratum or
# expression of concern about another paper) are not new research: NEW_NOTICES lists them.
NEW_PAPERS = NEW_ARTICLES + """
WHERE (len(v.subject_drugs) > 0 OR len(v.drugs) = 0) AND v.study_design IS DISTINCT FROM 'notice'
ORDER BY v.subject_drugs[1] NULLS LAST,
         CASE v.study_design WHEN 'randomized controlled trial' THEN 0 WHEN 'clinical trial' THEN 1
              WHEN 'meta-analysis' THEN 2 WHEN 'systematic review' THEN 3 ELSE 4 END,
         v.pmid DESC
"""
NEW_MENTION_ONLY = NEW_ARTICLES + """
WHERE len(v.subject_drugs) = 0 AND len(v.drugs) > 0 AND v.study_design IS DISTINCT FROM 'notice'
ORDER BY v.drugs[1], v.pmid DESC
"""
# The run's new notices, each with the paper it concerns (PMID, and its title when stored).
NEW_NOTICES = """
SELECT pmid, title, notice_type, concerns_pmid, concerns_source, concerns_title
FROM v_article_notices WHERE list_contains(?, first_run_id)
ORDER BY notice_type NULLS LAST, pmid
"""
# Stored papers that a run found retracted (a new version with the retraction link or type).
NEWLY_RETRACTED = """
SELECT a.pmid, a.title, coalesce((SELECT any_value(c.ref_source) FROM comments_corrections c
                                  WHERE c.pmid = a.pmid AND c.ref_type = 'RetractionIn'), '')
FROM live_articles a
WHERE a.retracted AND list_contains(?, a.last_run_id) AND NOT list_contains(?, a.first_run_id)
ORDER BY a.pmid
"""
GONE = """
SELECT g.source, g.record_id, coalesce(a.title, t.brief_title), g.reason
FROM deleted_records g
LEFT JOIN articles a ON g.source = 'pubmed' AND CAST(a.pmid AS VARCHAR) = g.record_id
LEFT JOIN trials t ON g.source = 'ctgov' AND t.nct_id = g.record_id
WHERE list_contains(?, g.run_id) ORDER BY g.source, g.record_id
"""
RUN_COUNTS = """
SELECT source || CASE mode WHEN 'reconcile' THEN ' (reconcile)' ELSE '' END, status, fetched, new, updated, deleted, rejected, http_retries, message
FROM ingest_runs WHERE list_contains(?, run_id) ORDER BY source
"""
# Every feed's entries, from one query: each entry (a new trial, a status change, a new paper about
# a catalogue drug, a paper-trial pair) with the records it is about (a pair: both), filed under the
# all-in-one feed (drug and grp NULL), each drug of those records (grp NULL), each condition group
# (drug NULL) and each drug × group pair of one record; papers that only mention a catalogue drug
# go only into the all-in-one feed with mentions (with_mentions); the newest `limit` per feed. A paper's
# drugs are the ones it is about (not those it only mentions); a trial's are all its drugs.
FEED_ENTRIES = """
WITH mentioning AS (   -- papers that only mention catalogue drugs: every drug of theirs is a 'mention'
    SELECT record_id FROM record_drugs WHERE record_kind = 'article'
    GROUP BY record_id HAVING bool_and(role IS NOT DISTINCT FROM 'mention')
), entries AS (   -- every entry; a paper's title and summary come later, for the papers a feed shows
    SELECT 'trial/' || nct_id || '/new' AS entry_id, first_seen_at AS seen_at,
           'New trial: ' || coalesce(brief_title, nct_id) AS title,
           nct_id || ' — ' || coalesce(overall_status, '?') || ', ' || coalesce(array_to_string(phases, '/'), '') AS summary,
           'https://clinicaltrials.gov/study/' || nct_id AS link, 'trials?nct=' || nct_id AS page,
           ['trial:' || nct_id] AS records, false AS mention_only, NULL::BIGINT AS paper
    FROM live_trials
    UNION ALL
    SELECT 'trial/' || h.nct_id || '/status/' || strftime(h.observed_at, '%Y%m%dT%H%M%S'), h.observed_at,
           'Status change: ' || coalesce(t.brief_title, h.nct_id),
           h.nct_id || ': ' || coalesce(h.old_value, '∅') || ' → ' || coalesce(h.new_value, '∅'),
           'https://clinicaltrials.gov/study/' || h.nct_id, 'trials?nct=' || h.nct_id, ['trial:' || h.nct_id], false, NULL
    FROM trial_history h JOIN live_trials t USING (nct_id) WHERE h.field = 'overall_status'
    UNION ALL
    SELECT 'paper/' || a.pmid || '/new', a.first_seen_at, NULL, NULL,
           'https://pubmed.ncbi.nlm.nih.gov/' || a.pmid || '/', 'literature?pmid=' || a.pmid, ['article:' || a.pmid],
           m.record_id IS NOT NULL, a.pmid
    FROM live_articles a LEFT JOIN mentioning m ON m.record_id = CAST(a.pmid AS VARCHAR)
    UNION ALL
    SELECT 'link/' || l.pmid || '/' || l.nct_id, min(l.first_seen_at),
           'Paper on ' || l.nct_id || ': ' || any_value(a.title),
           'PMID ' || l.pmid || ' reports on ' || l.nct_id,
           'https://pubmed.ncbi.nlm.nih.gov/' || l.pmid || '/', 'literature?pmid=' || l.pmid,
           ['article:' || l.pmid, 'trial:' || l.nct_id], false, NULL
    FROM article_trials l JOIN live_articles a USING (pmid) GROUP BY l.pmid, l.nct_id
), drugs AS (
    SELECT DISTINCT record_kind || ':' || record_id AS record, drug FROM record_drugs
    WHERE record_kind = 'trial' OR role IS DISTINCT FROM 'mention'
), groups AS (
    SELECT DISTINCT record_kind || ':' || record_id AS record, condition_group AS grp
    FROM v_record_condition_groups WHERE condition_group IS NOT NULL
), filed AS (
    SELECT record, drug, NULL AS grp FROM drugs
    UNION SELECT record, NULL, grp FROM groups
    UNION SELECT record, drug, grp FROM drugs JOIN groups USING (record)
), placed AS (   -- narrow rows (feed, entry, time), so ranking them stays cheap at 50k papers
    SELECT NULL AS drug, NULL AS grp, true AS with_mentions, entry_id, seen_at FROM entries
    UNION ALL
    SELECT NULL, NULL, false, entry_id, seen_at FROM entries WHERE NOT mention_only
    UNION ALL
    SELECT DISTINCT f.drug, f.grp, false, e.entry_id, e.seen_at
    FROM (SELECT entry_id, seen_at, unnest(records) AS record FROM entries WHERE NOT mention_only) e
    JOIN filed f USING (record)
), chosen AS (
    SELECT * FROM placed
    QUALIFY row_number() OVER (PARTITION BY drug, grp, with_mentions ORDER BY seen_at DESC, entry_id) <= ?
), papers AS (
    SELECT v.pmid,
           CASE WHEN v.retracted THEN '⚠ RETRACTED — ' ELSE '' END
               || CASE WHEN v.study_design = 'notice' THEN 'Notice about another paper: ' ELSE 'New paper: ' END
               || coalesce(v.title, 'PMID ' || v.pmid) AS title,
           'PMID ' || v.pmid || ' — ' || coalesce(v.journal, v.book_title, 'no journal') || '; '
               || coalesce(v.study_design, 'design not known') || ' ('
               || CASE WHEN len(v.subject_drugs) = 0 AND len(v.drugs) > 0
                       THEN 'only mentions ' || array_to_string(v.drugs, ', ')
                       ELSE array_to_string(v.subject_drugs, ', ') END || ')' AS summary
    FROM v_articles v
    WHERE v.pmid IN (SELECT e.paper FROM entries e SEMI JOIN chosen c USING (entry_id) WHERE e.paper IS NOT NULL)
)
SELECT c.drug, c.grp, c.with_mentions, c.entry_id, c.seen_at, coalesce(p.title, e.title), coalesce(p.summary, e.summary),
       e.link, e.page
FROM chosen c JOIN entries e USING (entry_id) LEFT JOIN papers p ON p.pmid = e.paper
ORDER BY c.drug NULLS FIRST, c.grp NULLS FIRST, c.with_mentions, c.seen_at DESC, c.entry_id
"""


@dataclass
class Digest:
    published_at: datetime
    runs: list[tuple] = field(default_factory=list)
    new_trials: list[tuple] = field(default_factory=list)
    trial_changes: list[tuple] = field(default_factory=list)
    new_linked_papers: list[tuple] = field(default_factory=list)
    results_posted: list[tuple] = field(default_factory=list)
    outcome_changes: list[tuple] = field(default_factory=list)
    gone: list[tuple] = field(default_factory=list)
    new_papers: list[tuple] = field(default_factory=list)
    retracted: list[tuple] = field(default_factory=list)
    mention_only: list[tuple] = field(default_factory=list)
    notices: list[tuple] = field(default_factory=list)


def changed_nothing(report: Digest) -> bool:
    """No run of the digest added, changed or deleted a record (a quiet night, or failed pulls)."""
    return all(new == updated == deleted == 0 for _, _, _, new, updated, deleted, *_ in report.runs)


def build_digest(conn: duckdb.DuckDBPyConnection, run_ids: Sequence[str], published_at: datetime) -> Digest:
    ids = list(run_ids)
    return Digest(
        published_at=published_at,
        runs=conn.execute(RUN_COUNTS, [ids]).fetchall(),
        new_trials=conn.execute(NEW_TRIALS, [ids]).fetchall(),
        trial_changes=conn.execute(TRIAL_CHANGES, [ids]).fetchall(),
        new_linked_papers=conn.execute(NEW_LINKED_PAPERS, [ids]).fetchall(),
        results_posted=conn.execute(RESULTS_POSTED, [ids]).fetchall(),
        outcome_changes=conn.execute(OUTCOME_CHANGES, [ids]).fetchall(),
        gone=conn.execute(GONE, [ids]).fetchall(),
        new_papers=conn.execute(NEW_PAPERS, [ids]).fetchall(),
        retracted=conn.execute(NEWLY_RETRACTED, [ids, ids]).fetchall(),
        mention_only=conn.execute(NEW_MENTION_ONLY, [ids]).fetchall(),
        notices=conn.execute(NEW_NOTICES, [ids]).fetchall(),
    )


def _md(text: object) -> str:
    return str(text if text is not None else "").replace("|", "\\|").replace("\n", " ")


def _new_paper_line(pmid, title, journal, design, drugs, subject_drugs, retracted, groups) -> str:
    mentioned = [d for d in drugs if d not in subject_drugs]
    about = ", ".join(subject_drugs) + (f"; also mentions {', '.join(mentioned)}" if mentioned else "")
    return (f"- {'⚠ RETRACTED ' if retracted else ''}[PMID {pmid}](https://pubmed.ncbi.nlm.nih.gov/{pmid}/) "
            f"{_md(title)} — {_md(journal) or 'no journal'}; {design or 'design not known'} "
            f"({about or 'drug not named'}{_groups(groups)})")


def _mention_only_line(pmid, title, journal, design, drugs, subject_drugs, retracted, groups) -> str:
    return (f"- {'⚠ RETRACTED ' if retracted else ''}[PMID {pmid}](https://pubmed.ncbi.nlm.nih.gov/{pmid}/) "
            f"{_md(title)} — {_md(journal) or 'no journal'}; mentions {', '.join(drugs)}{_groups(groups)}")


def _notice_line(pmid, title, notice_type, concerns_pmid, concerns_source, concerns_title) -> str:
    if concerns_pmid is not None:
        concerns = f"[PMID {concerns_pmid}](https://pubmed.ncbi.nlm.nih.gov/{concerns_pmid}/)" + (
            f" {_md(concerns_title)}" if concerns_title else "")
    else:
        concerns = _md(concerns_source) or "the paper it concerns is not linked"
    return (f"- [PMID {pmid}](https://pubmed.ncbi.nlm.nih.gov/{pmid}/) {notice_type or 'notice'}: "
            f"{_md(title)} — concerns {concerns}")


def _groups(groups) -> str:
    return f" · {', '.join(groups)}" if groups else ""


def _new_trial_line(nct, title, status, phase, drugs, groups, allocation, masking, comparator,
                    comparator_interventions) -> str:
    design = _design_words(allocation, masking, comparator, comparator_interventions)
    return (f"- {_trial_link(nct)} {_md(title)} — {code_label(status)}, {phase_label(phase)}"
            f"{'; ' + design if design else ''} ({', '.join(drugs) or 'drug not named'}{_groups(groups)})")


def _design_words(allocation, masking, comparator, comparator_interventions) -> str:
    """'randomized, quadruple-masked, vs placebo (Saline)': what a researcher asks of a new trial
    first. Registry codes as AACT keeps them; 'none' comparator and NA allocation say nothing."""
    words = []
    if allocation in ("RANDOMIZED", "NON_RANDOMIZED"):
        words.append(code_label(allocation).lower().replace(" ", "-"))
    if masking == "NONE":
        words.append("open label")
    elif masking:
        words.append(f"{masking.lower()}-masked")
    if comparator and comparator != "none":
        names = ", ".join(comparator_interventions[:2])
        words.append(f"vs {comparator}" + (f" ({_md(names)})" if names else ""))
    return ", ".join(words)


def _trial_link(nct: str) -> str:
    return f"[{nct}](https://clinicaltrials.gov/study/{nct})"


def _trial_change_line(nct, title, field_name, old, new) -> str:
    coded = field_name == "overall_status"
    before, after = (code_label(old), code_label(new)) if coded else (_md(old) or "∅", _md(new) or "∅")
    return f"- {_trial_link(nct)} {_md(title)}: **{FIELD_LABELS.get(field_name, field_name)}** {before} → {after}"


def _outcome_change_line(nct, title, outcome_type, change, old, new, after_start) -> str:
    what = {"added": f"added “{_md(new)}”", "removed": f"removed “{_md(old)}”",
            "reworded": f"“{_md(old)}” → “{_md(new)}”"}[change]
    return (f"- {_trial_link(nct)} {_md(title)}: {outcome_type} outcome {what}"
            + (" — after the trial started" if after_start else ""))


def _record_link(source: str, record_id: str) -> str:
    label = f"PMID {record_id}" if SOURCES[source].kind == "article" else record_id
    return f"[{label}]({SOURCES[source].url(record_id)})"


def render_markdown(digest: Digest, *, limit: int | None = None, full_digest: str | None = None) -> str:
    """The digest as Markdown. With `limit`, each list shows its first `limit` entries and then
    how many more there are, and where `full_digest` (the complete one) is."""
    lines = [f"# trialwatch — what changed ({digest.published_at:%Y-%m-%d %H:%M} UTC)", "",
             "| source | status | fetched | new | updated | deleted | rejected | retries |",
             "|---|---|---|---|---|---|---|---|"]
    for source, status, fetched, new, updated, deleted, rejected, retries, message in digest.runs:
        lines.append(f"| {source} | {status}{' — ' + _md(message) if message else ''} | {fetched or 0} | {new or 0} | "
                     f"{updated or 0} | {deleted or 0} | {rejected or 0} | {retries or 0} |")

    def section(title: str, rows: list[tuple], entry) -> None:
        lines.extend(["", f"## {title} ({len(rows):,})", ""])
        lines.extend(entry(*row) for row in rows[:limit])
        if limit is not None and len(rows) > limit:
            lines.append(f"- … and {len(rows) - limit:,} more" + (f" (all of them: {full_digest})" if full_digest else ""))

    if digest.retracted:
        section("Retracted since the last run", digest.retracted,
                lambda pmid, title, notice: f"- ⚠ [PMID {pmid}](https://pubmed.ncbi.nlm.nih.gov/{pmid}/) {_md(title)}"
                                            + (f" — retraction: {_md(notice)}" if notice else ""))
    section("New papers", digest.new_papers, _new_paper_line)
    section("New trials", digest.new_trials, _new_trial_line)
    if digest.results_posted:
        section("Results posted", digest.results_posted,
                lambda nct, title, phase, posted: f"- {_trial_link(nct)} {_md(title)} — {phase_label(phase)}"
                                                  + (f", results posted {posted}" if posted else ""))
    if digest.outcome_changes:
        section("Registered outcomes changed", digest.outcome_changes, _outcome_change_line)
    section("Trial changes", digest.trial_changes, _trial_change_line)
    if digest.notices:
        section("New retraction, correction and concern notices", digest.notices, _notice_line)
    section("New papers linked to trials", digest.new_linked_papers,
            lambda pmid, title, nct, evidence: f"- [PMID {pmid}](https://pubmed.ncbi.nlm.nih.gov/{pmid}/) {_md(title)} "
                                               f"→ {nct} (found by {evidence})")
    if digest.mention_only:  # last: the catalogue drug is an anaesthetic, a background name, …
        section("New papers that only mention a catalogue drug", digest.mention_only, _mention_only_line)
    if digest.gone:
        section("Gone from the services (taken out of the views; rows kept)", digest.gone,
                lambda source, record_id, title, reason: f"- {_record_link(source, record_id)} {_md(title)} — {_md(reason)}")
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Feed:
    """One Atom feed file: the all-in-one feed (drug and group None), a drug's, a condition
    group's, or a drug × group's."""
    drug: str | None = None
    group: str | None = None
    with_mentions: bool = False  # the all-in-one feed with papers that only mention a drug

    @property
    def file_name(self) -> str:
        if self.with_mentions:
            return "new-with-mentions.xml"
        if self.drug is None and self.group is None:
            return "new.xml"
        if self.group is None:
            return f"{slug(self.drug)}.xml"
        return f"{'group' if self.drug is None else slug(self.drug)}--{slug(self.group)}.xml"

    @property
    def key(self) -> str:
        return self.file_name.removesuffix(".xml")

    def title(self, drug_labels: Mapping[str, str]) -> str:
        if self.with_mentions:
            return "trialwatch: new trials and papers, with papers that only mention a drug"
        if self.drug is None and self.group is None:
            return "trialwatch: new ketamine, psilocybin and MDMA trials and papers"
        drug = drug_labels.get(self.drug, self.drug) if self.drug else None
        if self.group is None:
            return f"trialwatch: {drug}"
        return f"trialwatch: {drug or 'all drugs'} · {group_label(self.group)}"

    def dashboard_page(self, dashboard_url: str) -> str:
        return f"{dashboard_url}/new" + (f"?{urlencode({'drug': self.drug})}" if self.drug else "")


def slug(text: str) -> str:
    """A file-name part: `substance use` → `substance-use`."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "x"


def render_feeds(conn: duckdb.DuckDBPyConnection, generated_at: datetime, *,
                 drug_labels: Mapping[str, str] | None = None, dashboard_url: str = DEFAULT_DASHBOARD_URL,
                 limit: int = FEED_LIMIT) -> dict[str, bytes]:
    """Atom 1.0 feeds (RFC 4287), by file name, from one query: `new.xml` (everything), one per
    drug in `drug_labels` (key → label; each written even when empty) and per other drug with
    entries, one per condition group and one per drug × condition group that has entries. Each
    holds its newest `limit` entries; an entry has the same id in every feed it is in."""
    labels = dict(drug_labels or {})
    placed: dict[Feed, list[tuple]] = {Feed(): [], Feed(with_mentions=True): []}
    placed.update({Feed(drug): [] for drug in labels})
    for drug, group, with_mentions, *entry in conn.execute(FEED_ENTRIES, [limit]).fetchall():
        placed.setdefault(Feed(drug, group, with_mentions), []).append(tuple(entry))
    return {feed.file_name: _atom(feed, entries, generated_at, labels, dashboard_url)
            for feed, entries in placed.items()}


def render_atom(conn: duckdb.DuckDBPyConnection, generated_at: datetime, limit: int = FEED_LIMIT,
                dashboard_url: str = DEFAULT_DASHBOARD_URL) -> bytes:
    """The all-in-one feed of the newest trials, status changes, papers about a catalogue drug
    (retracted ones marked in the title) and paper-trial links."""
    return render_feeds(conn, generated_at, dashboard_url=dashboard_url, limit=limit)["new.xml"]


def _atom(feed: Feed, entries: list[tuple], generated_at: datetime, drug_labels: Mapping[str, str],
          dashboard_url: str) -> bytes:
    ET.register_namespace("", ATOM)
    root = ET.Element(f"{{{ATOM}}}feed")

    def child(parent: ET.Element, tag: str, text: str | None = None, **attributes: str) -> ET.Element:
        element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attributes)
        element.text = text
        return element

    child(root, "id", FEED_ID if feed == Feed() else f"tag:trialwatch,2026:feed/{feed.key}")
    child(root, "title", feed.title(drug_labels))
    child(root, "updated", _atom_time(generated_at))
    child(child(root, "author"), "name", "trialwatch")
    child(root, "link", rel="alternate", type="text/html", href=feed.dashboard_page(dashboard_url))
    for entry_id, at, title, summary, link, page in entries:
        entry = child(root, "entry")
        child(entry, "id", f"tag:trialwatch,2026:{entry_id}")
        child(entry, "title", title)
        child(entry, "updated", _atom_time(at))
        child(entry, "link", rel="alternate", type="text/html", href=link)
        child(entry, "link", rel="related", type="text/html", href=f"{dashboard_url}/{page}")
        child(entry, "summary", summary)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def remove_stale_feeds(folder: Path, written: Iterable[str]) -> list[Path]:
    """Per-group feed files (`<drug>--<group>.xml`, `group--<group>.xml`) this run did not write:
    their group has no entries any more (a re-tag or a deletion). Removed, so a reader that
    subscribed sees the feed gone rather than frozen. Drug feeds and new.xml are always written."""
    keep = set(written)
    stale = [path for path in folder.glob("*--*.xml") if path.name not in keep] if folder.is_dir() else []
    for path in stale:
        path.unlink(missing_ok=True)
    return stale


def _atom_time(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def write_atomically(path, data: bytes) -> None:
    """Readers of the digest or feed never see a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(path.name + ".part")
    temp.write_bytes(data)
    temp.replace(path)
