"""The condition tagger: lexicon integrity, matching, abbreviations, negation, about()."""
from __future__ import annotations

import gzip
import io
import json
import re
from pathlib import Path

import pytest
import spacy

from extract.ctgov_parser import parse_ctgov_page
from extract.mesh import load_mesh_groups, read_tree
from extract.pubmed_parser import iter_pubmed, parse_pubmed
from extract.tagger_version import LEXICON_SHA256, TAGGER_VERSION
from extract.tagger import (
    CATEGORIES, Mention, Tagger, about, abstract_sections,
    condition_spans, field_text, load_lexicon, term_variants, with_implied,
)

TRD, MDD, DEPRESSION, DEP_DISORDER = "D061218", "D003865", "D003863", "D003866"
PTSD, BIPOLAR, ANXIETY, GAD_UI = "D013313", "D001714", "D001007", "D001008"
ALZHEIMER, PARKINSON, PANIC, PSYCHOTIC = "D000544", "D010300", "D016584", "D011618"


@pytest.fixture(scope="session")
def tagger() -> Tagger:
    return Tagger()


@pytest.fixture(scope="session")
def lexicon():
    return load_lexicon(None)


def tags(tagger: Tagger, text: str) -> list[tuple[str, str, bool]]:
    return [(m.text, m.mesh_id, m.negated) for m in tagger.tag_text(text)]


def article(title: str = "", abstract: str = "", keywords: list[str] | None = None, sections=None) -> dict:
    return {"pmid": 1, "title": title, "abstract": abstract, "abstract_sections": sections or [],
            "keywords": keywords or [], "mesh_headings": []}


def trial(**fields) -> dict:
    base = {"nct_id": "NCT00000001", "conditions": [], "keywords": [], "brief_title": None,
            "official_title": None, "brief_summary": None, "detailed_description": None,
            "eligibility_criteria": None, "condition_mesh": []}
    return base | fields


def about_article(tagger: Tagger, **fields) -> set[str]:
    [(_, mentions)] = list(tagger.tag_articles([article(**fields)]))
    return {c.mesh_id for c in about("article", mentions)}


# --------------------------------------------------------------------------- lexicon


def test_lexicon_ui_wellformed_unique_and_large(lexicon):
    uis = list(lexicon.concepts)
    assert len(uis) >= 100
    assert len(uis) == len(set(uis))
    assert all(re.fullmatch(r"D\d{6}(\d{3})?", ui) for ui in uis), [u for u in uis if not re.fullmatch(r"D\d{6}(\d{3})?", u)]
    assert {c.category for c in lexicon.concepts.values()} <= set(CATEGORIES)


def test_lexicon_uis_and_names_match_the_mesh_tree(lexicon, corpus_dir):
    tree = corpus_dir / "mesh" / "jzsh2000_pubmed" / "2017MeshTree.txt"
    names = {ui: term for _, ui, term in read_tree(tree)}
    wrong = {ui: (c.name, names.get(ui)) for ui, c in lexicon.concepts.items() if names.get(ui) != c.name}
    assert not wrong, f"UI not in the 2017 tree or name differs: {wrong}"


def test_lexicon_covers_the_brief(lexicon):
    must = {
        TRD, MDD, DEPRESSION, PTSD, GAD_UI, "D000072861", ANXIETY, BIPOLAR, "D059020", "D013405",
        "D059350", "D009437", "D005356", "D020918", "D008881", "D003027", "D000437", "D009293",
        "D019970", "D019969", "D014029", "D002189", "D009771", "D000856", "D052018", "D056912",
        "D013315", "D012559", PSYCHOTIC, "D001321", "D001289", "D007319", "D003704", ALZHEIMER,
        PARKINSON, "D003693", "D019052",
    }
    assert must <= set(lexicon.concepts)


def test_every_phrase_belongs_to_one_concept_and_parents_exist(lexicon):
    patterns = lexicon.patterns()  # raises on a phrase claimed by two concepts
    assert patterns["treatment-resistant depression"] == TRD
    assert all(c.parent in lexicon.concepts for c in lexicon.concepts.values() if c.parent)


