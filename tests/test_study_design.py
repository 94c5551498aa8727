"""study_design: publication types decide when present, text cues otherwise, and the text path
keeps the agreement with publication types that docs/study_design.md reports."""
from __future__ import annotations

import csv
from pathlib import Path

import pytest

from extract import study_design as sd
from extract.study_design import study_design

SAMPLE = Path(__file__).parent / "data" / "study_design_sample.tsv"


def pt(*pairs: tuple[str | None, str]) -> list[dict]:
    return [{"ui": ui, "name": name} for ui, name in pairs]


JOURNAL = ("D016428", "Journal Article")
RCT = ("D016449", "Randomized Controlled Trial")
CT = ("D016430", "Clinical Trial")
PHASE2 = ("D017427", "Clinical Trial, Phase II")
SR = ("D000078182", "Systematic Review")
MA = ("D017418", "Meta-Analysis")
REVIEW = ("D016454", "Review")
CASE = ("D002363", "Case Reports")
LETTER = ("D016422", "Letter")
COMMENT = ("D016420", "Comment")
EDITORIAL = ("D016421", "Editorial")
PROTOCOL = ("D000075742", "Clinical Trial Protocol")
GUIDELINE = ("D017065", "Practice Guideline")
OBS = ("D064888", "Observational Study")


# ------------------------------------------------------------------ publication types decide


@pytest.mark.parametrize(("types", "expected"), [
    ([JOURNAL, RCT], "randomized controlled trial"),
    ([JOURNAL, PHASE2], "clinical trial"),
    ([("D018848", "Controlled Clinical Trial")], "clinical trial"),
    ([JOURNAL, CASE], "case report"),
    ([JOURNAL, OBS], "observational study"),
    ([EDITORIAL], "editorial"),
    ([LETTER], "letter"),
    ([COMMENT], "comment"),
    ([("D016433", "News")], "other"),
    ([JOURNAL, ("D016425", "Published Erratum")], "notice"),
    ([("D016440", "Retraction of Publication")], "notice"),
    ([(None, "Expression of Concern")], "notice"),
    # precedence
    ([("D016440", "Retraction of Publication"), RCT], "notice"),   # about a trial, not one
    ([REVIEW, SR, MA], "meta-analysis"),
    ([REVIEW, SR], "systematic review"),
    ([SR, RCT], "systematic review"),
    ([RCT, CT, PHASE2], "randomized controlled trial"),
    ([PROTOCOL, RCT], "protocol"),
    ([GUIDELINE, REVIEW], "guideline"),
    ([CASE, REVIEW], "case report"),
    ([LETTER, CASE], "case report"),
    ([CT, CASE], "clinical trial"),
    ([LETTER, COMMENT], "letter"),
    ([EDITORIAL, COMMENT], "editorial"),
    # publisher types without a UI are matched by name
    ([(None, "Journal Article"), (None, "Review")], "review"),
    ([(None, "systematic review")], "systematic review"),
])
def test_publication_types_decide(types, expected):
    record = {"title": "Ketamine in rats: a randomised trial and case report",  # text says otherwise
              "abstract": None, "keywords": [], "publication_types": pt(*types)}
    assert study_design(record) == (expected, "publication type")


def test_journal_article_alone_falls_back_to_text():
    record = {"title": "A double-blind trial of ketamine", "publication_types": pt(JOURNAL, (
        "D013485", "Research Support, Non-U.S. Gov't"), ("D003160", "Comparative Study"))}
    assert study_design(record) == ("randomized controlled trial", "text")


def test_a_notice_link_makes_a_notice_whatever_its_title_says():
    """PMID 400964 in the corpus is titled "Statement."; its RetractionOf link says what it is."""
    record = {"title": "A double-blind trial of ketamine", "publication_types": pt(JOURNAL),
              "comments_corrections": [{"ref_type": "RetractionOf", "ref_pmid": 1, "ref_source": "x"}]}
    assert study_design(record) == ("notice", "correction link")
    cited = {**record, "comments_corrections": [{"ref_type": "ErratumIn", "ref_pmid": 2, "ref_source": "y"}]}
    assert study_design(cited) == ("randomized controlled trial", "text")   # has an erratum; is not one


