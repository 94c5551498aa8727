-- trialwatch warehouse, version 4: condition tags from the spaCy tagger (extract/tagger.py).

CREATE TABLE condition_tags (
    record_kind    VARCHAR NOT NULL CHECK (record_kind IN ('article', 'trial')),
    record_id      VARCHAR NOT NULL,
    mesh_id        VARCHAR NOT NULL,
    concept        VARCHAR NOT NULL,
    category       VARCHAR NOT NULL,
    field          VARCHAR NOT NULL,
    start_offset   INTEGER NOT NULL,
    end_offset     INTEGER NOT NULL,
    matched_text   VARCHAR NOT NULL,
    negated        BOOLEAN NOT NULL,
    adverse        BOOLEAN NOT NULL,
    tagger_version VARCHAR NOT NULL
);

CREATE TABLE record_conditions (
    record_kind    VARCHAR NOT NULL CHECK (record_kind IN ('article', 'trial')),
    record_id      VARCHAR NOT NULL,
    mesh_id        VARCHAR NOT NULL,
    concept        VARCHAR NOT NULL,
    category       VARCHAR NOT NULL,
    evidence       VARCHAR NOT NULL,
    tagger_version VARCHAR NOT NULL,
    PRIMARY KEY (record_kind, record_id, mesh_id)
);

CREATE TABLE record_tagging (
    record_kind    VARCHAR NOT NULL,
    record_id      VARCHAR NOT NULL,
    tagger_version VARCHAR NOT NULL,
    tagged_at      TIMESTAMP NOT NULL,
    PRIMARY KEY (record_kind, record_id)
);

COMMENT ON TABLE condition_tags IS 'Every condition mention the tagger found in a record''s text (titles, abstracts, keywords, registered conditions, summaries, eligibility) — never from MeSH indexing.';
COMMENT ON COLUMN condition_tags.record_kind IS 'article or trial.';
COMMENT ON COLUMN condition_tags.record_id IS 'PMID (as text) or NCT id.';
COMMENT ON COLUMN condition_tags.mesh_id IS 'MeSH descriptor UI of the concept (e.g. D061218).';
COMMENT ON COLUMN condition_tags.concept IS 'MeSH heading of the concept.';
COMMENT ON COLUMN condition_tags.category IS 'mood, anxiety, trauma, psychotic, substance use, pain, neurological, eating, sleep, neurodevelopmental or other.';
COMMENT ON COLUMN condition_tags.field IS 'Where: title, abstract:<SECTION>, keywords, conditions, brief_title, official_title, brief_summary, detailed_description, eligibility_criteria.';
COMMENT ON COLUMN condition_tags.start_offset IS 'Character offset of the mention in that field''s text (lists joined with "; ").';
COMMENT ON COLUMN condition_tags.end_offset IS 'Character offset just past the mention.';
COMMENT ON COLUMN condition_tags.matched_text IS 'The text matched.';
COMMENT ON COLUMN condition_tags.negated IS 'Negated or excluded ("without bipolar disorder", "excluding PTSD"): kept, but not counted as what the record is about.';
COMMENT ON COLUMN condition_tags.adverse IS 'In a sentence about side effects or adverse events.';
COMMENT ON COLUMN condition_tags.tagger_version IS 'Tagger version that produced the mention (trialwatch retag updates old ones).';

COMMENT ON TABLE record_conditions IS 'What each record is about: the conditions a researcher filtering by condition should find it under, decided from where and how often each concept is mentioned.';
COMMENT ON COLUMN record_conditions.record_kind IS 'article or trial.';
COMMENT ON COLUMN record_conditions.record_id IS 'PMID (as text) or NCT id.';
COMMENT ON COLUMN record_conditions.mesh_id IS 'MeSH descriptor UI.';
COMMENT ON COLUMN record_conditions.concept IS 'MeSH heading.';
COMMENT ON COLUMN record_conditions.category IS 'Condition category (see condition_tags.category).';
COMMENT ON COLUMN record_conditions.evidence IS 'Where the concept was found, e.g. "title; abstract x3".';
COMMENT ON COLUMN record_conditions.tagger_version IS 'Tagger version that decided it.';

COMMENT ON TABLE record_tagging IS 'Which tagger version last tagged each record (also records with no condition found).';
COMMENT ON COLUMN record_tagging.record_kind IS 'article or trial.';
COMMENT ON COLUMN record_tagging.record_id IS 'PMID (as text) or NCT id.';
COMMENT ON COLUMN record_tagging.tagger_version IS 'extract.tagger.TAGGER_VERSION at the time.';
COMMENT ON COLUMN record_tagging.tagged_at IS 'When (UTC).';