def test_version_tracks_lexicon(lexicon):
    assert TAGGER_VERSION
    assert lexicon.sha256 == LEXICON_SHA256, (
        "conditions.toml changed: bump TAGGER_VERSION and set LEXICON_SHA256 to " + lexicon.sha256
    )


def test_term_variants():
    assert {"post-traumatic stress disorder", "post traumatic stress disorder",
            "posttraumatic stress disorder", "post-traumatic stress disorders"} <= term_variants(
        "post-traumatic stress disorder")
    assert "parkinson disease" in term_variants("parkinson's disease")
    assert "generalised anxiety disorder" in term_variants("generalized anxiety disorder", [("ize", "ise")])
    assert "depressions" not in term_variants("depression", no_plural=["depression"])


# --------------------------------------------------------------------------- pipeline


def test_components_are_registered_factories():
    nlp = spacy.blank("en")
    nlp.add_pipe("trialwatch_conditions")
    nlp.add_pipe("trialwatch_negation")
    doc = nlp("Veterans with PTSD and no depression.")
    assert [(h.mesh_id, h.negated) for h in doc._.conditions] == [(PTSD, False), (DEPRESSION, True)]
    assert [(s.text, s.label_) for s in condition_spans(doc)] == [("PTSD", PTSD), ("depression", DEPRESSION)]


def test_plural_hyphen_and_british_variants(tagger):
    found = tags(tagger, "Post traumatic stress disorders, posttraumatic stress disorder, "
                         "generalised anxiety disorders, migraines and eating disorders.")
    assert [ui for _, ui, _ in found] == [PTSD, PTSD, GAD_UI, "D008881", "D001068"]


def test_treatment_resistant_depression_is_one_mention_of_the_specific_concept(tagger):
    for text in ("treatment-resistant depression", "treatment resistant depression",
                 "Treatment-Resistant Depression"):
        assert tags(tagger, f"Ketamine for {text} in adults.") == [(text, TRD, False)]
    assert tags(tagger, "major depressive disorder") == [("major depressive disorder", MDD, False)]


def test_other_senses_and_symbols_are_not_conditions(tagger):
    assert tags(tagger, "Respiratory depression and ST-segment depression occurred.") == []
    assert tags(tagger, "Neurons containing AChE were counted.") == []
    assert tags(tagger, "Methyl alcohol poisoning damages the optic nerve.") == []


def test_defined_abbreviation_tags_later_uses(tagger):
    found = tags(tagger, "Ketamine in treatment-resistant depression (TRD): 40 TRD patients responded.")
    assert found == [("treatment-resistant depression", TRD, False), ("TRD", TRD, False)]


def test_ambiguous_abbreviation_needs_a_definition(tagger):
    assert tags(tagger, "AD patients and PD patients were enrolled.") == []
    found = tags(tagger, "Alzheimer's disease (AD) and panic disorder (PD). AD and PD patients improved.")
    assert [ui for _, ui, _ in found] == [ALZHEIMER, PANIC, ALZHEIMER, PANIC]
    found = tags(tagger, "Parkinson's disease (PD) was studied. PD patients improved.")
    assert [ui for _, ui, _ in found] == [PARKINSON, PARKINSON]


def test_abbreviation_defined_as_something_else_is_dropped(tagger):
    assert tags(tagger, "Glutamic acid decarboxylase (GAD) activity rose; GAD was high.") == []
    assert [ui for _, ui, _ in tags(tagger, "Patients with GAD were treated.")] == [GAD_UI]


def test_lower_case_abbreviation_in_keywords_only_when_long(tagger):
    assert [ui for _, ui, _ in tags(tagger, "ketamine; ptsd; veterans")] == [PTSD]
    assert tags(tagger, "the gad gene; sud") == []


