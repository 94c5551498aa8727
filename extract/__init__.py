"""Talking to PubMed and ClinicalTrials.gov: HTTP clients that yield raw pages, pure parsers
that turn pages into records, the drug catalogue, and the raw-page archive."""
