"""The drug catalogue (`drugs.toml`): query terms for both services and drug labels for records."""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any, Iterable


# A name matches as a whole word: not inside a longer word, nor after a hyphen (s-ketamine is
# its own name, not a mention of ketamine).
_WORD_START = r"(?<![\w-])"
_WORD_END = r"(?![\w])"


@dataclass(frozen=True)
class Drug:
    key: str
    label: str
    names: tuple[str, ...]
    mesh: tuple[str, ...]


class Catalogue:
    def __init__(self, drugs: Iterable[Drug]):
        self.drugs = tuple(drugs)
        keys = [drug.key for drug in self.drugs]
        if not self.drugs or len(set(keys)) != len(keys):
            raise ValueError(f"drug catalogue needs at least one drug and unique keys, got {keys}")

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
            )
            for entry in entries
        )

    def pubmed_term(self) -> str:
        """One esearch term covering every drug: names in title/abstract, MeSH and substance names."""
        parts = []
        for drug in self.drugs:
            parts += [f'"{name}"[tiab]' for name in drug.names]
            parts += [f'"{term}"[mh]' for term in drug.mesh]
            parts += [f'"{term}"[nm]' for term in drug.mesh]
        return " OR ".join(parts)

    def ctgov_intervention_query(self) -> str:
        """`query.intr` for ClinicalTrials.gov: an Essie OR over every name (quoted when spaced)."""
        names = [name for drug in self.drugs for name in drug.names]
        return " OR ".join(f'"{name}"' if re.search(r"[\s,()-]", name) else name for name in names)

    def _names(self, drug: Drug) -> tuple[str, ...]:
        return drug.names + tuple(m.lower() for m in drug.mesh)

    def _alternatives(self, drug: Drug) -> str:
        return "|".join(re.escape(name) for name in self._names(drug))

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
        scan takes matches without overlap): some name of one drug, from a word start on, is a
        prefix of another drug's name, or has one as its prefix."""
        for first in self.drugs:
            for second in self.drugs:
                if first is second:
                    continue
                for a in self._names(first):
                    starts = [0] + [i for i in range(1, len(a)) if not re.match(r"[\w-]", a[i - 1])]
                    for b in self._names(second):
                        if any(a[i:].startswith(b) or b.startswith(a[i:]) for i in starts):
                            return True
        return False

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
