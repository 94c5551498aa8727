"""Subject or mention: which of an article's labelled drugs are only named in passing.

Ketamine is the anaesthetic of thousands of animal studies ("rats were anaesthetised with
ketamine/xylazine"). Those articles keep their drug label; `mentioned_drugs` says which labelled
drugs are only MENTIONED (an anaesthetic or sedative for a procedure in a study of something
else, a name in the background or in a list of other drugs, a drug all arms receive alike), so a
query can leave them out. Every other labelled drug is the SUBJECT.

The decision, per drug, from where and how it is named (the rules are in docs/drug_role.md):
  1. MeSH, when the article is indexed: the drug's heading as a major topic, or with a qualifier
     of research on the drug (therapeutic use, pharmacology, adverse effects, ...) → subject;
     with "administration & dosage" only, beside an Anesthesia/Anesthetics heading, in an
     animal study → mention; a bare heading (no qualifier, not major) → a mention signal.
  2. Text: the drug in the title, the objective/aims or the conclusions, or as a drug-induced
     model ("ketamine-induced hyperlocomotion", "deficits induced by MDMA") → subject; unless
     the sentence is anaesthesia/sedation for a procedure ("anesthetized with ketamine (80 mg/kg)
     and xylazine", "under ketamine anaesthesia", "ketamine-anesthetized dogs"), a list
     ("such as cocaine, ecstasy and ketamine"), both arms alike ("in both groups") or background.
  3. Any other sentence naming the drug (a result, an arm) → subject. With no sentence left,
     any mention signal → mention; with no evidence either way → subject.

Pure and regex-only: every pattern is compiled once at import; a drug's names come from the
catalogue's own matching rule, replaced by a marker before the context patterns run.
"""
from __future__ import annotations

import re
from typing import Any

from extract.catalogue import Catalogue, Drug, fold_case

DRUG_ROLE_VERSION = "1"

SUBJECT = "subject"
MENTION = "mention"

_MARK = "\u00a7"  # stands for the drug's name once its names are replaced
_D = _MARK
_SEP = r"[\s\-\u2010\u2011\u2013\u2014/+]"  # between the name and a partner drug or participle
_ANAES = r"an(?:a)?esthe"
_NEAR = r"[^.;]{0,60}?"

# Anaesthesia or sedation for a procedure: the drug is the means, not the matter.
_PROCEDURE = re.compile("|".join([
    # anesthetized / sedated / immobilized ... with ketamine
    rf"\b(?:{_ANAES}ti[sz]ed|sedated|immobili[sz]ed|premedicated|tranquili[sz]ed|narcoti[sz]ed|"
    rf"restrained|anaesthetised|euthani[sz]ed)\b{_NEAR}\b(?:with|by|using|via)\b{_NEAR}{_D}",
    rf"\b{_ANAES}ti[sz]ed\s*\(\s*{_D}",  # deeply anesthetized (ketamine 100 mg/kg; ...)
    rf"\b{_ANAES}sia\s*\(\s*{_D}",  # general anaesthesia (ketamine 75 mg/kg, ...)
    rf"\b(?:{_ANAES}sia|sedation|premedication)\s+(?:was|were)\s+(?:induced|achieved|provided|"
    rf"obtained|performed|maintained|given)\s+(?:with|by|using){_NEAR}{_D}",
    # under / during / from ketamine(-xylazine) anaesthesia
    rf"\b(?:under|during|following|after|from|with)\b[^.;]{{0,40}}?{_D}[^.;]{{0,30}}?\b(?:{_ANAES}s|sedation)",
    rf"{_D}(?:{_SEP}+\w+)?{_SEP}*{_ANAES}ti[sz]ed",  # ketamine-anesthetized, ketamine/xylazine-anesthetized
    # the classic combinations of an anaesthetic induction
    rf"{_D}[^.;]{{0,40}}?\b(?:xylazine|medetomidine|dexmedetomidine|azaperone|acepromazine|detomidine|romifidine)\b",
    rf"\b(?:xylazine|medetomidine|dexmedetomidine|azaperone|acepromazine|detomidine|romifidine)\b[^.;]{{0,20}}?{_D}",
]), re.IGNORECASE)

