"""Evaluation of the condition tagger against MeSH indexing: groups, scoring, report."""
from __future__ import annotations

import pytest

from extract.evaluate_tagger import LOSS_CAUSES, Counts, evaluate, evaluate_records, per_group_table
from extract.mesh import (
    build_mesh_groups, default_mesh_groups_path, format_mesh_groups, group_of_tree_number, load_mesh_groups,
    normalize_ui,
)
from extract.tagger import Mention, Tagger


@pytest.fixture(scope="module")
def tree_file(corpus_dir):
    return corpus_dir / "mesh" / "jzsh2000_pubmed" / "2017MeshTree.txt"


def test_shipped_mesh_groups_are_what_the_tree_gives(tree_file):
    derived = format_mesh_groups(build_mesh_groups(tree_file))
    assert default_mesh_groups_path().read_text(encoding="utf-8") == derived, (
        "extract/mesh_groups.tsv is stale: python -m extract.evaluate_tagger --write-mesh-groups TREE_FILE")


@pytest.mark.parametrize("tree_number, group", [
    ("F03.600.300.388", "depressive"),      # Depressive Disorder, Treatment-Resistant
    ("F01.145.126.350", "depressive"),      # Depression (the symptom)
    ("F03.084.500", "bipolar"),
    ("F03.080.600", "ocd"),                 # inside Anxiety Disorders, but the longer branch wins
    ("F03.080.725.500", "anxiety"),         # Phobia, Social
    ("F03.950.750.500", "trauma"),          # Stress Disorders, Post-Traumatic (F03.950 in 2017)
    ("F03.900.100.350", "substance use"),
    ("C23.888.592.612.274", "pain"),        # Chronic Pain
    ("C23.888.592.612.233.500", None),      # Angina Pectoris: taken out of pain
    ("C10.228.140.546.399.937.500", "pain"),  # Cluster Headache
    ("F03.600", None),                      # Mood Disorders itself is in no group
    ("F03.9500", None),                     # a prefix of the text, not of the tree
])
def test_group_of_tree_number(tree_number, group):
    assert group_of_tree_number(tree_number) == group


def test_mesh_groups_lookup():
    groups = load_mesh_groups()
    assert groups["D013313"] == {"trauma"}
    assert groups["D009771"] == {"ocd"}
    assert groups["D011605"] == {"psychotic", "substance use"}   # two tree numbers, two groups
    assert groups["D012893"] == {"sleep"}
    assert "D000787" not in groups and "D019964" not in groups


def test_normalize_ui():
    assert normalize_ui("D000000437") == "D000437"
    assert normalize_ui("D000068105") == "D000068105"
    assert normalize_ui("D003865") == "D003865"


def _m(ui: str, field: str, negated: bool = False) -> Mention:
    return Mention(ui, ui, "x", field, 0, 1, "x", negated)


def _article(pmid: int, *uis: str) -> dict:
    return {"pmid": pmid, "title": "t", "abstract": None,
            "mesh_headings": [{"ui": ui, "name": ui, "major": False, "qualifiers": []} for ui in uis]}


def test_evaluate_hand_built_set():
    pairs = [
        # gold depressive + anxiety; predicted depressive → tp depressive, fn anxiety
        (_article(1, "D003865", "D001007"), [_m("D003865", "title")]),
        # gold trauma; predicted substance → fp substance, fn trauma
        (_article(2, "D013313"), [_m("D000437", "title")]),
        # gold psychotic; predicted psychotic; a negated anxiety title mention does not count
        (_article(3, "D012559"), [_m("D012559", "title"), _m("D001007", "title", negated=True)]),
        # no MeSH indexing: skipped
        (_article(4), [_m("D012559", "title")]),
        # a trial with CT.gov's zero-padded UI; predicted from the registered condition → tp
        ({"nct_id": "NCT00000001", "condition_mesh": [{"id": "D000000437", "term": "Alcoholism"}]},
         [_m("D000437", "conditions")]),
    ]
    report = evaluate(pairs)
    assert (report.records, report.skipped_unindexed, report.records_with_gold_group) == (4, 1, 4)
    assert (report.group.tp, report.group.fp, report.group.fn) == (3, 1, 2)
    assert report.group.precision == pytest.approx(3 / 4)
    assert report.group.recall == pytest.approx(3 / 5)
    assert report.group.f1 == pytest.approx(2 * 0.75 * 0.6 / 1.35)
    substance = report.per_group["substance use"]
    assert (substance.tp, substance.fp, substance.fn) == (1, 1, 0)
    assert (report.per_group["anxiety"].fn, report.per_group["trauma"].fn) == (1, 1)
    # exact: predicted {D003865}, {D000437}, {D012559}, {D000437}; lexicon gold missed: D001007, D013313
    assert (report.exact.tp, report.exact.fp, report.exact.fn) == (3, 1, 2)
    assert [e.group for e in report.false_positives] == ["substance use"]
    assert sorted(e.group for e in report.false_negatives) == ["anxiety", "trauma"]
    # neither missed group is named anywhere, and the records are titles only
    assert report.recall_loss == {"not named, title only": 2}
    assert report.mention_ceiling == pytest.approx(3 / 5)
    text = report.format()
    assert "ALL GROUPS (micro)" in text and "0.750" in text and "0.600" in text
    assert "2 not named, title only" in text


