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
    def _one_pattern(self) -> re.Pattern[str] | None:
        """Every drug's names in one pattern, a group per drug, so a text is scanned once instead
        of once per drug; None when one scan could miss a drug (`_names_can_hide`)."""
        if self._names_can_hide():
            return None
        groups = "|".join(f"(?P<drug{i}>{self._alternatives(drug)})" for i, drug in enumerate(self.drugs))
        return re.compile(rf"{_WORD_START}(?:{groups}){_WORD_END}", re.IGNORECASE)

    def _names_can_hide(self) -> bool:
        """Whether a match of one drug's name could cover where another drug's name starts (one
        scan takes matches without overlap): some name of one drug, from a word start on (which
        may follow a hyphen, after a stereo descriptor), is a prefix of another drug's name, or
        has one as its prefix. Descriptors and `not_in` guards are lookarounds: they never widen
        a match."""
        for first in self.drugs:
            for second in self.drugs:
                if first is second:
                    continue
                for a in self._names(first):
                    starts = [0] + [i for i in range(1, len(a)) if not re.match(r"\w", a[i - 1])]
                    for b in self._names(second):
                        if any(a[i:].startswith(b) or b.startswith(a[i:]) for i in starts):
                            return True
        return False

    def name_pattern(self, key: str) -> re.Pattern[str]:
        """The pattern that finds drug `key`'s names in a text, by the labelling rule."""
        return self._patterns[key]

    def drugs_in(self, *texts: str | None) -> list[str]:
        """Keys of the drugs named anywhere in `texts`, in catalogue order."""
        joined = "\n".join(text for text in texts if text)
        if self._one_pattern is None:
            return [key for key, pattern in self._patterns.items() if pattern.search(joined)]
        found = {match.lastgroup for match in self._one_pattern.finditer(joined)}
        return [drug.key for i, drug in enumerate(self.drugs) if f"drug{i}" in found]

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
