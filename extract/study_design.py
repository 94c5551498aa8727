"""Study design of a PubMed record: what kind of evidence an article is.

`study_design(record)` returns ``(design, source)``. The designs are a contract (stored in
``articles.study_design``): see DESIGNS. The source is ``'publication type'`` when the record's
publication types (NLM's or the publisher's) name a design, ``'correction link'`` when its
CommentsCorrections make it a notice (RetractionOf, ErratumFor, ExpressionOfConcernFor), else
``'text'``: cues in the title, abstract, keywords and journal name, checked in a fixed order
(TEXT_RULES). Pure, regex-only,
compiled once. Nothing NLM adds at indexing (MeSH, publication types) is a text cue, so a record
not yet indexed gets the same answer as its indexed copy with the types withheld.

`evaluate(records)` measures the text path against the publication types it never sees (see
docs/study_design.md). Run on the corpus: ``python -m extract.study_design --corpus ../shared/corpus``.
"""
from __future__ import annotations

import argparse
import gzip
import re
import sys
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

STUDY_DESIGN_VERSION = "4"

RCT = "randomized controlled trial"
TRIAL = "clinical trial"
SYSTEMATIC_REVIEW = "systematic review"
META_ANALYSIS = "meta-analysis"
REVIEW = "review"
OBSERVATIONAL = "observational study"
CASE_REPORT = "case report"
PRECLINICAL = "preclinical"
PROTOCOL = "protocol"
GUIDELINE = "guideline"
EDITORIAL = "editorial"
LETTER = "letter"
COMMENT = "comment"
NOTICE = "notice"
"""v4. A correction, retraction or expression-of-concern notice: it is about another paper, not a
study, so the digest and What's new list it apart from the new papers (not as new research)."""
OTHER = "other"
DESIGNS = (NOTICE, RCT, TRIAL, SYSTEMATIC_REVIEW, META_ANALYSIS, REVIEW, OBSERVATIONAL, CASE_REPORT,
           PRECLINICAL, PROTOCOL, GUIDELINE, EDITORIAL, LETTER, COMMENT, OTHER)
PUBLICATION_TYPE = "publication type"
CORRECTION_LINK = "correction link"
TEXT = "text"
# CommentsCorrections RefTypes that only a notice carries (it points at the paper it concerns).
NOTICE_LINKS = frozenset({"RetractionOf", "ErratumFor", "ExpressionOfConcernFor"})

# Precedence when several publication types name a design, first wins. A notice is about
# another paper whatever that paper's types (a retraction notice may be typed like it). A protocol has no
# results whatever design it plans; a guideline is the product even when built on a review;
# evidence syntheses name their method more precisely than the trial types they pool; the
# design of a study (trial, observational, case) beats its form (review of the literature
# appended to a case, a case published as a letter); editorial > letter > comment because NLM
# adds Comment to any of them that discusses another article.
PRECEDENCE = (NOTICE, PROTOCOL, GUIDELINE, META_ANALYSIS, SYSTEMATIC_REVIEW, RCT, TRIAL, PRECLINICAL,
              OBSERVATIONAL, CASE_REPORT, REVIEW, EDITORIAL, LETTER, COMMENT, OTHER)
_RANK = {design: rank for rank, design in enumerate(PRECEDENCE)}

