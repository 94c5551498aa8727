"""The drug catalogue (`drugs.toml`): query terms for both services and drug labels for records."""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any, Iterable


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

    @cached_property
    def _patterns(self) -> dict[str, re.Pattern[str]]:
        return {
            drug.key: re.compile(
                r"(?<![\w-])(?:" + "|".join(re.escape(name) for name in drug.names + tuple(m.lower() for m in drug.mesh)) + r")(?![\w])",
                re.IGNORECASE,
            )
            for drug in self.drugs
        }

    def drugs_in(self, *texts: str | None) -> list[str]:
        """Keys of the drugs named anywhere in `texts`, in catalogue order."""
        joined = "\n".join(text for text in texts if text)
        return [key for key, pattern in self._patterns.items() if pattern.search(joined)]

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