@pytest.mark.parametrize("text, negated", [
    ("Patients without bipolar disorder were enrolled.", {"bipolar disorder"}),
    ("Adults with depression, excluding PTSD, were randomised.", {"PTSD"}),
    ("Ketamine reduced depression with no increase in anxiety.", {"anxiety"}),
    ("Patients with a history of psychosis were excluded.", {"psychosis"}),
    ("Exclusion criteria included bipolar disorder, schizophrenia or suicidal ideation.",
     {"bipolar disorder", "schizophrenia", "suicidal ideation"}),
    ("No anxiety was reported, but depression worsened.", {"anxiety"}),
    ("Not only depression but also anxiety improved.", set()),
    ("She denied suicidal ideation.", {"suicidal ideation"}),
])
def test_negation_and_exclusion(tagger, text, negated):
    found = tags(tagger, text)
    assert found, text
    assert {t for t, _, neg in found if neg} == negated


def test_exclusion_criteria_header_scopes_to_the_inclusion_header(tagger):
    text = ("Exclusion Criteria:\n\n* Schizophrenia\n* Bipolar I disorder\n\n"
            "Inclusion Criteria:\n\n* Major depressive disorder")
    assert [(t, neg) for t, _, neg in tags(tagger, text)] == [
        ("Schizophrenia", True), ("Bipolar I disorder", True), ("Major depressive disorder", False)]


def test_offsets_point_into_the_field_text_and_sections(tagger):
    sections = [
        {"label": "BACKGROUND", "category": "BACKGROUND", "text": "Depression is common."},
        {"label": "RESULTS", "category": "RESULTS", "text": "Anxiety fell."},
    ]
    abstract = "BACKGROUND: Depression is common.\n\nRESULTS: Anxiety fell."
    record = article("Ketamine for PTSD", abstract, ["alcohol use disorder", "MDD"], sections)
    assert abstract_sections(record)[1] == (35, 57, "abstract:RESULTS")
    [(_, mentions)] = list(tagger.tag_articles([record]))
    assert {(m.field, m.text) for m in mentions} == {
        ("title", "PTSD"), ("abstract:BACKGROUND", "Depression"), ("abstract:RESULTS", "Anxiety"),
        ("keywords", "alcohol use disorder"), ("keywords", "MDD")}
    for m in mentions:
        assert field_text("article", record, m.field)[m.start:m.end] == m.text


def test_tag_trials_reads_text_fields_never_condition_mesh(tagger):
    record = trial(conditions=["Cluster Headache"], condition_mesh=[{"id": PTSD, "term": "PTSD"}],
                   eligibility_criteria="Exclusion Criteria:\n* bipolar disorder")
    [(_, mentions)] = list(tagger.tag_trials([record]))
    assert {(m.field, m.mesh_id, m.negated) for m in mentions} == {
        ("conditions", "D003027", False), ("eligibility_criteria", BIPOLAR, True)}


def test_batches_keep_records_in_order(tagger):
    records = [article(f"Study {i} of {'depression' if i % 2 else 'migraine'}") for i in range(7)]
    out = list(tagger.tag_articles(records, batch_size=3))
    assert [r["title"] for r, _ in out] == [r["title"] for r in records]
    assert [m[0].mesh_id for _, m in out] == ["D008881", DEPRESSION] * 3 + ["D008881"]


# --------------------------------------------------------------------------- about()


def test_about_negated_mentions_never_count(tagger):
    got = about_article(tagger, title="Ketamine for depression",
                        abstract="Ketamine reduced depression. There was no increase in anxiety.")
    assert DEPRESSION in got and ANXIETY not in got


def test_about_side_effect_lists_do_not_count(tagger):
    got = about_article(tagger, title="Esketamine in major depressive disorder",
                        abstract="Adverse events included nausea, headache, dizziness and anxiety. "
                                 "Anxiety resolved within two hours.")
    assert got == {MDD}


