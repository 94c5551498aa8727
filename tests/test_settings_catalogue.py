"""Settings from the environment and .env; the drug catalogue and the queries built from it."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from extract.catalogue import Catalogue
from flows.settings import DEFAULT_CTGOV_URL, DEFAULT_PUBMED_URL, ConfigError, load_settings


def test_defaults_match_the_documented_contract(tmp_path):
    settings = load_settings({}, env_file=None)
    assert settings.db_path == Path("data/trialwatch.duckdb")
    assert settings.data_dir == Path("data")
    assert settings.pubmed_url == DEFAULT_PUBMED_URL == "https://eutils.ncbi.nlm.nih.gov/entrez/eutils"
    assert settings.ctgov_url == DEFAULT_CTGOV_URL == "https://clinicaltrials.gov/api/v2"
    assert settings.ncbi_api_key is None and settings.ncbi_email is None


def test_environment_wins_over_dotenv(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("TRIALWATCH_DB=/from/dotenv.duckdb\nNCBI_EMAIL=dot@example.org\nNCBI_API_KEY=abc\n")
    settings = load_settings({"TRIALWATCH_DB": "/from/env.duckdb",
                              "TRIALWATCH_PUBMED_URL": "http://127.0.0.1:8080/eutils/"}, env_file=env_file)
    assert settings.db_path == Path("/from/env.duckdb")
    assert settings.ncbi_email == "dot@example.org"
    assert settings.pubmed_url == "http://127.0.0.1:8080/eutils"
    assert settings.redacted()["ncbi_api_key"] == "***"


@pytest.mark.parametrize("name, value, message", [
    ("TRIALWATCH_CTGOV_URL", "clinicaltrials.gov", "not an http"),
    ("TRIALWATCH_HTTP_TIMEOUT", "soon", "not a number"),
    ("TRIALWATCH_HTTP_RETRIES", "-1", "must not be negative"),
])
def test_unusable_settings_are_named(name, value, message):
    with pytest.raises(ConfigError, match=f"{name}.*{message}"):
        load_settings({name: value}, env_file=None)


def test_catalogue_covers_the_three_drugs_and_their_names():
    catalogue = Catalogue.load()
    assert [drug.key for drug in catalogue.drugs] == ["ketamine", "psilocybin", "mdma"]
    term = catalogue.pubmed_term()
    for name in ("esketamine", "spravato", "psilocin", "comp360", "midomafetamine", "3,4-methylenedioxymethamphetamine"):
        assert f'"{name}"[tiab]' in term
    assert '"comp 360"' in catalogue.ctgov_intervention_query()


@pytest.mark.parametrize("text, drugs", [
    ("Intranasal esketamine (Spravato) in TRD", ["ketamine"]),
    ("(R)-ketamine and psilocybin-assisted therapy", ["ketamine", "psilocybin"]),
    ("MDMA-assisted therapy for PTSD", ["mdma"]),
    ("Methamphetamine use disorder", []),
    ("Nonketamine anaesthesia", []),
])
def test_drugs_are_named_as_whole_words(text, drugs):
    assert Catalogue.load().drugs_in(text) == drugs


def test_adding_a_drug_is_one_entry(tmp_path):
    extra = tmp_path / "drugs.toml"
    shipped = (Path(__file__).parents[1] / "extract" / "drugs.toml").read_text()
    extra.write_text(shipped + '\n[[drug]]\nkey = "ibogaine"\nnames = ["ibogaine", "noribogaine"]\n')
    catalogue = Catalogue.load(extra)
    assert catalogue.drugs_in("Ibogaine for opioid withdrawal") == ["ibogaine"]
    assert '"noribogaine"[tiab]' in catalogue.pubmed_term()


def test_labels_are_those_of_one_search_per_drug(corpus_dir):
    from datetime import timedelta

    from flows.demo import generate_sample
    from tests.helpers import TODAY, corpus_pubmed_records, corpus_studies

    catalogue = Catalogue.load()
    texts = [record.xml.decode("utf-8", "replace") for record in corpus_pubmed_records(corpus_dir)]
    texts += [json.dumps(study) for study in corpus_studies(corpus_dir)]
    sample = generate_sample(today=TODAY - timedelta(days=1), n_articles=300, n_trials=60)
    texts += [sample.pubmed_xml.decode(), *(json.dumps(study) for study in sample.studies)]
    labelled = 0
    for text in texts:
        per_drug = [key for key, pattern in catalogue._patterns.items() if pattern.search(text)]
        assert catalogue.drugs_in(text) == per_drug, text[:200]
        labelled += bool(per_drug)
    assert 50 <= labelled < len(texts)  # both kinds of text were compared


def test_names_that_overlap_across_drugs_label_both(tmp_path):
    extra = tmp_path / "drugs.toml"
    extra.write_text('[[drug]]\nkey = "mushroom"\nnames = ["magic mushrooms"]\n\n'
                     '[[drug]]\nkey = "tea"\nnames = ["mushrooms tea", "ayahuasca"]\n')
    catalogue = Catalogue.load(extra)
    assert catalogue.drugs_in("Magic mushrooms tea at a retreat") == ["mushroom", "tea"]
