"""The drug catalogue (`drugs.toml`): query terms for both services and drug labels for records."""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any, Iterable


# A name matches as a whole word: not inside a longer word, and after a hyphen only when what
# stands before the hyphen is a stereo descriptor or locant: S-ketamine, S(+)-ketamine,
# (R,S)-ketamine, (2R,6R)-hydroxynorketamine and R-MDMA are each still the drug, while
# non-ketamine or anti-MDMA are not a name. Salts follow the name (ketamine hydrochloride) and
# need no rule. Python's lookbehinds must each have a fixed width, so every descriptor form is
# its own lookbehind; they are tried only at a position right after a hyphen.
_HYPHENS = "\\-\u2010\u2011"  # hyphen-minus, hyphen, non-breaking hyphen (all seen in abstracts)
_HYPHEN = f"[{_HYPHENS}]"
_SIGN = r"[+\-\u2212±]"  # (+), (-), (−), (±)
_DESCRIPTORS = (
    r"[RS]", r"RS", r"rac", r"\d", r"\d,\d",  # S-, RS-, rac-, 6-, 2,6-
    r"\([RS]\)", r"\(RS\)", rf"\({_SIGN}\)", r"\(\+/[\-\u2212]\)",  # (S)-, (RS)-, (+)-, (+/-)-
    rf"[RS]\({_SIGN}\)",  # S(+)-
    r"\([RS],[RS]\)", r"\([RS], [RS]\)", r"[RS],[RS]", r"\([RS]/[RS]\)",  # (R,S)-, (R, S)-, R,S-, (R/S)-
    r"\(\d[RS],\d[RS]\)", r"\(\d[RS], \d[RS]\)", r"\d[RS],\d[RS]",  # (2R,6R)-, (2R, 6R)-, 2R,6R-
)
_CHAINED = (rf"\({_SIGN}\)", r"\d")  # the second of two descriptors: (S)-(+)-, (2R,6R)-6-


def _after_descriptor() -> str:
    start = rf"(?<![\w{_HYPHENS}])"
    forms = [rf"{start}{d}{_HYPHEN}" for d in _DESCRIPTORS]
    forms += [rf"{start}{d}{_HYPHEN}{e}{_HYPHEN}" for d in _DESCRIPTORS for e in _CHAINED]
    return "|".join(f"(?<={form})" for form in forms)


# Atomic, so that a position where no name follows is given up at once, not tried again with
# every descriptor.
_WORD_START = rf"(?<!\w)(?>(?<!{_HYPHEN})|{_after_descriptor()})"
_WORD_END = r"(?![\w])"
# Characters no name sent to PubMed or ClinicalTrials.gov may hold: they would end the quoted
# phrase early (") or change its meaning in PubMed (* truncation, [ ] field tags).
_UNQUOTABLE = re.compile(r'["*\[\]]')


def _literal(text: str, space: str = r"\s") -> str:
    """A name or phrase as a pattern: any of the hyphens for a hyphen, one whitespace for a space."""
    return re.escape(text).replace(r"\-", _HYPHEN).replace(r"\ ", space)


@dataclass(frozen=True)
class Drug:
    key: str
    label: str
    names: tuple[str, ...]
    mesh: tuple[str, ...]
    mesh_only: tuple[str, ...] = ()  # MeSH headings searched as [mh] only (not substance names)
    stereo_only: tuple[str, ...] = ()  # names that label only right after a stereo descriptor
    not_in: tuple[str, ...] = ()  # phrases in which one of `names` is not the drug


# Python's case-insensitive matching pairs three characters with an ASCII letter that
# `str.lower` does not turn them into: İ (U+0130, which lowercases to two characters) and the
# dotless ı with "i", the long ſ with "s". With them replaced first, the folded text holds a
# name's ASCII letters and digits wherever a pattern can match the name, at the same positions
# (every other character lowercases to one character). tests/test_prepare_fastpath.py checks
# both over every code point.
_ASCII_ALIKES = (("\u0130", "i"), ("\u0131", "i"), ("\u017f", "s"))
_HINT_RUN = re.compile(r"[a-z0-9]+")