def test_about_excludes_eligibility_only_and_negated_concepts(tagger):
    record = trial(conditions=["Treatment-Resistant Depression"],
                   brief_summary="Psilocybin in adults with treatment-resistant depression.",
                   eligibility_criteria="Inclusion Criteria:\n* PTSD allowed\n\nExclusion Criteria:\n"
                                        "* Bipolar disorder\n* Schizophrenia")
    [(_, mentions)] = list(tagger.tag_trials([record]))
    assert {m.mesh_id for m in mentions} >= {TRD, PTSD, BIPOLAR, "D012559"}
    assert [c.mesh_id for c in about("trial", mentions)] == [TRD]


def test_about_prefers_specific_concept_but_keeps_a_separately_supported_parent(tagger):
    got = about_article(tagger, title="Ketamine in treatment-resistant depression",
                        abstract="Depression scores fell by half.")
    assert got == {TRD}
    got = about_article(tagger, title="Depression and treatment-resistant depression",
                        abstract="Depression is common. Depression recurs. Depression costs.")
    assert got == {TRD, DEPRESSION}


def test_about_single_mentions(tagger):
    # a disorder named once in the body as the study population counts; a symptom named once
    # does not; results count half
    assert about_article(tagger, abstract="We studied 20 schizophrenic patients.") == {"D012559"}
    assert about_article(tagger, abstract="Pain was recorded daily.") == set()
    sections = [{"label": "RESULTS", "category": "RESULTS", "text": "Two had bipolar disorder."}]
    assert about_article(tagger, abstract="RESULTS: Two had bipolar disorder.", sections=sections) == set()


def test_bipolar_depression_is_about_bipolar_disorder_and_depression(tagger):
    """Lexicon `also`: the depressive phase of bipolar disorder puts a record in both groups; mania,
    and bipolar disorder named without its depressive phase, do not add depression."""
    [(_, mentions)] = list(tagger.tag_trials([trial(conditions=["Bipolar Depression"],
                                                    brief_title="Ketamine in Adults With Bipolar Depression")]))
    assert {c.mesh_id for c in about("trial", mentions)} == {BIPOLAR, DEPRESSION}
    assert [m.mesh_id for m in mentions if m.field == "conditions"] == [BIPOLAR]   # the stored mention is one
    assert about_article(tagger, title="Bipolar I depression: a randomised trial") == {BIPOLAR, DEPRESSION}
    assert about_article(tagger, title="Ketamine in bipolar disorder") == {BIPOLAR}
    assert about_article(tagger, title="Lithium in acute mania") == {BIPOLAR}


def test_bipolar_depressed_patients_in_a_real_abstract_also_name_depression(tagger, lexicon):
    """PMID 409301 (1970s file), verbatim: the TSH response of bipolar depressed patients, against
    manic ones. "bipolar depressed" is one stored mention (Bipolar Disorder); about() also counts
    it for Depression, with the same field and span."""
    sentence = ("Bipolar patients in the manic phase tended to have a lower response than bipolar depressed "
                "patients.")
    mentions = tagger.tag_text(sentence, field="abstract")
    assert [(m.text, m.mesh_id) for m in mentions] == [("Bipolar patients", BIPOLAR), ("bipolar depressed", BIPOLAR)]
    implied = [m for m in with_implied(mentions, lexicon) if m.mesh_id == DEPRESSION]
    assert [(m.text, m.start, m.field) for m in implied] == [("bipolar depressed", sentence.index("bipolar depressed"),
                                                              "abstract")]


def test_about_evidence_text():
    mentions = [Mention(PTSD, "Stress Disorders, Post-Traumatic", "trauma", f, 0, 4, "PTSD", False)
                for f in ("title", "abstract:METHODS", "abstract:RESULTS")]
    [condition] = about("article", mentions)
    assert (condition.mesh_id, condition.category, condition.evidence) == (PTSD, "trauma", "title; abstract x2")
    with pytest.raises(ValueError):
        about("paper", mentions)


# --------------------------------------------------------------------------- real records


def _corpus_articles(corpus_dir: Path, pmids: set[int]) -> list[dict]:
    found = []
    for path in sorted((corpus_dir / "pubmed" / "metapub").glob("*.xml")):
        found += [r for r in parse_pubmed(path.read_bytes()).records if r["pmid"] in pmids]
    return found