@pytest.mark.parametrize(("title", "expected"), [
    ("Retraction: Rapid reduction of anxiety with midomafetamine", "notice"),
    ("Retraction notice to “Ketamine for depression”", "notice"),
    ("Erratum.", "notice"),
    ("[Erratum]", "notice"),
    ("Correction to: Esketamine nasal spray in adolescents", "notice"),
    ("Corrigendum", "notice"),
    ("Expression of Concern: Psilocybin for smoking cessation", "notice"),
    ("Correction of hypokalaemia during ketamine infusion", "other"),
    ("Correction for multiple comparisons in psilocybin trials", "other"),
    ("Retraction of the gingiva after MDMA use", "other"),
])
def test_a_notice_names_itself_in_its_title(title, expected):
    assert sd.text_design({"title": title}) == expected


def test_missing_fields_are_other():
    assert study_design({}) == ("other", "text")
    assert study_design({"title": None, "abstract": None, "keywords": None,
                         "publication_types": None}) == ("other", "text")


def test_every_mapped_design_is_in_the_contract():
    assert set(sd.PUBLICATION_TYPE_UIS.values()) <= set(sd.DESIGNS)
    assert set(sd.PUBLICATION_TYPE_NAMES.values()) <= set(sd.DESIGNS)
    assert set(sd.PRECEDENCE) == set(sd.DESIGNS)
    assert isinstance(sd.STUDY_DESIGN_VERSION, str) and sd.STUDY_DESIGN_VERSION


# ------------------------------------------------------------------ text cues


def read_sample() -> list[tuple[str, str, str]]:
    rows = []
    with SAMPLE.open(encoding="utf-8", newline="") as handle:
        for row in csv.reader(handle, delimiter="\t"):
            if row and not row[0].startswith("#"):
                rows.append((row[0], row[1], row[2] if len(row) > 2 else ""))
    return rows


@pytest.mark.parametrize(("expected", "title", "abstract"), read_sample())
def test_labelled_sample(expected, title, abstract):
    assert expected in sd.DESIGNS
    record = {"title": title, "abstract": abstract or None, "keywords": [], "publication_types": []}
    assert study_design(record) == (expected, "text")


# Real titles / sentences from the corpus (PMID, file), quoted; labels from their publication types.
REAL = [
    (422615, "Recurrent giant-cell tumor of bone in a thirteen-year-old girl. A case report.", None,
     "case report"),
    (419857, "Fibromuscular dysplasia of the splenic artery in a child; case report.", None, "case report"),
    (409159, "Selective hepatic artery embolization to control massive hepatic hemorrhage after trauma.",
     "Two patients who sustained liver trauma with intrahepatic and intraperitoneal hemorrhage are "
     "reported.", "case report"),
    (406299, "Allergen injection therapy with glutaraldehyde-modified--ragweed pollen-tyrosine "
     "adsorbate. A double-blind trial.", None, "randomized controlled trial"),
    (408522, "Comparison of erythromycin base and estolate in gonococcal urethritis.",
     "A randomized double-blind trial of 152 men with gonococcal urethritis compared the therapeutic "
     "efficacy", "randomized controlled trial"),
    (400972, "Widening perspectives of lead toxicity. A review of health effects of lead exposure in "
     "adults.", None, "review"),
    (26056739, "Human African trypanosomiasis prevention, treatment and control costs: a systematic "
     "review.", None, "systematic review"),
    (409489, "Comparative effects of a series of prolactin inhibitors, 17beta-estradiol and "
     "2alpha-methyldihydrotestosterone", "Eight ergot alkaloids and ergoline derivatives, effective "
     "prolactin inhibitors, were tested for activity against DMBA-induced rat mammary carcinomas.",
     "preclinical"),
    # version 2: a review that says so beats the efficacy/placebo words it discusses …
    (24597993, "Vitamin K and bone health in older adults.", "In particular, there is an emerging "
     "literature regarding the questionable efficacy of vitamin K supplementation in reducing age-related "
     "bone loss. This review aims to summarize the role of vitamin K in bone health", "review"),
    # … and one person described by sex and age is a case, whatever 'theoretical' issues it raises.
    (423833, "Purgatives and periodic paralysis.", "A married woman, aged 42, had suffered attacks of "
     "muscular weakness.", "case report"),
    # version 3: a title naming one patient, two to five, or the case report's idioms
    (404911, "Gastric ulcer in a young man with apparent healing.", None, "case report"),
    (408464, "Juvenile Gaucher's disease with horizontal gaze palsy in three siblings.", None, "case report"),
    (399700, "[3 cases of the Marinesco-Sjögren syndrome].", None, "case report"),
    (404919, "Suture granuloma simulating recurrent carcinoma.", None, "case report"),
    (402635, "Hypercalciuria with nephrolithiasis: a complication of total parenteral nutrition.", None,
     "case report"),
    (401943, "Case records of the Massachusetts General Hospital. Weekly clinicopathological exercises. "
     "Case 7-1977.", None, "case report"),
]


