"""Condition tagging: which conditions (MeSH descriptors) a record mentions, and which it is about.

A blank spaCy pipeline (tokenizer only, no model weights) with two registered components:

* ``trialwatch_conditions`` — a ``PhraseMatcher(attr="LOWER")`` over the lexicon in
  ``extract/conditions.toml`` (terms plus generated hyphen/plural/British variants and
  case-sensitive abbreviations), abbreviations defined in the text ("treatment-resistant
  depression (TRD)" → later "TRD"; an ambiguous abbreviation such as "AD" only after such a
  definition; a lexicon abbreviation defined as something else, "glutamic acid decarboxylase
  (GAD)", is dropped for that text), then overlap resolution (longest span, then the most
  specific concept). Results: ``doc._.conditions``, a list of :class:`ConditionHit` (token
  range, MeSH UI, flags); :func:`condition_spans` turns them into labelled ``Span`` objects.
* ``trialwatch_negation`` — NegEx-style context: a negation trigger shortly before or after a
  mention in the same clause ("without", "no increase in", "… were excluded"), an exclusion
  trigger anywhere earlier in the sentence ("Exclusion criteria included …"), or an
  "Exclusion Criteria:" header above it sets ``hit.negated``; a side-effect sentence
  ("adverse events included …") sets ``hit.adverse``.

The tagger reads text only; MeSH indexing on the records (``mesh_headings``,
``condition_mesh``) is never looked at — it is the yardstick in ``extract/evaluate_tagger.py``.
"""
from __future__ import annotations

import hashlib
import re
import tomllib
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field as dc_field, replace
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy
import spacy
from spacy.attrs import IS_SPACE, LOWER, ORTH
from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc, Span

from extract.tagger_version import TAGGER_VERSION

CATEGORIES = (
    "mood", "anxiety", "trauma", "psychotic", "substance use", "pain", "neurological",
    "eating", "sleep", "neurodevelopmental", "other",
)
ARTICLE_FIELDS = ("title", "abstract", "keywords")
TRIAL_FIELDS = (
    "conditions", "keywords", "brief_title", "official_title", "brief_summary",
    "detailed_description", "eligibility_criteria", "primary_outcomes",
)
LIST_FIELDS = ("keywords", "conditions", "primary_outcomes")
LIST_SEPARATOR = "; "
_ABBREVIATION_SHAPE = re.compile(r"^[A-Za-z][A-Za-z0-9/\-]{0,9}$")
_SENTENCE_END = frozenset({".", "!", "?", ";"})

if not Doc.has_extension("conditions"):
    Doc.set_extension("conditions", default=None)
if not Doc.has_extension("abbreviations"):
    Doc.set_extension("abbreviations", default=None)


@dataclass(slots=True)
class ConditionHit:
    """One condition mention found in a Doc (token offsets); flags set by the negation step."""
    start: int
    end: int
    mesh_id: str
    negated: bool = False
    adverse: bool = False
    population: bool = False


def condition_spans(doc: Doc) -> list[Span]:
    """The mentions as spaCy spans labelled with their MeSH UI (built on demand: spans are
    costly to create for every text of a bulk run)."""
    return [Span(doc, h.start, h.end, label=h.mesh_id) for h in doc._.conditions or ()]


# --------------------------------------------------------------------------- lexicon


@dataclass(frozen=True)
class Concept:
    ui: str
    name: str
    category: str
    parent: str | None
    terms: tuple[str, ...]
    abbrevs: tuple[str, ...]
    ambiguous: tuple[str, ...]
    not_after: frozenset[str]
    not_before: frozenset[str]
    symptom: bool = False
    # (implied concept UI, terms): a mention of one of these terms names that concept too
    also: tuple[tuple[str, tuple[str, ...]], ...] = ()


@dataclass(frozen=True)
class ContextRules:
    pre_negation: tuple[str, ...]
    pre_exclusion: tuple[str, ...]
    post_negation: tuple[str, ...]
    pseudo_negation: tuple[str, ...]
    terminators: tuple[str, ...]
    exclusion_headers: tuple[str, ...]
    inclusion_headers: tuple[str, ...]
    adverse: tuple[str, ...]
    window: int
    pseudo_adverse: tuple[str, ...] = ()
    population_before: tuple[str, ...] = ()
    population_nouns: tuple[str, ...] = ()
    population_window: int = 3