# NLM publication type descriptor UI → design. Types not listed ("Journal Article", "Comparative
# Study", "Multicenter Study", "Clinical Study", research-support types …) say nothing about design.
PUBLICATION_TYPE_UIS: dict[str, str] = {
    "D000075742": PROTOCOL,          # Clinical Trial Protocol
    "D017065": GUIDELINE,            # Practice Guideline
    "D016431": GUIDELINE,            # Guideline
    "D016446": GUIDELINE,            # Consensus Development Conference
    "D016447": GUIDELINE,            # Consensus Development Conference, NIH
    "D017418": META_ANALYSIS,        # Meta-Analysis
    "D000097722": META_ANALYSIS,     # Network Meta-Analysis
    "D000078182": SYSTEMATIC_REVIEW,  # Systematic Review
    "D016449": RCT,                  # Randomized Controlled Trial
    "D000071416": RCT,               # Randomized Controlled Trial, Veterinary (still randomised)
    "D016430": TRIAL,                # Clinical Trial
    "D017426": TRIAL,                # Clinical Trial, Phase I
    "D017427": TRIAL,                # Clinical Trial, Phase II
    "D017428": TRIAL,                # Clinical Trial, Phase III
    "D017429": TRIAL,                # Clinical Trial, Phase IV
    "D018848": TRIAL,                # Controlled Clinical Trial
    "D000070620": TRIAL,             # Pragmatic Clinical Trial
    "D000073843": TRIAL,             # Equivalence Trial
    "D000076362": TRIAL,             # Adaptive Clinical Trial
    "D000072019": PRECLINICAL,       # Clinical Trial, Veterinary
    "D000072020": PRECLINICAL,       # Observational Study, Veterinary
    "D064888": OBSERVATIONAL,        # Observational Study
    "D059020": OBSERVATIONAL,        # Twin Study
    "D002363": CASE_REPORT,          # Case Reports
    "D016454": REVIEW,               # Review
    "D000092002": REVIEW,            # Scoping Review
    "D016421": EDITORIAL,            # Editorial
    "D016422": LETTER,               # Letter
    "D016420": COMMENT,              # Comment
    "D016425": NOTICE,               # Published Erratum
    "D016440": NOTICE,               # Retraction of Publication
    # Not studies at all: say so rather than guess a design from their text.
    "D016433": OTHER,                # News
    "D019215": OTHER,                # Biography
    "D020493": OTHER,                # Autobiography
    "D019477": OTHER,                # Portrait
    "D017203": OTHER,                # Interview
    "D016435": OTHER,                # Directory
    "D016437": OTHER,                # Dictionary
    "D016417": OTHER,                # Bibliography
}
# Publisher-supplied types often have no UI; match them by name.
PUBLICATION_TYPE_NAMES: dict[str, str] = {
    "clinical trial protocol": PROTOCOL, "practice guideline": GUIDELINE, "guideline": GUIDELINE,
    "consensus development conference": GUIDELINE, "consensus development conference, nih": GUIDELINE,
    "meta-analysis": META_ANALYSIS, "network meta-analysis": META_ANALYSIS,
    "systematic review": SYSTEMATIC_REVIEW, "randomized controlled trial": RCT,
    "randomized controlled trial, veterinary": RCT, "clinical trial": TRIAL,
    "clinical trial, phase i": TRIAL, "clinical trial, phase ii": TRIAL,
    "clinical trial, phase iii": TRIAL, "clinical trial, phase iv": TRIAL,
    "controlled clinical trial": TRIAL, "pragmatic clinical trial": TRIAL,
    "equivalence trial": TRIAL, "adaptive clinical trial": TRIAL,
    "clinical trial, veterinary": PRECLINICAL, "observational study, veterinary": PRECLINICAL,
    "observational study": OBSERVATIONAL, "twin study": OBSERVATIONAL, "case reports": CASE_REPORT,
    "review": REVIEW, "scoping review": REVIEW, "editorial": EDITORIAL, "letter": LETTER,
    "comment": COMMENT, "published erratum": NOTICE, "retraction of publication": NOTICE,
    "expression of concern": NOTICE, "news": OTHER, "biography": OTHER, "autobiography": OTHER,
    "portrait": OTHER, "interview": OTHER, "directory": OTHER, "dictionary": OTHER,
    "bibliography": OTHER,
}


def from_publication_types(publication_types: Iterable[dict]) -> str | None:
    """The design the publication types name (highest in PRECEDENCE), or None if they name none."""
    best: str | None = None
    for pt in publication_types or ():
        design = PUBLICATION_TYPE_UIS.get(pt.get("ui") or "")
        if design is None:
            design = PUBLICATION_TYPE_NAMES.get((pt.get("name") or "").strip().lower())
        if design is not None and (best is None or _RANK[design] < _RANK[best]):
            best = design
    return best


def _alternatives(pattern: str) -> list[str]:
    """The top-level alternatives of a regular expression (split on '|' outside groups/classes)."""
    parts, depth, start, i, in_class = [], 0, 0, 0, False
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            i += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth == 0:
            parts.append(pattern[start:i])
            start = i + 1
        i += 1
    parts.append(pattern[start:])
    return parts


