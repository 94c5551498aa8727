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
from extract.sources import NAMES as SOURCES  # archive folders are named by source


class ArchiveNotFound(ValueError):
    """A folder given as the raw archive holds no archived pages; the message says what to pass."""


def has_pages(root: Path) -> bool:
    """Whether `root` holds at least one archived page of any source."""
    return any(next((Path(root) / source).glob("*/*.gz"), None) is not None for source in SOURCES)


def find_archive(folder: Path) -> Path:
    """The raw archive at `folder`, or at `folder/raw` when given the data folder that holds it.
    A folder with no archived pages is refused: replaying it would publish an empty warehouse."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ArchiveNotFound(f"no raw archive at {folder}; pass the folder that holds pubmed/ and ctgov/ "
                              "(by default $TRIALWATCH_DATA_DIR/raw)")
    for candidate in (folder, folder / "raw"):
        if has_pages(candidate):
            return candidate
    raise ArchiveNotFound(f"{folder} holds no archived pages (no pubmed/<run>/*.gz or ctgov/<run>/*.gz, nor in "
                          f"{folder / 'raw'}); nothing was replayed and the warehouse is unchanged — pass the raw "
                          "archive folder, by default $TRIALWATCH_DATA_DIR/raw")


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