@dataclass(frozen=True)
class Lexicon:
    concepts: dict[str, Concept]
    context: ContextRules
    spelling: tuple[tuple[str, str], ...]
    no_plural: frozenset[str]
    sha256: str
    symptoms: frozenset[str] = frozenset()
    ancestor_map: dict[str, tuple[str, ...]] = dc_field(default_factory=dict)
    # concept UI → {phrase variant (lower case) → implied concept UI}, from the concepts' `also`
    implied: dict[str, dict[str, str]] = dc_field(default_factory=dict)

    def depth(self, ui: str) -> int:
        """Number of lexicon ancestors: deeper is more specific."""
        depth, seen = 0, {ui}
        parent = self.concepts[ui].parent if ui in self.concepts else None
        while parent and parent in self.concepts and parent not in seen:
            seen.add(parent)
            depth += 1
            parent = self.concepts[parent].parent
        return depth

    def ancestors(self, ui: str) -> list[str]:
        if ui in self.ancestor_map:
            return list(self.ancestor_map[ui])
        out: list[str] = []
        parent = self.concepts[ui].parent if ui in self.concepts else None
        while parent and parent in self.concepts and parent not in out and parent != ui:
            out.append(parent)
            parent = self.concepts[parent].parent
        return out

    def patterns(self) -> dict[str, str]:
        """Every phrase variant (lower case) → concept UI; a phrase claimed twice is an error."""
        owner: dict[str, str] = {}
        for concept in self.concepts.values():
            for term in concept.terms:
                for variant in term_variants(term, self.spelling, self.no_plural):
                    if owner.setdefault(variant, concept.ui) != concept.ui:
                        raise ValueError(
                            f"lexicon phrase {variant!r} (from {term!r}) belongs to both "
                            f"{owner[variant]} and {concept.ui}"
                        )
        return owner


def default_lexicon_path() -> Path:
    return Path(str(resources.files("extract").joinpath("conditions.toml")))


@lru_cache(maxsize=8)
def load_lexicon(path: Path | str | None = None) -> Lexicon:
    """Read and check a lexicon TOML file (the shipped one by default)."""
    raw = Path(path).read_bytes() if path else default_lexicon_path().read_bytes()
    data = tomllib.loads(raw.decode("utf-8"))
    concepts: dict[str, Concept] = {}
    for entry in data.get("concept", []):
        concept = Concept(
            ui=entry["ui"],
            name=entry["name"],
            category=entry["category"],
            parent=entry.get("parent"),
            terms=tuple(t.lower() for t in entry.get("terms", [])),
            abbrevs=tuple(entry.get("abbrevs", [])),
            ambiguous=tuple(entry.get("ambiguous", [])),
            not_after=frozenset(w.lower() for w in entry.get("not_after", [])),
            not_before=frozenset(w.lower() for w in entry.get("not_before", [])),
            symptom=bool(entry.get("symptom", False)),
            also=tuple((also["ui"], tuple(t.lower() for t in also["terms"])) for also in entry.get("also", [])),
        )
        if concept.category not in CATEGORIES:
            raise ValueError(f"{concept.ui}: unknown category {concept.category!r}")
        if concept.ui in concepts:
            raise ValueError(f"duplicate concept {concept.ui}")
        concepts[concept.ui] = concept
    for concept in concepts.values():
        if concept.parent and concept.parent not in concepts:
            raise ValueError(f"{concept.ui}: parent {concept.parent} is not in the lexicon")
        for implied, terms in concept.also:
            if implied not in concepts:
                raise ValueError(f"{concept.ui}: `also` names {implied}, which is not in the lexicon")
            if not set(terms) <= set(concept.terms):
                raise ValueError(f"{concept.ui}: `also` terms must be terms of the concept: {sorted(set(terms) - set(concept.terms))}")
    ctx = data.get("context", {})
    context = ContextRules(
        **{key: tuple(ctx.get(key, ())) for key in (
            "pre_negation", "pre_exclusion", "post_negation", "pseudo_negation",
            "terminators", "exclusion_headers", "inclusion_headers", "adverse",
            "pseudo_adverse", "population_before",
        )},
        population_nouns=tuple(w.lower() for w in ctx.get("population_nouns", ())),
        window=int(ctx.get("window", 5)),
        population_window=int(ctx.get("population_window", 3)),
    )
    lexicon = Lexicon(
        concepts=concepts,
        context=context,
        spelling=tuple((us, uk) for us, uk in data.get("spelling", [])),
        no_plural=frozenset(data.get("no_plural", [])),
        sha256=hashlib.sha256(raw).hexdigest(),
        symptoms=frozenset(ui for ui, c in concepts.items() if c.symptom),
    )
    lexicon.ancestor_map.update({ui: tuple(lexicon.ancestors(ui)) for ui in concepts})
    lexicon.implied.update({
        concept.ui: {variant: implied for implied, terms in concept.also for term in terms
                     for variant in term_variants(term, lexicon.spelling, lexicon.no_plural)}
        for concept in concepts.values() if concept.also})
    return lexicon


def plural(word: str) -> str | None:
    """English plural of a head noun, or None when the word should not be pluralised."""
    if not word.isalpha() or len(word) < 3 or word.endswith(("s", "x", "z")):
        return None
    if word.endswith(("ch", "sh")):
        return word + "es"
    if word.endswith("y") and word[-2] not in "aeiou":
        return word[:-1] + "ies"
    return word + "s"