def _rx(pattern: str) -> re.Pattern[str]:
    """Patterns are lower case and run on lower-cased text (faster than re.IGNORECASE). When every
    alternative starts at a word boundary, the boundary is tested once, outside the alternation:
    the same matches, but positions inside words are skipped without trying each alternative."""
    pattern = pattern.lower()
    alternatives = _alternatives(pattern)
    if len(alternatives) > 1 and all(alt.startswith("\\b") for alt in alternatives):
        pattern = "\\b(?:" + "|".join(alt[2:] for alt in alternatives) + ")"
    return re.compile(pattern)


# ---------------------------------------------------------------------------- text cues
_PROTOCOL = _rx(r"\b(?:study|trial|review) protocol\b|\bprotocol (?:for|of) an? (?:\w+[- ]){0,4}"
                r"(?:trial|study|review)\b|\bthis protocol (?:describes|outlines)\b")
"""A protocol announces a study without results; it names itself in the title or opening."""

_META = _rx(r"\bmeta[- ]?analy[sz]|\bmeta[- ]regression\b|\bpooled analysis of (?:\w+ ){0,3}"
            r"(?:trials|studies)\b")
"""Pooling studies is named as such; checked before systematic review because most
meta-analyses also call themselves systematic reviews."""

_SYSTEMATIC = _rx(r"\bsystematic(?:ally)? (?:literature )?(?:review|search)|\bprisma\b|"
                  r"\bumbrella review\b|\bscoping review\b")
"""A systematic (or scoping / umbrella) review names its method or its reporting standard."""

_NOT_CHART = (r"(?! of (?:\w+ )?(?:\d+|two|three|four|five|six|seven|eight|nine|ten|our|the records|"
              r"the charts|the medical|the case)\b)")
"""After 'review': not 'review of 117 cases / of our records / of the charts' (a case series or a
chart review, not a review article)."""

_SELF_REVIEW = _rx(r"\b(?:this|the present|the current|in this|our) (?:\w+ ){0,2}review\b" + _NOT_CHART + r"|"
                    r"\b(?:this|the present) (?:article|paper|chapter|manuscript|work|overview) (?:reviews|summari[sz]es|"
                    r"provides an? (?:\w+ )?(?:overview|summary|update)|highlights|discusses|focuses on|"
                    r"describes recent|outlines)\b|\b(?:here,? )?we (?:review|summari[sz]e|highlight|discuss) "
                    r"(?:the |recent |current |what |how |our current |key |emerging |existing |available )|"
                    r"\bareas covered\b|\bexpert (?:opinion|commentary):|\breview articles?\b|\bnarrative review\b|"
                    r"\bwe (?:provide|present|give) an? (?:\w+ )?(?:overview|update|summary)\b")
"""A review that says what it is ('this review', 'this article summarises', 'areas covered') is a
review whatever trials, patients or animals it goes on to discuss; checked before them. Excluded:
'review of 40 cases / of our records' (a chart review, a case series)."""

_RCT = _rx(r"\brandomi[sz]ed\b|\brandomly (?:assigned|allocated|divided)\b|\brandomi[sz]ation\b|"
           r"\bdouble[- ]?blind|\bplacebo[- ]?controlled\b|\btriple[- ]blind|\bsham[- ]controlled\b|"
           r"\b(?:allocated|assigned|divided|distributed) at random\b|\bat random (?:to|into)\b|"
           r"\brandomly (?:entered|chosen to receive)\b")
"""Random allocation and blinding against placebo are the RCT's defining words."""

_TRIAL = _rx(r"\bopen[- ]label\b|\bsingle[- ]arm\b|\bphase (?:[1-4]|i{1,3}v?|iv)(?:/(?:[1-4]|i{1,3}))?"
             r"[ab]?\b(?: (?:clinical )?(?:trial|study))?|\b(?:pilot|clinical|controlled|therapeutic|"
             r"crossover|cross-over|comparative|multicent(?:er|re)|uncontrolled|"
             r"drug|field|single-blind(?:ed)?) trials?\b|\bsingle[- ]blind|\bcross-?over (?:study|design)\b|"
             r"\bdose[- ](?:escalation|finding|ranging)\b|\btrial\b|\bplacebo\b|"
             r"\b(?:\d{2,}|six|seven|eight|nine|ten|eleven|twelve|\w*teen|twenty\S*|thirty\S*|forty\S*|"
             r"fifty\S*) (?:\w+ ){0,3}(?:patients|subjects|volunteers|men|women|children|outpatients|"
             r"inpatients) (?:were|was) (?:treated|given|randomly|administered|evaluated)\b|"
             r"\btherapeutic (?:efficacy|effect|results?) of\b|\bthe efficacy of\b")
