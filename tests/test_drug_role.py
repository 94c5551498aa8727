"""extract.drug_role: subject vs mention, on rules and on a hand-labelled sample."""
from __future__ import annotations

import csv
import gzip
import re
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest

import extract.drug_role as drug_role_module
from extract.catalogue import Catalogue
from extract.drug_role import DRUG_ROLE_VERSION, drug_role, mentioned_drugs
from extract.pubmed_parser import parse_pubmed
from flows.demo import generate_sample
from tests.helpers import TODAY, corpus_parsed_records

SAMPLE = Path(__file__).parent / "data" / "drug_role_sample.tsv"
# Figures reported in docs/drug_role.md; the tests fail when agreement drops below them by more
# than MARGIN (one record of the held-out 29 is 0.034).
REPORTED = {"tune": 1.0, "heldout": 0.96, "all": 0.98}
MARGIN = 0.035


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return Catalogue.load()


def record(title="", abstract="", mesh="", keywords=()):
    """A record dict as parse_pubmed makes it, from a title, an abstract whose 'LABEL: ' prefixes
    start sections, and MeSH written 'Heading/qualifier,qualifier; *Major heading/*major qualifier'."""
    return {
        "title": title or None,
        "abstract": abstract or None,
        "abstract_sections": _sections(abstract),
        "keywords": list(keywords),
        "mesh_headings": _mesh(mesh),
        "chemicals": [],
    }


def _sections(abstract: str) -> list[dict]:
    parts = re.split(r"(?:^|\s)([A-Z]{4,}(?: [A-Z]+)*): ", abstract or "")
    if len(parts) == 1:
        return [{"label": None, "category": None, "text": abstract}] if abstract else []
    sections = [{"label": None, "category": None, "text": parts[0]}] if parts[0].strip() else []
    for label, text in zip(parts[1::2], parts[2::2]):
        sections.append({"label": label, "category": label, "text": text.strip()})
    return sections


def _mesh(spec: str) -> list[dict]:
    headings = []
    for item in filter(None, (part.strip() for part in spec.split(";"))):
        name, _, quals = item.partition("/")
        headings.append({
            "ui": None, "name": name.lstrip("*"), "major": name.startswith("*"),
            "qualifiers": [{"ui": None, "name": q.lstrip("*"), "major": q.startswith("*")}
                           for q in filter(None, quals.split(","))],
        })
    return headings


def role(catalogue, drug="ketamine", **fields) -> str:
    rec = record(**fields)
    return "mention" if drug in mentioned_drugs(rec, [drug], catalogue) else "subject"


# --- rules -----------------------------------------------------------------------------------

@pytest.mark.parametrize("sentence", [
    "Rats were anesthetized with ketamine (80 mg/kg) and xylazine (10 mg/kg) i.p.",
    "Mice were anaesthetised with ketamine/xylazine before perfusion.",
    "All procedures were carried out under ketamine anaesthesia.",
    "Surgery was performed under ketamine\u2013xylazine anesthesia.",
    "Anesthesia was induced with intramuscular ketamine and maintained with isoflurane.",
    "Piglets were premedicated with azaperone and ketamine.",
    "Monkeys were immobilized with ketamine hydrochloride for blood sampling.",
    "Dogs were sedated with S-ketamine and midazolam.",
])
def test_anaesthesia_sentences_are_mentions(catalogue, sentence):
    abstract = f"METHODS: {sentence} RESULTS: Infarct size was reduced by the new compound."
    assert role(catalogue, title="Effects of compound X on myocardial infarction in rats", abstract=abstract) == "mention"


@pytest.mark.parametrize("title", [
    "Ketamine for treatment-resistant depression",
    "Esketamine nasal spray in adolescents",
    "Ketamine anaesthesia.",
    "Ketamine versus etomidate for rapid sequence intubation",
])
def test_title_names_the_subject(catalogue, title):
    abstract = "METHODS: Rats were anesthetized with ketamine and xylazine."
    assert role(catalogue, title=title, abstract=abstract) == "subject"


def test_anaesthetised_animals_in_a_title_are_a_mention(catalogue):
    assert role(catalogue, title="Effects of dexmedetomidine in ketamine-anesthetized dogs",
                abstract="Dexmedetomidine increased vascular resistance.") == "mention"


def test_objective_and_conclusion_name_the_subject(catalogue):
    objective = "OBJECTIVE: To evaluate low-dose ketamine for analgesia after surgery. RESULTS: Pain fell."
    assert role(catalogue, title="Postoperative analgesia", abstract=objective) == "subject"
    conclusion = ("METHODS: Patients received an infusion or saline. "
                  "CONCLUSIONS: Ketamine infusion reduced opioid consumption.")
    assert role(catalogue, title="Spine surgery", abstract=conclusion) == "subject"


