-- trialwatch warehouse, version 8: comparators and blinding per trial, and outcome switching —
-- registered outcomes that changed between versions trialwatch has seen.

CREATE TABLE outcome_changes (
    nct_id        VARCHAR NOT NULL,
    detected_at   TIMESTAMP NOT NULL,
    outcome_type  VARCHAR NOT NULL,
    change        VARCHAR NOT NULL CHECK (change IN ('added', 'removed', 'reworded')),
    old_measure   VARCHAR,
    new_measure   VARCHAR,
    after_start   BOOLEAN,
    run_id        VARCHAR NOT NULL
);

-- Trials stored before the AACT tables existed get them from their next full fetch or a replay:
-- a changed hash makes `trialwatch ingest --source ctgov --full` store them again.
UPDATE trials SET content_hash = 'stored before the AACT tables (migration 007)';

-- Names that make a comparator arm an active placebo: it mimics the drug's felt effects.
CREATE MACRO is_active_placebo(text) AS
    regexp_matches(lower(coalesce(text, '')),
                   '\b(midazolam|niacin|diphenhydramine|methylphenidate|dextroamphetamine|low[- ]dose psilocybin|active placebo)\b');

CREATE VIEW v_trial_design AS
WITH arms AS (
    SELECT g.nct_id, g.id, g.group_type, g.title, g.description,
           coalesce(list(i.name ORDER BY i.name) FILTER (i.name IS NOT NULL), []) AS intervention_names
    FROM design_groups g
    LEFT JOIN design_group_interventions gi ON gi.nct_id = g.nct_id AND gi.design_group_id = g.id
    LEFT JOIN interventions i ON i.nct_id = gi.nct_id AND i.id = gi.intervention_id
    GROUP BY ALL
), classed AS (
    SELECT nct_id, group_type, title, intervention_names,
           CASE
               WHEN group_type IN ('PLACEBO_COMPARATOR', 'SHAM_COMPARATOR', 'ACTIVE_COMPARATOR')
                    AND (is_active_placebo(title) OR is_active_placebo(description)
                         OR is_active_placebo(array_to_string(intervention_names, ' ')))
                   THEN 1
               WHEN group_type IN ('PLACEBO_COMPARATOR', 'SHAM_COMPARATOR') THEN 2
               WHEN group_type = 'ACTIVE_COMPARATOR' THEN 3
               WHEN group_type = 'NO_INTERVENTION'
                    OR regexp_matches(lower(coalesce(title, '') || ' ' || coalesce(description, '')),
                                      '\b(wait[- ]?list|usual care|treatment as usual|standard of care)\b')
                   THEN 4
           END AS rank
    FROM arms
)
SELECT
    t.nct_id,
    t.brief_title,
    d.allocation,
    d.intervention_model,
    d.primary_purpose,
    d.masking,
    d.subject_masked,
    d.caregiver_masked,
    d.investigator_masked,
    d.outcomes_assessor_masked,
    coalesce((SELECT list(c.group_type ORDER BY c.group_type) FROM classed c WHERE c.nct_id = t.nct_id), []) AS arm_types,
    CASE (SELECT min(c.rank) FROM classed c WHERE c.nct_id = t.nct_id)
        WHEN 1 THEN 'active placebo' WHEN 2 THEN 'placebo' WHEN 3 THEN 'active comparator'
        WHEN 4 THEN 'waitlist/usual care' ELSE 'none' END AS comparator,
    coalesce((SELECT flatten(list(c.intervention_names)) FROM classed c
              WHERE c.nct_id = t.nct_id AND c.rank IS NOT NULL), []) AS comparator_interventions
FROM live_trials t LEFT JOIN designs d USING (nct_id);

CREATE VIEW v_outcome_changes AS
SELECT o.nct_id, t.brief_title, o.detected_at, o.outcome_type, o.change, o.old_measure, o.new_measure,
       o.after_start, o.run_id
FROM outcome_changes o JOIN live_trials t USING (nct_id);

COMMENT ON TABLE outcome_changes IS 'Outcome switching: registered outcome measures (design_outcomes) that changed between two versions of a trial trialwatch stored. One row per outcome added, removed or reworded; a status or enrollment change alone writes none. A trial whose earlier version had no outcome rows stored (before migration 007) is not compared.';
COMMENT ON COLUMN outcome_changes.nct_id IS 'ClinicalTrials.gov identifier.';
COMMENT ON COLUMN outcome_changes.detected_at IS 'When trialwatch stored the new version (UTC).';
COMMENT ON COLUMN outcome_changes.outcome_type IS 'primary, secondary or other (design_outcomes.outcome_type).';
COMMENT ON COLUMN outcome_changes.change IS 'added (a new measure), removed (a measure no longer registered) or reworded (a measure replaced by a close rewording of itself).';
COMMENT ON COLUMN outcome_changes.old_measure IS 'The measure before (NULL when added).';
COMMENT ON COLUMN outcome_changes.new_measure IS 'The measure after (NULL when removed).';
COMMENT ON COLUMN outcome_changes.after_start IS 'The change came after the trial''s start date (the registered start, actual or anticipated): the outcome was changed while the trial ran.';
COMMENT ON COLUMN outcome_changes.run_id IS 'ingest_runs.run_id that stored the new version.';

COMMENT ON VIEW v_trial_design IS 'One row per trial: allocation, masking and who is masked, arm group types, and the comparator class derived from arm types and intervention names: active placebo (midazolam, niacin, diphenhydramine, low-dose psilocybin, …), placebo, active comparator, waitlist/usual care, or none.';
COMMENT ON VIEW v_outcome_changes IS 'outcome_changes with trial titles (trials still in the registry): outcome switching, newest first being the interesting ones.';