"""Prospective treatment studies without (stated) randomisation still say trial, open-label,
single-arm or name a phase."""

_CASE = _rx(r"\bcase reports?\b|\breport of (?:a|an|one|two|three|four|five|\d+) (?:\w+ )?cases?\b|"
            r"\ba case of\b|\b(?:a|one|two|three) cases? of\b|\bcase (?:study|presentation)\b|"
            r"\bwe (?:report|describe|present) (?:a|an|two|three|the case)\b|"
            r"\b(?:a|an|one) (?:\w+ )?patients? (?:who|with)\b|\b\d+[- ](?:year|month|week|day)s?[- ]old\b|"
            r"\b(?:year|month)[- ]old (?:\w+ )?(?:man|woman|boy|girl|male|female|child|infant|"
            r"patient|baby|neonate)\b|\bcase history\b|\bcasuistic|\bin a (?:child|patient|newborn|"
            r"neonate|woman|man|boy|girl|family|pair of twins|sibship)\b|\bthe case of\b|\bapropos of\b|"
            r"\b(?:a|one|two|three|four|five|\d) (?:\w+ ){0,2}(?:cases?|patients?)\b[^.]{0,120}?"
            r"\b(?:is|are|was|were) (?:described|reported|presented)\b|\bthis (?:report|paper|article) (?:concerns|presents|"
            r"describes|reports)\b|\b(?:a|an) (?:\w+ )?patient (?:had|presented|developed|was|is)\b|"
            r"\b(?:a|an) (?:boy|girl|infant|child|man|woman|neonate|newborn) (?:with|who|had|was|is|"
            r"presented|developed)\b|\billustrative cases?\b|\bwhat is your diagnosis\b|\bcase profile\b|"
            r"\b(?:day|week|month|year)[- ]old (?:infant|child|patient)\b|\b(?:our|this) patient\b|\bthe proband\b|"
            r"\bthe index case\b|\b(?:he|she) (?:was|had|developed|presented|died|received)\b|"
            r"\b(?:man|woman|boy|girl|patient|male|female),? (?:of|aged) \d|"
            r"\b(?:unusual|rare|unique|further|additional|fatal|atypical) case\b|"
            r"\bcase (?:is|was) (?:described|reported|presented)\b|"
            r"\b(?:1|one|2|two) cases?\]|\bcases?\)\]|\bcase records of\b|"
            r"\bclinic(?:o|al )?pathologic(?:al)? conference\b")
"""A case report says so, or describes one person by age and sex. v3: the clinicopathological
conference ('Case records of the Massachusetts General Hospital') is one case, discussed."""

_TITLE_CASE = _rx(r"\b(?:in|of) an? (?:\w+ ){0,3}(?:patient|case|man|woman|child|boy|girl|infant)\b|"
                  r"\b(?:two|three|four|five|[2-5]) (?:\w+ ){0,2}(?:cases|patients|siblings|brothers|sisters)\b|"
                  r"\bcase of\b|\b(?:simulating|mimicking|masquerading as|presenting as|complicating|"
                  r"complication of|complicated by)\b")
"""v3. A title naming one patient ('... in a renal transplant patient'), two to five, 'case of', or
the case report's idioms (a lesion 'simulating' / 'presenting as' another, 'a complication of')
is a case report (or a tiny series, which 1970s indexers tagged as case reports). In the abstract
the same words describe ordinary studies, so only the title is searched."""