def term_variants(term: str, spelling: Iterable[tuple[str, str]] = (),
                  no_plural: Iterable[str] = ()) -> set[str]:
    """A lexicon phrase with its hyphen, possessive, British-spelling and plural variants."""
    base = " ".join(term.lower().split())
    forms = {base}
    if "-" in base:
        forms |= {base.replace("-", " "), base.replace("-", "")}
    if "'s" in base:
        forms |= {f.replace("'s", "") for f in forms} | {f.replace("'s", "s") for f in forms}
    for us, uk in spelling:
        forms |= {f.replace(us, uk) for f in forms if us in f}
    words_without_plural = set(no_plural)
    for form in list(forms):
        head, _, last = form.rpartition(" ")
        if not head and last in words_without_plural:
            continue
        if (many := plural(last)) is not None:
            forms.add(f"{head} {many}".strip())
    return {" ".join(f.split()) for f in forms if f.strip()}


# --------------------------------------------------------------------------- components


@dataclass(frozen=True)
class _Candidate:
    start: int
    end: int
    ui: str
    kind: str  # "term" | "abbr"
    abbr: str | None = None


def resolve_overlaps(candidates: Iterable[_Candidate], depth: dict[str, int]) -> list[_Candidate]:
    """Keep the longest candidate of each overlapping group; on equal spans the deeper concept."""
    ranked = sorted(
        candidates,
        key=lambda c: (-(c.end - c.start), -depth.get(c.ui, 0), c.kind != "term", c.start, c.ui),
    )
    taken = bytearray()
    chosen = []
    for cand in ranked:
        if len(taken) < cand.end:
            taken.extend(b"\0" * (cand.end - len(taken)))
        if any(taken[cand.start:cand.end]):
            continue
        taken[cand.start:cand.end] = b"\1" * (cand.end - cand.start)
        chosen.append(cand)
    return sorted(chosen, key=lambda c: (c.start, c.end))


def looks_like_abbreviation(text: str) -> bool:
    return bool(_ABBREVIATION_SHAPE.match(text)) and sum(ch.isupper() for ch in text) >= 2


def initials_fit(abbr: str, words_before: list[str]) -> bool:
    """Schwartz–Hearst-lite: the abbreviation's first letter starts one of the words before it."""
    first = abbr[0].lower()
    return any(word[:1].lower() == first for word in words_before if word[:1].isalpha())