@pytest.mark.parametrize(("pmid", "title", "abstract", "expected"), REAL)
def test_real_sentences(pmid, title, abstract, expected):
    record = {"title": title, "abstract": abstract, "keywords": [], "publication_types": []}
    assert study_design(record) == (expected, "text")


@pytest.fixture(scope="session")
def corpus_records(corpus_dir):
    return sd.load_corpus_records(corpus_dir)


@pytest.mark.parametrize(("pmid", "title", "abstract", "expected"), REAL)
def test_real_records_whole(corpus_records, pmid, title, abstract, expected):
    """The whole corpus record agrees with its quoted sentence, without its publication types."""
    by_pmid = {r["pmid"]: r for part in corpus_records.values() for r in part}
    record = by_pmid[pmid]
    assert record["title"].startswith(title[:40])
    assert study_design({**record, "publication_types": []}) == (expected, "text")
    if expected != "preclinical":
        assert study_design(record)[1] == "publication type"


# Version 3: the journal's name (known before indexing) — real corpus titles whose text gives nothing.
JOURNALS = [
    (400486, "Annual review of medicine", "Dietary management of diabetes mellitus.", "review"),
    (410356, "Annual review of microbiology", "Bacterial flagella.", "review"),  # not preclinical
    (400518, "Current problems in cardiology", "Heart disease and pregnancy.", "review"),
    (38763967, "CEN case reports", "Widespread form of Majocchi's granuloma in a kidney transplant "
     "recipient.", "case report"),
]


@pytest.mark.parametrize(("pmid", "journal", "title", "expected"), JOURNALS)
def test_journal_name(corpus_records, pmid, journal, title, expected):
    record = {"title": title, "journal": journal, "abstract": None, "publication_types": []}
    assert study_design(record) == (expected, "text")
    assert study_design({**record, "journal": "Journal of medicine"})[0] != expected
    by_pmid = {r["pmid"]: r for part in corpus_records.values() for r in part}
    assert (by_pmid[pmid]["journal"], by_pmid[pmid]["title"]) == (journal, title)
    assert study_design({**by_pmid[pmid], "publication_types": []}) == (expected, "text")


def test_case_idioms_only_in_the_title():
    """'complicated by' in an abstract describes ordinary studies (PMID 416646, an untyped indexed
    article); in the title it is a case report's idiom (PMID 411632, Case Reports)."""
    abstract = ("In women with pregnancies complicated by Rh-isoimmunization, oestrone plasma levels "
                "were similar to those found in normal pregnancies.")
    record = {"title": "Plasma levels of non-conjugated oestrone in high risk pregnancies.", "abstract": abstract}
    assert study_design(record)[0] != "case report"
    title = "Severe sclerema neonatorum complicated by disseminated intravascular coagulopathy."
    assert study_design({"title": title})[0] == "case report"