_ANIMAL = _rx(r"\b(?:rats?|mice|mouse|murine|rodents?|hamsters?|guinea[- ]pigs?|rabbits?|dogs?|canine|"
              r"cats?|feline|pigs?|piglets?|swine|porcine|sheep|ewes?|lambs?|ovine|goats?|cattle|cows?|"
              r"calves|heifers?|bovine|bulls?|horses?|ponies|equine|monkeys?|macaques?|primates?|"
              r"baboons?|chimpanzees?|chicks?|chickens?|hens?|avian|quail|pigeons?|birds?|ducks?|"
              r"turkeys?|zebrafish|fish|trout|salmon|frogs?|xenopus|toads?|drosophila|flies|"
              r"c\. elegans|caenorhabditis|nematodes?|worms?|yeast|saccharomyces|escherichia|"
              r"e\. coli|bacteria|bacterial strains?|ferrets?|gerbils?|mink|opossums?|"
              r"sprague[- ]dawley|wistar|long[- ]evans|c57bl/?6\w*|balb/c|knockout|transgenic|"
              r"in vitro|cultured (?:\w+ )?cells|cell lines?|cell cultures?|isolated (?:\w+ )?"
              r"(?:hearts?|tissues?|muscles?|cells|preparations?|organs?)|slices?|homogenates?|"
              r"microsomes?|mitochondria|(?:hela|cho|hek293|pc12|sh-sy5y) cells?|animals?)\b")
"""Animal species, strains and bench preparations mark preclinical work …"""

_HUMAN = _rx(r"\b(?:patients?|volunteers?|participants?|men|women|boys|girls|children|infants?|"
             r"adolescents?|adults?|humans?|man|woman|persons?|people|individuals (?:with|who)|outpatients?|"
             r"inpatients?|subjects? with|healthy subjects?|students?|veterans?|smokers?|"
             r"respondents?|clinical|pregnan\w*|neonates?|newborns?|physicians?|nurses?|"
             r"hospitali[sz]ed)\b")
"""… unless people are clearly the subject (then the other rules decide)."""

_OBSERVATIONAL = _rx(r"\bcohorts?\b|\bcross[- ]sectional\b|\bcase[- ]control\b|\bretrospective(?:ly)?\b|"
                     r"\bprospective(?:ly)? (?:study|studies|follow)|\bregistry\b|\bregister\b|"
                     r"\bpopulation[- ]based\b|\bsurvey(?:ed|s)?\b|\bquestionnaires?\b|"
                     r"\bepidemiolog\w*|\bfollow(?:ed)?[- ]up (?:study|of)\b|\bincidence\b|\bprevalence\b|"
                     r"\bchart review\b|\bmedical records\b|\bcase series\b|\bobservational\b|"
                     r"\blongitudinal\b|\bnationwide\b")
"""Observational designs name their sampling: cohort, cross-sectional, case-control, registry."""

_TITLE_REVIEW = _rx(r"\breview\b" + _NOT_CHART + r"|\boverview\b|\ban update\b|\bupdate on\b|\bstate of the art\b|"
                    r"\bcurrent (?:concepts|status|views)\b|\b(?:recent )?advances in\b")
"""A title calling itself a review outweighs the sampling words its abstract reports on."""

_REVIEW = _rx(r"\breviews?\b" + _NOT_CHART + r"|\boverview\b|\bstate of the art\b|\bcurrent (?:concepts|status|"
              r"knowledge|views|aspects|problems|trends)\b|\brecent (?:advances|developments|progress)\b|"
              r"\badvances in\b|\bupdate (?:on|in)\b|\ban update\b|\bwe (?:summari[sz]e|describe recent)\b|"
              r"\bthis (?:article|paper|chapter) (?:reviews|summari[sz]es)\b|\blecture\b|\bwe (?:discuss|review)\b|"
              r"\b(?:aim|purpose) of this (?:article|paper|chapter) is to (?:review|summari[sz]e)\b")
"""A review says review, overview or advances in; a case report 'and review of the literature'
has already matched the case rule."""

_REVIEW_JOURNAL = _rx(r"^annual review of\b|\bcurrent opinion in\b|\bcurrent problems in\b|\bnature reviews\b")
"""v3. Journals whose name says they publish reviews only. The journal is known the day a record
appears (no indexing needed); checked before the preclinical and trial cues because an annual
review of microbiology is about bacteria and one of medicine discusses efficacy."""

_CASE_JOURNAL = _rx(r"\bcase reports?\b")
"""v3. Journals named for case reports ('CEN case reports', 'BMJ case reports') publish little else,
and their patients are 'treated' and 'given' drugs like a trial's."""


_NOTICE_TITLE = _rx(r"^[^a-z0-9]*(?:(?:editorial )?expression of concern|notice of retraction|retraction(?: notice)?|"
                    r"errat(?:um|a)|corrigend(?:um|a)|correction)\b[\])]?\s*(?::|\.|to\b|$)")