class ConditionMatcher:
    """Phrase + abbreviation matching with in-text definitions and overlap resolution."""

    def __init__(self, nlp: Language, lexicon: Lexicon):
        self.lexicon = lexicon
        self.depth = {ui: lexicon.depth(ui) for ui in lexicon.concepts}
        self.category = {ui: c.category for ui, c in lexicon.concepts.items()}
        self.matcher = PhraseMatcher(nlp.vocab, attr="LOWER")
        by_concept: dict[str, list[str]] = defaultdict(list)
        for phrase, ui in lexicon.patterns().items():
            by_concept[ui].append(phrase)
        self.kinds: dict[int, tuple[str, str, str | None]] = {}
        for ui, phrases in by_concept.items():
            key = f"term:{ui}"
            self.kinds[nlp.vocab.strings.add(key)] = ("term", ui, None)
            self.matcher.add(key, list(nlp.tokenizer.pipe(phrases)))
        self.abbrev_concept: dict[str, str] = {}
        self.ambiguous_concepts: dict[str, list[str]] = defaultdict(list)
        for concept in lexicon.concepts.values():
            for abbr in concept.abbrevs:
                if self.abbrev_concept.setdefault(abbr, concept.ui) != concept.ui:
                    raise ValueError(f"abbreviation {abbr} belongs to two concepts")
            for abbr in concept.ambiguous:
                self.ambiguous_concepts[abbr].append(concept.ui)
        clash = set(self.abbrev_concept) & set(self.ambiguous_concepts)
        if clash:
            raise ValueError(f"abbreviations both plain and ambiguous: {sorted(clash)}")
        for abbr, ui in self.abbrev_concept.items():
            key = f"abbr:{abbr}"
            self.kinds[nlp.vocab.strings.add(key)] = ("abbr", ui, abbr)
            forms = [abbr] if abbr.endswith("s") else [abbr, abbr + "s"]
            self.matcher.add(key, list(nlp.tokenizer.pipe(forms)))
        strings = nlp.vocab.strings
        self.not_after = {ui: frozenset(strings.add(w) for w in c.not_after)
                          for ui, c in lexicon.concepts.items() if c.not_after}
        self.not_before = {ui: frozenset(strings.add(w) for w in c.not_before)
                           for ui, c in lexicon.concepts.items() if c.not_before}
        self.hyphen = strings.add("-")
        self.lparen = strings.add("(")
        self.closing = frozenset(strings.add(t) for t in (")", "),", ");", "):", ").", ";", ",", "];"))
        self.strings = strings
        # exact case ("PTSD", "PTSDs"); all lower case too from four letters ("ptsd" in keyword
        # lists) — shorter ones in lower case are words ("gad", "sud", "oud")
        self.abbr_orths = {
            abbr: frozenset(strings.add(f) for f in (abbr, abbr + "s") + ((abbr.lower(),) if len(abbr) >= 4 else ()))
            for abbr in self.abbrev_concept
        }

    def __call__(self, doc: Doc) -> Doc:
        matches = self.matcher(doc)
        if not matches:
            doc._.conditions = []
            return doc
        arr = doc.to_array([LOWER, ORTH])
        lower = arr[:, 0]
        # mixed case is a symbol, not a word: "AChE" is not "ache" (looked at only inside term
        # matches, not over the whole text)
        mixed = self._mixed_case(doc, [(start, end) for match_id, start, end in matches
                                       if self.kinds[match_id][0] == "term"])
        candidates: list[_Candidate] = []
        for match_id, start, end in matches:
            kind, ui, abbr = self.kinds[match_id]
            if kind == "term":
                if self._sense_ok(lower, mixed, start, end, ui):
                    candidates.append(_Candidate(start, end, ui, "term"))
            elif self._exact(doc, arr[:, 1], start, end, abbr):  # case-sensitive
                candidates.append(_Candidate(start, end, ui, "abbr", abbr))
        defined, dropped, sites = self._definitions(doc, arr[:, 1], candidates)
        if defined or dropped or sites:
            candidates = [
                self._redirect(c, defined) for c in candidates
                if not (c.kind == "abbr" and (c.abbr in dropped or c.start in sites))
            ]
            candidates += self._defined_uses(arr[:, 1], defined, candidates, sites)
        doc._.abbreviations = defined or None
        chosen = resolve_overlaps(candidates, self.depth)
        doc._.conditions = [ConditionHit(c.start, c.end, c.ui) for c in chosen]
        return doc

    @staticmethod
    def _mixed_case(doc: Doc, spans: list[tuple[int, int]]) -> set[int]:
        """Positions, inside these spans, of alphabetic tokens neither lower, upper nor title case."""
        mixed: set[int] = set()
        for i in {i for start, end in spans for i in range(start, end)}:
            token = doc[i]
            if token.is_alpha and not (token.is_lower or token.is_upper or token.is_title):
                mixed.add(i)
        return mixed

    def _sense_ok(self, lower: numpy.ndarray, mixed: set[int], start: int, end: int, ui: str) -> bool:
        """No mixed-case token inside, and no other-sense word just before or after."""
        if mixed and any(start <= i < end for i in mixed):
            return False
        if ui in self.not_after:
            i = start - 1
            while i >= 0 and lower[i] == self.hyphen:
                i -= 1
            if i >= 0 and int(lower[i]) in self.not_after[ui]:
                return False
        if ui in self.not_before:
            j = end
            while j < len(lower) - 1 and lower[j] == self.hyphen:
                j += 1
            if j < len(lower) and int(lower[j]) in self.not_before[ui]:
                return False
        return True

    def _exact(self, doc: Doc, orth: numpy.ndarray, start: int, end: int, abbr: str) -> bool:
        """Whether an abbreviation match has the exact case ("PTSD", "PTSDs"; not "ptsd")."""
        if end - start == 1:
            return int(orth[start]) in self.abbr_orths[abbr]
        text = doc[start:end].text
        return text in (abbr, abbr + "s") or (len(abbr) >= 4 and text == abbr.lower())

    def _definitions(self, doc: Doc, orth: numpy.ndarray, candidates: list[_Candidate]
                     ) -> tuple[dict[str, tuple[str, int]], set[str], set[int]]:
        """Abbreviations defined in this text: {abbr: (ui, token after definition)}, abbreviations
        defined as something else (dropped), and the token positions of the definitions."""
        defined: dict[str, tuple[str, int]] = {}
        dropped: set[str] = set()
        sites: set[int] = set()
        n = len(doc)
        term_ending_at = {c.end: c for c in candidates if c.kind == "term"}
        term_starting_at = {c.start: c for c in candidates if c.kind == "term"}
        for cand in candidates:
            if cand.kind == "term":
                # "long form (ABBR)" or "long form (ABBR;" / "(ABBR,"
                e = cand.end
                if e + 2 < n and orth[e] == self.lparen and int(orth[e + 2]) in self.closing:
                    abbr = doc[e + 1].text
                    if looks_like_abbreviation(abbr):
                        defined[abbr] = (self._defined_ui(abbr, cand.ui), e + 2)
                        sites.add(e + 1)
                # "ABBR (long form)"
                s = cand.start
                if s >= 2 and orth[s - 1] == self.lparen and cand.end < n and int(orth[cand.end]) in self.closing:
                    abbr = doc[s - 2].text
                    if looks_like_abbreviation(abbr) and abbr not in defined:
                        defined[abbr] = (self._defined_ui(abbr, cand.ui), cand.end + 1)
                        sites.add(s - 2)
            else:
                s, e = cand.start, cand.end
                inside = s > 0 and orth[s - 1] == self.lparen and e < n and int(orth[e]) in self.closing
                if not inside or (s - 1) in term_ending_at or cand.abbr in defined:
                    continue
                if (e + 1) in term_starting_at:
                    continue
                words = [t.text for t in doc[max(0, s - 1 - len(cand.abbr) - 3):s - 1] if not t.is_punct]
                if initials_fit(cand.abbr, words):
                    dropped.add(cand.abbr)
        return defined, dropped - set(defined), sites

    def _defined_ui(self, abbr: str, long_form_ui: str) -> str:
        """The long form's concept, unless the lexicon knows the abbreviation as a concept of the
        same category (then the lexicon's, usually the more specific: "depression (MDD)")."""
        known = [self.abbrev_concept[abbr]] if abbr in self.abbrev_concept else []
        known += self.ambiguous_concepts.get(abbr, [])
        if long_form_ui in known:
            return long_form_ui
        same = [ui for ui in known if self.category[ui] == self.category[long_form_ui]]
        if same:
            return max(same, key=lambda ui: self.depth[ui])
        return long_form_ui

    @staticmethod
    def _redirect(cand: _Candidate, defined: dict[str, tuple[str, int]]) -> _Candidate:
        if cand.kind == "abbr" and cand.abbr in defined and defined[cand.abbr][0] != cand.ui:
            return _Candidate(cand.start, cand.end, defined[cand.abbr][0], "abbr", cand.abbr)
        return cand

    def _defined_uses(self, orth: numpy.ndarray, defined: dict[str, tuple[str, int]],
                      existing: list[_Candidate], sites: set[int]) -> list[_Candidate]:
        """Later uses of abbreviations defined here that the matcher does not already find."""
        todo = {abbr: v for abbr, v in defined.items() if abbr not in self.abbrev_concept}
        if not todo:
            return []
        seen = {c.start for c in existing} | sites
        found = []
        for abbr, (ui, after) in todo.items():
            forms = [abbr] if abbr.endswith("s") else [abbr, abbr + "s"]
            for form in forms:
                for i in numpy.flatnonzero(orth == self.strings.add(form)).tolist():
                    if i >= after and i not in seen:
                        found.append(_Candidate(i, i + 1, ui, "abbr", abbr))
        return found