def fold_case(text: str) -> str:
    """`text` lowercased, of the same length, for finding name hints with `str.find`: a
    case-insensitive pattern can match only where the folded text holds its ASCII letters."""
    if not text.isascii():
        for alike, letter in _ASCII_ALIKES:
            text = text.replace(alike, letter)
    return text.lower()


def _hints(names: Iterable[str]) -> tuple[tuple[str, tuple[int, ...]], ...] | None:
    """Each hint to look for, with how far before it the names holding it start; None when a
    name holds no run of ASCII lowercase letters and digits. A name's hint is its longest such
    run, or the shortest other name's hint inside that run, so that one `str.find` serves both
    (esketamine, norketamine and s-ketamine are all found through "ketamine")."""
    runs = []
    for name in names:
        found = list(_HINT_RUN.finditer(name))
        if not found:
            return None
        runs.append(max(found, key=lambda run: len(run.group())))
    longest = dict.fromkeys(run.group() for run in runs)  # ordered: ties go the same way every run
    offsets: dict[str, set[int]] = {}
    for run in runs:
        hint = min((other for other in longest if other in run.group()), key=len)
        offsets.setdefault(hint, set()).add(run.start() + run.group().index(hint))
    return tuple((hint, tuple(sorted(starts))) for hint, starts in offsets.items())


@dataclass(frozen=True)
class _Finder:
    """Whether one drug's pattern matches a text, without trying the pattern at every position
    (the regex engine can skip ahead to nothing cheaper: every pattern starts with lookbehinds
    and matches case-insensitively). A name's pattern matches exactly as many characters as the
    name has, so a match of a name starts `offset` characters before its hint; the hints are
    found in the folded text with `str.find`, and the pattern is tried only at those starts.
    With `hints` None the pattern searches the whole text."""
    pattern: re.Pattern[str]
    hints: tuple[tuple[str, tuple[int, ...]], ...] | None

    def found_in(self, text: str, folded: str) -> bool:
        if self.hints is None:
            return self.pattern.search(text) is not None
        for hint, offsets in self.hints:
            at = folded.find(hint)
            while at >= 0:
                if any(offset <= at and self.pattern.match(text, at - offset) for offset in offsets):
                    return True
                at = folded.find(hint, at + 1)
        return False


