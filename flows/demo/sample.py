"""A deterministic, generated sample of PubMed articles and ClinicalTrials.gov studies for the demo.

There is no network where the demo runs, so the local stand-ins of E-utilities and the
ClinicalTrials.gov API v2 serve this sample and the real pipeline ingests it. Nothing here is
copied from a real record: titles, abstracts, authors and studies are built from the vocabulary
tables (data files in ``flows/demo/vocabulary/``, loaded by `flows.demo.tables`), in the formats
the real services return:

* ``DemoSample.pubmed_xml`` is one efetch ``PubmedArticleSet`` document: MedlineCitation with
  journal issue (or ``MedlineDate``), structured or plain abstract with occasional
  ``<i>``/``<sup>``/``<sub>`` markup, authors and collective names, DataBankList, GrantList,
  publication types, MeSH headings and chemicals with real descriptor UIs, keywords; PubmedData
  with History dates and ArticleIdList (pubmed, pmc, doi, pii).
* ``DemoSample.studies`` are ClinicalTrials.gov v2 study objects (``protocolSection`` modules,
  ``derivedSection`` MeSH browse modules, ``hasResults``). Every study has ketamine/esketamine,
  psilocybin or MDMA among its interventions. Studies with ``hasResults`` true (and only they)
  carry a ``resultsSection``: participant flow, baseline characteristics, the primary outcome
  per arm with a between-arm analysis, and serious and other adverse events per arm.

The two sides link up like the real ones: about a fifth of the articles name a generated NCT id
(in ``DataBankList`` and/or the abstract text) and many studies cite generated PMIDs in
``referencesModule`` (RESULT, DERIVED, BACKGROUND).

Built in on purpose, for the pipeline and the dashboard to find:

* MeSH indexing lags: the newest ~22% of articles are ``In-Process``/``In-Data-Review`` without
  MeSH headings and articles of non-MEDLINE journals are ``PubMed-not-MEDLINE``; ~70% are
  indexed (``MEDLINE``).
* ``OVERDUE_SHARE`` of the studies (10 of 150) are overdue: COMPLETED, primary completion more
  than 14 months before ``today``, ``hasResults`` false and no linked publication (no article
  names them, they cite nothing). Every other COMPLETED or TERMINATED study whose primary
  completion is more than ``DUE_DAYS`` (8 months) old has results or a linked paper, so the
  overdue set is exactly those studies, however month-only dates are rounded.
* Every overall status appears (``FIXED_STATUS``), and a few studies were first posted in the
  last two months.
* About a tenth of the papers are about something else and only MENTION a catalogue drug
  (``flows/demo/vocabulary/mentions.toml``): rodent studies anaesthetised with ketamine/xylazine,
  clinical trials with ketamine sedation in all arms, a survey listing ecstasy and ketamine among
  other substances, esketamine in a background sentence; their wording and MeSH make
  extract/drug_role.py call the drug a mention. Preclinical papers ABOUT a drug (rodent doses,
  no human cues) come out 'preclinical' by extract/study_design.py's text rules.
* CommentsCorrectionsList: most letters comment on an earlier paper (CommentOn/CommentIn), a few
  papers have an erratum (ErratumIn), and one paper at least two years old is retracted, its
  notice ("Retraction of Publication", RetractionOf) in the sample, the paper typed "Retracted
  Publication" with a RetractionIn link. The study that completes on night 2 has a protocol paper.
* Dates: ACTUAL dates are never after ``today``; ESTIMATED dates are more than a month after
  ``today`` except for UNKNOWN and WITHDRAWN studies, whose stale estimates lie in the past as
  on the real registry. About half of start/completion dates are month-only (``2021-09``).

Nights. ``generate_sample(today=D, night=2)`` is the world one day after
``generate_sample(today=D - 1 day, night=1)``: it contains every night-1 record, byte-identical
(articles) or equal (studies) except for the changed ones, plus:

* ``NIGHT2_NEW_ARTICLES`` (5) new articles with Entrez date ``D`` (newer than every night-1
  article); the first is a results paper linked to an existing completed or terminated study,
  the second a paper that only mentions a drug, the third the retraction notice of a night-1
  paper;
* ``NIGHT2_NEW_TRIALS`` (2) new studies first posted on ``D``;
* three changed studies, each with ``lastUpdatePostDateStruct.date == D``: the
  ACTIVE_NOT_RECRUITING study about to finish becomes COMPLETED with ACTUAL completion dates;
  one RECRUITING study changes its enrollment count; one overdue study gets ``hasResults`` true
  (results posted), so it leaves the overdue set;
* three night-1 articles revised, each with ``DateRevised`` = ``D``: one's MeSH indexing
  arrives; one is retracted (RetractionIn to the new notice, "Retracted Publication"); one gets
  an ExpressionOfConcernIn link.

Sizes: ``n_articles``/``n_trials`` are the night-1 counts; night 2 adds the records above.
Everything is a function of (seed, today, night, sizes): one ``random.Random`` per night, no
wall clock, no iteration over sets.
"""
from __future__ import annotations

import bisect
import math
import random
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from html import unescape
from xml.sax.saxutils import escape as _x

from flows.demo.tables import (
    ACRONYM_SUFFIX,
    ADVERSE_EVENTS,
    AGE_MESH,
    ANAESTHESIA,
    ANIMAL_SPECIES,
    BURDEN,
    CASE_EVENTS,
    COLLECTIVE_NAMES,
    CONDITION_KEYWORDS,
    CONDITIONS,
    DESIGN_MESH,
    DESIGN_PUBLICATION_TYPES,
    DROP_REASONS,
    DRUG_CLASS_MESH,
    DRUG_KEYWORDS,
    DRUG_MESH,
    ELIGIBILITY_EXCLUSIONS,
    FIRST_NAMES,
    FOUNDATIONS,
    GAPS,
    HUMANS,
    INDUSTRY_SITES,
    JOURNALS,
    LAST_NAMES,
    MECHANISM,
    MENTION_INDEXED_DRUG,
    MENTION_PAPERS,
    NEGATIONS,
    NIH_INSTITUTES,
    OTHER_EVENTS,
    PRECLINICAL_DOSE,
    PRECLINICAL_MECH,
    PRECLINICAL_MESH,
    PRECLINICAL_TARGET,
    PUBLICATION_TYPES,
    QUALIFIERS,
    REGISTRATION_TEXT,
    RETRACTION_TITLES,
    ROUTE_MESH,
    SERIOUS_EVENTS,
    SITES,
    SPONSOR_BY_VARIANT,
    SPONSOR_SITES,
    STYLE_LABELS,
    TITLES,
    UNSTRUCTURED_ROLES,
    VA_SITES,
    VA_SPONSOR,
    VARIANTS,
    WHY_STOPPED,
    Comparator,
    Condition,
    Journal,
    MentionPaper,
    Species,
    Variant,
)

__all__ = ["DemoSample", "generate_sample", "NIGHT2_NEW_ARTICLES", "NIGHT2_NEW_TRIALS"]

NIGHT2_NEW_ARTICLES = 5
NIGHT2_NEW_TRIALS = 2
OVERDUE_SHARE = 10 / 150
DUE_DAYS = 240  # non-overdue studies have results or a paper this long after primary completion
# Trials planned with a fixed status, so every status appears in any sample; the other
# ("regular", "recent") trials take a status their dates allow.
FIXED_STATUS = {"overdue": "COMPLETED", "closing": "ACTIVE_NOT_RECRUITING",
                "recruiting": "RECRUITING", "invitation": "ENROLLING_BY_INVITATION",
                "suspended": "SUSPENDED", "not_yet": "NOT_YET_RECRUITING",
                "withdrawn": "WITHDRAWN", "terminated": "TERMINATED", "unknown": "UNKNOWN"}
ARTICLE_SPAN_DAYS = 8 * 365
UNINDEXED_SHARE = 0.22  # newest articles still waiting for MeSH indexing

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August",
               "September", "October", "November", "December")


@dataclass
class DemoSample:
    pubmed_xml: bytes  # one PubmedArticleSet document with all articles (real efetch format)
    studies: list[dict]  # ClinicalTrials.gov v2 study objects (real structure)


# The sample's mix: shares of drugs and article designs, and how often a clinical paper names
# its trial.
DRUG_WEIGHTS_ARTICLES = {"ketamine": 55, "psilocybin": 30, "mdma": 15}
DRUG_WEIGHTS_TRIALS = {"ketamine": 45, "psilocybin": 35, "mdma": 20}
DESIGN_WEIGHTS = {"rct": 15, "open_label": 5, "protocol": 4, "observational": 19, "review": 22,
                  "meta": 8, "case_report": 10, "preclinical": 12, "letter": 5, "mention": 11}
LINK_PROBABILITY = {"rct": 0.75, "open_label": 0.5, "protocol": 1.0}
# Designs that are not studies of a catalogue drug: never a trial's paper, never cited by one.
NOT_DRUG_STUDIES = ("letter", "mention", "retraction")
RETRACTABLE = ("rct", "open_label", "observational", "meta")
LETTER_COMMENT_SHARE = 0.7  # letters that comment on an earlier paper of the sample
ERRATUM_SHARE = 0.03  # papers with a published erratum


# =============================================================================================
# Plans: the records before they are written out
# =============================================================================================

@dataclass
class _Trial:
    kind: str  # regular | recent | new (night 2) | a FIXED_STATUS key
    variant: Variant
    condition: Condition
    sponsor: tuple[str, str]  # (name, class)
    sites: list[int]
    study_type: str
    phases: list[str]
    randomized: bool
    comparator: Comparator | None
    first_submit: date
    first_post: date
    qc: date
    start: date
    pc: date
    completion: date
    status: str = "RECRUITING"
    last_known: str | None = None
    why_stopped: str | None = None
    start_actual: bool = False
    pc_actual: bool = False
    completion_actual: bool = False
    precision: tuple[bool, bool, bool] = (True, True, True)  # day precision of start/pc/compl.
    enrollment: int = 0
    enrollment_actual: bool = False
    has_results: bool = False
    results_submit: date | None = None
    results_post: date | None = None
    last_update: date | None = None  # submit date; None: never updated since first posting
    last_update_post: date | None = None
    nct: str = ""
    acronym: str | None = None
    org_id: str = ""
    collaborators: list[tuple[str, str]] = field(default_factory=list)
    official: str = ""
    details: dict = field(default_factory=dict)  # titles, free text and choices, drawn once
    references: list[tuple[int, str, str]] = field(default_factory=list)  # (pmid, type, citation)


@dataclass
class _Article:
    pmid: int
    entrez: datetime
    design: str
    trial: _Trial | None = None
    link: str | None = None  # both | databank | text
    secondary: bool = False
    status: str = "MEDLINE"
    indexing: str | None = None
    completed: date | None = None
    revised: date | None = None
    journal: Journal | None = None
    variant: Variant | None = None  # None: not a study of a catalogue drug (mention, notice)
    condition: Condition | None = None
    mention: MentionPaper | None = None
    species: Species | None = None  # animal studies
    title: str = ""  # XML fragment
    sections: list[tuple[str | None, str | None, str]] = field(default_factory=list)
    copyright: str | None = None
    authors: list[tuple] = field(default_factory=list)
    grants: list[tuple[str, str, str]] = field(default_factory=list)
    pub_types: list[str] = field(default_factory=list)
    mesh: list[tuple[str, str, bool, tuple[str, ...]]] = field(default_factory=list)
    chemicals: list[tuple[str, str, str]] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    doi: str | None = None
    pii: str | None = None
    pmc: str | None = None
    e_date: date | None = None  # ArticleDate (electronic publication)
    pub_status: str = "ppublish"
    volume: str | None = None
    issue: str | None = None
    pub_date: tuple = ()  # ("ymd", y, m, d) | ("ym", y, m) | ("medline", text)
    pages: tuple[str, str | None] | None = None
    history: list[tuple[str, date, tuple[int, int] | None]] = field(default_factory=list)
    links: list[tuple[str, str, int]] = field(default_factory=list)  # (RefType, RefSource, PMID)


@dataclass
class _World:
    trials: list[_Trial]
    articles: list[_Article]


# =============================================================================================
# Public API
# =============================================================================================

def generate_sample(*, seed: int = 2026, today: date, night: int = 1,
                    n_articles: int = 300, n_trials: int = 150) -> DemoSample:
    """Generate the demo world as the two services would serve it on ``today``.

    ``night=1`` is a world of exactly ``n_articles`` articles and ``n_trials`` studies.
    ``night=2`` is the world one day later: ``generate_sample(today=D, night=2)`` equals
    ``generate_sample(today=D - 1 day, night=1)`` plus NIGHT2_NEW_ARTICLES new articles,
    NIGHT2_NEW_TRIALS new studies, three changed studies (lastUpdatePostDate = D) and three
    revised articles (DateRevised = D); every other record is byte-identical (XML) or equal
    (JSON). See the module docstring for what the changes are.
    """
    if night not in (1, 2):
        raise ValueError("night must be 1 or 2")
    if n_articles < 20 or n_trials < 20:
        raise ValueError("need at least 20 articles and 20 trials")
    if night == 1:
        world = _build_world(random.Random(seed), today, n_articles, n_trials)
    else:
        world = _build_world(random.Random(seed), today - timedelta(days=1), n_articles, n_trials)
        _next_night(random.Random(f"trialwatch-night-2/{seed}"), world, today)
    return DemoSample(
        pubmed_xml=_render_article_set(world.articles),
        studies=[_render_study(t) for t in world.trials],
    )


# =============================================================================================
# World building
# =============================================================================================