class NegationContext:
    """NegEx-style negation, exclusion and side-effect context for the hits in ``doc._.conditions``.

    Trigger phrases (and clause/sentence boundaries) are found once per text by a second
    PhraseMatcher; each mention then only looks at the trigger positions inside its clause.
    """

    def __init__(self, nlp: Language, lexicon: Lexicon):
        rules = lexicon.context
        self.window = rules.window
        strings = nlp.vocab.strings

        self.tables = {
            "pre": rules.pre_negation,
            "exclusion": rules.pre_exclusion,
            "post": rules.post_negation,
            "pseudo": rules.pseudo_negation,
            "adverse": rules.adverse,
            "pseudo_adverse": rules.pseudo_adverse,
            "population": rules.population_before,
            "exclusion_header": rules.exclusion_headers,
            "inclusion_header": rules.inclusion_headers,
            "stop": rules.terminators,
            "end": tuple(_SENTENCE_END),
        }
        self.population_window = rules.population_window
        self.population_nouns = frozenset(strings.add(w) for w in rules.population_nouns)
        self.matcher = PhraseMatcher(nlp.vocab, attr="LOWER")
        self.kind_of: dict[int, str] = {}
        for kind, items in self.tables.items():
            if not items:
                continue
            self.kind_of[strings.add(f"ctx:{kind}")] = kind
            self.matcher.add(f"ctx:{kind}", list(nlp.tokenizer.pipe(sorted(set(items)))))

    def __call__(self, doc: Doc) -> Doc:
        hits = doc._.conditions
        if not hits:
            return doc
        found = self._triggers(doc)
        arr = doc.to_array([IS_SPACE, LOWER])
        spaces = numpy.flatnonzero(arr[:, 0] == 1).tolist()
        breaks = sorted(set(spaces + [p for p, _ in found["end"]]))
        stops = sorted(set(breaks + [p for p, _ in found["stop"]]))
        pseudo_covered = {i for p, n in found["pseudo"] for i in range(p, p + n)}
        pre = [(p, n) for p, n in found["pre"] if p not in pseudo_covered]
        post = [p for p, _ in found["post"] if p not in pseudo_covered]
        exclusion = [p for p, _ in found["exclusion"]]
        # "the efficacy and safety of …", "safety and efficacy have not been established" are
        # about a study's aims, not about side effects
        pseudo_adverse = {i for p, n in found["pseudo_adverse"] for i in range(p, p + n)}
        adverse = [p for p, _ in found["adverse"] if p not in pseudo_adverse]
        population = [p + n for p, n in found["population"]]
        regions = self._exclusion_regions(doc, found)
        n_tokens = len(doc)
        lower = arr[:, 1] if self.population_nouns else None
        for hit in hits:
            start, end = hit.start, hit.end
            clause_start = _after_last(stops, start)   # first token of the mention's clause
            clause_end = _first_from(stops, end, n_tokens)
            negated = (
                any(a <= start < b for a, b in regions)
                or any(clause_start <= p and p + n <= start and start - (p + n) <= self.window
                       for p, n in pre)
                or any(clause_start <= p < start for p in exclusion)
                or any(end <= p < min(clause_end, end + self.window + 1) for p in post)
            )
            if negated:
                hit.negated = True
            if adverse:
                sentence_start = _after_last(breaks, start)
                sentence_end = _first_from(breaks, end, n_tokens)
                if any(sentence_start <= p < sentence_end for p in adverse):
                    hit.adverse = True
            # the study population: "patients with X", "suffering from X", "X patients",
            # "chronic alcoholics"
            sentence_start = _after_last(breaks, start)
            if any(0 <= start - p <= self.population_window and p >= sentence_start
                   for p in population) or (
                    lower is not None and (int(lower[end - 1]) in self.population_nouns
                                           or (end < n_tokens and int(lower[end]) in self.population_nouns))):
                hit.population = True
        return doc

    def _triggers(self, doc: Doc) -> dict[str, list[tuple[int, int]]]:
        """(position, length) of the longest trigger phrase of each kind at each position."""
        found: dict[str, list[tuple[int, int]]] = {kind: [] for kind in self.tables}
        longest: dict[tuple[str, int], int] = {}
        for match_id, start, end in self.matcher(doc):
            kind = self.kind_of[match_id]
            if end - start > longest.get((kind, start), 0):
                longest[(kind, start)] = end - start
        for (kind, start), n in longest.items():
            found[kind].append((start, n))
        return found

    def _exclusion_regions(self, doc: Doc, found: dict[str, list[tuple[int, int]]]
                           ) -> list[tuple[int, int]]:
        """Token ranges after an "Exclusion criteria:" header, up to the next inclusion header."""
        headers = [p + n for p, n in found["exclusion_header"]
                   if p + n < len(doc) and doc[p + n].text.startswith(":")]
        if not headers:
            return []
        inclusions = sorted(p for p, _ in found["inclusion_header"])
        regions = []
        for start in headers:
            end = next((p for p in inclusions if p > start), len(doc))
            regions.append((start, end))
        return regions


