"""What parsers hand to the warehouse: plain dicts for records, small dataclasses for the rest.

Records stay dicts (one key per warehouse column) so a page of them converts straight to an
Arrow table; the shape of each dict is documented in the parser that builds it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Reject:
    """A record that could not be parsed: quarantined with its reason, never dropped."""

    source: str  # 'pubmed' | 'ctgov'
    record_id: str | None  # PMID / NCT id when it could be read
    reason: str
    raw: str  # the offending fragment (truncated by the loader if huge)


@dataclass
class ParsedPage:
    """Everything one raw page yielded."""

    records: list[dict[str, Any]] = field(default_factory=list)
    deleted_ids: list[str] = field(default_factory=list)  # PubMed DeleteCitation PMIDs
    rejects: list[Reject] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)  # top-level elements not parsed, by tag
