"""Condition groups: the level researchers filter at (depressive disorders, trauma and PTSD, …).

A MeSH descriptor's group comes from its tree branch (`extract/mesh_groups.tsv`, built by
`extract.mesh.build_mesh_groups`); a lexicon concept outside those branches takes its
lexicon category (mood, neurological, other). Pure data: imported where spaCy is not wanted.
"""
from __future__ import annotations

# Group → label, in the order researchers read them (filters, heatmaps, digest).
GROUP_LABELS = {
    "depressive": "Depressive disorders", "bipolar": "Bipolar disorders", "anxiety": "Anxiety disorders",
    "ocd": "Obsessive-compulsive disorders", "trauma": "Trauma and PTSD", "substance use": "Substance use",
    "psychotic": "Psychotic disorders", "suicidality": "Suicidality and self-harm", "eating": "Eating disorders",
    "neurodevelopmental": "Neurodevelopmental disorders", "sleep": "Sleep disorders", "pain": "Pain",
    "mood": "Mood (other)", "neurological": "Neurological", "other": "Other conditions",
}
# The lexicon category of a descriptor known only by its MeSH group.
GROUP_CATEGORY = {
    "depressive": "mood", "bipolar": "mood", "suicidality": "mood", "anxiety": "anxiety", "ocd": "anxiety",
    "trauma": "trauma", "psychotic": "psychotic", "substance use": "substance use", "pain": "pain",
    "eating": "eating", "sleep": "sleep", "neurodevelopmental": "neurodevelopmental",
}


def group_label(group: str) -> str:
    return GROUP_LABELS.get(group, group)