def _after_last(positions: list[int], limit: int) -> int:
    """One past the last position < limit (0 if none): where the clause/sentence starts."""
    i = bisect_left(positions, limit)
    return positions[i - 1] + 1 if i else 0


def _first_from(positions: list[int], limit: int, default: int) -> int:
    """The first position ≥ limit (default if none): where the clause/sentence ends."""
    i = bisect_left(positions, limit)
    return positions[i] if i < len(positions) else default


@Language.factory("trialwatch_conditions", default_config={"lexicon_path": None})
def make_condition_matcher(nlp: Language, name: str, lexicon_path: str | None) -> ConditionMatcher:
    return ConditionMatcher(nlp, load_lexicon(lexicon_path))


@Language.factory("trialwatch_negation", default_config={"lexicon_path": None})
def make_negation_context(nlp: Language, name: str, lexicon_path: str | None) -> NegationContext:
    return NegationContext(nlp, load_lexicon(lexicon_path))


def build_pipeline(lexicon_path: Path | str | None = None) -> Language:
    """spacy.blank("en") + condition matcher + negation context."""
    nlp = spacy.blank("en")
    config = {"lexicon_path": str(lexicon_path) if lexicon_path else None}
    nlp.add_pipe("trialwatch_conditions", config=config)
    nlp.add_pipe("trialwatch_negation", config=config)
    return nlp


# --------------------------------------------------------------------------- public API


@dataclass(frozen=True)
class Mention:
    mesh_id: str
    concept: str
    category: str
    field: str
    start: int
    end: int
    text: str
    negated: bool
    adverse: bool = False  # the sentence is about side effects / adverse events
    population: bool = False  # names the study population ("patients with X", "X patients")


@dataclass(frozen=True)
class RecordCondition:
    mesh_id: str
    concept: str
    category: str
    evidence: str


def field_text(kind: str, record: dict, field: str) -> str:
    """The text a mention's offsets refer to: `field_text(...)[m.start:m.end] == m.text`.

    "abstract:<SECTION>" fields point into the whole ``abstract``; list fields (keywords,
    registered conditions) are joined with "; ".
    """
    name = field.split(":", 1)[0]
    if kind not in ("article", "trial"):
        raise ValueError(f"kind must be 'article' or 'trial', not {kind!r}")
    value = record.get(name)
    if name in LIST_FIELDS:
        return LIST_SEPARATOR.join(value or [])
    return value or ""


