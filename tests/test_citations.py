"""dashboard/citations.py: papers as RIS and BibTeX for reference managers (pure, no warehouse)."""
from __future__ import annotations

import re
from datetime import date

from dashboard import citations

PAPER = {
    "pmid": 36927082,
    "title": "Safety of repeated} esketamine: 50% & more_effects in #GAD {",  # unbalanced on purpose
    "authors": [
        {"last_name": "Müller", "fore_name": "Anna B", "initials": "AB", "collective_name": None},
        {"last_name": "Sato", "fore_name": None, "initials": "A", "collective_name": None},
        {"last_name": None, "fore_name": None, "initials": None, "collective_name": "PSY-TRIAL Group"},
    ],
    "journal": "Frontiers in psychiatry", "journal_iso": "Front Psychiatry", "pub_year": 2023,
    "pub_date": date(2023, 3, 20), "journal_volume": "14", "journal_issue": "2", "journal_pages": "392-8",
    "doi": "10.3389/fpsyt.2023.5178487", "pmcid": "PMC1234567",
    "abstract": "BACKGROUND: Anxiety.\n\nRESULTS: Improved {a lot}.", "keywords": ["ketamine", "anxiety"],
    "languages": ["eng"], "record_type": "article", "issn": "1664-0640",
}


def ris_fields(record: str) -> list[tuple[str, str]]:
    return [(line[:2], line[6:]) for line in record.split("\r\n") if line]


def test_ris_has_every_field_under_its_tag_from_ty_to_er():
    record = citations.ris_record(PAPER)
    fields = ris_fields(record)
    assert fields[0] == ("TY", "JOUR") and fields[-1] == ("ER", "")
    assert all(re.fullmatch(r"[A-Z][A-Z0-9]  - .*", line) or line == "ER  - "
               for line in record.split("\r\n") if line)
    tags = dict((tag, value) for tag, value in fields if tag not in ("AU", "KW"))
    assert [v for t, v in fields if t == "AU"] == ["Müller, Anna B", "Sato, A", "PSY-TRIAL Group"]
    assert tags["TI"] == PAPER["title"]
    assert tags["JO"] == "Frontiers in psychiatry" and tags["J2"] == "Front Psychiatry"
    assert tags["PY"] == "2023" and tags["DA"] == "2023/03/20"
    assert (tags["VL"], tags["IS"], tags["SP"], tags["EP"]) == ("14", "2", "392", "398")  # MEDLINE's 392-8
    assert tags["DO"] == PAPER["doi"] and tags["AN"] == "PMID:36927082"
    assert tags["UR"] == "https://pubmed.ncbi.nlm.nih.gov/36927082/"
    assert tags["AB"] == "BACKGROUND: Anxiety. RESULTS: Improved {a lot}."  # one line: RIS has no multi-line fields
    assert [v for t, v in fields if t == "KW"] == ["ketamine", "anxiety"]


def test_ris_leaves_missing_fields_out_and_joins_records():
    bare = {"pmid": 1, "title": "Only a title", "authors": None}
    record = citations.ris_record(bare)
    assert [t for t, _ in ris_fields(record)] == ["TY", "TI", "AN", "UR", "DB", "ER"]
    both = citations.to_ris([PAPER, bare])
    assert both.count("TY  - ") == 2 and both.count("ER  - ") == 2
    assert both.index("AN  - PMID:36927082") < both.index("AN  - PMID:1\r\n")  # in the order given


def test_bibtex_escapes_braces_and_latex_specials():
    entry = citations.bibtex_entry(PAPER)
    title = re.search(r"^  title = (.*),$", entry, re.M).group(1)
    assert title == r"{{Safety of repeated\} esketamine: 50\% \& more\_effects in \#GAD \{}}"
    assert r"Improved \{a lot\}." in entry
    assert citations.bibtex_escape("a\\b ~x^y $z") == r"a\textbackslash{}b \~{}x\^{}y \$z"
    # every brace in the entry is balanced: nothing from the data can close a field early
    depth = 0
    for index, char in enumerate(entry):
        if char in "{}" and (index == 0 or entry[index - 1] != "\\" or entry[index - 2:index] == "\\\\"):
            depth += 1 if char == "{" else -1
            assert depth >= 0
    assert depth == 0


def test_bibtex_fields_authors_and_pages():
    entry = citations.bibtex_entry(PAPER)
    assert entry.startswith("@article{Muller2023pmid36927082,\n") and entry.endswith("\n}\n")
    fields = dict(re.findall(r"^  (\w+) = \{(.*)\},?$", entry, re.M))
    assert fields["author"] == "Müller, Anna B and Sato, A and {PSY-TRIAL Group}"  # a group is one name
    assert fields["journal"] == "Frontiers in psychiatry"
    assert (fields["year"], fields["volume"], fields["number"], fields["pages"]) == ("2023", "14", "2", "392--398")
    assert fields["doi"] == PAPER["doi"] and fields["pmid"] == "36927082" and fields["pmcid"] == "PMC1234567"
    assert fields["abstract"].startswith("BACKGROUND: Anxiety. RESULTS:")


def test_bibtex_keys_are_stable_and_unique():
    same_author_year = {**PAPER, "pmid": 36927083}
    keys = [citations.bibtex_key(p) for p in (PAPER, same_author_year, PAPER)]
    assert keys == ["Muller2023pmid36927082", "Muller2023pmid36927083", "Muller2023pmid36927082"]
    assert citations.bibtex_key({"pmid": 5, "authors": [], "pub_year": None}) == "Anonpmid5"
    assert citations.bibtex_key({"pmid": 6, "authors": [{"collective_name": "Ärzte für X"}], "pub_year": 2020}) \
        == "Arzte2020pmid6"
    assert all(re.fullmatch(r"[A-Za-z0-9]+", k) for k in keys)  # safe in \cite{}
    text = citations.to_bibtex([PAPER, same_author_year])
    assert len(re.findall(r"^@article\{", text, re.M)) == 2


def test_pages_forms():
    assert citations.pages("392-404") == ("392", "404")
    assert citations.pages("1123-45") == ("1123", "1145")
    assert citations.pages("e0274") == ("e0274", "")
    assert citations.pages("S1-S9") == ("S1", "S9")
    assert citations.pages(None) == ("", "")


def test_a_book_is_a_book():
    book = {"pmid": 9, "title": "Ketamine", "record_type": "book", "journal": None, "book_title": "StatPearls",
            "book_publisher": "StatPearls Publishing", "pub_year": 2024, "authors": []}
    assert citations.ris_record(book).startswith("TY  - BOOK\r\n")
    assert "T2  - StatPearls\r\n" in citations.ris_record(book) and "JO  - " not in citations.ris_record(book)
    assert citations.bibtex_entry(book).startswith("@book{Anon2024pmid9,")
