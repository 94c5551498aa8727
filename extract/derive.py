"""What trialwatch derives about a paper from its own fields: its study design and which labelled
drugs it only mentions. One place, so ingestion (flows/prepare.py) and `trialwatch retag` (which
re-derives stored papers after a rule change) apply the same rules, stamped with one version."""
from __future__ import annotations

from typing import Any

from extract.catalogue import Catalogue
from extract.drug_role import DRUG_ROLE_VERSION, mentioned_drugs
from extract.study_design import STUDY_DESIGN_VERSION, study_design

DERIVATION_VERSION = f"design {STUDY_DESIGN_VERSION}; role {DRUG_ROLE_VERSION}"


def derive_article(record: dict[str, Any], catalogue: Catalogue) -> None:
    """Set study_design, study_design_source, mentioned_drugs and derivation_version on a parsed
    article whose `drugs` are labelled."""
    record["study_design"], record["study_design_source"] = study_design(record)
    record["mentioned_drugs"] = mentioned_drugs(record, record.get("drugs") or [], catalogue)
    record["derivation_version"] = DERIVATION_VERSION
