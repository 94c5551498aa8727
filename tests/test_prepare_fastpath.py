"""The drug-label scan's fast path labels exactly as one plain search per drug.

`Catalogue.drugs_in` looks for each name's hint (a run of ASCII letters and digits) in the
lowercased text with `str.find` and tries the drug's pattern only where a name would start.
The reference here is the straightforward rule: a drug labels a text when its pattern
(`name_pattern`) matches anywhere in it. Both must agree on every record of the real corpus (few
of which name a drug), on the demo sample's records and on real abstracts with names written
into them at random places and in random spellings (which do), and on texts built to trip the
lowercasing (characters Python's case-insensitive matching pairs with an ASCII letter) and the
hints (names inside longer words, after hyphens, overlapping).
"""
from __future__ import annotations

import random
import re
import string
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from extract.catalogue import _ASCII_ALIKES, Catalogue, Drug, fold_case
from extract.ctgov_parser import parse_ctgov_page
from extract.pubmed_parser import parse_pubmed
from flows.demo import generate_sample
from tests.helpers import TODAY, corpus_parsed_records


class ReferenceCatalogue(Catalogue):
    """The same catalogue, labelling by one whole-text search per drug."""

    def drugs_in(self, *texts: str | None) -> list[str]:
        joined = "\n".join(text for text in texts if text)
        return [drug.key for drug in self.drugs if self.name_pattern(drug.key).search(joined)]


@pytest.fixture(scope="module")
def catalogues() -> tuple[Catalogue, ReferenceCatalogue]:
    catalogue = Catalogue.load()
    return catalogue, ReferenceCatalogue(catalogue.drugs)


@pytest.fixture(scope="module")
def corpus_records(corpus_dir: Path) -> dict[str, list[dict]]:
    return corpus_parsed_records(corpus_dir)


def test_every_corpus_article_is_labelled_as_by_one_search_per_drug(catalogues, corpus_records):
    fast, reference = catalogues
    articles = corpus_records["article"]
    assert len(articles) >= 15_000
    differ = [article["pmid"] for article in articles
              if fast.drugs_for_article(article) != reference.drugs_for_article(article)]
    assert not differ, f"{len(differ)} articles labelled differently, first PMID {differ[0]}"
    for field in ("title", "abstract"):
        differ = [article["pmid"] for article in articles
                  if fast.drugs_in(article[field]) != reference.drugs_in(article[field])]
        assert not differ, f"{field}: {len(differ)} labelled differently, first PMID {differ[0]}"
    assert sum(bool(reference.drugs_for_article(article)) for article in articles) >= 10


def test_every_corpus_trial_is_labelled_as_by_one_search_per_drug(catalogues, corpus_records):
    fast, reference = catalogues
    trials = corpus_records["trial"]
    assert len(trials) >= 40
    assert [fast.drugs_for_trial(trial) for trial in trials] == [reference.drugs_for_trial(trial) for trial in trials]


def test_the_demo_sample_is_labelled_as_by_one_search_per_drug(catalogues):
    fast, reference = catalogues
    sample = generate_sample(today=TODAY - timedelta(days=1), n_articles=300, n_trials=60)
    articles = parse_pubmed(sample.pubmed_xml).records
    trials = [record for study in sample.studies for record in parse_ctgov_page(study).records]
    assert len(articles) == 300 and len(trials) == 60
    assert [fast.drugs_for_article(a) for a in articles] == [reference.drugs_for_article(a) for a in articles]
    assert [fast.drugs_for_trial(t) for t in trials] == [reference.drugs_for_trial(t) for t in trials]
    assert sum(bool(fast.drugs_for_article(a)) for a in articles) > 100


SPELLINGS = (str.lower, str.upper, str.title, lambda name: name.replace("-", "\u2010"),
             lambda name: name.replace(" ", "\n"), lambda name: name.replace("s", "\u017f"),
             lambda name: name.replace("i", "\u0130"))