def _groups(kind: str, mentions: list[Mention]) -> set[str]:
    groups_of = load_mesh_groups()
    return {g for c in about(kind, mentions) for g in groups_of.get(c.mesh_id, ())}


def test_corpus_depression_articles_are_about_the_depressive_group(tagger, corpus_dir):
    records = _corpus_articles(corpus_dir, {34843274, 37729413})
    assert len(records) == 2
    for record, mentions in tagger.tag_articles(records):
        gold = {h["ui"] for h in record["mesh_headings"]}
        assert gold & {DEPRESSION, DEP_DISORDER}  # the yardstick says depression …
        assert "depressive" in _groups("article", mentions), record["pmid"]  # … and so do we


def test_corpus_combat_stress_record_is_about_trauma(tagger, corpus_dir):
    """PMID 416376 (1970s, title only) is indexed Combat Disorders (F03.950, trauma/PTSD)."""
    with gzip.open(corpus_dir / "pubmed" / "bulk" / "pubmed20n0014_even.xml.gz") as fh:
        record = next(r for kind, r in iter_pubmed(io.BufferedReader(fh))
                      if kind == "records" and r["pmid"] == 416376)
    assert "D003130" in {h["ui"] for h in record["mesh_headings"]}
    [(_, mentions)] = list(tagger.tag_articles([record]))
    assert _groups("article", mentions) == {"trauma"}


def test_corpus_psilocybin_trial_is_about_depression_not_its_exclusions(tagger, corpus_dir):
    path = corpus_dir / "ctgov" / "cyanheads_mcp" / "get_study_NCT06341426_psilocybin.json"
    [record] = parse_ctgov_page(json.loads(path.read_bytes())).records
    [(_, mentions)] = list(tagger.tag_trials([record]))
    assert _groups("trial", mentions) == {"depressive"}
    excluded = {m.mesh_id for m in mentions if m.field == "eligibility_criteria" and m.negated}
    assert BIPOLAR in excluded or PSYCHOTIC in excluded


# ----------------------------------------------------------- tagger 1.2.0: real corpus sentences
SUICIDAL_IDEATION, ALCOHOLISM, SCHIZOPHRENIA = "D059020", "D000437", "D012559"


def test_about_a_disorder_named_in_passing_once_is_not_the_topic(tagger):
    # PMID 427687 "Porphyria cutanea tarda: clinical and laboratory features" (1970s baseline
    # file); indexed Ethanol but no alcohol-related disorder. Before 1.2.0: tagged Alcoholism.
    sentence = ("Porphyria cutanea tarda, which is due to a deficiency of uroporphyrinogen "
                "decarboxylase, is manifested in association with alcohol abuse, estrogen therapy, "
                "exposure to chlorinated hydrocarbons or increased tissue iron stores, or a "
                "combination of these factors.")
    [m] = [m for m in tagger.tag_text(sentence, field="abstract") if m.mesh_id == ALCOHOLISM]
    assert not m.population and not m.negated
    assert about_article(tagger, title="Porphyria cutanea tarda: clinical and laboratory features.",
                         abstract=sentence) == set()
    # named twice in passing it counts again
    assert about_article(tagger, abstract=sentence + " " + sentence) == {ALCOHOLISM}


def test_about_a_disorder_named_once_as_the_study_population_counts(tagger):
    # PMID 400982 "Pharmacokinetics and pharmacodynamics of amitriptyline in depression"
    sentence = ("The therapeutic effect and pharmacokinetics of amitriptyline were assessed in "
                "thirty-five patients suffering from primary depressive illness during inpatient "
                "treatment.")
    [m] = tagger.tag_text(sentence)
    assert (m.mesh_id, m.population) == (DEP_DISORDER, True)
    assert about_article(tagger, abstract=sentence) == {DEP_DISORDER}


