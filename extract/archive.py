"""The raw archive: every fetched page, gzip-compressed, written before it is parsed.

Layout: `<root>/<source>/<run_id>/<seq>.<suffix>.gz`. Run ids sort by time, so replaying the
archive in path order applies each record's versions oldest first. Files and folders are
owner-only: the archive holds whatever the services sent, and nothing secret goes into a name.
"""
from __future__ import annotations

import gzip
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from extract.pages import RawPage

SOURCES = ("pubmed", "ctgov")


@dataclass(frozen=True)
class ArchivedPage:
    path: Path
    page: RawPage


def _private_dir(path: Path) -> None:
    """mkdir -p where every folder it creates is owner-only (mkdir's mode applies to the leaf only)."""
    missing = [folder for folder in (path, *path.parents) if not folder.exists()]
    for folder in reversed(missing):
        folder.mkdir(mode=0o700, exist_ok=True)


class RawArchive:
    def __init__(self, root: Path):
        self.root = Path(root)

    def run_dir(self, source: str, run_id: str) -> Path:
        return self.root / source / run_id

    def write(self, run_id: str, seq: int, page: RawPage) -> Path:
        """Store one page atomically (temp file + rename) and return its path."""
        folder = self.run_dir(page.source, run_id)
        _private_dir(folder)
        final = folder / f"{seq:06d}.{page.suffix}.gz"
        temp = final.with_name(final.name + ".part")
        descriptor = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=5, mtime=0) as out:
            out.write(page.body)
        os.replace(temp, final)
        return final

    def pages(self, sources: tuple[str, ...] = SOURCES) -> Iterator[ArchivedPage]:
        """Every archived page of `sources`, oldest run first, in fetch order within a run."""
        for source in sources:
            for path in sorted((self.root / source).glob("*/*.gz")):
                suffix = path.name.split(".")[-2]
                yield ArchivedPage(path, RawPage(source, gzip.decompress(path.read_bytes()), suffix,
                                                 {"archived": str(path)}))
