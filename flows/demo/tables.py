"""The demo sample's vocabulary as typed tables, loaded once from the TOML files in
``flows/demo/vocabulary/``: drugs and their variants, conditions, journals and abstract styles,
sponsors and sites, names, MeSH indexing, title templates and stock sentences, the papers that
only mention a drug, and the registry's words for stopped studies and posted results.

Every list keeps the order of its file, and the generator's random choices index these tables:
the same files give the same sample, byte for byte, and reordering an entry changes it.
"""
from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass
from importlib.resources import files


def _load(name: str) -> dict:
    return tomllib.loads((files("flows.demo") / "vocabulary" / name).read_text(encoding="utf-8"))


def _frozen(value):
    """TOML arrays as tuples (all the way down); tables stay dicts, in file order."""
    if isinstance(value, list):
        return tuple(_frozen(item) for item in value)
    if isinstance(value, dict):
        return {key: _frozen(item) for key, item in value.items()}
    return value


def _record(cls, table: dict, **given):
    """A ``cls`` from a TOML table; ``given`` overrides fields (resolved references). A field left
    out takes its default, or None if its type allows it."""
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(table) - set(fields))
    if unknown:
        raise ValueError(f"{cls.__name__}: unknown field(s) {', '.join(unknown)} in {table}")
    values = {}
    for name, f in fields.items():
        if name in given:
            values[name] = given[name]
        elif name in table:
            values[name] = _frozen(table[name])
        elif f.default is dataclasses.MISSING:
            if "None" not in f.type:
                raise ValueError(f"{cls.__name__}: no {name} in {table}")
            values[name] = None
    return cls(**values)


@dataclass(frozen=True)
class Comparator:
    phrase: str  # as written in an abstract
    ct_name: str  # CT.gov intervention name
    ct_type: str  # CT.gov intervention type
    arm_type: str  # CT.gov arm group type
    mesh: tuple[str, str] | None = None


@dataclass(frozen=True)
class Variant:
    """One way a drug appears in the literature and the registry."""

    key: str
    drug: str  # ketamine | psilocybin | mdma
    titles: tuple[str, ...]  # as written in article titles (sentence case)
    fulls: tuple[str, ...]  # first mention in an abstract
    short: str  # later mentions
    ct_title: str  # as written in CT.gov titles (title case)
    intervention: str  # CT.gov intervention name
    other_names: tuple[str, ...]
    dose: str
    route: str  # intravenous | intranasal | oral
    assisted: bool  # given with psychotherapy / psychological support
    comparators: tuple[Comparator, ...]
    weight: int
    designs: tuple[str, ...] | None = None  # None: any design; trials need "rct"
    timepoints: tuple[str, ...] = ("week 6",)


@dataclass(frozen=True)
class Condition:
    key: str
    name: str  # in article text
    title: str  # in CT.gov titles
    abbr: str | None
    populations: tuple[str, ...]
    ct_conditions: tuple[str, ...]
    mesh: tuple[tuple[str, str], ...]  # MeSH descriptors (indexing and CT.gov condition browse)
    scale: str
    scale_abbr: str
    outcome: str  # score | percent | abstinence
    symptom: str
    drugs: tuple[tuple[str, int], ...]
    topic: str = "psych"  # psych | pain | addiction
    animal: tuple[str, tuple[tuple[str, str], ...]] | None = None  # preclinical model


@dataclass(frozen=True)
class Journal:
    title: str
    iso: str
    issn: str  # electronic ISSN
    issn_linking: str
    nlm_id: str
    country: str
    electronic_only: bool
    medline: bool
    style: str  # abstract style: jama lancet nejm imrad objective rationale none
    doi: str  # DOI pattern; sample._publication fills it in
    volume_2021: int
    volumes_per_year: int
    issue: str  # month | week | none
    designs: tuple[str, ...]
    weight: int
    topics: tuple[str, ...] | None = None
    elsevier: bool = False


@dataclass(frozen=True)
class Species:
    species: str  # as written in a methods section
    animals: str  # as written in a title
    mesh: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class MentionPaper:
    """A paper about something else that only mentions a catalogue drug (mentions.toml)."""

    journal: str  # design key of the journals that publish it
    title: str
    background: str
    methods: str
    results: str
    conclusion: str
    mesh: tuple[tuple[str, str], ...]  # the first is the major topic
    keywords: tuple[str, ...]
    drug_mesh: str  # dosage | bare | none
    choices: dict[str, tuple[str, ...]]
    mention: str | None = None  # None: one of ANAESTHESIA
    publication_types: tuple[str, ...] = ()
    animal: bool = False


@dataclass(frozen=True)
class Site:
    facility: str
    affiliation: str  # as written in PubMed affiliations
    sponsor: str  # as a CT.gov lead sponsor (OTHER)
    city: str
    state: str | None
    zip: str | None
    country: str  # CT.gov country name
    country_short: str  # as written in PubMed affiliations
    lat: float
    lon: float
    va: bool = False


# drugs.toml ----------------------------------------------------------------------------------