"""v4. A notice titles itself: 'Retraction: …', 'Erratum.', 'Correction to: …', 'Expression of
concern: …' (not 'Correction of hypokalaemia …' or 'Retraction of the gingiva …')."""


# (design, pattern, where): where = 'title' searches the title only, 'journal' the journal's full
# name, 'all' title + abstract + keywords (see record_text).
TEXT_RULES: tuple[tuple[str, re.Pattern[str], str], ...] = (
    (NOTICE, _NOTICE_TITLE, "title"),
    (PROTOCOL, _PROTOCOL, "all"),
    (META_ANALYSIS, _META, "all"),
    (SYSTEMATIC_REVIEW, _SYSTEMATIC, "all"),
    (REVIEW, _SELF_REVIEW, "all"),
    (REVIEW, _REVIEW_JOURNAL, "journal"),
    (CASE_REPORT, _CASE_JOURNAL, "journal"),
    (PRECLINICAL, _ANIMAL, "all"),  # only when _HUMAN does not match, see text_design
    (RCT, _RCT, "all"),
    (TRIAL, _TRIAL, "all"),
    (CASE_REPORT, _CASE, "all"),
    (CASE_REPORT, _TITLE_CASE, "title"),
    (REVIEW, _TITLE_REVIEW, "title"),
    (OBSERVATIONAL, _OBSERVATIONAL, "all"),
    (REVIEW, _REVIEW, "all"),
)


def record_text(record: dict) -> dict[str, str]:
    """The lower-cased texts the rules search, by TEXT_RULES' `where`: 'title', 'journal' (its full
    name) and 'all' (title + abstract + keywords)."""
    title = (record.get("title") or "").lower()
    parts = [title, (record.get("abstract") or "").lower()]
    parts.extend(keyword.lower() for keyword in record.get("keywords") or () if isinstance(keyword, str))
    return {"title": title, "journal": (record.get("journal") or "").lower(), "all": "\n".join(parts)}


def text_design(record: dict) -> str:
    """The design the text cues give (TEXT_RULES in order), OTHER when none matches."""
    texts = record_text(record)
    for design, pattern, where in TEXT_RULES:
        if pattern.search(texts[where]) is None:
            continue
        if design == PRECLINICAL and _HUMAN.search(texts["all"]) is not None:
            continue
        return design
    return OTHER


def study_design(record: dict) -> tuple[str, str]:
    """(design, source) of one parsed PubMed record: publication types first, then the notice links,
    else text cues."""
    design = from_publication_types(record.get("publication_types") or ())
    if design is not None:
        return design, PUBLICATION_TYPE
    if any(link.get("ref_type") in NOTICE_LINKS for link in record.get("comments_corrections") or ()):
        return NOTICE, CORRECTION_LINK
    return text_design(record), TEXT


# ---------------------------------------------------------------------------- evaluation

# Classes (and unions of classes) the evaluation reports.
EVALUATED: dict[str, frozenset[str]] = {
    "trials (RCT + clinical trial)": frozenset({RCT, TRIAL}),
    RCT: frozenset({RCT}),
    TRIAL: frozenset({TRIAL}),
    CASE_REPORT: frozenset({CASE_REPORT}),
    "reviews (review + SR + MA)": frozenset({REVIEW, SYSTEMATIC_REVIEW, META_ANALYSIS}),
    REVIEW: frozenset({REVIEW}),
    SYSTEMATIC_REVIEW: frozenset({SYSTEMATIC_REVIEW}),
    META_ANALYSIS: frozenset({META_ANALYSIS}),
    OBSERVATIONAL: frozenset({OBSERVATIONAL}),
}
PRECLINICAL_CLASS = "preclinical (MeSH Animals, no Humans)"


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    fp_untyped: int = 0
    """Predicted on a MeSH-indexed record whose publication types name no design (an ordinary
    'Journal Article'): not in `precision`, which (like docs §3) only counts records with a
    design-giving type; in `strict_precision`, which treats such records as not this class."""

    @property
    def precision(self) -> float | None:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> float | None:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None

    @property
    def strict_precision(self) -> float | None:
        predicted = self.tp + self.fp + self.fp_untyped
        return self.tp / predicted if predicted else None

    def add(self, gold: bool, predicted: bool) -> None:
        self.tp += gold and predicted
        self.fp += predicted and not gold
        self.fn += gold and not predicted