@pytest.mark.parametrize("sentence,drug", [
    ("Compound X attenuated ketamine-induced hyperlocomotion in mice.", "ketamine"),
    ("Deficits in prepulse inhibition induced by ketamine were reversed.", "ketamine"),
    ("MDMA-induced hyperthermia was blocked by the antagonist.", "mdma"),
    ("Psilocybin-induced head-twitch responses were counted.", "psilocybin"),
])
def test_drug_induced_model_is_subject(catalogue, sentence, drug):
    assert role(catalogue, drug=drug, title="A new antipsychotic candidate", abstract=sentence) == "subject"


def test_list_background_and_both_arms_are_mentions(catalogue):
    listed = "Other substances, such as cocaine, ecstasy and ketamine, were rare."
    assert mentioned_drugs(record(title="Cannabis use in students", abstract=listed),
                           ["ketamine", "mdma"], catalogue) == ["ketamine", "mdma"]
    background = "BACKGROUND: SERT ligands have been used in users of MDMA. METHODS: We scanned patients."
    assert role(catalogue, drug="mdma", title="SERT imaging in depression", abstract=background) == "mention"
    arms = "Anaesthesia in both groups was propofol and ketamine. Patients were randomised to dexamethasone."
    assert role(catalogue, title="Dexamethasone for nausea", abstract=arms) == "mention"


@pytest.mark.parametrize("mesh,expected", [
    ("Humans; Ketamine/therapeutic use; Depression/drug therapy", "subject"),
    ("Animals; Rats; Ketamine/pharmacology", "subject"),
    ("Humans; Ketamine/adverse effects", "subject"),
    ("Humans; Ketamine/poisoning", "subject"),
    ("Animals; Ketamine/toxicity", "subject"),
    ("Humans; Ketamine/administration & dosage; Pain, Postoperative/drug therapy", "subject"),
    ("Humans; *Ketamine", "subject"),
    ("Animals; Rats; *Ketamine/administration & dosage; Anesthesia", "subject"),
    ("Animals; Rats; Ketamine/administration & dosage; Anesthetics, Dissociative/administration & dosage; "
     "Spinal Cord Injuries/*physiopathology", "mention"),
    ("Animals; Dogs; Ketamine/administration & dosage; Anesthesia/veterinary; Ovariectomy/*veterinary", "mention"),
    ("Humans; Ketamine; *Nerve Block", "mention"),
])
def test_mesh_qualifier_rules(catalogue, mesh, expected):
    assert role(catalogue, title="A study", mesh=mesh) == expected


def test_mesh_subject_overrides_anaesthesia_wording(catalogue):
    assert role(catalogue, title="A study", abstract="Rats were anesthetized with ketamine and xylazine.",
                mesh="Animals; Ketamine/pharmacology") == "subject"


def test_only_labelled_drugs_in_given_order(catalogue):
    rec = record(title="Hair testing", abstract="Detected drugs included cocaine, MDMA and ketamine.")
    assert mentioned_drugs(rec, ["mdma", "ketamine"], catalogue) == ["mdma", "ketamine"]
    assert mentioned_drugs(rec, [], catalogue) == []
    assert mentioned_drugs(rec, ["unknown"], catalogue) == []
    assert DRUG_ROLE_VERSION


# --- agreement with the hand-labelled sample --------------------------------------------------

def _corpus_records(corpus_dir: Path, pmids: set[str]) -> dict[str, dict]:
    found = {}
    for path in sorted((corpus_dir / "pubmed").rglob("*.xml*")):
        payload = path.read_bytes()
        if path.suffix == ".gz":
            payload = gzip.decompress(payload)
        if not any(pmid.encode() in payload for pmid in pmids - found.keys()):
            continue
        for rec in parse_pubmed(payload).records:
            if str(rec["pmid"]) in pmids:
                found.setdefault(str(rec["pmid"]), rec)
    return found


@pytest.fixture(scope="module")
def sample(corpus_dir, catalogue):
    """(row, record, predicted role) for every labelled row; corpus rows must really be labelled
    with their drug by the catalogue."""
    rows = list(csv.DictReader(SAMPLE.open(encoding="utf-8"), delimiter="\t"))
    corpus = _corpus_records(corpus_dir, {row["pmid"] for row in rows if row["pmid"]})
    out = []
    for row in rows:
        if row["pmid"]:
            rec = corpus[row["pmid"]]
        else:
            rec = record(title=row["title"], abstract=row["abstract"], mesh=row["mesh"])
        assert row["drug"] in catalogue.drugs_for_article(rec), row["id"]
        predicted = "mention" if row["drug"] in mentioned_drugs(rec, [row["drug"]], catalogue) else "subject"
        out.append((row, rec, predicted))
    return out