_drugs = _load("drugs.toml")
CLINICAL = _frozen(_drugs["clinical_designs"])
COMPARATORS = {key: _record(Comparator, table) for key, table in _drugs["comparators"].items()}
VARIANTS = tuple(
    _record(Variant, table,
            comparators=tuple(COMPARATORS[key] for key in table["comparators"]),
            **({"designs": CLINICAL} if table.get("designs") == "clinical" else {}))
    for table in _drugs["variants"]
)
DRUG_MESH = _frozen(_drugs["drug_mesh"])
DRUG_CLASS_MESH = _frozen(_drugs["drug_class_mesh"])
MECHANISM = _frozen(_drugs["mechanism"])
ADVERSE_EVENTS = _frozen(_drugs["adverse_events"])
DRUG_KEYWORDS = _frozen(_drugs["drug_keywords"])
PRECLINICAL_MESH = _frozen(_drugs["preclinical_mesh"])
PRECLINICAL_MECH = _frozen(_drugs["preclinical_mech"])
PRECLINICAL_TARGET = _frozen(_drugs["preclinical_target"])
PRECLINICAL_DOSE = _frozen(_drugs["preclinical_dose"])
CASE_EVENTS = _frozen(_drugs["case_events"])

# conditions.toml -----------------------------------------------------------------------------

_conditions = _load("conditions.toml")
CONDITIONS = tuple(
    _record(Condition, table,
            drugs=tuple(table["drugs"].items()),
            **({"animal": (table["animal"]["phenotype"], _frozen(table["animal"]["mesh"]))}
               if "animal" in table else {}))
    for table in _conditions["conditions"]
)
CONDITION_KEYWORDS = _frozen(_conditions["condition_keywords"])
ACRONYM_SUFFIX = _frozen(_conditions["acronym_suffix"])
ELIGIBILITY_EXCLUSIONS = tuple((row["text"], _frozen(row["except_for"]))
                               for row in _conditions["eligibility_exclusions"])

# indexing.toml -------------------------------------------------------------------------------

_indexing = _load("indexing.toml")
HUMANS = _frozen(_indexing["humans"])
AGE_MESH = _frozen(_indexing["age_mesh"])
DESIGN_MESH = _frozen(_indexing["design_mesh"])
ROUTE_MESH = _frozen(_indexing["route_mesh"])
QUALIFIERS = _frozen(_indexing["qualifiers"])
PUBLICATION_TYPES = _frozen(_indexing["publication_types"])
DESIGN_PUBLICATION_TYPES = _frozen(_indexing["design_publication_types"])
ANIMAL_SPECIES = tuple(_record(Species, table) for table in _indexing["animal_species"])

# journals.toml -------------------------------------------------------------------------------

_journals = _load("journals.toml")
JOURNALS = tuple(_record(Journal, table) for table in _journals["journals"])
STYLE_LABELS = {  # abstract style → (label, NlmCategory, roles) per section
    style: tuple((s["label"], s["category"], _frozen(s["roles"])) for s in sections)
    for style, sections in _journals["style_labels"].items()
}
UNSTRUCTURED_ROLES = _frozen(_journals["unstructured_roles"])
REGISTRATION_TEXT = _frozen(_journals["registration_text"])

# phrases.toml --------------------------------------------------------------------------------

_phrases = _load("phrases.toml")
TITLES = _frozen(_phrases["titles"])
GAPS = _frozen(_phrases["gaps"])
BURDEN = _frozen(_phrases["burden"])
NEGATIONS = _frozen(_phrases["negations"])
RETRACTION_TITLES = _frozen(_phrases["retraction_titles"])

# mentions.toml -------------------------------------------------------------------------------

_mentions = _load("mentions.toml")
ANAESTHESIA = _frozen(_mentions["anaesthesia"])
MENTION_INDEXED_DRUG = _mentions["indexed_drug"]
MENTION_PAPERS = tuple(_record(MentionPaper, table) for table in _mentions["papers"])

# sites.toml ----------------------------------------------------------------------------------

_sites = _load("sites.toml")
SPONSOR_BY_VARIANT = {  # industry or foundation sponsors: variant → (share, name, class)
    key: (row["share"], row["name"], row["class"]) for key, row in _sites["sponsor_by_variant"].items()
}
NIH_INSTITUTES = {key: (row["name"], row["code"], row["agency"])
                  for key, row in _sites["nih_institutes"].items()}
VA_SPONSOR = (_sites["va_sponsor"]["name"], _sites["va_sponsor"]["class"])
FOUNDATIONS = _frozen(_sites["foundations"])
SITES = tuple(_record(Site, table) for table in _sites["sites"])
SPONSOR_SITES = tuple(i for i, s in enumerate(SITES) if not s.va)
INDUSTRY_SITES = tuple(i for i in SPONSOR_SITES if not SITES[i].sponsor.startswith("National"))
VA_SITES = tuple(i for i, s in enumerate(SITES) if s.va)

# names.toml ----------------------------------------------------------------------------------

_names = _load("names.toml")
LAST_NAMES = _frozen(_names["last_names"])
FIRST_NAMES = _frozen(_names["first_names"])
COLLECTIVE_NAMES = _frozen(_names["collective_names"])

# registry.toml -------------------------------------------------------------------------------

_registry = _load("registry.toml")
WHY_STOPPED = _frozen(_registry["why_stopped"])
# Posted results: adverse events as (term, MedDRA organ system, share affected on each drug,
# share on the comparator); other events are listed above the 5% threshold, as on the registry.
OTHER_EVENTS = tuple((row["term"], row["organ_system"], row["shares"], row["comparator_share"])
                     for row in _registry["other_events"])
SERIOUS_EVENTS = tuple((row["term"], row["organ_system"]) for row in _registry["serious_events"])
DROP_REASONS = _frozen(_registry["drop_reasons"])
