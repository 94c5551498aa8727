-- Upsert one validated batch of trials (registered as `batch`) inside the caller's transaction.
CREATE OR REPLACE TEMP TABLE staged AS
SELECT b.*, t.nct_id IS NULL AS is_new,
       coalesce(t.first_seen_at, $now) AS first_seen_at,
       coalesce(t.first_run_id, $run_id) AS first_run_id
FROM batch b LEFT JOIN trials t USING (nct_id)
WHERE t.content_hash IS DISTINCT FROM b.content_hash;

DELETE FROM trials WHERE nct_id IN (SELECT nct_id FROM staged WHERE NOT is_new);

INSERT INTO trials BY NAME
SELECT * EXCLUDE (is_new, drugs), $now AS updated_at, $run_id AS last_run_id FROM staged;

DELETE FROM record_drugs
WHERE record_kind = 'trial' AND record_id IN (SELECT nct_id FROM staged);

INSERT INTO record_drugs
SELECT DISTINCT 'trial', nct_id, unnest(drugs) FROM staged;

DELETE FROM article_trials
WHERE evidence = 'ctgov_reference' AND nct_id IN (SELECT nct_id FROM staged);

INSERT INTO article_trials
SELECT DISTINCT TRY_CAST(ref.pmid AS BIGINT) AS pmid, nct_id, 'ctgov_reference', $now, $run_id
FROM (SELECT nct_id, unnest("references") AS ref FROM staged)
WHERE TRY_CAST(ref.pmid AS BIGINT) IS NOT NULL;
