"""Papers as RIS and BibTeX for reference managers (Zotero, EndNote, Mendeley, JabRef, LaTeX).

Pure functions: a paper is a dict with the warehouse's article columns (pmid, title, authors as
the `articles.authors` STRUCT list, journal, journal_iso, pub_year, pub_date, journal_volume,
journal_issue, journal_pages, doi, pmcid, abstract, keywords, languages, record_type, book_title,
book_publisher, issn). Missing fields are left out, never written empty.
"""
from __future__ import annotations

import re
import unicodedata
from datetime import date
from typing import Any, Iterable

PUBMED_URL = "https://pubmed.ncbi.nlm.nih.gov/{}/"
# BibTeX: characters with a meaning of their own, written so they print as themselves.
_BIBTEX_SPECIAL = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&", "%": r"\%",
                   "#": r"\#", "_": r"\_", "^": r"\^{}", "~": r"\~{}"}
_BIBTEX_RE = re.compile("|".join(re.escape(c) for c in _BIBTEX_SPECIAL))


def _text(value: Any) -> str:
    """One line of text: runs of whitespace (newlines included) as one space."""
    return " ".join(str(value).split()) if value is not None else ""


def _list(value: Any) -> list:
    if value is None:
        return []
    return list(value.tolist() if hasattr(value, "tolist") else value)


def author_names(authors: Any) -> list[tuple[str, str]]:
    """(last, first) per author in order; a group author is (its name, "")."""
    names = []
    for author in _list(authors):
        if not author:
            continue
        if author.get("collective_name"):
            names.append((_text(author["collective_name"]), ""))
        elif author.get("last_name"):
            names.append((_text(author["last_name"]),
                          _text(author.get("fore_name") or author.get("initials") or "")))
    return names


def pages(value: Any) -> tuple[str, str]:
    """'392-404' → ('392', '404'); '392-8' (MEDLINE's short form) → ('392', '398'); 'e123' → ('e123', '')."""
    text = _text(value)
    if not text:
        return "", ""
    first = text.split(",")[0].strip()
    start, _, end = (part.strip() for part in first.partition("-"))
    if end.isdigit() and start.isdigit() and len(end) < len(start):
        end = start[:len(start) - len(end)] + end
    return start, end


def _year(paper: dict) -> str:
    year = paper.get("pub_year")
    if year is None and isinstance(paper.get("pub_date"), date):
        year = paper["pub_date"].year
    return str(int(year)) if year is not None and str(year).strip() not in ("", "nan") else ""


def _is_book(paper: dict) -> bool:
    return paper.get("record_type") == "book" or (not paper.get("journal") and bool(paper.get("book_title")))


# --- RIS -----------------------------------------------------------------------------------------

def ris_record(paper: dict) -> str:
    """One paper as an RIS record: TY first, ER last, one `TAG  - value` line per field."""
    lines: list[tuple[str, str]] = [("TY", "BOOK" if _is_book(paper) else "JOUR")]
    for last, first in author_names(paper.get("authors")):
        lines.append(("AU", f"{last}, {first}" if first else last))
    lines.append(("TI", _text(paper.get("title"))))
    if _is_book(paper):
        lines.append(("T2", _text(paper.get("book_title"))))
        lines.append(("PB", _text(paper.get("book_publisher"))))
    else:
        lines.append(("JO", _text(paper.get("journal"))))
        lines.append(("J2", _text(paper.get("journal_iso"))))
    lines.append(("PY", _year(paper)))
    if isinstance(paper.get("pub_date"), date):
        lines.append(("DA", paper["pub_date"].strftime("%Y/%m/%d")))
    lines.append(("VL", _text(paper.get("journal_volume"))))
    lines.append(("IS", _text(paper.get("journal_issue"))))
    start, end = pages(paper.get("journal_pages"))
    lines += [("SP", start), ("EP", end)]
    lines.append(("SN", _text(paper.get("issn"))))
    lines.append(("DO", _text(paper.get("doi"))))
    lines.append(("AN", f"PMID:{paper['pmid']}"))
    lines.append(("UR", PUBMED_URL.format(paper["pmid"])))
    lines.append(("AB", _text(paper.get("abstract"))))
    lines += [("KW", _text(k)) for k in _list(paper.get("keywords"))]
    lines += [("LA", _text(x)) for x in _list(paper.get("languages"))]
    lines.append(("DB", "PubMed"))
    body = "".join(f"{tag}  - {value}\r\n" for tag, value in lines if value)
    return body + "ER  - \r\n"


def to_ris(papers: Iterable[dict]) -> str:
    """RIS (CRLF line ends, a blank line between records), as EndNote and Zotero import it."""
    return "\r\n".join(ris_record(p) for p in papers)


# --- BibTeX --------------------------------------------------------------------------------------

def bibtex_escape(text: Any) -> str:
    """Text safe inside a BibTeX `{…}` value: braces, backslashes and LaTeX's special characters
    escaped, so titles with `{`, `%`, `&` or `_` neither break the file nor turn into markup."""
    return _BIBTEX_RE.sub(lambda m: _BIBTEX_SPECIAL[m.group(0)], _text(text))


def _ascii_word(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Za-z0-9]", "", plain)


def bibtex_key(paper: dict) -> str:
    """Stable and unique: first author's surname, year, PMID (`Miller2023pmid36927082`); the same
    paper always gets the same key, whatever else is exported with it."""
    names = author_names(paper.get("authors"))
    surname = _ascii_word(names[0][0].split()[0]) if names and names[0][0] else ""
    return f"{surname or 'Anon'}{_year(paper)}pmid{paper['pmid']}"


def bibtex_entry(paper: dict) -> str:
    book = _is_book(paper)
    fields: list[tuple[str, str]] = [
        ("author", " and ".join(("{" + bibtex_escape(last) + "}" if not first else
                                 f"{bibtex_escape(last)}, {bibtex_escape(first)}")
                                for last, first in author_names(paper.get("authors")))),
        ("title", "{" + bibtex_escape(paper.get("title")) + "}" if paper.get("title") else ""),  # case kept
    ]
    if book:
        fields += [("booktitle", bibtex_escape(paper.get("book_title"))),
                   ("publisher", bibtex_escape(paper.get("book_publisher")))]
    else:
        fields += [("journal", bibtex_escape(paper.get("journal")))]
    start, end = pages(paper.get("journal_pages"))
    fields += [
        ("year", _year(paper)),
        ("volume", bibtex_escape(paper.get("journal_volume"))),
        ("number", bibtex_escape(paper.get("journal_issue"))),
        ("pages", f"{bibtex_escape(start)}--{bibtex_escape(end)}" if start and end else bibtex_escape(start)),
        ("issn", bibtex_escape(paper.get("issn"))),
        ("doi", bibtex_escape(paper.get("doi"))),
        ("pmid", str(paper["pmid"])),
        ("pmcid", bibtex_escape(paper.get("pmcid"))),
        ("url", PUBMED_URL.format(paper["pmid"])),
        ("abstract", bibtex_escape(paper.get("abstract"))),
        ("keywords", bibtex_escape(", ".join(_text(k) for k in _list(paper.get("keywords"))))),
    ]
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields if value)
    return f"@{'book' if book else 'article'}{{{bibtex_key(paper)},\n{body}\n}}\n"


def to_bibtex(papers: Iterable[dict]) -> str:
    return "\n".join(bibtex_entry(p) for p in papers)