def _build_world(rng: random.Random, today: date, n_articles: int, n_trials: int) -> _World:
    trials = _plan_trials(rng, today, n_trials)
    articles = _plan_articles(rng, today, n_articles)
    _link_articles(rng, today, articles, trials)
    for article in articles:
        _write_article(rng, today, article)
    _assign_indexing(rng, today, articles)
    _add_comments_and_corrections(rng, today, articles)
    _add_references(rng, today, articles, trials)
    return _World(trials, articles)


def _next_night(rng: random.Random, world: _World, today: date) -> None:
    """Turn the world of ``today - 1`` into the world of ``today`` (see module docstring)."""
    trials = world.trials
    closing = next(t for t in trials if t.kind == "closing")
    closing.status = "COMPLETED"
    closing.pc = closing.completion = today - timedelta(days=rng.randint(2, 12))
    closing.pc_actual = closing.completion_actual = True
    closing.precision = (closing.precision[0], True, True)
    recruiting = next(t for t in trials if t.kind == "recruiting")
    step = rng.randint(5, max(6, min(40, recruiting.enrollment // 2)))
    recruiting.enrollment = max(1, recruiting.enrollment + rng.choice((-1, 1)) * step)
    reporting = rng.choice([t for t in trials if t.kind == "overdue"])
    reporting.has_results = True
    reporting.results_submit = today - timedelta(days=rng.randint(1, 3))
    reporting.results_post = today
    for trial in (closing, recruiting, reporting):
        trial.last_update = today - timedelta(days=rng.randint(0, 1))
        trial.last_update_post = today

    taken_nct = {t.nct for t in trials}
    for _ in range(NIGHT2_NEW_TRIALS):
        trial = _plan_trial(rng, today, "new")
        trial.nct = _nct_id(rng, trial.first_submit, taken_nct)
        _write_trial_details(rng, trial)
        trials.append(trial)

    old = list(world.articles)
    taken_pmid = {a.pmid for a in old}
    done = [t for t in trials if t.status in ("COMPLETED", "TERMINATED") and t.kind != "overdue"
            and t.pc <= today - timedelta(days=60)]
    retracted = rng.choice(_retractable(old))
    for i in range(NIGHT2_NEW_ARTICLES):
        moment = datetime(today.year, today.month, today.day, rng.randint(0, 21), rng.randrange(60))
        design = ("rct", "mention", "retraction")[i] if i < 3 else _pick_design(
            rng, exclude=tuple(LINK_PROBABILITY))
        article = _Article(_pmid(rng, today, taken_pmid), moment, design)
        if i == 0:
            article.trial = max(done, key=lambda t: (t.pc, t.nct))
            article.link = "both"
            article.design = "rct" if article.trial.randomized else "open_label"
            article.secondary = any(a.trial is article.trial for a in old)
        if design == "retraction":
            _write_notice(rng, today, article, retracted)
        else:
            _write_article(rng, today, article)
            article.status = "In-Data-Review" if article.journal.medline else "PubMed-not-MEDLINE"
        article.revised = today
        world.articles.append(article)

    waiting = [a for a in old if a.status in ("In-Process", "In-Data-Review")]
    revised = min(waiting or [a for a in old if a is not retracted], key=lambda a: (a.entrez, a.pmid))
    if revised.status != "MEDLINE":  # indexing finished: the MeSH headings arrive
        revised.status, revised.indexing, revised.completed = "MEDLINE", "Automated", today
    concern = rng.choice([a for a in _retractable(old) if a is not retracted and a is not revised])
    concern.links.append(("ExpressionOfConcernIn", _notice_source(concern.journal, today),
                          _pmid(rng, today, taken_pmid)))
    for article in (revised, retracted, concern):
        article.revised = today


# ---------------------------------------------------------------------------------------------
# Trials
# ---------------------------------------------------------------------------------------------

def _plan_trials(rng: random.Random, today: date, n: int) -> list[_Trial]:
    overdue = max(1, round(n * OVERDUE_SHARE))
    recent = max(2, round(n / 30))
    fixed = [kind for kind in FIXED_STATUS if kind != "overdue"]
    kinds = (["overdue"] * overdue + ["recent"] * recent + fixed
             + ["regular"] * (n - overdue - recent - len(fixed)))
    trials = [_plan_trial(rng, today, kind) for kind in kinds]
    trials.sort(key=lambda t: (t.first_submit, t.first_post))
    taken: set[str] = set()
    for trial in trials:
        trial.nct = _nct_id(rng, trial.first_submit, taken)
        _write_trial_details(rng, trial)
    return trials


def _plan_trial(rng: random.Random, today: date, kind: str) -> _Trial:
    drug = _weighted(rng, DRUG_WEIGHTS_TRIALS)
    variant = _pick_variant(rng, drug, "rct")
    condition = _pick_condition(rng, drug)
    sponsor, sites, collaborators = _pick_sponsor(rng, variant, condition)
    industry = sponsor[1] == "INDUSTRY"
    observational = kind in ("regular", "recent") and rng.random() < 0.1
    if observational:
        phases = []
    elif industry:
        phases = rng.choice((["PHASE2"], ["PHASE2"], ["PHASE3"], ["PHASE3"], ["PHASE2", "PHASE3"],
                             ["PHASE1"]))
    else:  # phase 4 only for the approved drug (ketamine/esketamine)
        phases = rng.choices((["EARLY_PHASE1"], ["PHASE1"], ["PHASE2"], ["PHASE2", "PHASE3"],
                              ["PHASE3"], ["PHASE4"], ["NA"]),
                             (8, 12, 40, 5, 8, 15 if drug == "ketamine" else 0, 12))[0]
    randomized = (not observational and phases not in (["EARLY_PHASE1"], ["PHASE1"])
                  and rng.random() < 0.75)
    comparator = rng.choice(variant.comparators) if randomized else None
    months = {"EARLY_PHASE1": (8, 24), "PHASE1": (8, 24), "PHASE3": (18, 48)}.get(
        phases[0] if phases else "", (12, 40))

    lag = rng.randint(2, 35)
    if kind in ("overdue", "terminated"):
        pc = today - timedelta(days=rng.randint(430 if kind == "overdue" else 90, 1500))
        start = pc - timedelta(days=30 * rng.randint(*months))
        first_submit = start - timedelta(days=rng.randint(0, 150))
        first_post = first_submit + timedelta(days=lag)
    elif kind in ("recent", "new", "not_yet"):
        first_post = today - timedelta(days=0 if kind == "new" else rng.randint(0, 60))
        first_submit = first_post - timedelta(days=lag)
        start = first_post + timedelta(days=rng.randint(-30, 120))
        pc = start + timedelta(days=30 * rng.randint(*months))
    elif kind == "closing":
        pc = today + timedelta(days=rng.randint(35, 90))
        start = pc - timedelta(days=30 * rng.randint(14, 30))
        first_submit = start - timedelta(days=rng.randint(10, 120))
        first_post = first_submit + timedelta(days=lag)
    elif kind in ("recruiting", "invitation", "suspended"):
        start = today - timedelta(days=rng.randint(60, 600))
        pc = today + timedelta(days=rng.randint(120, 700))
        first_submit = start - timedelta(days=rng.randint(10, 120))
        first_post = first_submit + timedelta(days=lag)
    else:
        back = (rng.randint(900, 2600) if kind == "unknown"
                else _recent_skewed(rng, ARTICLE_SPAN_DAYS))
        first_post = today - timedelta(days=back)
        first_submit = first_post - timedelta(days=lag)
        start = first_submit + timedelta(days=rng.randint(-120, 180))
        pc = start + timedelta(days=30 * rng.randint(*months))
    completion = pc if rng.random() < 0.45 else pc + timedelta(days=rng.randint(30, 365))
    qc = max(first_submit, first_post - timedelta(days=rng.randint(1, 3)))

    trial = _Trial(kind, variant, condition, sponsor, sites,
                   "OBSERVATIONAL" if observational else "INTERVENTIONAL", phases, randomized,
                   comparator, first_submit, first_post, qc, start, pc, completion,
                   collaborators=collaborators)
    trial.precision = tuple(rng.random() < 0.5 for _ in range(3))
    _set_status(rng, today, trial)
    _set_enrollment(rng, trial)
    _set_results(rng, today, trial)
    _set_last_update(rng, today, trial)
    return trial


def _set_status(rng: random.Random, today: date, t: _Trial) -> None:
    """Pick a status the dates allow, then make dates and their ACTUAL/ESTIMATED types agree."""
    soon = today + timedelta(days=32)
    stale_ok = t.first_post <= today - timedelta(days=800)
    if t.kind in FIXED_STATUS:
        status = FIXED_STATUS[t.kind]
    elif t.start > today:
        status = "WITHDRAWN" if t.kind == "regular" and rng.random() < 0.1 else "NOT_YET_RECRUITING"
    elif t.pc > today:
        status = rng.choices(("RECRUITING", "ENROLLING_BY_INVITATION", "ACTIVE_NOT_RECRUITING",
                              "SUSPENDED", "UNKNOWN", "WITHDRAWN"), (58, 7, 15, 4, 11, 5))[0]
        if t.kind != "regular" and status not in ("RECRUITING", "ENROLLING_BY_INVITATION"):
            status = "RECRUITING"
    else:
        status = rng.choices(("COMPLETED", "TERMINATED", "UNKNOWN", "ACTIVE_NOT_RECRUITING"),
                             (72, 12, 10, 6))[0]
        if status == "ACTIVE_NOT_RECRUITING" and t.pc <= today - timedelta(days=DUE_DAYS):
            status = "COMPLETED"
    if status == "UNKNOWN" and not stale_ok:
        status = "RECRUITING" if t.pc > today else "COMPLETED"
    t.status = status

    def shift_future(min_day: date) -> None:
        if t.pc < min_day:
            gap = t.completion - t.pc
            t.pc = min_day + timedelta(days=rng.randint(0, 400))
            t.completion = t.pc + gap

    if status == "NOT_YET_RECRUITING":
        if t.start < soon:
            t.start = soon + timedelta(days=rng.randint(0, 120))
        shift_future(t.start + timedelta(days=180))
    elif status in ("RECRUITING", "ENROLLING_BY_INVITATION", "SUSPENDED"):
        shift_future(soon)
        t.start_actual = True
    elif status == "ACTIVE_NOT_RECRUITING":
        t.start_actual = True
        if t.pc <= today:
            t.pc_actual = True
            t.completion = max(t.completion, soon + timedelta(days=rng.randint(0, 200)))
        else:
            shift_future(soon)
    elif status == "COMPLETED":
        t.start_actual = t.pc_actual = t.completion_actual = True
        if t.completion > today:
            t.completion = t.pc + timedelta(days=rng.randint(0, (today - t.pc).days))
    elif status == "TERMINATED":
        t.start_actual = t.pc_actual = t.completion_actual = True
        end = min(t.pc, today)
        t.pc = t.completion = t.start + timedelta(days=rng.randint(30, max(31, (end - t.start).days)))
        if t.pc > today:
            t.pc = t.completion = today - timedelta(days=rng.randint(0, 30))
    elif status == "UNKNOWN":
        t.start_actual = t.start <= today - timedelta(days=760)
        t.last_known = rng.choice(("RECRUITING", "ACTIVE_NOT_RECRUITING", "NOT_YET_RECRUITING")
                                  if not t.start_actual else ("RECRUITING", "ACTIVE_NOT_RECRUITING"))
    if status in WHY_STOPPED:
        t.why_stopped = rng.choice(WHY_STOPPED[status])


def _set_enrollment(rng: random.Random, t: _Trial) -> None:
    phase = t.phases[0] if t.phases else "OBS"
    low, high = {"EARLY_PHASE1": (10, 40), "PHASE1": (12, 60), "PHASE2": (20, 240),
                 "PHASE3": (120, 600), "PHASE4": (30, 300), "NA": (20, 200),
                 "OBS": (60, 2000)}[phase]
    count = rng.randint(low, high)
    t.enrollment_actual = t.status in ("COMPLETED", "TERMINATED", "ACTIVE_NOT_RECRUITING",
                                       "WITHDRAWN") or (t.status == "UNKNOWN"
                                                        and rng.random() < 0.3)
    if t.status == "TERMINATED":
        count = max(1, count // rng.randint(2, 6))
    if t.status == "WITHDRAWN":
        count = 0
    t.enrollment = count


def _set_results(rng: random.Random, today: date, t: _Trial) -> None:
    """Old TERMINATED studies report; old COMPLETED ones often do (others get a paper)."""
    if t.kind == "overdue" or t.status not in ("COMPLETED", "TERMINATED"):
        return
    if (today - t.pc).days <= DUE_DAYS:
        share = 0.1
    elif t.status == "TERMINATED":
        share = 1.0
    else:
        share = 0.8 if t.sponsor[1] == "INDUSTRY" else 0.45
    if rng.random() >= share:
        return
    t.has_results = True
    t.results_submit = min(today, max(t.completion, t.pc + timedelta(days=rng.randint(200, 400))))
    t.results_post = min(today, t.results_submit + timedelta(days=rng.randint(20, 60)))


def _set_last_update(rng: random.Random, today: date, t: _Trial) -> None:
    floor = t.first_post
    if t.status in ("COMPLETED", "TERMINATED"):
        update = min(today, t.completion + timedelta(days=rng.randint(5, 300)))
        update = max(update, t.results_post or t.results_submit or update)
    elif t.status == "UNKNOWN":
        latest = today - timedelta(days=760)
        update = floor + timedelta(days=rng.randint(0, max(0, (latest - floor).days)))
    elif t.kind in ("recent", "new") and rng.random() < 0.6:
        update = None
    else:
        update = max(floor, today - timedelta(days=rng.randint(0, 420)))
    if update is not None and update > floor:
        t.last_update = update
        t.last_update_post = min(today, update + timedelta(days=rng.randint(1, 4)))
    else:
        t.last_update = t.last_update_post = None


def _pick_sponsor(rng: random.Random, variant: Variant, condition: Condition):
    """→ (lead sponsor (name, class), site indexes, collaborators)."""
    collaborators: list[tuple[str, str]] = []
    special = SPONSOR_BY_VARIANT.get(variant.key)
    if special and rng.random() < special[0]:
        sponsor = (special[1], special[2])
        k = rng.randint(3, 14) if sponsor[1] == "INDUSTRY" else rng.randint(1, 5)
        sites = rng.sample(INDUSTRY_SITES, k)
        return sponsor, sites, collaborators
    if condition.key == "ptsd" and rng.random() < 0.35:
        return VA_SPONSOR, rng.sample(VA_SITES, rng.randint(1, len(VA_SITES))), collaborators
    home = rng.choice(SPONSOR_SITES)
    site = SITES[home]
    sites = [home] + [i for i in rng.sample(SPONSOR_SITES, rng.randint(0, 2))
                      if i != home and SITES[i].country == site.country]
    if site.sponsor.startswith("National Institute"):
        return (site.sponsor, "NIH"), sites, collaborators
    if site.country == "United States" and rng.random() < 0.45:
        institute = NIH_INSTITUTES.get(condition.key) or NIH_INSTITUTES[condition.topic]
        collaborators.append((institute[0], "NIH"))
    if rng.random() < 0.25:
        collaborators.append((rng.choice(FOUNDATIONS), "OTHER"))
    return (site.sponsor, "OTHER"), sites, collaborators


def _nct_id(rng: random.Random, submitted: date, taken: set[str]) -> str:
    """NCT numbers grow with registration date (NCT03 ≈ 2017, NCT05 ≈ late 2021, NCT07 ≈ 2025)."""
    anchors = ((date(2013, 1, 1), 1_760_000), (date(2016, 12, 1), 3_000_000),
               (date(2019, 7, 1), 4_000_000), (date(2021, 8, 1), 5_000_000),
               (date(2023, 8, 10), 6_000_000), (date(2025, 6, 10), 7_000_000))
    base = _interpolate(anchors, submitted, per_day_after=1_500)
    while True:
        nct = f"NCT{base + rng.randint(0, 1200):08d}"
        if nct not in taken:
            taken.add(nct)
            return nct


def _interpolate(anchors, day: date, per_day_after: int) -> int:
    if day <= anchors[0][0]:
        return anchors[0][1]
    for (d0, v0), (d1, v1) in zip(anchors, anchors[1:]):
        if day <= d1:
            return v0 + (v1 - v0) * (day - d0).days // (d1 - d0).days
    last_day, last_value = anchors[-1]
    return last_value + (day - last_day).days * per_day_after


def _write_trial_details(rng: random.Random, t: _Trial) -> None:
    """Titles, identifiers and free text (kept on the plan so later renders are identical)."""
    v, c = t.variant, t.condition
    abbr = c.abbr or ACRONYM_SUFFIX[c.key]
    if rng.random() < 0.3:
        prefix = {"ketamine": ("KET", "KARMA", "ELEKT", "RAPID", "SKIP"),
                  "psilocybin": ("PSIL", "PSILO", "EPIsoDE", "PIVOT"),
                  "mdma": ("MAPP", "MDMA", "EMBRACE")}[v.drug]
        t.acronym = f"{rng.choice(prefix)}-{abbr}" if rng.random() < 0.7 else (
            f"{rng.choice(prefix)}{rng.randint(1, 9)}")
    sponsor = t.sponsor[0]
    year = t.first_submit.year
    if sponsor == "COMPASS Pathways":
        t.org_id = f"COMP {rng.randint(1, 12):03d}"
    elif sponsor.startswith("Janssen"):
        t.org_id = f"CR{rng.randint(108000, 110999)}"
    elif sponsor in ("Lykos Therapeutics", "Multidisciplinary Association for Psychedelic Studies"):
        t.org_id = f"MP{rng.randint(1, 30)}" if rng.random() < 0.5 else f"MAPP{rng.randint(1, 4)}"
    elif sponsor == "Perception Neuroscience":
        t.org_id = f"PCN-101-{rng.randint(1, 25):02d}"
    elif sponsor == "Usona Institute":
        t.org_id = f"PSIL{rng.randint(100, 399)}"
    elif t.sponsor[1] == "FED":
        t.org_id = f"CX00{rng.randint(1000, 3999)}"
    elif t.sponsor[1] == "NIH":
        t.org_id = f"{year % 100:02d}-M-{rng.randint(1, 220):04d}"
    else:
        t.org_id = rng.choice((f"{year}-{rng.randint(100, 9999)}", f"IRB{year}{rng.randint(1, 999):04d}",
                               f"STUDY{rng.randint(10000000, 99999999)}", f"{year % 100}-{rng.randint(1000, 9999)}"))
    t.official = _official_name(rng)

    intervention, cond_title = v.ct_title, c.title
    if t.study_type == "OBSERVATIONAL":
        brief = rng.choice(("Real-World Outcomes of {i} in {c}", "{i} Registry for {c}",
                            "Naturalistic Study of {i} in {c}"))
        official = "A Prospective Observational Study of {i} in Patients With {c}"
    else:
        brief = rng.choice(("{i} for {c}", "{i} in Adults With {c}",
                            "Study of {i} in Participants With {c}",
                            "Efficacy and Safety of {i} in {c}")
                           + (("{i} Versus {k} for {c}",) if t.comparator else ()))
        design = ("Randomized, Double-Blind, " + ("Placebo-Controlled" if t.comparator
                                                  and "PLACEBO" in t.comparator.arm_type
                                                  else "Active-Controlled")
                  if t.randomized else "Open-Label, Single-Arm")
        phase = "/".join(p.replace("EARLY_PHASE1", "Early Phase 1").replace("PHASE", "Phase ")
                         for p in t.phases if p != "NA")
        official = (f"A {phase + ', ' if phase else ''}{design} Study to Evaluate the Efficacy and "
                    "Safety of {i} in Participants With {c}")
    fmt = {"i": intervention, "c": cond_title, "k": _comparator_title(t.comparator)}
    t.details["brief_title"] = brief.format(**fmt)
    t.details["official_title"] = official.format(**fmt) + (f" ({t.acronym})" if t.acronym else "")
    pop = rng.choice(c.populations)
    support = " with psychological support" if v.assisted else ""
    weeks = rng.choice((6, 8, 12, 24, 52))
    if t.study_type == "OBSERVATIONAL":
        summary = (f"This observational study follows {pop} who receive {_lower_first(v.ct_title)} "
                   f"as part of routine care and records changes in {c.symptom} over {weeks} "
                   "weeks.")
    else:
        summary = (f"The purpose of this study is to evaluate whether {_lower_first(v.ct_title)} "
                   f"reduces {c.symptom} in {pop}. Participants will receive {v.dose}{support} "
                   f"and will be followed for {weeks} weeks.")
        if t.comparator:
            summary += (f" Participants will be randomly assigned to {v.short} or "
                        f"{t.comparator.phrase}.")
    t.details["brief_summary"] = summary
    if rng.random() < 0.4:
        t.details["detailed_description"] = (
            _plain(rng.choice(MECHANISM[v.drug]).format(Drug_s=_cap(v.short), drug_s=v.short))
            + f" The primary outcome is the change in {_measure(c, full=True)} "
            f"from baseline to week {min(weeks, 12)}. Safety assessments include vital signs, "
            "adverse events and the Columbia-Suicide Severity Rating Scale (C-SSRS).")
    keywords = list(CONDITION_KEYWORDS[c.key][:1]) + [v.short] + rng.sample(DRUG_KEYWORDS[v.drug], 2)
    t.details["keywords"] = list(dict.fromkeys(keywords))
    t.details["eligibility"] = _eligibility(rng, t)
    t.details["timepoint"] = rng.choice(v.timepoints)
    t.details["max_age"] = rng.choice((65, 65, 70, 75, None))


def _comparator_title(k: Comparator | None) -> str:
    if k is None or k.arm_type == "PLACEBO_COMPARATOR":
        return "Placebo"
    return " ".join(word[:1].upper() + word[1:] for word in k.ct_name.split())


def _official_name(rng: random.Random) -> str:
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    return f"{first} {last}, {rng.choice(('MD', 'MD, PhD', 'PhD', 'MD, MPH'))}"


def _eligibility(rng: random.Random, t: _Trial) -> str:
    c = t.condition
    inclusion = ["Age 18 years or older",
                 f"Diagnosis of {c.name} according to DSM-5 criteria"
                 if c.topic != "pain" else f"Diagnosis of {c.name} for at least 6 months",
                 f"{c.scale_abbr} score above the protocol threshold at screening"
                 if c.outcome == "score" else f"Motivated to reduce {c.symptom}"]
    if c.key == "trd":
        inclusion.append("Inadequate response to at least two antidepressants of adequate dose "
                         "and duration in the current episode")
    inclusion.append("Able to provide written informed consent")
    exclusion = [text for text, skip in ELIGIBILITY_EXCLUSIONS if c.key not in skip]
    exclusion = rng.sample(exclusion, rng.randint(4, len(exclusion)))
    numbered = rng.random() < 0.3

    def items(lines):
        return "\n".join(f"{i}. {line}" if numbered else f"* {line}"
                         for i, line in enumerate(lines, 1))

    return (f"Inclusion Criteria:\n\n{items(inclusion)}\n\n"
            f"Exclusion Criteria:\n\n{items(exclusion)}")


# ---------------------------------------------------------------------------------------------
# Articles
# ---------------------------------------------------------------------------------------------

def _plan_articles(rng: random.Random, today: date, n: int) -> list[_Article]:
    moments = []
    for _ in range(n):
        day = today - timedelta(days=_recent_skewed(rng, ARTICLE_SPAN_DAYS))
        moments.append(datetime(day.year, day.month, day.day, rng.randint(0, 21),
                                rng.randrange(60)))
    moments.sort()
    taken: set[int] = set()
    return [_Article(_pmid(rng, m.date(), taken), m, _pick_design(rng)) for m in moments]


def _pmid(rng: random.Random, day: date, taken: set[int]) -> int:
    """PMIDs grow with the Entrez date, 1.3 to 1.6 million a year."""
    anchors = ((date(2016, 1, 1), 26_700_000), (date(2018, 1, 1), 29_300_000),
               (date(2020, 1, 1), 31_900_000), (date(2022, 1, 1), 34_970_000),
               (date(2024, 1, 1), 38_170_000), (date(2025, 1, 1), 39_750_000))
    base = _interpolate(anchors, day, per_day_after=4_400)
    while True:
        pmid = base + rng.randrange(3_500)
        if pmid not in taken:
            taken.add(pmid)
            return pmid


def _link_articles(rng: random.Random, today: date, articles: list[_Article],
                   trials: list[_Trial]) -> None:
    """Point ~20% of the articles (results papers, protocols) at generated trials.

    First every COMPLETED or TERMINATED study whose primary completion is more than DUE_DAYS
    old and that has no results gets a results paper (failing that, results), so only the
    overdue studies are overdue; then trial-type articles link to studies that existed at their
    Entrez date.
    """
    entrez = [a.entrez.date() for a in articles]
    linkable = [t for t in trials if t.kind != "overdue"]
    for trial in linkable:
        if (trial.status in ("COMPLETED", "TERMINATED") and not trial.has_results
                and trial.pc <= today - timedelta(days=DUE_DAYS)):
            first = bisect.bisect_left(entrez, trial.pc + timedelta(days=60))
            pool = [a for a in articles[first:] if a.trial is None and a.design not in NOT_DRUG_STUDIES]
            preferred = [a for a in pool if a.design in ("rct", "open_label")]
            if pool:
                article = rng.choice(preferred or pool)
                article.trial, article.link = trial, rng.choice(("both", "databank"))
            else:
                _report_results(rng, today, trial)

    _link_closing_protocol(rng, articles, trials)
    done = sorted((t for t in linkable if t.pc_actual and t.status != "WITHDRAWN"),
                  key=lambda t: t.pc)
    done_ready = [t.pc + timedelta(days=60) for t in done]
    posted = sorted((t for t in linkable if t.status not in ("WITHDRAWN",)),
                    key=lambda t: t.first_post)
    posted_ready = [t.first_post + timedelta(days=30) for t in posted]
    for article in articles:
        if article.trial is not None or rng.random() >= LINK_PROBABILITY.get(article.design, 0):
            continue
        day = article.entrez.date()
        if article.design == "protocol":
            k = bisect.bisect_right(posted_ready, day)
            running = [t for t in posted[max(0, k - 40):k] if day < t.pc]
            if running:
                article.trial = rng.choice(running)
                article.link = rng.choice(("both", "both", "text"))
            else:
                article.design = "review"
        else:
            k = bisect.bisect_right(done_ready, day)
            if k:
                article.trial = done[rng.randrange(k)]
                article.link = rng.choices(("both", "databank", "text"), (55, 30, 15))[0]
    for article in articles:
        if article.trial is not None and article.design != "protocol":
            article.design = "rct" if article.trial.randomized else "open_label"
    seen: set[int] = set()
    for article in articles:  # later results papers on the same trial are secondary analyses
        if article.trial is not None and article.design != "protocol":
            article.secondary = id(article.trial) in seen
            seen.add(id(article.trial))


def _link_closing_protocol(rng: random.Random, articles: list[_Article], trials: list[_Trial]) -> None:
    """The study that completes on night 2 gets its protocol paper, so one trial page shows a
    status change and a linked paper together."""
    closing = next((t for t in trials if t.kind == "closing"), None)
    if closing is None:
        return
    pool = [a for a in articles if a.design == "protocol" and a.trial is None
            and closing.first_post + timedelta(days=30) <= a.entrez.date() < closing.pc]
    if pool:
        article = rng.choice(pool)
        article.trial, article.link = closing, "both"


def _report_results(rng: random.Random, today: date, t: _Trial) -> None:
    t.has_results = True
    t.results_submit = min(today, t.pc + timedelta(days=rng.randint(200, 360)))
    t.results_post = min(today, t.results_submit + timedelta(days=2))
    if t.last_update is None or t.last_update < t.results_submit:
        t.last_update = t.results_submit
        t.last_update_post = min(today, t.results_submit + timedelta(days=2))


def _assign_indexing(rng: random.Random, today: date, articles: list[_Article]) -> None:
    """MEDLINE indexing: the newest articles wait; non-MEDLINE journals are never indexed."""
    cutoff = len(articles) - int(len(articles) * UNINDEXED_SHARE)
    for rank, a in enumerate(articles):
        day = a.entrez.date()
        if not a.journal.medline:
            a.status = "PubMed-not-MEDLINE"
        elif rank >= cutoff:
            a.status = "In-Data-Review" if (today - day).days < 21 else "In-Process"
        else:
            a.status = "MEDLINE"
            a.indexing = ("Manual" if day.year < 2022
                          else rng.choice(("Automated", "Automated", "Curated")))
            a.completed = min(today, day + timedelta(days=rng.randint(14, 120)))
        since = a.completed or day
        a.revised = min(today, since + timedelta(days=rng.randint(0, 700 if a.completed else 30)))


def _add_comments_and_corrections(rng: random.Random, today: date, articles: list[_Article]) -> None:
    """PubMed's CommentsCorrectionsList: letters comment on earlier papers (CommentOn/CommentIn),
    a few papers have a published erratum (ErratumIn, the erratum itself not in the sample), and
    one paper was retracted, its notice among the articles (RetractionIn/RetractionOf). Linking
    revises the linked paper (DateRevised)."""
    by_drug: dict[str, list[_Article]] = {}  # in Entrez order, as the articles are
    for a in articles:
        if a.design not in NOT_DRUG_STUDIES:
            by_drug.setdefault(a.variant.drug, []).append(a)
    entrez = {drug: [a.entrez for a in papers] for drug, papers in by_drug.items()}
    for letter in (a for a in articles if a.design == "letter"):
        drug = letter.variant.drug
        k = bisect.bisect_left(entrez.get(drug, []), letter.entrez)
        if k and rng.random() < LETTER_COMMENT_SHARE:  # a recent paper on the same drug
            _link(letter, "CommentOn", rng.choice(by_drug[drug][max(0, k - 40):k]), "CommentIn")
    taken = {a.pmid for a in articles}
    for a in articles:
        if a.design not in NOT_DRUG_STUDIES and rng.random() < ERRATUM_SHARE:
            day = a.entrez.date() + timedelta(days=rng.randint(20, 200))
            if day < today - timedelta(days=1):
                a.links.append(("ErratumIn", _notice_source(a.journal, day), _pmid(rng, day, taken)))
                a.revised = max(a.revised, day)
    _retract_one(rng, today, articles)


def _link(a: _Article, kind: str, b: _Article, back: str) -> None:
    """Link two articles of the sample both ways (a's `kind` link to b, b's `back` link to a)."""
    a.links.append((kind, _source_text(b), b.pmid))
    b.links.append((back, _source_text(a), a.pmid))
    b.revised = max(b.revised, a.entrez.date())


def _retractable(articles: list[_Article]) -> list[_Article]:
    """Indexed studies without a trial link that are not retracted yet."""
    return [a for a in articles if a.design in RETRACTABLE and a.trial is None
            and a.status == "MEDLINE" and not any(kind == "RetractionIn" for kind, *_ in a.links)]


def _retract_one(rng: random.Random, today: date, articles: list[_Article]) -> None:
    """Retract a paper at least two years old; a later review or case report of the sample makes
    way for its notice (the sample keeps its size)."""
    old = [a for a in _retractable(articles) if a.entrez.date() < today - timedelta(days=730)]
    if not old:
        return
    original = rng.choice(old)
    later = [i for i, a in enumerate(articles) if a.design in ("review", "case_report") and not a.links
             and a.entrez > original.entrez + timedelta(days=180)]
    if not later:
        return
    index = rng.choice(later)
    notice = _Article(articles[index].pmid, articles[index].entrez, "retraction")
    _write_notice(rng, today, notice, original)
    notice.revised = min(today, notice.entrez.date() + timedelta(days=rng.randint(0, 30)))
    articles[index] = notice


def _write_notice(rng: random.Random, today: date, notice: _Article, original: _Article) -> None:
    """A retraction notice in the retracted paper's journal, titled after it, signed by its
    authors; and the paper marked retracted (publication type and RetractionIn link)."""
    notice.journal = original.journal
    notice.title = _x(rng.choice(RETRACTION_TITLES)) + original.title
    notice.authors = [x for x in original.authors if x[0] != "collective"]
    notice.pub_types = ["Retraction of Publication"]
    notice.status = "PubMed-not-MEDLINE"
    _publication(rng, today, notice)
    _link(notice, "RetractionOf", original, "RetractionIn")
    original.pub_types = sorted({*original.pub_types, "Retracted Publication"})


def _notice_source(j: Journal, day: date) -> str:
    """RefSource of a notice outside the sample (an erratum, an expression of concern)."""
    return f"{j.iso}. {day.year} {MONTHS[day.month - 1]} {day.day}."


def _add_references(rng: random.Random, today: date, articles: list[_Article],
                    trials: list[_Trial]) -> None:
    """Studies cite their results papers and protocols (RESULT/DERIVED) and earlier papers
    (BACKGROUND). Overdue studies cite nothing; citing pushes the last update forward."""
    by_trial: dict[int, list[_Article]] = {}
    for a in articles:
        if a.trial is not None:
            by_trial.setdefault(id(a.trial), []).append(a)
    entrez = [a.entrez.date() for a in articles]
    for t in trials:
        if t.kind == "overdue":
            continue
        refs: dict[int, tuple[_Article, str]] = {}
        for a in by_trial.get(id(t), []):
            required = t.status in ("COMPLETED", "TERMINATED") and not t.has_results
            if required or rng.random() < 0.75:
                kind = ("DERIVED" if a.link in ("both", "databank") and rng.random() < 0.6
                        else "BACKGROUND" if a.design == "protocol" else "RESULT")
                refs[a.pmid] = (a, kind)
        if rng.random() < 0.35:
            k = bisect.bisect_left(entrez, t.first_submit)
            for _ in range(rng.randint(1, 3)):
                if k:
                    a = articles[rng.randrange(k)]
                    if a.variant is not None and a.variant.drug == t.variant.drug and a.pmid not in refs:
                        refs[a.pmid] = (a, "BACKGROUND")
        if not refs:
            continue
        newest = max(a.entrez.date() for a, _ in refs.values())
        stale_limit = today - timedelta(days=760)
        if t.status == "UNKNOWN" and newest > stale_limit:
            refs = {p: r for p, r in refs.items() if r[0].entrez.date() <= stale_limit}
            newest = max((a.entrez.date() for a, _ in refs.values()), default=None)
        if newest is None:
            continue
        if (t.last_update or t.first_submit) < newest:
            update = newest + timedelta(days=rng.randint(5, 90))
            if t.status == "UNKNOWN":
                update = min(update, stale_limit)
            t.last_update = min(today, update)
            t.last_update_post = min(today, t.last_update + timedelta(days=rng.randint(1, 4)))
        t.references = [(pmid, kind, _citation(a)) for pmid, (a, kind) in sorted(refs.items())]


# =============================================================================================
# Article content
# =============================================================================================

def _write_article(rng: random.Random, today: date, a: _Article) -> None:
    if a.design == "mention":
        _write_mention(rng, today, a)
        return
    t = a.trial
    if t is not None:
        a.variant, a.condition = t.variant, t.condition
    else:
        drug = _weighted(rng, DRUG_WEIGHTS_ARTICLES)
        a.variant = _pick_variant(rng, drug, a.design)
        a.condition = _pick_condition(rng, drug, preclinical=a.design == "preclinical")
    if a.design == "preclinical":
        a.species = rng.choice(ANIMAL_SPECIES)
    a.journal = _pick_journal(rng, a.design, a.condition.topic)
    ctx = _context(rng, a)
    a.title = _title(rng, a, ctx)
    a.sections = _abstract(rng, a, ctx)
    if a.journal.elsevier and a.sections:
        a.copyright = f"Copyright © {a.entrez.year} Elsevier B.V. All rights reserved."
    a.authors = _authors(rng, a)
    if t is not None and any(cls == "NIH" for _, cls in t.collaborators):
        a.grants = [_grant(t)]
    a.pub_types = _publication_types(a)
    a.mesh, a.chemicals = _mesh(rng, a)
    if rng.random() < 0.55:
        words = [a.variant.short, a.condition.name, *CONDITION_KEYWORDS[a.condition.key],
                 *DRUG_KEYWORDS[a.variant.drug]]
        a.keywords = sorted(set(rng.sample(words, rng.randint(3, min(6, len(words))))),
                            key=lambda k: (k.lower(), k))
    _publication(rng, today, a)


def _write_mention(rng: random.Random, today: date, a: _Article) -> None:
    """A paper about something else that names a catalogue drug only in passing: the anaesthetic
    of an animal study, the sedation of a procedure, a name in a list or in the background."""
    paper = a.mention = rng.choice(MENTION_PAPERS)
    a.species = rng.choice(ANIMAL_SPECIES) if paper.mention is None else None
    ctx = {}
    for slot, values in paper.choices.items():
        ctx[slot] = rng.choice(values)
        ctx[_cap(slot)] = _cap(ctx[slot])
    if a.species is not None:
        ctx |= {"species": a.species.species, "animals": a.species.animals,
                "Animals": _cap(a.species.animals)}
    mention = paper.mention or rng.choice(ANAESTHESIA)
    roles = {"background": paper.background, "methods": f"{paper.methods} {mention}",
             "results": paper.results, "conclusion": paper.conclusion}
    a.journal = _pick_journal(rng, paper.journal, None)
    a.title = _x(paper.title.format(**ctx))
    style = a.journal.style if rng.random() < 0.7 else "none"
    a.sections = _sections(style, {role: _x(text.format(**ctx)) for role, text in roles.items()})
    if a.journal.elsevier:
        a.copyright = f"Copyright © {a.entrez.year} Elsevier B.V. All rights reserved."
    a.authors = _authors(rng, a)
    a.pub_types = sorted({"Journal Article", *paper.publication_types})
    a.mesh, a.chemicals = _mention_mesh(a)
    if rng.random() < 0.55:
        a.keywords = sorted(rng.sample(paper.keywords, rng.randint(2, len(paper.keywords))))
    _publication(rng, today, a)


def _mention_mesh(a: _Article):
    """MeSH of a mention paper: its topic (the first heading major), Animals and the species for
    animal studies, and the drug as indexers treat an anaesthetic (see mentions.toml)."""
    paper = a.mention
    ui, name, registry = DRUG_MESH[MENTION_INDEXED_DRUG]
    headings = [(paper.mesh[0][0], paper.mesh[0][1], True, ())]
    headings += [(mesh_ui, mesh_name, False, ()) for mesh_ui, mesh_name in paper.mesh[1:]]
    if paper.animal:
        headings.append(("D000818", "Animals", False, ()))
    if a.species is not None:
        headings += [(mesh_ui, mesh_name, False, ()) for mesh_ui, mesh_name in a.species.mesh]
    if paper.drug_mesh == "dosage":
        if not any(h[1] == "Anesthesia" for h in headings):
            headings.append(("D000758", "Anesthesia", False, ()))
        headings.append((ui, name, False, ("administration & dosage",)))
    elif paper.drug_mesh == "bare":
        headings.append((ui, name, False, ()))
    chemicals = [] if paper.drug_mesh == "none" else [(registry, ui, name)]
    return sorted(headings, key=lambda h: h[1].lower()), chemicals


def _context(rng: random.Random, a: _Article) -> dict:
    v, c, t = a.variant, a.condition, a.trial
    comparator = (t.comparator if t is not None and t.comparator else rng.choice(v.comparators))
    title = rng.choice(v.titles)
    pop = rng.choice(c.populations)
    return {
        "Drug": _x(title), "drug": _x(_lower_first(title)), "drug_full": _x(rng.choice(v.fulls)),
        "drug_s": _x(v.short), "Drug_s": _x(_cap(v.short)),
        "cond": _x(c.name), "Cond": _x(_cap(c.name)),
        "cond_full": _x(f"{c.name} ({c.abbr})" if c.abbr else c.name),
        "pop": _x(pop), "comp": _x(comparator.phrase),
        "control": "placebo-controlled" if "PLACEBO" in comparator.arm_type else "active-controlled",
        "scale": _x(f"{c.scale} ({c.scale_abbr})"),
        "symptom": _x(c.symptom), "acronym": _x(t.acronym) if t is not None and t.acronym else "",
        "phase": (rng.choice(("2", "3")) if t is None else
                  "/".join(p[-1] for p in t.phases if p.startswith("PHASE"))),
        "age": str(rng.randint(19, 74)), "sex": rng.choice(("woman", "man")),
        "phenotype": _x(c.animal[0]) if c.animal else "",
        "animals": a.species.animals if a.species else "",
        "target": PRECLINICAL_TARGET[v.drug],
        "timepoint": _x(t.details["timepoint"] if t is not None else rng.choice(v.timepoints)),
        "funder": _x(t.sponsor[0] if t is not None else "None"),
        "nct": t.nct if t is not None else "",
    }


def _title(rng: random.Random, a: _Article, ctx: dict) -> str:
    key = "rct_secondary" if a.secondary and a.design == "rct" else a.design
    templates = [s for s in TITLES[key] if ("{acronym}" not in s or ctx["acronym"])
                 and ("{phase}" not in s or ctx["phase"])]
    if a.variant.drug != "psilocybin" or a.design != "preclinical":
        templates = [s for s in templates if "5-HT" not in s] or templates
    return rng.choice(templates).format(**ctx)


def _abstract(rng: random.Random, a: _Article, ctx: dict) -> list[tuple[str | None, str | None, str]]:
    """→ [(Label, NlmCategory, text XML)]; one unlabelled part for unstructured abstracts."""
    if a.design == "letter":
        return []
    roles = _roles(rng, a, ctx)
    style = a.journal.style
    if a.design == "protocol":
        style = "protocol_bmj" if a.journal.iso == "BMJ Open" else "protocol_trials"
    if a.design == "case_report" or (a.design == "review" and rng.random() < 0.6):
        style = "none"
    if a.link in ("both", "text"):
        roles["registration"] = _registration(style, ctx, a)
    return _sections(style, roles)


def _sections(style: str, roles: dict[str, str]) -> list[tuple[str | None, str | None, str]]:
    """An abstract's sentences by role, as the journal's abstract style lays them out."""
    if style == "none":
        return [(None, None, " ".join(roles[r] for r in UNSTRUCTURED_ROLES if roles.get(r)))]
    sections = []
    for label, category, parts in STYLE_LABELS[style]:
        text = " ".join(roles[r] for r in parts if roles.get(r))
        if text:
            sections.append((label, category, text))
    return sections


def _registration(style: str, ctx: dict, a: _Article) -> str:
    registered = a.trial.first_post
    return REGISTRATION_TEXT.get(style, REGISTRATION_TEXT["other"]).format(
        nct=ctx["nct"], funder=ctx["funder"],
        acro=f"{ctx['acronym']} " if ctx["acronym"] else "",
        registered=f"{registered.day} {MONTH_NAMES[registered.month - 1]} {registered.year}")


def _roles(rng: random.Random, a: _Article, ctx: dict) -> dict[str, str]:
    """The sentences of an abstract by role (background, methods, results, ...)."""
    v, c, t = a.variant, a.condition, a.trial
    mech = rng.choice(MECHANISM[v.drug]).format(**ctx)
    burden = rng.choice(BURDEN).format(**ctx)
    gap = "However, " + rng.choice(GAPS).format(**ctx) + "."
    negation = rng.choice(NEGATIONS).format(**ctx)
    roles: dict[str, str] = {}
    design = a.design
    if design in ("rct", "open_label"):
        n = t.enrollment if t is not None and t.enrollment > 8 else rng.randint(24, 320)
        n1 = n if design == "open_label" else (n + 1) // 2
        roles["background"] = f"{burden} {mech} {gap}"
        roles["objective"] = (f"To evaluate the efficacy and safety of {ctx['drug_full']} in "
                              f"{ctx['pop']}.")
        if t is not None:
            begin, end = t.start, t.pc
        else:
            end = a.entrez.date() - timedelta(days=rng.randint(90, 500))
            begin = end - timedelta(days=rng.randint(300, 900))
        sites = len(t.sites) if t is not None else rng.randint(1, 12)
        where = "at a single academic center" if sites == 1 else f"at {sites} sites"
        if design == "rct":
            roles["methods"] = (
                f"In this randomized, double-blind, {ctx['control']} trial conducted {where} "
                f"between {MONTH_NAMES[begin.month - 1]} {begin.year} and "
                f"{MONTH_NAMES[end.month - 1]} {end.year}, {_num(n)} {ctx['pop']} were randomly "
                f"assigned in a 1:1 ratio to receive {ctx['drug_full']} ({_x(v.dose)}) or "
                f"{ctx['comp']}.")
        else:
            roles["methods"] = (
                f"In this open-label, single-arm trial conducted {where}, {_num(n)} {ctx['pop']} "
                f"received {ctx['drug_full']} ({_x(v.dose)}).")
        if a.secondary:
            roles["methods"] += (" This secondary analysis examined durability of response and "
                                 "baseline predictors of outcome.")
        roles["interventions"] = (f"{ctx['Drug_s']} ({_x(v.dose)})" + (" or " + ctx["comp"]
                                  if design == "rct" else "") + ".")
        roles["outcomes"] = _outcome_sentence(c, ctx, "was")
        roles["results"] = _results(rng, a, ctx, n, n1)
        aes = rng.sample(ADVERSE_EVENTS[v.drug], 3)
        roles["safety"] = (f"The most common adverse events were {aes[0]}, {aes[1]} and {aes[2]}."
                           f" {negation}")
        positive = "did not differ" not in roles["results"]
        roles["conclusion"] = (
            f"In this trial, {ctx['drug_s']} {'reduced' if positive else 'did not significantly reduce'} "
            f"{ctx['symptom']} in {ctx['pop']}" + (f" compared with {ctx['comp']}" if design == "rct"
                                                  else "") + ". "
            + ("Larger and longer trials are warranted." if positive
               else "Studies with larger samples or different dosing may be needed."))
        roles["funding"] = f"{ctx['funder']}."
    elif design == "protocol":
        n = t.enrollment if t is not None and t.enrollment else rng.randint(40, 300)
        roles["background"] = f"{burden} {mech} {gap}"
        roles["methods"] = (
            f"This is a {'phase ' + ctx['phase'] + ', ' if ctx['phase'] else ''}randomised, double-blind, {ctx['control']} trial "
            f"in which {_num(n)} {ctx['pop']} will be randomly assigned to {ctx['drug_full']} "
            f"or {ctx['comp']}. Adults without bipolar disorder or a personal history of "
            "psychosis will be eligible.")
        roles["outcomes"] = _outcome_sentence(c, ctx, "is")
        roles["conclusion"] = ("The trial has ethical approval. Results will be published in "
                               "peer-reviewed journals and presented at scientific meetings.")
    elif design == "observational":
        n = rng.randint(80, 20000)
        kind = rng.choice(("retrospective cohort study", "prospective observational study",
                           "cross-sectional survey"))
        roles["background"] = f"{burden} {gap}"
        roles["methods"] = (f"We conducted a {kind} of {_num(n)} {ctx['pop']} exposed to "
                            f"{ctx['drug_full']}. Outcomes were assessed with the {ctx['scale']}.")
        odds = rng.uniform(0.45, 0.9)
        roles["results"] = (
            f"{ctx['Drug_s']} was associated with lower odds of persistent {ctx['symptom']} "
            f"(adjusted odds ratio, {odds:.2f}; 95% CI, {odds - rng.uniform(0.05, 0.2):.2f}-"
            f"{min(0.99, odds + rng.uniform(0.05, 0.2)):.2f}). {negation}")
        roles["conclusion"] = (f"These real-world findings are consistent with clinical trials of "
                               f"{ctx['drug_s']} in {ctx['cond']}, but residual confounding "
                               "cannot be excluded.")
    elif design == "meta":
        k, n = rng.randint(5, 40), rng.randint(300, 6000)
        smd = rng.uniform(0.3, 1.1)
        i2 = rng.randint(0, 85)
        i2_text = (f"I<sup>2</sup> = {i2}%" if rng.random() < 0.6 else f"I2 = {i2}%")
        search_end = a.entrez.date() - timedelta(days=rng.randint(90, 400))
        roles["background"] = f"{mech} {gap}"
        roles["objective"] = (f"To estimate the efficacy and acceptability of {ctx['drug_full']} "
                              f"for {ctx['cond_full']}.")
        roles["methods"] = (
            "We searched MEDLINE, Embase, PsycINFO and the Cochrane Central Register of "
            f"Controlled Trials from inception to {MONTH_NAMES[search_end.month - 1]} "
            f"{search_end.year} for randomized controlled trials of {ctx['drug_s']} in "
            f"{ctx['cond']}. Random-effects meta-analyses were performed.")
        roles["results"] = (
            f"{_cap(_num(k))} trials ({_num(n)} participants) were included. {ctx['Drug_s']} was "
            f"associated with greater improvement in {ctx['symptom']} than control "
            f"(standardized mean difference, {smd:.2f}; 95% CI, {smd - 0.2:.2f} to "
            f"{smd + 0.2:.2f}; {i2_text}).")
        roles["conclusion"] = (f"{ctx['Drug_s']} appears effective for {ctx['cond']}, but the "
                               "certainty of evidence is low owing to small samples and "
                               "functional unblinding.")
    elif design == "review":
        roles["background"] = f"{burden} {mech}"
        roles["objective"] = (f"This review summarizes clinical trials of {ctx['drug_full']} in "
                              f"{ctx['cond_full']}.")
        roles["methods"] = ("We searched PubMed and trial registries and synthesized evidence on "
                            "dosing, durability of response and safety monitoring.")
        roles["results"] = (f"Most trials were small and short, and blinding was difficult to "
                            f"maintain. {negation}")
        roles["conclusion"] = (f"{ctx['Drug_s']} is a promising option for {ctx['cond']}, "
                               "although questions about long-term safety remain.")
    elif design == "case_report":
        event = rng.choice(CASE_EVENTS[v.drug])
        roles["background"] = f"{mech}"
        roles["methods"] = (f"We describe a {ctx['age']}-year-old {ctx['sex']} with "
                            f"{ctx['cond']} treated with {ctx['drug_full']} who {event}.")
        roles["results"] = rng.choice((
            "The patient had no history of bipolar disorder or psychosis.",
            "There was no family history of psychotic illness.",
            "Symptoms resolved within one week without further intervention."))
        roles["conclusion"] = "Clinicians should be aware of this presentation."
    elif design == "preclinical":
        mechanism, blocker = PRECLINICAL_MECH[v.drug]
        roles["background"] = (f"{ctx['Drug_s']} produces rapid and sustained effects in rodent "
                               "models, but the underlying mechanisms are not fully understood.")
        roles["methods"] = (f"We examined {ctx['phenotype']} in {a.species.species} after a single "
                            f"dose of {ctx['drug_s']} ({PRECLINICAL_DOSE[v.drug]}).")
        roles["results"] = (f"{ctx['Drug_s']} reversed {ctx['phenotype']} and {mechanism}. "
                            f"These effects were blocked by {blocker}.")
        roles["conclusion"] = ("These findings identify a mechanism that may contribute to the "
                               f"therapeutic effects of {ctx['drug_s']}.")
    return roles


def _outcome_sentence(c: Condition, ctx: dict, verb: str) -> str:
    if c.outcome == "abstinence":
        return f"The primary outcome {verb} {_x(c.scale)} at {ctx['timepoint']}."
    return (f"The primary outcome {verb} the change in {_x(_measure(c, full=True))} from baseline "
            f"to {ctx['timepoint']}.")


def _results(rng: random.Random, a: _Article, ctx: dict, n: int, n1: int) -> str:
    """Baseline characteristics and the primary result, with CI and P value that agree."""
    c = a.condition
    age, sd = rng.uniform(30, 52), rng.uniform(9, 14)
    women = round(n * rng.uniform(0.35, 0.75))
    head = (f"Of {_num(n)} participants (mean [SD] age, {age:.1f} [{sd:.1f}] years; "
            f"{_num(women)} [{100 * women / n:.0f}%] women)")
    measure = _x(_measure(c, full=False))
    if a.design == "open_label":
        change = rng.uniform(6, 20)
        return head + (f", {_num(round(n * rng.uniform(0.8, 1)))} completed the primary end "
                       f"point. The mean change in {measure} at {ctx['timepoint']} was "
                       f"-{change:.1f} (95% CI, -{change + 2.5:.1f} to -{change - 2.5:.1f}).")
    head += f", {_num(n1)} were randomized to {ctx['drug_s']}."
    positive = rng.random() < 0.72
    if c.outcome == "abstinence":
        p1 = rng.randint(30, 60) if positive else rng.randint(15, 30)
        p2 = rng.randint(10, 28)
        n2 = max(1, n - n1)
        se = math.sqrt(p1 * (100 - p1) / max(1, n1) + p2 * (100 - p2) / n2) / 100
        p = math.erfc(abs(p1 - p2) / 100 / se / math.sqrt(2))
        verb = "differed" if p < 0.05 else "did not differ significantly"
        return head + (f" At {ctx['timepoint']}, {p1}% of participants in the {ctx['drug_s']} "
                       f"group and {p2}% in the {ctx['comp']} group were abstinent; rates "
                       f"{verb} between groups ({_p_text(p)}).")
    diff = rng.uniform(2.5, 8.0) if positive else rng.uniform(-1.5, 2.0)
    half = min(rng.uniform(1.5, 3.5), abs(diff) * 0.8) if positive else rng.uniform(2.5, 4.0)
    p = math.erfc(abs(diff) / (half / 1.96) / math.sqrt(2))
    unit = "percentage points" if c.outcome == "percent" else "points"
    base = rng.uniform(8, 20)
    difference = -diff  # drug minus comparator; negative favours the drug
    text = (f" The mean change in {measure} from baseline to {ctx['timepoint']} "
            f"was {-(base + diff):.1f} with {ctx['drug_s']} and {-base:.1f} with {ctx['comp']} "
            f"(difference, {difference:.1f} {unit}; 95% CI, {difference - half:.1f} to "
            f"{difference + half:.1f}; {_p_text(p)})")
    if p >= 0.05:
        text += "; the groups did not differ significantly"
    return head + text + "."


def _p_text(p: float) -> str:
    """JAMA style: P < .001, P = .004, P = .03, P = .41 (XML-escaped)."""
    if p < 0.001:
        return "P &lt; .001"
    return "P = " + (f"{p:.3f}" if p < 0.01 else f"{p:.2f}").lstrip("0")


def _measure(c: Condition, full: bool) -> str:
    """What the primary outcome measures: 'MADRS score', 'percentage of heavy drinking days'."""
    if c.outcome == "abstinence":
        return c.scale
    if c.outcome == "percent":
        return f"percentage of {c.symptom} days" + (f" ({c.scale})" if full else "")
    return f"{c.scale} ({c.scale_abbr}) score" if full else f"{c.scale_abbr} score"


def _authors(rng: random.Random, a: _Article) -> list[tuple]:
    """→ [(last, fore, initials, orcid, affiliation) | ("collective", name)]."""
    count = {"rct": (5, 16), "protocol": (4, 12), "observational": (3, 10), "meta": (3, 9),
             "preclinical": (3, 10), "open_label": (3, 10), "mention": (3, 10)}.get(a.design, (1, 5))
    sites = list(a.trial.sites) if a.trial is not None else rng.sample(SPONSOR_SITES, 3)
    authors: list[tuple] = []
    for i in range(rng.randint(*count)):
        fore = rng.choice(FIRST_NAMES)
        if rng.random() < 0.35:
            fore += " " + rng.choice("ABCDEFGHJKLMNPRSTW")
        initials = "".join(part[0] for part in re.split(r"[ -]", fore) if part)
        orcid = _orcid(rng) if rng.random() < 0.3 else None
        site = SITES[sites[0] if i == 0 else rng.choice(sites)]
        affiliation = f"{site.affiliation}, {site.country_short}."
        authors.append((rng.choice(LAST_NAMES), fore, initials.upper(), orcid, affiliation))
    if a.design == "rct" and a.trial is not None and rng.random() < 0.25:
        name = rng.choice(COLLECTIVE_NAMES).format(
            acronym=a.trial.acronym or a.trial.variant.ct_title, sponsor=a.trial.sponsor[0])
        authors.append(("collective", name))
    return authors


def _orcid(rng: random.Random) -> str:
    digits = f"000{rng.randint(1, 3)}{rng.randrange(10 ** 11):011d}"
    total = 0
    for d in digits:
        total = (total + int(d)) * 2
    check = (12 - total % 11) % 11
    body = digits + ("X" if check == 10 else str(check))
    return "-".join(body[i:i + 4] for i in range(0, 16, 4))


def _publication_types(a: _Article) -> list[str]:
    types = ["Journal Article", *DESIGN_PUBLICATION_TYPES[a.design]]
    t = a.trial
    if t is not None and a.design == "rct":
        if "PHASE3" in t.phases:
            types.append("Clinical Trial, Phase III")
        elif "PHASE2" in t.phases:
            types.append("Clinical Trial, Phase II")
        if len(t.sites) > 1:
            types.append("Multicenter Study")
    if a.grants:
        types.append("Research Support, N.I.H., Extramural")
    return sorted(set(types))


def _grant(t: _Trial) -> tuple[str, str, str]:
    institute = next(name for name, cls in t.collaborators if cls == "NIH")
    code, agency = next((code, agency) for name, code, agency in NIH_INSTITUTES.values()
                        if name == institute)
    number = int(t.nct[3:]) % 900_000 + 100_000
    return (f"R01 {code}{number}", code, agency)


def _mesh(rng: random.Random, a: _Article):
    """→ (MeSH headings [(UI, name, major, qualifier names)], chemicals [(RN, UI, name)])."""
    v, c = a.variant, a.condition
    ui, name, registry = DRUG_MESH[v.drug]
    headings: dict[str, tuple] = {}

    def add(mesh: tuple[str, str], major: bool = False, *qualifiers: str) -> None:
        headings.setdefault(mesh[0], (mesh[0], mesh[1], major, qualifiers))

    chemicals = [(registry, ui, name)]
    if a.design == "preclinical":
        add(("D000818", "Animals"))
        for mesh in a.species.mesh:
            add(mesh)
        add(("D004195", "Disease Models, Animal"))
        add(("D001522", "Behavior, Animal"), False, "drug effects")
        add((ui, name), True, "pharmacology")
        for mesh in c.animal[1] + PRECLINICAL_MESH[v.drug]:
            add(mesh, rng.random() < 0.3)
    else:
        add(HUMANS)
        if a.design not in ("letter", "review"):
            for mesh in rng.sample(AGE_MESH, rng.randint(1, 3)):
                add(mesh)
        first, *rest = c.mesh
        add(first, True, "drug therapy")
        for mesh in rest:
            add(mesh)
        add((ui, name), True, rng.choice(("therapeutic use", "administration & dosage")),
            *(("adverse effects",) if rng.random() < 0.4 else ()))
        for mesh in DESIGN_MESH[a.design]:
            add(mesh)
        if a.design in ("rct", "open_label"):
            add(ROUTE_MESH.get(v.route, ROUTE_MESH["oral"]))
        if v.assisted and a.design != "letter":
            add(("D011613", "Psychotherapy"))
        if c.key in ("trd", "mdd", "bipolar", "suicidal"):
            add(("D000928", "Antidepressive Agents"), False, "therapeutic use")
            chemicals.append(("0", "D000928", "Antidepressive Agents"))
        if c.topic == "pain":
            add(("D000700", "Analgesics"), False, "therapeutic use")
            chemicals.append(("0", "D000700", "Analgesics"))
        if "veterans" in _article_text(a).lower():
            add(("D014728", "Veterans"), False, "psychology")
        if rng.random() < 0.2:
            add(("D011788", "Quality of Life"))
    for mesh in DRUG_CLASS_MESH[v.drug]:
        add(mesh, False, "pharmacology" if a.design == "preclinical" else "therapeutic use")
        chemicals.append(("0", *mesh))
    mesh_list = sorted(headings.values(), key=lambda h: h[1].lower())
    chemical_list = sorted(set(chemicals), key=lambda ch: (ch[0] != "0", ch[0], ch[2]))
    return mesh_list, chemical_list


def _article_text(a: _Article) -> str:
    return " ".join([a.title, *(text for _, _, text in a.sections)])


def _pick_journal(rng: random.Random, design: str, topic: str | None) -> Journal:
    pool = [j for j in JOURNALS if design in j.designs and (j.topics is None or topic in j.topics)]
    return rng.choices(pool, [j.weight for j in pool])[0]


def _publication(rng: random.Random, today: date, a: _Article) -> None:
    """Journal issue, pages, identifiers and the History dates."""
    j = a.journal
    day = a.entrez.date()
    a.e_date = day - timedelta(days=rng.randint(0, 3))
    year = a.e_date.year
    digits = f"{rng.randrange(10 ** 8):08d}"
    numbers = {f"n{k}": digits[:k] for k in range(3, 9)}
    a.doi = j.doi.format(year=year, yy=f"{year % 100:02d}", yy3=f"{year % 1000:03d}",
                         mm=f"{a.e_date.month:02d}", c=rng.randrange(10),
                         letter=chr(ord("a") + min(25, max(0, year - 2020))), **numbers)
    if rng.random() < 0.04 and a.design in ("letter", "case_report", "review"):
        a.doi = None
    if j.elsevier:
        a.pii = f"S{j.issn_linking}({year % 100:02d}){numbers['n5']}-{rng.randrange(10)}"
    if rng.random() < (0.6 if j.electronic_only else 0.3):
        a.pmc = f"PMC{5_750_000 + max(0, (day - date(2018, 1, 1)).days) * 1_000 + rng.randrange(1000)}"

    if j.electronic_only:
        a.pub_status = "epublish"
        a.volume = str(_volume(j, a.e_date))
        a.pub_date = ("ymd", a.e_date.year, a.e_date.month, a.e_date.day)
        number = (f"e{numbers['n6']}" if j.iso in ("BMJ Open", "BMJ Case Rep")
                  else str(int(numbers["n7"]) if j.iso == "Front Psychiatry"
                           else rng.randint(1, 900)))
        a.pages = (number, None)
    else:
        issue_day = day + timedelta(days=rng.randint(15, 240))
        if issue_day > today:
            a.pub_status = "aheadofprint"
            a.pub_date = ("ymd", a.e_date.year, a.e_date.month, a.e_date.day)
        else:
            a.pub_status = "ppublish"
            a.volume = str(_volume(j, issue_day))
            if j.issue == "month":
                a.issue = str(issue_day.month)
            elif j.issue == "week":
                a.issue = str(issue_day.isocalendar()[1] % 26 + 1)
            if j.issue == "week":
                a.pub_date = ("ymd", issue_day.year, issue_day.month, issue_day.day)
            elif rng.random() < 0.05 and issue_day.month < 12:
                a.pub_date = ("medline", f"{issue_day.year} {MONTHS[issue_day.month - 1]}-"
                                         f"{MONTHS[issue_day.month]}")
            else:
                a.pub_date = ("ym", issue_day.year, issue_day.month)
            first = (issue_day.month - 1) * 110 + rng.randint(1, 100)
            length = {"letter": (1, 2), "case_report": (2, 5), "retraction": (0, 1)}.get(a.design, (6, 14))
            a.pages = (str(first), str(first + rng.randint(*length)))

    history: list[tuple[str, date, tuple[int, int] | None]] = []
    if a.design not in ("letter", "retraction"):
        accepted = day - timedelta(days=rng.randint(3, 60))
        received = accepted - timedelta(days=rng.randint(40, 300))
        history.append(("received", received, None))
        if rng.random() < 0.5:
            history.append(("revised", received + timedelta(
                days=rng.randint(1, (accepted - received).days)), None))
        history.append(("accepted", accepted, None))
    later = a.entrez + timedelta(minutes=rng.randint(30, 120))  # entrez hour ≤ 21: same day
    history.append(("medline", later.date(), (later.hour, later.minute)))
    history.append(("pubmed", later.date(), (later.hour, later.minute)))
    history.append(("entrez", day, (a.entrez.hour, a.entrez.minute)))
    if a.pmc:
        history.append(("pmc-release", a.e_date, None))
    a.history = history


def _volume(j: Journal, day: date) -> int:
    years = day.year - 2021 + (day.month - 1) / 12
    return max(1, j.volume_2021 + math.floor(years * j.volumes_per_year))


def _citation(a: _Article) -> str:
    """The citation string CT.gov shows for a reference (authors, title, journal, date, doi)."""
    names = [f"{last} {initials}" for last, _, initials, *_ in
             (x for x in a.authors if x[0] != "collective")]
    text = f"{', '.join(names)}. {_plain(a.title)} {_source_text(a)}"
    if a.pub_status != "epublish":
        text += f" Epub {a.e_date.year} {MONTHS[a.e_date.month - 1]} {a.e_date.day}."
    return text


def _source_text(a: _Article) -> str:
    """Where an article appeared, as citations and PubMed's RefSource write it:
    'Lancet Psychiatry. 2024 Mar;11(3):201-209. doi: 10.1016/….'"""
    where = f"{a.journal.iso}. {_pub_date_text(a)}"
    if a.volume:
        where += f";{a.volume}"
        if a.issue:
            where += f"({a.issue})"
        if a.pages:
            where += ":" + "-".join(p for p in a.pages if p)
    return f"{where}." + (f" doi: {a.doi}." if a.doi else "")


def _pub_date_text(a: _Article) -> str:
    kind, *parts = a.pub_date
    if kind == "medline":
        return parts[0]
    text = f"{parts[0]} {MONTHS[parts[1] - 1]}"
    return text + (f" {parts[2]}" if kind == "ymd" else "")


# =============================================================================================
# Rendering
# =============================================================================================

XML_HEAD = ('<?xml version="1.0" ?>\n<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, '
            '1st January 2025//EN" "https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_250101.dtd">\n')


def _render_article_set(articles: list[_Article]) -> bytes:
    body = "\n".join(_render_article(a) for a in articles)
    return (XML_HEAD + "<PubmedArticleSet>\n" + body + "\n</PubmedArticleSet>\n").encode("utf-8")


def _ymd(tag: str, day: date, attrs: str = "", clock: tuple[int, int] | None = None,
         pad: bool = True) -> str:
    month, dd = (f"{day.month:02d}", f"{day.day:02d}") if pad else (day.month, day.day)
    extra = f"<Hour>{clock[0]}</Hour><Minute>{clock[1]}</Minute>" if clock else ""
    return (f"<{tag}{attrs}><Year>{day.year}</Year><Month>{month}</Month><Day>{dd}</Day>{extra}"
            f"</{tag}>")


def _render_article(a: _Article) -> str:
    j = a.journal
    out = []
    method = f' IndexingMethod="{a.indexing}"' if a.status == "MEDLINE" else ""
    out.append(f'<PubmedArticle><MedlineCitation Status="{a.status}" Owner="NLM"{method}>'
               f'<PMID Version="1">{a.pmid}</PMID>')
    if a.status == "MEDLINE":
        out.append(_ymd("DateCompleted", a.completed))
    out.append(_ymd("DateRevised", a.revised))
    model = "Electronic" if j.electronic_only else "Print-Electronic"
    out.append(f'<Article PubModel="{model}"><Journal><ISSN IssnType="Electronic">{j.issn}</ISSN>'
               '<JournalIssue CitedMedium="Internet">')
    if a.volume:
        out.append(f"<Volume>{a.volume}</Volume>")
    if a.issue:
        out.append(f"<Issue>{a.issue}</Issue>")
    kind, *parts = a.pub_date
    if kind == "medline":
        out.append(f"<PubDate><MedlineDate>{parts[0]}</MedlineDate></PubDate>")
    else:
        day = f"<Day>{parts[2]:02d}</Day>" if kind == "ymd" else ""
        out.append(f"<PubDate><Year>{parts[0]}</Year><Month>{MONTHS[parts[1] - 1]}</Month>{day}"
                   "</PubDate>")
    out.append(f"</JournalIssue><Title>{_x(j.title)}</Title><ISOAbbreviation>{_x(j.iso)}"
               f"</ISOAbbreviation></Journal><ArticleTitle>{a.title}</ArticleTitle>")
    if a.pages:
        first, last = a.pages
        end = f"<EndPage>{last}</EndPage>" if last else ""
        out.append(f"<Pagination><StartPage>{first}</StartPage>{end}<MedlinePgn>"
                   f"{first}{'-' + last if last else ''}</MedlinePgn></Pagination>")
    if a.doi:
        out.append(f'<ELocationID EIdType="doi" ValidYN="Y">{_x(a.doi)}</ELocationID>')
    if a.pii:
        out.append(f'<ELocationID EIdType="pii" ValidYN="Y">{_x(a.pii)}</ELocationID>')
    if a.sections:
        out.append("<Abstract>")
        for label, category, text in a.sections:
            attrs = f' Label="{label}" NlmCategory="{category}"' if label else ""
            out.append(f"<AbstractText{attrs}>{text}</AbstractText>")
        if a.copyright:
            out.append(f"<CopyrightInformation>{_x(a.copyright)}</CopyrightInformation>")
        out.append("</Abstract>")
    out.append('<AuthorList CompleteYN="Y">')
    for author in a.authors:
        if author[0] == "collective":
            out.append(f'<Author ValidYN="Y"><CollectiveName>{_x(author[1])}</CollectiveName>'
                       "</Author>")
            continue
        last, fore, initials, orcid, affiliation = author
        ident = f'<Identifier Source="ORCID">{orcid}</Identifier>' if orcid else ""
        out.append(f'<Author ValidYN="Y"><LastName>{_x(last)}</LastName><ForeName>{_x(fore)}'
                   f"</ForeName><Initials>{initials}</Initials>{ident}<AffiliationInfo>"
                   f"<Affiliation>{_x(affiliation)}</Affiliation></AffiliationInfo></Author>")
    out.append("</AuthorList><Language>eng</Language>")
    if a.trial is not None and a.link in ("both", "databank"):
        out.append('<DataBankList CompleteYN="Y"><DataBank><DataBankName>ClinicalTrials.gov'
                   "</DataBankName><AccessionNumberList><AccessionNumber>"
                   f"{a.trial.nct}</AccessionNumber></AccessionNumberList></DataBank>"
                   "</DataBankList>")
    if a.grants:
        out.append('<GrantList CompleteYN="Y">')
        for grant_id, acronym, agency in a.grants:
            out.append(f"<Grant><GrantID>{grant_id}</GrantID><Acronym>{acronym}</Acronym>"
                       f"<Agency>{agency}</Agency><Country>United States</Country></Grant>")
        out.append("</GrantList>")
    out.append("<PublicationTypeList>")
    for name in a.pub_types:
        out.append(f'<PublicationType UI="{PUBLICATION_TYPES[name]}">{_x(name)}</PublicationType>')
    out.append("</PublicationTypeList>")
    out.append(_ymd("ArticleDate", a.e_date, ' DateType="Electronic"'))
    out.append(f"</Article><MedlineJournalInfo><Country>{j.country}</Country><MedlineTA>"
               f"{_x(j.iso)}</MedlineTA><NlmUniqueID>{j.nlm_id}</NlmUniqueID><ISSNLinking>"
               f"{j.issn_linking}</ISSNLinking></MedlineJournalInfo>")
    if a.status == "MEDLINE" and a.chemicals:
        out.append("<ChemicalList>")
        for registry, ui, name in a.chemicals:
            out.append(f"<Chemical><RegistryNumber>{registry}</RegistryNumber>"
                       f'<NameOfSubstance UI="{ui}">{_x(name)}</NameOfSubstance></Chemical>')
        out.append("</ChemicalList>")
    if a.status == "MEDLINE":
        out.append("<CitationSubset>IM</CitationSubset>")
    if a.links:
        out.append("<CommentsCorrectionsList>")
        for kind, source, pmid in a.links:
            out.append(f'<CommentsCorrections RefType="{kind}"><RefSource>{_x(source)}</RefSource>'
                       f'<PMID Version="1">{pmid}</PMID></CommentsCorrections>')
        out.append("</CommentsCorrectionsList>")
    if a.status == "MEDLINE":
        out.append("<MeshHeadingList>")
        for ui, name, major, qualifiers in a.mesh:
            yn = "Y" if major and not qualifiers else "N"
            out.append(f'<MeshHeading><DescriptorName UI="{ui}" MajorTopicYN="{yn}">{_x(name)}'
                       "</DescriptorName>")
            for q in qualifiers:
                q_yn = "Y" if major else "N"
                out.append(f'<QualifierName UI="{QUALIFIERS[q]}" '
                           f'MajorTopicYN="{q_yn}">{_x(q)}</QualifierName>')
            out.append("</MeshHeading>")
        out.append("</MeshHeadingList>")
    if a.keywords:
        out.append('<KeywordList Owner="NOTNLM">')
        out.extend(f'<Keyword MajorTopicYN="N">{_x(k)}</Keyword>' for k in a.keywords)
        out.append("</KeywordList>")
    out.append("</MedlineCitation><PubmedData><History>")
    for status, day, clock in a.history:
        out.append(_ymd("PubMedPubDate", day, f' PubStatus="{status}"', clock, pad=False))
    out.append(f"</History><PublicationStatus>{a.pub_status}</PublicationStatus><ArticleIdList>"
               f'<ArticleId IdType="pubmed">{a.pmid}</ArticleId>')
    if a.pmc:
        out.append(f'<ArticleId IdType="pmc">{a.pmc}</ArticleId>')
    if a.doi:
        out.append(f'<ArticleId IdType="doi">{_x(a.doi)}</ArticleId>')
    if a.pii:
        out.append(f'<ArticleId IdType="pii">{_x(a.pii)}</ArticleId>')
    out.append("</ArticleIdList></PubmedData></PubmedArticle>")
    return "".join(out)


def _date_struct(day: date, actual: bool, day_precision: bool = True) -> dict:
    text = day.isoformat() if day_precision else day.isoformat()[:7]
    return {"date": text, "type": "ACTUAL" if actual else "ESTIMATED"}


def _render_study(t: _Trial) -> dict:
    v, c = t.variant, t.condition
    last_update = t.last_update or t.first_submit
    last_post = t.last_update_post or t.first_post
    status: dict = {"statusVerifiedDate": last_update.isoformat()[:7],
                    "overallStatus": t.status}
    if t.last_known:
        status["lastKnownStatus"] = t.last_known
    if t.why_stopped:
        status["whyStopped"] = t.why_stopped
    status["expandedAccessInfo"] = {"hasExpandedAccess": False}
    p_start, p_pc, p_comp = t.precision
    status["startDateStruct"] = _date_struct(t.start, t.start_actual, p_start)
    status["primaryCompletionDateStruct"] = _date_struct(t.pc, t.pc_actual, p_pc)
    status["completionDateStruct"] = _date_struct(t.completion, t.completion_actual, p_comp)
    status["studyFirstSubmitDate"] = t.first_submit.isoformat()
    status["studyFirstSubmitQcDate"] = t.qc.isoformat()
    status["studyFirstPostDateStruct"] = {"date": t.first_post.isoformat(), "type": "ACTUAL"}
    if t.has_results:
        status["resultsFirstSubmitDate"] = t.results_submit.isoformat()
        status["resultsFirstSubmitQcDate"] = max(t.results_submit,
                                                 t.results_post - timedelta(days=1)).isoformat()
        status["resultsFirstPostDateStruct"] = {"date": t.results_post.isoformat(), "type": "ACTUAL"}
    status["lastUpdateSubmitDate"] = last_update.isoformat()
    status["lastUpdatePostDateStruct"] = {"date": last_post.isoformat(), "type": "ACTUAL"}

    sponsors: dict = {"responsibleParty": {"type": "SPONSOR"},
                      "leadSponsor": {"name": t.sponsor[0], "class": t.sponsor[1]}}
    if t.collaborators:
        sponsors["collaborators"] = [{"name": n, "class": k} for n, k in t.collaborators]

    description = {"briefSummary": t.details["brief_summary"]}
    if "detailed_description" in t.details:
        description["detailedDescription"] = t.details["detailed_description"]

    enrollment = {"count": t.enrollment, "type": "ACTUAL" if t.enrollment_actual else "ESTIMATED"}
    if t.study_type == "OBSERVATIONAL":
        design: dict = {"studyType": "OBSERVATIONAL", "patientRegistry": False,
                        "designInfo": {"observationalModel": "COHORT",
                                       "timePerspective": "PROSPECTIVE"},
                        "enrollmentInfo": enrollment}
    else:
        masked = t.randomized
        design = {"studyType": "INTERVENTIONAL", "phases": list(t.phases),
                  "designInfo": {
                      "allocation": "RANDOMIZED" if t.randomized else "NA",
                      "interventionModel": "PARALLEL" if t.randomized else "SINGLE_GROUP",
                      "primaryPurpose": "TREATMENT",
                      "maskingInfo": ({"masking": "QUADRUPLE",
                                       "whoMasked": ["PARTICIPANT", "CARE_PROVIDER",
                                                     "INVESTIGATOR", "OUTCOMES_ASSESSOR"]}
                                      if masked else {"masking": "NONE"})},
                  "enrollmentInfo": enrollment}

    drug_label = f"Drug: {v.intervention}"
    arm_names = [drug_label] + (["Behavioral: Psychological support"] if v.assisted else [])
    experimental = {"label": v.ct_title, "type": "EXPERIMENTAL",
                    "description": f"Participants receive {v.dose}"
                                   + (" with psychological support." if v.assisted else "."),
                    "interventionNames": arm_names}
    if t.study_type == "OBSERVATIONAL":
        experimental = {"label": f"Patients receiving {v.short}",
                        "description": f"Patients treated with {v.short} in routine care.",
                        "interventionNames": [drug_label]}
    arms = [experimental]
    drug = {"type": "DRUG", "name": v.intervention, "description": f"{_cap(v.dose)}.",
            "armGroupLabels": [experimental["label"]]}
    if v.other_names:
        drug["otherNames"] = list(v.other_names)
    interventions = [drug]
    if v.assisted and t.study_type != "OBSERVATIONAL":
        interventions.append({"type": "BEHAVIORAL", "name": "Psychological support",
                              "description": "Preparation, in-session support and integration "
                                             "sessions with two trained facilitators.",
                              "armGroupLabels": [experimental["label"]]})
    if t.comparator:
        k = t.comparator
        label = k.ct_name
        arms.append({"label": label, "type": k.arm_type,
                     "description": f"Participants receive {k.phrase}.",
                     "interventionNames": [f"{k.ct_type.title()}: {k.ct_name}"]})
        interventions.append({"type": k.ct_type, "name": k.ct_name,
                              "description": f"{_cap(k.phrase)}.", "armGroupLabels": [label]})

    eligibility: dict = {"eligibilityCriteria": t.details["eligibility"], "healthyVolunteers": False,
                         "sex": "FEMALE" if "women" in t.details["brief_summary"] else "ALL",
                         "minimumAge": "18 Years"}
    max_age = t.details["max_age"]
    if max_age:
        eligibility["maximumAge"] = f"{max_age} Years"
    eligibility["stdAges"] = ["ADULT", "OLDER_ADULT"]

    locations = []
    for index in t.sites:
        s = SITES[index]
        location: dict = {"facility": s.facility}
        if t.status in ("RECRUITING", "NOT_YET_RECRUITING", "ENROLLING_BY_INVITATION"):
            location["status"] = t.status
        location["city"] = s.city
        if s.state:
            location["state"] = s.state
        if s.zip:
            location["zip"] = s.zip
        location["country"] = s.country
        location["geoPoint"] = {"lat": s.lat, "lon": s.lon}
        locations.append(location)
    contacts: dict = {}
    if t.sponsor[1] != "INDUSTRY":
        contacts["overallOfficials"] = [{"name": t.official, "affiliation": t.sponsor[0],
                                         "role": "PRINCIPAL_INVESTIGATOR"}]
    contacts["locations"] = locations

    identification: dict = {"nctId": t.nct, "orgStudyIdInfo": {"id": t.org_id},
                            "organization": {"fullName": t.sponsor[0], "class": t.sponsor[1]},
                            "briefTitle": t.details["brief_title"],
                            "officialTitle": t.details["official_title"]}
    if t.acronym:
        identification["acronym"] = t.acronym
    protocol = {
        "identificationModule": identification,
        "statusModule": status,
        "sponsorCollaboratorsModule": sponsors,
        "oversightModule": {"oversightHasDmc": t.randomized,
                            "isFdaRegulatedDrug": (SITES[t.sites[0]].country == "United States"
                                                   and t.study_type == "INTERVENTIONAL"),
                            "isFdaRegulatedDevice": False},
        "descriptionModule": description,
        "conditionsModule": {"conditions": list(c.ct_conditions),
                             "keywords": list(t.details["keywords"])},
        "designModule": design,
        "armsInterventionsModule": {"armGroups": arms, "interventions": interventions},
        "outcomesModule": {"primaryOutcomes": [{
            "measure": (_cap(c.scale) if c.outcome == "abstinence"
                        else f"Change in {_measure(c, full=True)}"),
            "description": f"Assessed by a blinded rater; {c.symptom} at each visit.",
            "timeFrame": f"Baseline to {t.details['timepoint']}"}]},
        "eligibilityModule": eligibility,
        "contactsLocationsModule": contacts,
    }
    if t.references:
        protocol["referencesModule"] = {"references": [
            {"pmid": str(pmid), "type": kind, "citation": citation}
            for pmid, kind, citation in t.references]}
    condition_meshes = [{"id": ui, "term": term} for ui, term in c.mesh]
    ui, term, _ = DRUG_MESH[v.drug]
    intervention_meshes = [{"id": ui, "term": term}]
    if v.drug != "ketamine":
        intervention_meshes.append({"id": "D006213", "term": "Hallucinogens"})
    if t.comparator and t.comparator.mesh:
        intervention_meshes.append({"id": t.comparator.mesh[0], "term": t.comparator.mesh[1]})
    study = {"protocolSection": protocol}
    if t.has_results:  # hasResults is true exactly when a results section is posted
        study["resultsSection"] = _results_section(t, arms, protocol["outcomesModule"])
    study["derivedSection"] = {"conditionBrowseModule": {"meshes": condition_meshes},
                               "interventionBrowseModule": {"meshes": intervention_meshes}}
    study["hasResults"] = t.has_results
    return study


def _results_section(t: _Trial, arms: list[dict], outcomes: dict) -> dict:
    """A v2 ``resultsSection`` for a study with posted results: participant flow, baseline,
    the primary outcome per arm (with a between-arm analysis) and adverse events. Drawn from
    its own generator seeded by the NCT id, so the world's draws and night 2 are untouched."""
    rng = random.Random(f"trialwatch-results/{t.nct}")
    drug, n_arms = t.variant.drug, len(arms)
    started = [t.enrollment // n_arms + (i < t.enrollment % n_arms) for i in range(n_arms)]
    dropped = [[rng.randint(0, max(0, n // (5 if t.status == "TERMINATED" else 12))) for _ in DROP_REASONS]
               for n in started]
    dropped = [[min(d, n - sum(ds[:i])) for i, d in enumerate(ds)] for n, ds in zip(started, dropped)]
    completed = [n - sum(ds) for n, ds in zip(started, dropped)]

    def groups(prefix: str) -> list[dict]:
        return [{"id": f"{prefix}{i:03d}", "title": arm["label"], "description": arm["description"]}
                for i, arm in enumerate(arms)]

    def per_group(prefix: str, values: list, key: str = "numSubjects", text: bool = True) -> list[dict]:
        return [{"groupId": f"{prefix}{i:03d}", key: str(v) if text else v} for i, v in enumerate(values)]

    flow = {"groups": groups("FG"), "periods": [{"title": "Overall Study", "milestones": [
        {"type": "STARTED", "achievements": per_group("FG", started)},
        {"type": "COMPLETED", "achievements": per_group("FG", completed)},
        {"type": "NOT COMPLETED", "achievements": per_group("FG", [sum(ds) for ds in dropped])}],
        "dropWithdraws": [{"type": reason, "reasons": per_group("FG", [ds[r] for ds in dropped])}
                          for r, reason in enumerate(DROP_REASONS)]}]}

    total = n_arms > 1
    base_groups = groups("BG") + ([{"id": f"BG{n_arms:03d}", "title": "Total",
                                    "description": "Total of all reporting groups"}] if total else [])
    counts = started + ([sum(started)] if total else [])
    women = [n if "women" in t.details["brief_summary"] else round(n * rng.uniform(0.4, 0.65)) for n in started]
    women += [sum(women)] if total else []
    ages = [(round(rng.uniform(34, 48), 1), round(rng.uniform(9, 14), 1)) for _ in started]
    if total:  # the total's mean is the groups' weighted mean
        ages.append((round(sum(m * n for (m, _), n in zip(ages, started)) / max(1, sum(started)), 1),
                     max(sd for _, sd in ages)))
    baseline = {"groups": base_groups,
                "denoms": [{"units": "Participants", "counts": per_group("BG", counts, "value")}],
                "measures": [
                    {"title": "Age, Continuous", "paramType": "MEAN", "dispersionType": "STANDARD_DEVIATION",
                     "unitOfMeasure": "years", "classes": [{"categories": [{"measurements": [
                         {"groupId": f"BG{i:03d}", "value": str(mean), "spread": str(sd)}
                         for i, (mean, sd) in enumerate(ages)]}]}]},
                    {"title": "Sex: Female, Male", "paramType": "COUNT_OF_PARTICIPANTS",
                     "unitOfMeasure": "Participants", "classes": [{"categories": [
                         {"title": "Female", "measurements": per_group("BG", women, "value")},
                         {"title": "Male", "measurements": per_group("BG", [n - w for n, w in zip(counts, women)],
                                                                     "value")}]}]}]}

    registered = outcomes["primaryOutcomes"][0]
    measure = {"type": "PRIMARY", "title": registered["measure"], "description": registered["description"],
               "populationDescription": "Participants who received study treatment and had at least one "
                                        "post-baseline assessment.",
               "reportingStatus": "POSTED", "timeFrame": registered["timeFrame"], "groups": groups("OG"),
               "denoms": [{"units": "Participants", "counts": per_group("OG", completed, "value")}]}
    effect = rng.uniform(0.2, 1.0)  # how much better the drug arm does than its comparator
    if t.condition.outcome == "abstinence":
        share = [min(0.9, 0.25 + (0.3 * effect if i == 0 else 0) + rng.uniform(-0.05, 0.05)) for i in range(n_arms)]
        yes = [round(n * p) for n, p in zip(completed, share)]
        measure |= {"paramType": "COUNT_OF_PARTICIPANTS", "unitOfMeasure": "Participants", "classes": [
            {"categories": [{"title": "Abstinent", "measurements": per_group("OG", yes, "value")},
                            {"title": "Not abstinent", "measurements": per_group(
                                "OG", [n - y for n, y in zip(completed, yes)], "value")}]}]}
        a, b, c, d = (yes[0] + 0.5, completed[0] - yes[0] + 0.5, yes[-1] + 0.5, completed[-1] - yes[-1] + 0.5)
        estimate, spread = math.log(a * d / (b * c)), math.sqrt(1 / a + 1 / b + 1 / c + 1 / d)
        analysis = {"statisticalMethod": "Regression, Logistic", "paramType": "Odds Ratio (OR)",
                    "paramValue": f"{math.exp(estimate):.2f}",
                    "ciLowerLimit": f"{math.exp(estimate - 1.96 * spread):.2f}",
                    "ciUpperLimit": f"{math.exp(estimate + 1.96 * spread):.2f}"}
    else:
        sd = rng.uniform(6, 10) if t.condition.outcome == "score" else rng.uniform(12, 20)
        change = [-(rng.uniform(4, 8) + (6 * effect if i == 0 else 0)) for i in range(n_arms)]
        se = [sd / math.sqrt(max(n, 1)) for n in completed]
        score = t.condition.outcome == "score"
        measure |= {"paramType": "LEAST_SQUARES_MEAN" if score else "MEAN",
                    "dispersionType": "Standard Error" if score else "Standard Deviation",
                    "unitOfMeasure": "score on a scale" if score else "percentage of days",
                    "classes": [{"categories": [{"measurements": [
                        {"groupId": f"OG{i:03d}", "value": f"{m:.2f}", "spread": f"{e if score else sd:.2f}"}
                        for i, (m, e) in enumerate(zip(change, se))]}]}]}
        estimate, spread = change[0] - change[-1], math.sqrt(se[0] ** 2 + se[-1] ** 2)
        analysis = {"statisticalMethod": "Mixed Models Analysis" if score else "ANCOVA",
                    "paramType": "LS Mean Difference" if score else "Mean Difference (Final Values)",
                    "paramValue": f"{estimate:.2f}", "ciLowerLimit": f"{estimate - 1.96 * spread:.2f}",
                    "ciUpperLimit": f"{estimate + 1.96 * spread:.2f}"}
    if total:  # estimate and spread are on the scale of a normal test (log odds for an OR)
        p = math.erfc(abs(estimate) / spread / math.sqrt(2))
        measure["analyses"] = [{
            "groupIds": ["OG000", f"OG{n_arms - 1:03d}"],
            "groupDescription": f"{arms[0]['label']} compared with {arms[-1]['label']}.",
            "nonInferiorityType": "SUPERIORITY", "pValue": "<0.001" if p < 0.001 else f"{p:.3f}",
            "statisticalMethod": analysis["statisticalMethod"], "paramType": analysis["paramType"],
            "paramValue": analysis["paramValue"], "ciPctValue": "95", "ciNumSides": "TWO_SIDED",
            "ciLowerLimit": analysis["ciLowerLimit"], "ciUpperLimit": analysis["ciUpperLimit"],
            "estimateComment": f"{arms[0]['label']} versus {arms[-1]['label']}"}]

    def affected(share: float, n: int) -> int:
        return min(n, max(0, round(n * share * rng.uniform(0.6, 1.4))))

    on_drug = [i == 0 or arm.get("type") == "EXPERIMENTAL" for i, arm in enumerate(arms)]
    other = []
    for term, organ, shares, control in OTHER_EVENTS:
        hit = [affected(shares[drug] if drugged else control, n) for drugged, n in zip(on_drug, started)]
        if any(n and h / n >= 0.05 for h, n in zip(hit, started)):
            other.append({"term": term, "organSystem": organ, "sourceVocabulary": "MedDRA 25.0",
                          "assessmentType": "SYSTEMATIC_ASSESSMENT", "stats": [
                              {"groupId": f"EG{i:03d}", "numEvents": h + rng.randint(0, h // 3), "numAffected": h,
                               "numAtRisk": n} for i, (h, n) in enumerate(zip(hit, started))]})
    serious = []
    for term, organ in rng.sample(SERIOUS_EVENTS, rng.randint(1, 2)):
        hit = [min(n, rng.randint(0, 2)) for n in started]
        serious.append({"term": term, "organSystem": organ, "sourceVocabulary": "MedDRA 25.0",
                        "assessmentType": "SYSTEMATIC_ASSESSMENT", "stats": [
                            {"groupId": f"EG{i:03d}", "numEvents": h, "numAffected": h, "numAtRisk": n}
                            for i, (h, n) in enumerate(zip(hit, started))]})
    event_groups = []
    for i, (arm, n) in enumerate(zip(arms, started)):
        worst = max([e["stats"][i]["numAffected"] for e in other] or [0])
        event_groups.append({"id": f"EG{i:03d}", "title": arm["label"], "description": arm["description"],
                             "deathsNumAffected": 0, "deathsNumAtRisk": n,
                             "seriousNumAffected": min(n, sum(e["stats"][i]["numAffected"] for e in serious)),
                             "seriousNumAtRisk": n, "otherNumAffected": min(n, worst + rng.randint(0, 3)),
                             "otherNumAtRisk": n})
    events = {"frequencyThreshold": "5", "timeFrame": f"From first dose to {t.details['timepoint']}",
              "description": "Treatment-emergent adverse events in all participants who received study treatment.",
              "eventGroups": event_groups, "seriousEvents": serious, "otherEvents": other}
    return {"participantFlowModule": flow, "baselineCharacteristicsModule": baseline,
            "outcomeMeasuresModule": {"outcomeMeasures": [measure]}, "adverseEventsModule": events}


# =============================================================================================
# Small helpers
# =============================================================================================

def _recent_skewed(rng: random.Random, span: int) -> int:
    """Days before today, denser near today (linear density, plus a uniform fifth)."""
    x = 1 - math.sqrt(rng.random()) if rng.random() < 0.8 else rng.random()
    return int(x * span)


def _weighted(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), list(weights.values()))[0]


def _pick_design(rng: random.Random, exclude: tuple[str, ...] = ()) -> str:
    pool = {k: w for k, w in DESIGN_WEIGHTS.items() if k not in exclude}
    return _weighted(rng, pool)


def _pick_variant(rng: random.Random, drug: str, design: str) -> Variant:
    pool = [v for v in VARIANTS if v.drug == drug and (v.designs is None or design in v.designs)]
    return rng.choices(pool, [v.weight for v in pool])[0]


def _pick_condition(rng: random.Random, drug: str, preclinical: bool = False) -> Condition:
    pool = [(c, dict(c.drugs).get(drug, 0)) for c in CONDITIONS
            if not preclinical or c.animal is not None]
    pool = [(c, w) for c, w in pool if w]
    return rng.choices([c for c, _ in pool], [w for _, w in pool])[0]


def _num(n: int) -> str:
    return f"{n:,}"


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _lower_first(text: str) -> str:
    """'Intranasal esketamine' → 'intranasal esketamine'; 'MDMA', 'COMP360 …' stay."""
    if len(text) > 1 and text[0].isupper() and text[1].islower():
        return text[0].lower() + text[1:]
    return text


def _plain(xml_fragment: str) -> str:
    return unescape(re.sub(r"<[^>]+>", "", xml_fragment))
