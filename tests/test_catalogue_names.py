"""Catalogue naming: names after stereo descriptors, the names added to drugs.toml, "ecstasy" in
its non-drug sense, and query terms that stay valid for names with punctuation."""
from __future__ import annotations

import re

import pytest

from extract.catalogue import Catalogue


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return Catalogue.load()


def labels(catalogue: Catalogue, text: str) -> list[str]:
    """The labels of `text`, checked to be the same from `drugs_in` and from one search per drug."""
    per_drug = [key for key, pattern in catalogue._patterns.items() if pattern.search(text)]
    assert catalogue.drugs_in(text) == per_drug, text
    return per_drug


@pytest.mark.parametrize("text, drug", [
    # a name after a stereo descriptor is still the drug
    ("Anaesthesia with S(+)-ketamine in children", "ketamine"),
    ("(R,S)-ketamine versus esketamine", "ketamine"),
    ("(RS)-ketamine and rac-ketamine", "ketamine"),
    ("(S)-(+)-ketamine was infused", "ketamine"),
    ("the metabolite (2R,6R)-hydroxynorketamine", "ketamine"),
    ("(2R,6R)-6-hydroxynorketamine in mice", "ketamine"),
    ("(2R,6R)-HNK and (2S,6S)-HNK", "ketamine"),
    ("plasma 2R,6R-HNK levels", "ketamine"),
    ("(2S,6S)\u2010HNK", "ketamine"),  # U+2010 HYPHEN, as journals typeset it
    ("R-MDMA in social anxiety", "mdma"),
    ("S(\u2212)-MDMA and (\u00b1)-MDMA", "mdma"),
    # names added to the catalogue
    ("COMP-360 psilocybin therapy", "psilocybin"),
    ("COMP\u2010360 in treatment-resistant depression", "psilocybin"),
    ("Foraging for a magic mushroom", "psilocybin"),
    ("Psilocybe cubensis fruiting bodies", "psilocybin"),
    ("methylenedioxy-methamphetamine users", "mdma"),
    ("JNJ-54135419 nasal spray", "ketamine"),
    ("dehydronorketamine concentrations", "ketamine"),
])
def test_forms_of_a_name_label_the_drug(catalogue, text, drug):
    assert labels(catalogue, text) == [drug]


@pytest.mark.parametrize("text", [
    "non-ketamine anaesthesia",  # a hyphenated word that is not a stereo descriptor
    "HNK-1 epitope (CD57) on natural killer cells",  # HNK alone is too short to be hydroxynorketamine
    "HNK levels rose",
    "the religious ecstasy of the mystics",
    "Religious ecstasy and trance in Pentecostal worship",
    "spiritual ecstasy",
    "The ecstasy of St Teresa",
    "the agony and the ecstasy of surgical training",
    "states of ecstasy in Sufi ritual",
])
def test_non_drug_senses_do_not_label(catalogue, text):
    assert labels(catalogue, text) == []


@pytest.mark.parametrize("text", [
    "ecstasy (MDMA) users",
    "ecstasy use among ravers",
    "Ecstasy",
    "religious ecstasy compared with ecstasy-induced euphoria",  # the second mention is the drug
])
def test_ecstasy_the_drug_still_labels(catalogue, text):
    assert labels(catalogue, text) == ["mdma"]


def test_pubmed_term_quotes_every_new_name(catalogue):
    term = catalogue.pubmed_term()
    parts = term.split(" OR ")
    assert all(re.fullmatch(r'"[^"]+"\[(tiab|mh|nm)\]', part) for part in parts), term
    for name in ("magic mushroom", "psilocybe", "methylenedioxy-methamphetamine", "jnj-54135419",
                 "comp-360", "r-mdma", "hydroxynorketamine"):
        assert f'"{name}"[tiab]' in parts
    assert '"Psilocybe"[mh]' in parts
    assert '"Psilocybe"[nm]' not in parts  # a genus, not a substance name
    # labelling-only names and phrases are never sent
    assert "hnk" not in term.lower().replace("hydroxynorketamine", "")
    assert "religious" not in term


def test_ctgov_query_quotes_names_that_are_not_one_word(catalogue):
    query = catalogue.ctgov_intervention_query()
    parts = query.split(" OR ")
    assert all(re.fullmatch(r'"[^"]+"|\w+', part) for part in parts), query
    for quoted in ('"comp-360"', '"jnj-54135419"', '"magic mushroom"', '"methylenedioxy-methamphetamine"',
                   '"3,4-methylenedioxymethamphetamine"'):
        assert quoted in parts
    assert "psilocybe" in parts and "ecstasy" in parts


def test_names_with_parentheses_commas_and_plus_signs_are_quoted(tmp_path):
    toml = tmp_path / "drugs.toml"
    toml.write_text('[[drug]]\nkey = "x"\nnames = ["S(+)-xanomeline", "(R,S)-xanomeline", "xanomeline"]\n')
    catalogue = Catalogue.load(toml)
    assert catalogue.pubmed_term() == '"s(+)-xanomeline"[tiab] OR "(r,s)-xanomeline"[tiab] OR "xanomeline"[tiab]'
    assert catalogue.ctgov_intervention_query() == '"s(+)-xanomeline" OR "(r,s)-xanomeline" OR xanomeline'
    assert catalogue.drugs_in("S(+)-xanomeline") == ["x"]


@pytest.mark.parametrize("entry, message", [
    ('names = ["say \\"when\\""]', "cannot be a quoted query term"),
    ('names = ["keta*"]', "cannot be a quoted query term"),
    ('names = ["ketamine"]\nnot_in = ["religious ecstasy"]', "holds none of its names"),
])
def test_names_that_would_break_a_query_are_refused(tmp_path, entry, message):
    toml = tmp_path / "drugs.toml"
    toml.write_text(f'[[drug]]\nkey = "x"\n{entry}\n')
    with pytest.raises(ValueError, match=message):
        Catalogue.load(toml)


def test_a_stereo_only_name_needs_its_descriptor(tmp_path):
    toml = tmp_path / "drugs.toml"
    toml.write_text('[[drug]]\nkey = "x"\nnames = ["xanomeline"]\nstereo_only = ["xan"]\n')
    catalogue = Catalogue.load(toml)
    assert catalogue.drugs_in("(R)-XAN was given") == ["x"]
    assert catalogue.drugs_in("XAN was given") == []
    assert "xan" not in catalogue.pubmed_term().replace("xanomeline", "")