class Catalogue:
    def __init__(self, drugs: Iterable[Drug]):
        self.drugs = tuple(drugs)
        keys = [drug.key for drug in self.drugs]
        if not self.drugs or len(set(keys)) != len(keys):
            raise ValueError(f"drug catalogue needs at least one drug and unique keys, got {keys}")
        for drug in self.drugs:
            for term in drug.names + drug.mesh + drug.mesh_only:
                if _UNQUOTABLE.search(term) or not term.strip():
                    raise ValueError(f"drug {drug.key!r}: {term!r} cannot be a quoted query term")
            for phrase in drug.not_in:
                _split_phrase(drug, phrase)  # raises when the phrase holds none of the names

    @classmethod
    def load(cls, path: Path | None = None) -> "Catalogue":
        """Read the catalogue shipped with the package, or another TOML file of the same shape."""
        text = path.read_text() if path else resources.files("extract").joinpath("drugs.toml").read_text()
        entries = tomllib.loads(text).get("drug", [])
        return cls(
            Drug(
                key=entry["key"],
                label=entry.get("label", entry["key"]),
                names=tuple(name.lower() for name in entry["names"]),
                mesh=tuple(entry.get("mesh", [])),
                mesh_only=tuple(entry.get("mesh_only", [])),
                stereo_only=tuple(name.lower() for name in entry.get("stereo_only", [])),
                not_in=tuple(phrase.lower() for phrase in entry.get("not_in", [])),
            )
            for entry in entries
        )

    def pubmed_term(self) -> str:
        """One esearch term covering every drug: names in title/abstract, MeSH and substance names,
        each a quoted phrase. `stereo_only` names and `not_in` phrases are for labelling only."""
        parts = []
        for drug in self.drugs:
            parts += [f'"{name}"[tiab]' for name in drug.names]
            parts += [f'"{term}"[mh]' for term in drug.mesh + drug.mesh_only]
            parts += [f'"{term}"[nm]' for term in drug.mesh]
        return " OR ".join(parts)

    def ctgov_intervention_query(self) -> str:
        """`query.intr` for ClinicalTrials.gov: an Essie OR over every name, quoted unless it is
        one plain word (spaces, hyphens, commas, parentheses or plus signs would split it)."""
        names = [name for drug in self.drugs for name in drug.names]
        return " OR ".join(name if re.fullmatch(r"\w+", name) else f'"{name}"' for name in names)

    def _names(self, drug: Drug) -> tuple[str, ...]:
        return drug.names + tuple(m.lower() for m in drug.mesh + drug.mesh_only) + drug.stereo_only

    def _alternatives(self, drug: Drug) -> str:
        guards: dict[str, str] = {}
        for phrase in drug.not_in:
            name, guard = _split_phrase(drug, phrase)
            guards[name] = guards.get(name, "") + guard
        plain = drug.names + tuple(m.lower() for m in drug.mesh + drug.mesh_only)
        alternatives = [_literal(name) + guards.get(name, "") for name in plain]
        alternatives += [f"(?<={_HYPHEN}){_literal(name)}" for name in drug.stereo_only]
        return "|".join(alternatives)

    @cached_property
    def _patterns(self) -> dict[str, re.Pattern[str]]:
        return {drug.key: re.compile(rf"{_WORD_START}(?:{self._alternatives(drug)}){_WORD_END}", re.IGNORECASE)
                for drug in self.drugs}

    @cached_property
    def _finders(self) -> tuple[_Finder, ...]:
        return tuple(_Finder(self._patterns[drug.key], _hints(self._names(drug))) for drug in self.drugs)

    @cached_property
    def _finder_by_key(self) -> dict[str, _Finder]:
        return {drug.key: finder for drug, finder in zip(self.drugs, self._finders)}

    def name_pattern(self, key: str) -> re.Pattern[str]:
        """The pattern that finds drug `key`'s names in a text, by the labelling rule."""
        return self._patterns[key]

    def names_drug(self, key: str, text: str) -> bool:
        """Whether `text` names drug `key`: `name_pattern(key).search(text)`, answered through
        the name hints (the pattern alone is tried at every position of the text)."""
        return self._finder_by_key[key].found_in(text, fold_case(text))

    def drugs_in(self, *texts: str | None) -> list[str]:
        """Keys of the drugs named anywhere in `texts`, in catalogue order."""
        joined = "\n".join(text for text in texts if text)
        folded = fold_case(joined)
        return [drug.key for drug, finder in zip(self.drugs, self._finders) if finder.found_in(joined, folded)]

    def drugs_for_article(self, article: dict[str, Any]) -> list[str]:
        return self.drugs_in(
            article.get("title"),
            article.get("abstract"),
            " ; ".join(article.get("keywords") or []),
            " ; ".join(heading["name"] for heading in article.get("mesh_headings") or []),
            " ; ".join(chemical["name"] for chemical in article.get("chemicals") or []),
        )

    def drugs_for_trial(self, trial: dict[str, Any]) -> list[str]:
        interventions = trial.get("interventions") or []
        return self.drugs_in(
            trial.get("brief_title"),
            trial.get("official_title"),
            " ; ".join(i.get("name") or "" for i in interventions),
            " ; ".join(name for i in interventions for name in i.get("other_names") or []),
            " ; ".join(term["term"] for term in trial.get("intervention_mesh") or []),
            " ; ".join(trial.get("keywords") or []),
        )


def _split_phrase(drug: Drug, phrase: str) -> tuple[str, str]:
    """A `not_in` phrase → (the name it holds, a guard to put after that name which fails where
    the phrase stands): 'religious ecstasy' → "not ending 'religious ecstasy'", 'ecstasy of' →
    "not followed by ' of'". After the name, not before it, so the pattern still starts with
    the name's first letter, which the regex engine checks fast."""
    for name in sorted(drug.names, key=len, reverse=True):
        found = re.search(rf"(?<!\w){re.escape(name)}(?!\w)", phrase)
        if found:
            before, after = phrase[:found.start()], phrase[found.end():]
            behind = rf"(?<=(?<!\w){_literal(before + name)})" if before else ""
            ahead = _literal(after, space=r"\s+")
            return name, rf"(?!{behind}{ahead}(?!\w))"
    raise ValueError(f"drug {drug.key!r}: not_in phrase {phrase!r} holds none of its names")