def test_counts_without_predictions_are_zero_not_errors():
    assert (Counts().precision, Counts().recall, Counts().f1) == (0.0, 0.0, 0.0)


def test_evaluate_records_end_to_end_on_text():
    tagger = Tagger()
    articles = [
        {**_article(10, "D003863"), "title": "Ketamine for depression", "keywords": [],
         "abstract": "No increase in anxiety was seen.", "abstract_sections": []},
        {**_article(11, "D010146"), "title": "Mandibular fracture repair", "keywords": [],
         "abstract": "Headache was noted once.", "abstract_sections": []},
    ]
    trials = [{"nct_id": "NCT00000002", "conditions": ["PTSD"], "keywords": [], "brief_title": None,
               "official_title": None, "brief_summary": None, "detailed_description": None,
               "eligibility_criteria": "Exclusion Criteria:\n* bipolar disorder",
               "condition_mesh": [{"id": "D000013313", "term": "Stress Disorders, Post-Traumatic"}]}]
    report = evaluate_records(tagger, articles, trials)
    assert report.records == 3
    # depression and PTSD found; pain (MeSH) not supported by one passing headache: one fn,
    # named in the text but not kept by about()
    assert (report.group.tp, report.group.fp, report.group.fn) == (2, 0, 1)
    assert report.per_group["pain"].fn == 1
    assert report.recall_loss == {LOSS_CAUSES[0]: 1}
    assert report.mention_ceiling == pytest.approx(1.0)
    table = per_group_table([report, report], ("a", "b")).splitlines()
    assert table[0].split() == ["group", "a", "b"]
    assert table[-1].split() == ["ALL", "GROUPS"] + ["3", "1.000", "0.667"] * 2


def test_evaluate_records_reports_text_alone_and_combined_with_indexing():
    tagger = Tagger()
    # PMID 427687's sentence (alcohol abuse in passing) on a record indexed Headache only
    passing = ("Porphyria cutanea tarda, which is due to a deficiency of uroporphyrinogen "
               "decarboxylase, is manifested in association with alcohol abuse, estrogen therapy, "
               "exposure to chlorinated hydrocarbons or increased tissue iron stores, or a "
               "combination of these factors. Alcohol abuse was common.")
    articles = [{**_article(12, "D006261"), "title": "Porphyria cutanea tarda", "keywords": [],
                 "abstract": passing, "abstract_sections": []},
                {**_article(13, "D006261"), "title": "Schizophrenia and headache", "keywords": [],
                 "abstract": "", "abstract_sections": []}]
    report = evaluate_records(tagger, articles, [])
    # text: alcoholism (named twice) and schizophrenia (title) are fps, one headache found
    assert (report.group.tp, report.group.fp, report.group.fn) == (1, 2, 1)
    # combined: indexing gives both headaches; the abstract-only alcoholism is dropped for an
    # indexed record, the title-named schizophrenia is kept (source text)
    c = report.combined
    assert (c.group.tp, c.group.fp, c.group.fn) == (2, 1, 0)
    assert c.per_group["psychotic"].fp == 1 and c.per_group["substance use"].fp == 0
    assert "COMBINED" in report.format() and "combined P" in report.summary()


def test_merge_keeps_text_only_conditions_of_an_indexed_record_only_when_named_in_a_headline():
    from extract.indexed_conditions import merge_conditions, strongly_supported
    from extract.tagger import RecordCondition

    mesh = [RecordCondition("D006261", "Headache", "pain", "MeSH")]
    title = RecordCondition("D012559", "Schizophrenia", "psychotic", "title; abstract x2")
    body = RecordCondition("D000437", "Alcoholism", "substance use", "abstract:METHODS x2")
    agree = RecordCondition("D006261", "Headache", "pain", "abstract")
    assert strongly_supported(title) and not strongly_supported(body)
    merged = {c.mesh_id: c.source for c in merge_conditions("article", [title, body, agree], mesh)}
    assert merged == {"D006261": ("mesh", "text"), "D012559": ("text",)}
    # without indexing every text condition stays; indexing without conditions of interest
    # ("Rats" only) can be passed as record_indexed
    assert {c.mesh_id for c in merge_conditions("article", [title, body], [])} == {"D012559", "D000437"}
    assert {c.mesh_id for c in merge_conditions("article", [title, body], [], record_indexed=True)} == {"D012559"}
    # trials: a registered condition is a headline field
    cond = RecordCondition("D003863", "Depression", "mood", "conditions")
    registry = [RecordCondition("D019966", "Substance-Related Disorders", "substance use", "registry")]
    assert {c.mesh_id for c in merge_conditions("trial", [cond], registry)} == {"D019966", "D003863"}