def abstract_sections(record: dict) -> list[tuple[int, int, str]]:
    """(start, end, field name) of each section inside ``record["abstract"]``.

    The parser renders labelled sections as "LABEL: text" joined by blank lines; when the
    sections do not reproduce the abstract (hand-made records), the whole text is "abstract".
    """
    abstract = record.get("abstract") or ""
    sections = record.get("abstract_sections") or []
    if not abstract:
        return []
    if not sections or not any(s.get("label") or s.get("category") for s in sections):
        return [(0, len(abstract), "abstract")]
    out, pos = [], 0
    for section in sections:
        label = section.get("label")
        rendered = f"{label}: {section['text']}" if label else section["text"]
        if abstract[pos:pos + len(rendered)] != rendered:
            return [(0, len(abstract), "abstract")]
        name = (section.get("category") or label or "UNASSIGNED").upper()
        out.append((pos, pos + len(rendered), f"abstract:{name}"))
        pos += len(rendered) + 2
    return out


class Tagger:
    """Finds condition mentions in article and trial records (pure: no I/O beyond the lexicon)."""

    def __init__(self, lexicon_path: Path | None = None):
        self.lexicon = load_lexicon(lexicon_path)
        self.nlp = build_pipeline(lexicon_path)
        self.version = TAGGER_VERSION

    def tag_text(self, text: str, field: str = "text") -> list[Mention]:
        """Mentions in one piece of text (handy for tests and ad-hoc checks)."""
        return self._mentions(self.nlp(text), text, field)

    def tag_articles(self, records: Iterable[dict], batch_size: int = 256
                     ) -> Iterator[tuple[dict, list[Mention]]]:
        return self._tag(records, "article", batch_size)

    def tag_trials(self, records: Iterable[dict], batch_size: int = 256
                   ) -> Iterator[tuple[dict, list[Mention]]]:
        return self._tag(records, "trial", batch_size)

    def _tag(self, records: Iterable[dict], kind: str, batch_size: int
             ) -> Iterator[tuple[dict, list[Mention]]]:
        fields = ARTICLE_FIELDS if kind == "article" else TRIAL_FIELDS
        batch: list[dict] = []
        for record in records:
            batch.append(record)
            if len(batch) >= batch_size:
                yield from self._tag_batch(batch, kind, fields, batch_size)
                batch = []
        if batch:
            yield from self._tag_batch(batch, kind, fields, batch_size)

    def _tag_batch(self, batch: list[dict], kind: str, fields: tuple[str, ...], batch_size: int
                   ) -> Iterator[tuple[dict, list[Mention]]]:
        # The tokenizer and each component called directly, text by text: what `nlp.pipe` does for
        # components without a `pipe` method, minus its generator plumbing (~10 % of tagging).
        make_doc = self.nlp.make_doc
        components = [proc for _, proc in self.nlp.pipeline]
        for record in batch:
            mentions: list[Mention] = []
            for field in fields:
                text = field_text(kind, record, field)
                if not text.strip():
                    continue
                doc = make_doc(text)
                for proc in components:
                    doc = proc(doc)
                if not doc._.conditions:
                    continue
                found = self._mentions(doc, text, field)
                if field == "abstract" and kind == "article":
                    found = self._with_sections(record, found)
                mentions.extend(found)
            yield record, mentions

    def _mentions(self, doc: Doc, text: str, field: str) -> list[Mention]:
        """Mentions from a processed Doc; `text` is the Doc's source text (spaCy keeps every
        character, so offsets agree; rebuilding doc.text would cost a pass over the tokens)."""
        concepts = self.lexicon.concepts
        hits = doc._.conditions or ()
        if not hits:
            return []
        out = []
        for hit in hits:
            concept = concepts[hit.mesh_id]
            last = doc[hit.end - 1]
            start, end = doc[hit.start].idx, last.idx + len(last.text)
            out.append(Mention(
                mesh_id=concept.ui, concept=concept.name, category=concept.category,
                field=field, start=start, end=end, text=text[start:end],
                negated=hit.negated, adverse=hit.adverse, population=hit.population,
            ))
        return out

    @staticmethod
    def _with_sections(record: dict, mentions: list[Mention]) -> list[Mention]:
        sections = abstract_sections(record)
        if all(name == "abstract" for _, _, name in sections):
            return mentions
        out = []
        for m in mentions:
            name = next((f for a, b, f in sections if a <= m.start < b), "abstract")
            out.append(Mention(m.mesh_id, m.concept, m.category, name, m.start, m.end, m.text,
                               m.negated, m.adverse, m.population))
        return out


# --------------------------------------------------------------------------- about()

