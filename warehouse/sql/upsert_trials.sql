-- Upsert one validated batch of trials (registered as `batch`) inside the caller's transaction.
CREATE OR REPLACE TEMP TABLE staged AS
SELECT b.*, t.nct_id IS NULL AS is_new,
       coalesce(t.first_seen_at, $now) AS first_seen_at,
       coalesce(t.first_run_id, $run_id) AS first_run_id
FROM batch b LEFT JOIN trials t USING (nct_id)
WHERE t.content_hash IS DISTINCT FROM b.content_hash;

-- History first, in the same transaction: one row per tracked field that changed.
INSERT INTO trial_history
SELECT s.nct_id, change.field, change.old_value, change.new_value, $now, $run_id
FROM staged s JOIN trials t USING (nct_id),
LATERAL (VALUES
    ('overall_status', t.overall_status, s.overall_status),
    ('phases', array_to_string(t.phases, '/'), array_to_string(s.phases, '/')),
    ('enrollment_count', CAST(t.enrollment_count AS VARCHAR), CAST(s.enrollment_count AS VARCHAR)),
    ('enrollment_type', t.enrollment_type, s.enrollment_type),
    ('start_date', partial_date(t.start_date, t.start_date_precision), partial_date(s.start_date, s.start_date_precision)),
    ('primary_completion_date', partial_date(t.primary_completion_date, t.primary_completion_date_precision),
                                partial_date(s.primary_completion_date, s.primary_completion_date_precision)),
    ('completion_date', partial_date(t.completion_date, t.completion_date_precision),
                        partial_date(s.completion_date, s.completion_date_precision)),
    ('has_results', CAST(t.has_results AS VARCHAR), CAST(s.has_results AS VARCHAR)),
    ('why_stopped', t.why_stopped, s.why_stopped),
    ('last_update_posted_date', partial_date(t.last_update_posted_date, t.last_update_posted_date_precision),
                                partial_date(s.last_update_posted_date, s.last_update_posted_date_precision))
) AS change(field, old_value, new_value)
WHERE NOT s.is_new AND change.old_value IS DISTINCT FROM change.new_value;

DELETE FROM trials WHERE nct_id IN (SELECT nct_id FROM staged WHERE NOT is_new);

INSERT INTO trials BY NAME
SELECT * EXCLUDE (is_new, drugs), $now AS updated_at, $run_id AS last_run_id FROM staged;

DELETE FROM record_drugs
WHERE record_kind = 'trial' AND record_id IN (SELECT nct_id FROM staged);

-- A trial found by the intervention query is about its drugs: role subject.
INSERT INTO record_drugs (record_kind, record_id, drug, role)
SELECT DISTINCT 'trial', nct_id, unnest(drugs), 'subject' FROM staged;

-- Links from the registry's references: keep those that still hold, drop the rest, add new.
CREATE OR REPLACE TEMP TABLE staged_links AS
SELECT DISTINCT TRY_CAST(ref.pmid AS BIGINT) AS pmid, nct_id, 'ctgov_reference' AS evidence
FROM (SELECT nct_id, unnest("references") AS ref FROM staged)
WHERE TRY_CAST(ref.pmid AS BIGINT) IS NOT NULL;

DELETE FROM article_trials
WHERE evidence = 'ctgov_reference' AND nct_id IN (SELECT nct_id FROM staged)
  AND (pmid, nct_id, evidence) NOT IN (SELECT (pmid, nct_id, evidence) FROM staged_links);

INSERT OR IGNORE INTO article_trials
SELECT pmid, nct_id, evidence, $now, $run_id FROM staged_links;
