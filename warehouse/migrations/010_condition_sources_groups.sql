-- trialwatch warehouse, version 10: where each record condition comes from (the record's own
-- indexing or the text tagger), the condition hierarchy, and conditions by group.

ALTER TABLE record_conditions ADD COLUMN source VARCHAR[];
UPDATE record_conditions SET source = ['text'];   -- every row so far came from the text tagger

-- Filled from the shipped lexicon and MeSH groups by warehouse/conditions.py whenever they change.
CREATE TABLE condition_concepts (
    mesh_id               VARCHAR NOT NULL,
    concept               VARCHAR NOT NULL,
    category              VARCHAR NOT NULL,
    condition_group       VARCHAR NOT NULL,
    condition_group_label VARCHAR NOT NULL,
    parent_mesh_id        VARCHAR,
    in_lexicon            BOOLEAN NOT NULL,
    definition_sha256     VARCHAR NOT NULL,
    PRIMARY KEY (mesh_id, condition_group)
);

CREATE VIEW v_record_condition_groups AS
WITH RECURSIVE concepts AS (
    SELECT mesh_id, any_value(concept) AS concept, any_value(parent_mesh_id) AS parent_mesh_id
    FROM condition_concepts GROUP BY mesh_id
), lineage(mesh_id, broader_mesh_id, levels_up) AS (
    SELECT mesh_id, mesh_id, 0 FROM concepts
    UNION ALL
    SELECT l.mesh_id, c.parent_mesh_id, l.levels_up + 1
    FROM lineage l JOIN concepts c ON c.mesh_id = l.broader_mesh_id
    WHERE c.parent_mesh_id IS NOT NULL AND l.levels_up < 12
), live AS (
    SELECT 'article' AS record_kind, CAST(pmid AS VARCHAR) AS record_id FROM live_articles
    UNION ALL SELECT 'trial', nct_id FROM live_trials
)
SELECT rc.record_kind, rc.record_id,
       coalesce(g.condition_group, rc.category) AS condition_group,
       coalesce(g.condition_group_label, rc.category) AS condition_group_label,
       rc.mesh_id, rc.concept, rc.source,
       coalesce(l.broader_mesh_id, rc.mesh_id) AS broader_mesh_id,
       coalesce(b.concept, l.broader_mesh_id, rc.concept) AS broader_concept,
       coalesce(l.levels_up, 0) AS levels_up
FROM record_conditions rc
JOIN live USING (record_kind, record_id)
LEFT JOIN condition_concepts g ON g.mesh_id = rc.mesh_id
LEFT JOIN lineage l ON l.mesh_id = rc.mesh_id
LEFT JOIN concepts b ON b.mesh_id = l.broader_mesh_id;

COMMENT ON COLUMN record_conditions.source IS 'Where the condition comes from, sorted: mesh (the article''s NLM MeSH headings), registry (the trial''s ClinicalTrials.gov conditionBrowse meshes), text (the text tagger; its own rows are those containing text). Indexing that arrives later is merged in the next time the record is fetched.';

COMMENT ON TABLE condition_concepts IS 'The condition vocabulary: every lexicon concept (extract/conditions.toml) and every MeSH descriptor with a condition group (extract/mesh_groups.tsv, from NLM''s MeSH tree), one row per concept and group, with its broader concept. Rewritten by trialwatch when those files change.';
COMMENT ON COLUMN condition_concepts.mesh_id IS 'MeSH descriptor UI.';
COMMENT ON COLUMN condition_concepts.concept IS 'MeSH heading.';
COMMENT ON COLUMN condition_concepts.category IS 'Lexicon category (see condition_tags.category).';
COMMENT ON COLUMN condition_concepts.condition_group IS 'Condition group: depressive, bipolar, anxiety, ocd, trauma, substance use, psychotic, suicidality, eating, neurodevelopmental, sleep, pain (MeSH tree branches); lexicon concepts outside them take their category (mood, neurological, other). A descriptor in two branches has two rows.';
COMMENT ON COLUMN condition_concepts.condition_group_label IS 'The group as researchers read it, e.g. Depressive disorders, Trauma and PTSD.';
COMMENT ON COLUMN condition_concepts.parent_mesh_id IS 'The broader concept (lexicon parent), e.g. Depressive Disorder, Major for treatment-resistant depression; NULL at the top.';
COMMENT ON COLUMN condition_concepts.in_lexicon IS 'The text tagger looks for this concept (false: known from MeSH indexing only).';
COMMENT ON COLUMN condition_concepts.definition_sha256 IS 'sha256 of the lexicon and MeSH-groups files the rows were built from.';

COMMENT ON VIEW v_record_condition_groups IS 'Every condition of every live record with its group and each of its broader concepts (levels_up 0 = the condition itself): filter by condition_group, or by broader_mesh_id to include every narrower concept (broader_concept = ''Depression'' finds major depression and treatment-resistant depression too).';