def test_keywords_are_searched():
    record = {"title": "Semaglutide and weight", "abstract": None,
              "keywords": ["meta-analysis", "type 2 diabetes"], "publication_types": []}
    assert study_design(record) == ("meta-analysis", "text")


def test_chart_review_is_not_a_review():
    """'review of 40 cases' is a case series or chart review, not a review article."""
    record = {"title": "Thyroid cancer in Kuwait: review of 117 cases.", "abstract": None}
    assert study_design(record)[0] != "review"
    assert study_design({"title": "Thyroid cancer in Kuwait: a review."})[0] == "review"


def test_word_boundary_is_factored_out_without_changing_matches():
    """_rx tests a shared leading \\b once; the split respects groups and character classes."""
    assert sd._alternatives(r"\ba(?:b|c)|\bd[|]e|\bf") == [r"\ba(?:b|c)", r"\bd[|]e", r"\bf"]
    assert sd._rx(r"\bcat|\bdog").pattern == r"\b(?:cat|dog)"
    assert sd._rx(r"\bcat|dog").pattern == r"\bcat|dog"  # not every alternative at a boundary
    assert sd._rx(r"\bcat|\bdog").search("hotdog") is None
    assert sd._rx(r"\bcat|\bdog").search("a dog").group(0) == "dog"


def test_evaluate_counts_untyped_indexed_records_apart():
    """A prediction on an indexed record with no design-giving type lowers strict precision only."""
    mesh = [{"name": "Humans"}]
    records = [
        {"pmid": 1, "title": "A case report", "publication_types": pt(CASE), "mesh_headings": mesh},
        {"pmid": 2, "title": "A case report", "publication_types": pt(JOURNAL), "mesh_headings": mesh},
        {"pmid": 3, "title": "A case report", "publication_types": pt(JOURNAL), "mesh_headings": []},
    ]
    counts = sd.evaluate(records).classes["case report"]
    assert (counts.tp, counts.fp, counts.fn, counts.fp_untyped) == (1, 0, 0, 1)
    assert counts.precision == 1.0 and counts.strict_precision == 0.5


def test_people_override_animal_words():
    """'rats' alone is preclinical; the same words about patients are not."""
    assert study_design({"title": "Ketamine and sleep in rats"})[0] == "preclinical"
    assert study_design({"title": "Ketamine and sleep in rats and in patients with depression"})[0] != "preclinical"


# ------------------------------------------------------------------ agreement on the corpus

# The test's own gold: NLM publication type UIs per evaluated class, not the module's table.
GOLD_UIS = {
    "trials": {"D016449", "D016430", "D017426", "D017427", "D017428", "D017429", "D018848"},
    "rct": {"D016449"},
    "case": {"D002363"},
    "reviews": {"D016454", "D000078182", "D017418"},
}
PREDICTED = {
    "trials": {"randomized controlled trial", "clinical trial"},
    "rct": {"randomized controlled trial"},
    "case": {"case report"},
    "reviews": {"review", "systematic review", "meta-analysis"},
}
# Classes that outrank a class in the publication-type precedence: a record that is both is
# gold for the higher one only (a case report with a review of the literature is a case report).
OUTRANKED_BY = {
    "trials": {"D017418", "D000078182", "D000075742", "D017065", "D016431"},
    "rct": {"D017418", "D000078182", "D000075742", "D017065", "D016431"},
    "case": {"D017418", "D000078182", "D000075742", "D017065", "D016431", "D016449", "D016430",
             "D017426", "D017427", "D017428", "D017429", "D018848", "D064888"},
    "reviews": {"D000075742", "D017065", "D016431", "D016449", "D016430", "D017426", "D017427",
                "D017428", "D017429", "D018848", "D064888", "D002363"},
}