def test_about_living_with_a_disorder_names_the_population(tagger):
    # PMID 38573673 "Finding meaning in medication" (modern single-record efetch file; indexed
    # Schizophrenia)
    sentence = ("The author reflects on a decade of antipsychotic treatment, providing an intimate "
                "glimpse into living with schizophrenia.")
    assert [(m.text, m.population) for m in tagger.tag_text(sentence)] == [("schizophrenia", True)]
    assert about_article(tagger, title="Finding meaning in medication.", abstract=sentence) == {SCHIZOPHRENIA}


def test_rating_scales_are_evidence_of_what_they_measure(tagger):
    # PMID 26702177 (medline16n0902.xml.gz): screening scales name depression and anxiety
    got = tags(tagger, "PHQ-9, GAD-7 and the Perceived Stress Scale were used to screen for "
                       "depression, anxiety and perceived stress respectively.")
    assert ("PHQ-9", DEPRESSION, False) in got and ("GAD-7", ANXIETY, False) in got
    # NCT06341426 detailed description: the scale and its abbreviation are one concept each time
    got = tags(tagger, "The primary objective of assessing antidepressant efficacy will be evaluated "
                       "by the change in the Montgomery-Åsberg Depression Rating Scale (MADRS) "
                       "between baseline and Week 8.")
    assert got == [("Montgomery-Åsberg Depression Rating Scale", DEPRESSION, False)]
    # NCT06341426 eligibility: YMRS is bipolar evidence, but in exclusion criteria it is negated
    text = ("Exclusion Criteria:\n2. Current symptoms of mania, hypomania or mixed features, as "
            "determined by the Young Mania Rating Scale (YMRS) score greater than 12.\n"
            "5. Have active suicidal ideation as determined by the C-SSRS and/or clinical interview")
    got = tags(tagger, text)
    assert ("Young Mania Rating Scale", BIPOLAR, True) in got and ("C-SSRS", SUICIDAL_IDEATION, True) in got
    # "AUDIT" is a word in capitals too: only after a definition
    assert tags(tagger, "AUDIT OF PRESCRIBING.") == []


def test_trial_primary_outcomes_are_read(tagger):
    # the outcome wording of NCT06341426, here as a primary outcome measure title
    record = trial(primary_outcomes=["Change in the Montgomery-Åsberg Depression Rating Scale (MADRS)"])
    [(_, mentions)] = list(tagger.tag_trials([record]))
    assert [(m.field, m.mesh_id) for m in mentions] == [("primary_outcomes", DEPRESSION)]
    assert field_text("trial", record, "primary_outcomes")[mentions[0].start:mentions[0].end] == mentions[0].text


def test_side_effect_sentence_stays_adverse_next_to_a_study_aim_phrase(tagger):
    # NCT06341426: "Safety and tolerability" is an aim (pseudo), "adverse effects" still a trigger
    text = ("Safety and tolerability will be assessed using standardized adverse effects monitoring, "
            "in addition to close participant monitoring during the dosing day (e.g., blood pressure "
            "changes, dissociative and psychotomimetic effects, treatment-emergent mania, suicidality).")
    got = {m.mesh_id: m.adverse for m in tagger.tag_text(text)}
    assert got[SUICIDAL_IDEATION] is True


def test_study_aim_phrase_is_not_a_side_effect_sentence(tagger):
    # the brief's example wording; a pain named with "efficacy and safety" is not a side effect
    [m] = tagger.tag_text("The efficacy and safety of ketamine for chronic pain have not been established.")
    assert m.mesh_id == "D059350" and not m.adverse
    [m] = tagger.tag_text("The safety of ketamine for chronic pain was poor.")
    assert m.adverse