def _agreement(items) -> tuple[float, Counter]:
    confusion = Counter((row["role"], predicted) for row, _, predicted in items)
    agree = sum(n for (human, machine), n in confusion.items() if human == machine)
    return agree / len(items), confusion


def test_sample_is_large_and_labelled(sample):
    assert len(sample) >= 60
    assert {row["role"] for row, _, _ in sample} == {"subject", "mention"}
    assert sum(1 for row, _, _ in sample if row["pmid"]) >= 13
    assert all(row["why"].strip() for row, _, _ in sample)
    assert Counter(row["split"] for row, _, _ in sample).keys() == {"tune", "heldout"}


@pytest.mark.parametrize("split", ["tune", "heldout", "all"])
def test_agreement_with_hand_labels(sample, split):
    items = [item for item in sample if split == "all" or item[0]["split"] == split]
    score, confusion = _agreement(items)
    print(f"\n{split}: {score:.3f} of {len(items)}; (human, machine): {dict(confusion)}")
    misses = [(row["id"], row["role"], row["why"]) for row, _, p in items if row["role"] != p]
    assert score >= REPORTED[split] - MARGIN, misses


def test_per_role_agreement(sample):
    for human in ("subject", "mention"):
        items = [item for item in sample if item[0]["role"] == human]
        score, _ = _agreement(items)
        print(f"\n{human}: {score:.3f} of {len(items)}")
        assert score >= {"subject": 1.0, "mention": 0.96}[human] - MARGIN


def test_drug_role_single(catalogue):
    drug = next(d for d in catalogue.drugs if d.key == "ketamine")
    assert drug_role(record(title="Ketamine in depression"), drug, catalogue) == "subject"


# --- The fast paths decide as the plain searches do ----------------------------------------------

@pytest.mark.parametrize("marked", [
    "rats were anesthetized with \u00a7 (80 mg/kg)", "\u017fedated with \u00a7", "\u0131mmobilized using \u00a7",
    "\u0130MMOBILIZED with \u00a7", "under \u00a7 ANAE\u017fTHESIA", "\u00a7/XYLAZINE", "\u00a7 and dexmedetomidine",
    "\u00a7 improved mood", "patients sedated in the unit received \u00a7 later", "", "\u00a7",
    "all groups received \u00a7", "euthaniZed by \u00a7 overdose", "\u00a7-ana\u0435sthetized",  # Cyrillic е: no match
])
def test_the_procedure_check_answers_as_the_pattern_search(marked):
    expected = drug_role_module._PROCEDURE.search(marked) is not None
    assert drug_role_module._is_procedure(marked) is expected


def test_the_procedure_check_holds_where_case_folding_alone_pairs_a_letter():
    # 'ſ' matches 's' and 'ı' matches 'i' case-insensitively, though neither lowercases to them
    assert drug_role_module._is_procedure("\u017fedated with \u00a7")
    assert drug_role_module._is_procedure("\u0131mmobilized using \u00a7")
    assert not drug_role_module._is_procedure("\u00a7 improved mood")


def test_roles_of_real_and_demo_papers_are_those_of_the_plain_searches(catalogue, corpus_dir, monkeypatch):
    """mentioned_drugs with the name hints and the procedure check, against the same rules run
    with one regex search each, over every real corpus paper and a demo sample (where most
    papers name a drug, in procedural sentences too)."""
    sample = generate_sample(today=TODAY - timedelta(days=1), n_articles=600, n_trials=20)
    papers = [*corpus_parsed_records(corpus_dir)["article"], *parse_pubmed(sample.pubmed_xml).records]
    labelled = [(paper, drugs) for paper in papers if (drugs := catalogue.drugs_for_article(paper))]
    fast = [mentioned_drugs(paper, drugs, catalogue) for paper, drugs in labelled]
    monkeypatch.setattr(drug_role_module, "_is_procedure",
                        lambda marked: drug_role_module._PROCEDURE.search(marked) is not None)
    monkeypatch.setattr(Catalogue, "names_drug",
                        lambda self, key, text: self.name_pattern(key).search(text) is not None)
    assert [mentioned_drugs(paper, drugs, catalogue) for paper, drugs in labelled] == fast
    assert len(labelled) >= 400 and sum(bool(mentioned) for mentioned in fast) >= 20