# Floors: the figures in docs/study_design.md minus 0.05 (a regression fails, noise does not).
# STUDY_DESIGN_VERSION 3 (2026-12-04): modern trials 0.69/0.90, RCT 0.88/0.88, reviews 0.94/0.65;
# bulk trials 0.91/0.51, RCT 0.52/0.54, case 0.98/0.46, reviews 0.81/0.20 (this test's own gold).
FLOORS = {
    ("modern", "trials"): (0.64, 0.85),
    ("modern", "rct"): (0.82, 0.82),
    ("modern", "reviews"): (0.89, 0.59),
    ("bulk", "trials"): (0.86, 0.46),
    ("bulk", "rct"): (0.47, 0.49),
    ("bulk", "case"): (0.93, 0.41),
    ("bulk", "reviews"): (0.76, 0.15),
}
# Strict precision (evaluate(): predictions on indexed records with no design-giving type count as
# wrong), v3 bulk figures minus 0.05. The headline precision never sees those 11,855 ordinary
# articles, so a cue that labels many of them (short papers as case reports, long ones as reviews)
# passes FLOORS; it fails here.
STRICT_FLOORS = {"trials (RCT + clinical trial)": 0.48, "case report": 0.68,
                 "reviews (review + SR + MA)": 0.31}


def agreement(records: list[dict], cls: str) -> tuple[float, float, int]:
    tp = fp = fn = 0
    for record in records:
        uis = {p.get("ui") for p in record.get("publication_types") or ()}
        if not sd.from_publication_types(record.get("publication_types") or ()):
            continue  # only records whose publication types name a design
        gold = bool(uis & GOLD_UIS[cls]) and not uis & OUTRANKED_BY[cls]
        predicted = study_design({**record, "publication_types": []})[0] in PREDICTED[cls]
        tp += gold and predicted
        fp += predicted and not gold
        fn += gold and not predicted
    return tp / max(tp + fp, 1), tp / max(tp + fn, 1), tp + fn


@pytest.mark.parametrize(("part", "cls"), sorted(FLOORS))
def test_text_path_agrees_with_publication_types(corpus_records, part, cls):
    precision, recall, gold = agreement(corpus_records[part], cls)
    p_floor, r_floor = FLOORS[(part, cls)]
    assert gold >= 5
    assert precision >= p_floor and recall >= r_floor, (part, cls, precision, recall, gold)


def test_strict_precision_on_the_bulk_file(corpus_records):
    classes = sd.evaluate(corpus_records["bulk"]).classes
    strict = {name: classes[name].strict_precision for name in STRICT_FLOORS}
    assert all(strict[name] >= floor for name, floor in STRICT_FLOORS.items()), strict


def test_preclinical_against_mesh_proxy(corpus_records):
    """Gold proxy: MeSH 'Animals' without 'Humans' (1970s bulk file, all MeSH-indexed)."""
    tp = fp = fn = 0
    for record in corpus_records["bulk"]:
        mesh = {h["name"] for h in record["mesh_headings"]}
        gold = "Animals" in mesh and "Humans" not in mesh
        predicted = study_design({**record, "publication_types": []})[0] == "preclinical"
        tp += gold and predicted
        fp += predicted and not gold
        fn += gold and not predicted
    assert tp / (tp + fp) >= 0.78 and tp / (tp + fn) >= 0.57, (tp, fp, fn)


def test_evaluate_matches_an_independent_count(corpus_records):
    """evaluate()'s trial figures are the same as the count above, made with the test's own gold."""
    result = sd.evaluate(corpus_records["bulk"])
    counts = result.classes["trials (RCT + clinical trial)"]
    precision, recall, gold = agreement(corpus_records["bulk"], "trials")
    assert counts.tp + counts.fn == gold
    assert counts.precision == pytest.approx(precision) and counts.recall == pytest.approx(recall)