# Every _PROCEDURE alternative holds one of these words, whatever the case. The pattern is tried
# at every position of a sentence, so a sentence whose case-folded text (`fold_case`: also the
# characters IGNORECASE pairs with an ASCII letter) holds none of them is not searched.
_PROCEDURE_HINTS = ("esthe", "sedat", "immobili", "premedicat", "tranquili", "narcoti", "restrained",
                    "euthani", "xylazine", "detomidine", "azaperone", "acepromazine", "romifidine")


def _is_procedure(marked: str) -> bool:
    """`_PROCEDURE.search(marked)`, skipped where it cannot match."""
    folded = fold_case(marked)
    return any(hint in folded for hint in _PROCEDURE_HINTS) and _PROCEDURE.search(marked) is not None


# The drug as a noun modifier of anaesthesia/sedation ("ketamine premedication was given"):
# procedural in the body of an abstract, but the topic itself when it heads a title.
_PROCEDURE_NOUN = re.compile(rf"{_D}\s+(?:{_ANAES}sia|sedation|premedication|induction)\b", re.IGNORECASE)

# All arms alike: the drug is part of the common background of a comparison.
_ALL_ARMS = re.compile(
    rf"\b(?:both|all|each|every)\s+(?:the\s+)?(?:groups?|arms?|patients|animals|subjects|participants|"
    rf"children|rats|mice|dogs|cats|pigs|horses|cases)\b{_NEAR}{_D}"
    rf"|{_D}{_NEAR}\b(?:in|to|for)\s+(?:both|all|each|every)\s+(?:the\s+)?(?:groups?|arms?|patients|"
    rf"animals|subjects|participants|children|rats|mice|cases)\b",
    re.IGNORECASE)

# A name in a list of other drugs.
_LIST = re.compile(
    rf"\b(?:such\s+as|includ(?:ing|ed|es)|e\.\s?g\.|other\s+(?:drugs|substances|agents)|"
    rf"following\s+(?:drugs|substances|agents)[^.;:]{{0,30}}:)[^.;]{{0,80}}?{_D}",
    re.IGNORECASE)

# A drug-induced model or exposure whose effect is studied: the drug is the subject.
_MODEL = re.compile(
    rf"{_D}{_SEP}*(?:induced|evoked|elicited|associated|related|treated|exposed|dependent|"
    rf"withdrawal|self{_SEP}administration|use|users|abuse|abusers|intoxication|poisoning)\b"
    rf"|\b(?:induced|evoked|elicited|caused|produced|provoked)\s+by\s+(?:\w+\s+){{0,3}}?{_D}",
    re.IGNORECASE)

# Sentences of an unstructured abstract that state the aim, or the conclusion.
_AIM_SENTENCE = re.compile(
    r"\b(?:aims?|aimed|objectives?|purpose|goal)\b|\b(?:we|this\s+study|the\s+present\s+study)\s+"
    r"(?:investigated|examined|evaluated|assessed|compared|studied|tested|explored|sought)\b",
    re.IGNORECASE)
_CONCLUSION_SENTENCE = re.compile(
    r"^(?:in\s+conclusion|in\s+summary|we\s+conclude|these\s+(?:results|findings|data)\s+"
    r"(?:suggest|indicate|show|demonstrate))", re.IGNORECASE)

_OBJECTIVE_SECTION = re.compile(r"^(?:objectives?|aims?|purposes?|goals?|aims?\s+and\s+objectives?)\b", re.IGNORECASE)
_CONCLUSION_SECTION = re.compile(r"^(?:conclusions?|interpretation|implications)\b", re.IGNORECASE)
_BACKGROUND_SECTION = re.compile(r"^(?:background|introduction|context|rationale)\b", re.IGNORECASE)

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z(\[\d])")

# MeSH qualifiers under which the indexer says the article is research on the drug.
_SUBJECT_QUALIFIERS = frozenset(q.lower() for q in (
    "therapeutic use", "pharmacology", "adverse effects", "toxicity", "poisoning",
    "pharmacokinetics", "metabolism", "blood", "urine", "cerebrospinal fluid", "analysis",
    "antagonists & inhibitors", "analogs & derivatives", "chemistry", "chemical synthesis",
    "isolation & purification", "agonists", "diagnostic use", "economics", "supply & distribution",
    "standards", "history", "contraindications", "physiology",
))
_DOSAGE = "administration & dosage"
_ANAESTHESIA_HEADING = re.compile(r"^(?:anesthesia|anesthetics)\b", re.IGNORECASE)


