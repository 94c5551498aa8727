"""A raw page as fetched: what the archive stores and the parsers read."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class RawPage:
    source: str  # 'pubmed' | 'ctgov'
    body: bytes
    suffix: str  # file suffix in the archive: 'xml' | 'json'
    meta: dict = field(default_factory=dict)  # what was asked (ids count, page token …), no secrets