# ----------------------------------------------------- tagger 1.3.0: real 1970s corpus titles
# Each quote is verbatim from the record of that PMID in pubmed/bulk/pubmed20n0014_even.xml.gz
# (all odd PMIDs: the tuning half); test_quotes_are_real_corpus_text checks that.
QUOTES_1_3_0 = {
    418303: "Panic among scientists.",
    402505: "Does spontaneous ventilation with IMV protect from PEEP-induced cardiac output depression?",
    411977: "[Care of the aged with behavior problems].",
    403529: ("Rhesus monkeys were trained to self-administer morphine intravenously at dose levels "
             "sufficient to develop physical dependence."),
    405065: "Dependence potential of drotebanol, codeine and thebaine tested in rhesus monkeys.",
    415325: "Effect of synthesis inhibition on the levels of brain catecholamines in barbital-dependent rats.",
    405513: "Urine testing in methadone programs.",
    420047: "Supplementary methadone self administration among methadone maintenance clients.",
    408841: ("Readaptation time after photo stress. Alcohol-induced acute and post-alcohol 'hangover' "
             "changes in ocular readaptation time."),
    419561: "Ascariasis and acute abdomen.",
    414333: "[The Caffey-Kemps syndrome (battered child syndrome). Diagnostic problems].",
    426345: "Ventilatory control and the obesity hypoventilation syndrome.",
    414121: "Low degrees of a hysterical and paranoic nature facilitate access to the subconscious and projection.",
    419337: "Spectrum of amentia.",
    421049: "Difficulty in stopping lithium prophylaxis?",
    426145: "The delineation of an MMPI symptom pattern unique to lithium responders.",
    420033: "Increase in weight after treatment with depot neuroleptics.",
}
SUBSTANCE, OPIOID, ALCOHOL_INTOXICATION = "D019966", "D009293", "D000435"


def test_quotes_are_real_corpus_text(corpus_dir):
    found = {}
    with gzip.open(corpus_dir / "pubmed" / "bulk" / "pubmed20n0014_even.xml.gz") as fh:
        for kind, record in iter_pubmed(io.BufferedReader(fh)):
            if kind == "records" and record["pmid"] in QUOTES_1_3_0:
                found[record["pmid"]] = f"{record['title']} {record.get('abstract') or ''}"
    assert all(QUOTES_1_3_0[pmid] in found.get(pmid, "") for pmid in QUOTES_1_3_0)


def _title_tags(tagger: Tagger, pmid: int) -> set[str]:
    return {m.mesh_id for m in tagger.tag_text(QUOTES_1_3_0[pmid], field="title") if not m.negated}


def test_panic_alone_is_the_emotion_not_panic_disorder(tagger):
    # PMID 418303 is indexed Panic and Fear (F01, no condition group): before 1.3.0 Panic Disorder
    assert _title_tags(tagger, 418303) == {"D010200"}
    assert tags(tagger, "panic disorder and panic attacks") == [
        ("panic disorder", PANIC, False), ("panic attacks", PANIC, False)]


def test_cardiac_output_depression_is_not_depression(tagger):
    assert _title_tags(tagger, 402505) == set()


def test_behavior_problems_of_the_aged_are_not_child_behavior_disorders(tagger):
    # indexed Social Behavior Disorders (not a condition group); before 1.3.0 Child Behavior Disorders
    assert _title_tags(tagger, 411977) == set()
    assert {m.mesh_id for m in tagger.tag_text("behavior problems in children")} == {"D002653"}


@pytest.mark.parametrize("pmid, ui", [
    (403529, SUBSTANCE), (405065, SUBSTANCE), (415325, SUBSTANCE),   # physical dependence
    (405513, OPIOID), (420047, OPIOID),                              # methadone programmes
    (408841, ALCOHOL_INTOXICATION),                                  # hangover
    (419561, "D000006"),                                             # Abdomen, Acute
    (414333, "D001497"),                                             # Battered Child Syndrome
    (426345, "D010845"),                                             # Obesity Hypoventilation Syndrome
    (414121, "D010259"),                                             # paranoic → Paranoid Disorders
    (419337, "D008607"),                                             # amentia → Intellectual Disability
    (421049, BIPOLAR), (426145, BIPOLAR),                            # lithium prophylaxis / responders
    (420033, SCHIZOPHRENIA),                                         # depot neuroleptics
])
def test_words_indexers_read_as_the_condition(tagger, pmid, ui):
    """Each record is indexed with a descriptor of that group; before 1.3.0 nothing was tagged."""
    assert ui in _title_tags(tagger, pmid)