# How much one non-negated mention in a field says about what the record is about.
FIELD_WEIGHTS: dict[str, dict[str, float]] = {
    "article": {
        "title": 3.0, "keywords": 2.0, "abstract": 1.0,
        "abstract:BACKGROUND": 1.0, "abstract:OBJECTIVE": 1.5, "abstract:METHODS": 1.0,
        "abstract:RESULTS": 0.5, "abstract:CONCLUSIONS": 1.0, "abstract:UNASSIGNED": 1.0,
    },
    "trial": {
        "conditions": 3.0, "keywords": 2.0, "brief_title": 3.0, "official_title": 3.0,
        "brief_summary": 1.0, "detailed_description": 0.5, "eligibility_criteria": 0.0,
        "primary_outcomes": 1.0,
    },
}
DEFAULT_WEIGHT = {"article": 1.0, "trial": 0.5}
# Fields where a mention in a side-effect sentence still counts in full (a title about an
# adverse effect is about it); elsewhere such a mention counts for nothing.
HEADLINE_FIELDS = frozenset({"title", "keywords", "conditions", "brief_title", "official_title"})
# Score a concept needs: a disorder named once in an abstract counts; a symptom ("pain",
# "anxiety", depressed mood) is named in passing so often that it needs more.
DISORDER_THRESHOLD = 1.0
SYMPTOM_THRESHOLD = 3.0
# An ancestor of another counted concept stays only with this multiple of its own threshold.
PARENT_FACTOR = 2.0
# A disorder named in the body of an abstract or summary (weight ≤ 1), not as the study
# population ("patients with X", "X patients") but in passing ("… in diseases such as X, Y"),
# counts this much of its field's weight: named once that way it is not the topic.
PASSING_FACTOR = 0.5
# A trial's primary outcome measures name what it measures ("Change in CAPS-5 total score").
OUTCOME_FIELDS = frozenset({"primary_outcomes"})


def mention_weight(kind: str, mention: Mention, symptom: bool = False) -> float:
    """What one mention contributes to its concept's score in `about()`.

    A symptom named in a side-effect sentence of the body is a side effect, not the topic; a
    disorder named there is usually the study population ("… side effects in 20 schizophrenic
    patients"), so it keeps its weight. A disorder named in the body (abstract, summary; weight
    ≤ 1) other than as the study population ("patients with X", "X patients", "treatment of X")
    is named in passing and counts PASSING_FACTOR of the weight: once is not enough.
    """
    if mention.negated:
        return 0.0
    field = mention.field
    weights = FIELD_WEIGHTS[kind]
    if field in weights:
        weight = weights[field]
    elif field.startswith("abstract:"):
        weight = weights.get("abstract", DEFAULT_WEIGHT[kind])
    else:
        weight = DEFAULT_WEIGHT[kind]
    if field in HEADLINE_FIELDS:
        return weight
    if symptom:
        return 0.0 if mention.adverse else weight
    if not mention.population and weight <= 1.0 and field not in OUTCOME_FIELDS:
        return weight * PASSING_FACTOR
    return weight


def with_implied(mentions: Iterable[Mention], lexicon: Lexicon) -> Iterator[Mention]:
    """Each mention, and after it the same mention as each concept its term implies (lexicon
    `also`): "bipolar depression" names Bipolar Disorder and, for `about()`, Depression too."""
    for mention in mentions:
        yield mention
        implied = lexicon.implied.get(mention.mesh_id)
        ui = implied.get(mention.text.lower()) if implied else None
        if ui is not None:
            concept = lexicon.concepts[ui]
            yield replace(mention, mesh_id=ui, concept=concept.name, category=concept.category)


def about(kind: str, mentions: list[Mention], lexicon: Lexicon | None = None) -> list[RecordCondition]:
    """The conditions a record is about, from where and how often each is mentioned.

    Each mention adds its field's weight (title / registered condition 3, keyword 2, objective
    1.5, abstract 1, results 0.5, detailed description 0.5, eligibility criteria 0); negated
    mentions and mentions in side-effect sentences of the body add nothing. A disorder counts
    with DISORDER_THRESHOLD, a symptom-type concept (lexicon ``symptom = true``) with
    SYMPTOM_THRESHOLD. An ancestor of another counted concept (lexicon ``parent`` chain) stays
    only with PARENT_FACTOR times its threshold of its own. Strongest first.
    """
    if kind not in FIELD_WEIGHTS:
        raise ValueError(f"kind must be 'article' or 'trial', not {kind!r}")
    lexicon = lexicon or load_lexicon(None)
    symptoms = lexicon.symptoms
    score: dict[str, float] = defaultdict(float)
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    first: dict[str, Mention] = {}
    for m in with_implied(mentions, lexicon):
        w = mention_weight(kind, m, m.mesh_id in symptoms)
        if w <= 0:
            continue
        score[m.mesh_id] += w
        field = m.field.split(":", 1)[0]
        counts[m.mesh_id][field] = counts[m.mesh_id].get(field, 0) + 1
        first.setdefault(m.mesh_id, m)

    def threshold(ui: str) -> float:
        return SYMPTOM_THRESHOLD if ui in symptoms else DISORDER_THRESHOLD

    kept = {ui for ui, s in score.items() if s >= threshold(ui)}
    covered = {anc for ui in kept for anc in lexicon.ancestors(ui)}
    kept = {ui for ui in kept if ui not in covered or score[ui] >= PARENT_FACTOR * threshold(ui)}
    out = []
    for ui in sorted(kept, key=lambda u: (-score[u], u)):
        evidence = "; ".join(f if n == 1 else f"{f} x{n}" for f, n in counts[ui].items())
        m = first[ui]
        out.append(RecordCondition(mesh_id=ui, concept=m.concept, category=m.category, evidence=evidence))
    return out