BEFORE = ("", " ", "non-", "S-", "(R,S)-", "(2R,6R)-", "6-", "x", "religious ", "(+)-", "-", "\u2011")
AFTER = ("", " ", "s", " of", "-assisted", "1", ".")


def with_names(rng: random.Random, text: str, names: list[str]) -> str:
    """`text` with a few names written into it at random places, spellings and surroundings."""
    for _ in range(rng.randint(1, 4)):
        at = rng.randint(0, len(text))
        name = rng.choice(SPELLINGS)(rng.choice(names))
        text = text[:at] + rng.choice(BEFORE) + name + rng.choice(AFTER) + text[at:]
    return text


def test_real_abstracts_with_names_written_in_are_labelled_as_by_one_search_per_drug(catalogues, corpus_records):
    fast, reference = catalogues
    names = [name for drug in fast.drugs for name in fast._names(drug)]
    rng = random.Random(19)
    abstracts = [article["abstract"] for article in corpus_records["article"] if article["abstract"]][:3_000]
    texts = [with_names(rng, abstract, names) for abstract in abstracts]
    differ = [text for text in texts if fast.drugs_in(text) != reference.drugs_in(text)]
    assert not differ, f"{len(differ)} texts labelled differently, first {differ[0][:300]!r}"
    labels = [tuple(reference.drugs_in(text)) for text in texts]
    assert len(set(labels)) >= 6 and labels.count(()) > 10  # many combinations, and names that do not label


def every_character() -> str:
    return "".join(chr(point) for point in range(sys.maxunicode + 1) if not 0xD800 <= point <= 0xDFFF)


def test_folding_keeps_positions_and_every_ascii_letter_a_pattern_can_match():
    characters = every_character()
    assert len(fold_case(characters)) == len(characters)  # one character for one: hint positions hold
    for letter in string.ascii_lowercase + string.digits:
        matched = {found.group() for found in re.finditer(letter, characters, re.IGNORECASE)}
        assert {fold_case(character) for character in matched} == {letter}, letter
    assert {alike for alike, _ in _ASCII_ALIKES} <= set(characters)


@pytest.mark.parametrize("text", [
    "KETAMINE", "Ketamine\u0130", "PS\u0130LOCYBIN", "ps\u0131locybin", "\u017f-ketamine", "\u212aETAMINE",
    "\u017f(+)-ketamine", "r\u0130-mdma", "ESKETAMINE and S-KETAMINE", "non-ketamine", "anti-MDMA only",
    "ketamines", "preketamine", "(2R,6R)-HNK", "HNK alone", "6-HNK", "comp 360", "COMP\u2010360", "comp\t360",
    "compared with comp360", "3,4-methylenedioxy\u2011methamphetamine", "N-methyl-3,4-methylenedioxyamphetamine",
    "religious ecstasy", "ecstasy of the saints", "ecstasy use", "agony and the ecstasy", "states   of ecstasy",
    "magic  mushroom", "psilocybin mushrooms", "mushroom", "ketaketamine", "ketamineketamine", "k\u00e9tamine",
    "\nketamine\n", "", "\u00a0ketamine\u00a0", "ketamine\u0301", "midomafetamine", "MIDOMAFETAMINE-assisted",
])
def test_awkward_texts_are_labelled_as_by_one_search_per_drug(catalogues, text):
    fast, reference = catalogues
    assert fast.drugs_in(text) == reference.drugs_in(text)
    assert fast.drugs_in("x " + text + " y") == reference.drugs_in("x " + text + " y")


def test_a_name_without_ascii_letters_is_searched_for_whole():
    catalogue = Catalogue([Drug(key="psi", label="psi", names=("\u03c8",), mesh=()),
                           Drug(key="ket", label="ket", names=("ketamine",), mesh=())])
    assert catalogue.drugs_in("\u03a8 and ketamine") == ["psi", "ket"]
    assert catalogue.drugs_in("\u03c8\u03c8") == []