@dataclass
class Evaluation:
    """Per-class counts of the text path against publication types (and, for preclinical,
    against MeSH: 'Animals' without 'Humans')."""
    records: int = 0
    classes: dict[str, Counts] = field(default_factory=lambda: {name: Counts() for name in
                                                                 [*EVALUATED, PRECLINICAL_CLASS]})
    confusion: Counter = field(default_factory=Counter)

    def format(self) -> str:
        lines = [f"records with a design from publication types: {self.records}",
                 f"{'class':40} {'gold':>6} {'pred':>6} {'P':>6} {'R':>6} {'+untyped':>8} {'strictP':>7}"]
        for name, c in self.classes.items():
            p = "-" if c.precision is None else f"{c.precision:.3f}"
            r = "-" if c.recall is None else f"{c.recall:.3f}"
            strict = "-" if c.strict_precision is None else f"{c.strict_precision:.3f}"
            untyped = "" if name == PRECLINICAL_CLASS else f"{c.fp_untyped:8}"
            strict = "" if name == PRECLINICAL_CLASS else f"{strict:>7}"
            lines.append(f"{name:40} {c.tp + c.fn:6} {c.tp + c.fp:6} {p:>6} {r:>6} {untyped:>8} {strict:>7}")
        return "\n".join(lines)


def _mesh_names(record: dict) -> set[str]:
    return {(heading.get("name") or "") for heading in record.get("mesh_headings") or ()}


def evaluate(records: Iterable[dict]) -> Evaluation:
    """The text path (publication types withheld) scored against the publication-type design,
    on every record whose publication types give one; preclinical against MeSH on every
    MeSH-indexed record. Predictions on MeSH-indexed records with no design-giving type are
    counted apart (Counts.fp_untyped, strict_precision)."""
    result = Evaluation()
    for record in records:
        gold = from_publication_types(record.get("publication_types") or ())
        predicted = text_design({**record, "publication_types": []})
        if gold is not None:
            result.records += 1
            result.confusion[(gold, predicted)] += 1
            for name, members in EVALUATED.items():
                result.classes[name].add(gold in members, predicted in members)
        mesh = _mesh_names(record)
        if gold is None and mesh:  # indexed, and NLM gave it no design-naming type
            for name, members in EVALUATED.items():
                result.classes[name].fp_untyped += predicted in members
        if mesh:
            result.classes[PRECLINICAL_CLASS].add("Animals" in mesh and "Humans" not in mesh,
                                                  predicted == PRECLINICAL)
    return result


BULK_FILE = "pubmed20n0014_even.xml.gz"


def load_corpus_records(corpus_dir: Path) -> dict[str, list[dict]]:
    """Parsed PubMed records of the corpus, one per PMID: {'bulk': the 1970s MEDLINE file,
    'modern': every other file}."""
    from extract.pubmed_parser import parse_pubmed

    split: dict[str, dict[int, dict]] = {"modern": {}, "bulk": {}}
    for path in sorted((corpus_dir / "pubmed").rglob("*.xml*")):
        payload = path.read_bytes()
        if path.suffix == ".gz":
            payload = gzip.decompress(payload)
        part = split["bulk" if path.name == BULK_FILE else "modern"]
        for record in parse_pubmed(payload).records:
            part.setdefault(record["pmid"], record)
    return {name: list(records.values()) for name, records in split.items()}


def throughput(records: list[dict]) -> float:
    """Records per second of `study_design` over `records` (text path forced, the slow one)."""
    stripped = [{**record, "publication_types": []} for record in records]
    start = time.perf_counter()
    for record in stripped:
        study_design(record)
    return len(stripped) / max(time.perf_counter() - start, 1e-9)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, required=True)
    args = parser.parse_args(argv)
    parts = load_corpus_records(args.corpus)
    for name, records in parts.items():
        for half, keep in (("odd PMIDs (tuning)", 1), ("even PMIDs (held out)", 0)):
            print(f"== {name}, {half}")
            print(evaluate(r for r in records if r["pmid"] % 2 == keep).format())
        print(f"== {name}, all PMIDs")
        print(evaluate(records).format())
        print(f"== {name}, records with an abstract")
        print(evaluate(r for r in records if r.get("abstract")).format())
    print(f"throughput (bulk, text path): {throughput(parts['bulk']):,.0f} records/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