def mentioned_drugs(record: dict[str, Any], drugs: list[str], catalogue: Catalogue) -> list[str]:
    """Of `drugs` (the keys labelled on a PubMed record), those only mentioned in passing, in
    the order given; the rest are the article's subject."""
    by_key = {drug.key: drug for drug in catalogue.drugs}
    return [key for key in drugs if key in by_key and drug_role(record, by_key[key], catalogue) == MENTION]


def drug_role(record: dict[str, Any], drug: Drug, catalogue: Catalogue) -> str:
    """'subject' or 'mention' for one labelled drug of a record."""
    mesh_role = _mesh_role(record, drug)
    if mesh_role == SUBJECT:
        return SUBJECT
    pattern = catalogue.name_pattern(drug.key)
    names = catalogue.names_drug
    title = record.get("title") or ""
    named_in_title = names(drug.key, title)
    if named_in_title:
        marked = pattern.sub(_MARK, title)
        if not _is_procedure(marked) and not _ALL_ARMS.search(marked):
            return SUBJECT
    keywords = " ; ".join(record.get("keywords") or [])
    if keywords and names(drug.key, keywords):
        return SUBJECT
    mention = mesh_role == MENTION or named_in_title
    sentences = _sentences(record) if names(drug.key, record.get("abstract") or "") else ()
    for section_kind, sentence in sentences:
        if not names(drug.key, sentence):
            continue
        kind = section_kind or _sentence_kind(sentence)
        marked = pattern.sub(_MARK, sentence)
        if _MODEL.search(marked):
            return SUBJECT
        if _is_procedure(marked):
            mention = True
        elif kind in ("objective", "conclusion"):
            return SUBJECT
        elif (_PROCEDURE_NOUN.search(marked) or _ALL_ARMS.search(marked) or _LIST.search(marked)
              or kind == "background"):
            mention = True
        else:
            return SUBJECT  # named in a result, an arm, a finding
    if mention:
        return MENTION
    return SUBJECT


def _mesh_role(record: dict[str, Any], drug: Drug) -> str | None:
    """What the MeSH indexing says: 'subject', 'mention' or None (no heading for the drug)."""
    headings = record.get("mesh_headings") or []
    names = {name.lower() for name in drug.mesh + drug.mesh_only}
    own = [h for h in headings if (h.get("name") or "").lower() in names]
    if not own:
        return None
    qualifiers = set()
    for heading in own:
        if heading.get("major"):
            return SUBJECT
        for qualifier in heading.get("qualifiers") or []:
            if qualifier.get("major"):
                return SUBJECT
            qualifiers.add((qualifier.get("name") or "").lower())
    if qualifiers & _SUBJECT_QUALIFIERS:
        return SUBJECT
    others = [h.get("name") or "" for h in headings if h not in own]
    if _DOSAGE in qualifiers:
        anaesthesia = any(_ANAESTHESIA_HEADING.match(name) for name in others)
        animals = any(name == "Animals" for name in others)
        return MENTION if anaesthesia and animals else SUBJECT
    return MENTION if not qualifiers else None


def _sentences(record: dict[str, Any]):
    """(section kind, sentence) for the abstract: the kind 'objective', 'conclusion' or
    'background' from the section label/category, or None (then `_sentence_kind` reads the
    sentence itself: only for the few sentences that name the drug)."""
    sections = record.get("abstract_sections") or []
    if not sections and record.get("abstract"):
        sections = [{"label": None, "category": None, "text": record["abstract"]}]
    for section in sections:
        text = section.get("text") or ""
        kind = _section_kind(section.get("category") or "") or _section_kind(section.get("label") or "")
        for sentence in _SENTENCE_END.split(text):
            yield kind, sentence


def _sentence_kind(sentence: str) -> str:
    """'objective', 'conclusion' or 'body', from how a sentence outside a labelled section reads."""
    if _AIM_SENTENCE.search(sentence):
        return "objective"
    if _CONCLUSION_SENTENCE.search(sentence):
        return "conclusion"
    return "body"


def _section_kind(name: str) -> str | None:
    name = name.strip()
    if _OBJECTIVE_SECTION.match(name):
        return "objective"
    if _CONCLUSION_SECTION.match(name):
        return "conclusion"
    if _BACKGROUND_SECTION.match(name):
        return "background"
    return None
