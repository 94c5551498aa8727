-- Upsert one validated batch of articles (registered as `batch`) inside the caller's transaction.
-- `staged` keeps only new or changed rows; unchanged re-fetches touch nothing.
CREATE OR REPLACE TEMP TABLE staged AS
SELECT b.*, a.pmid IS NULL AS is_new,
       coalesce(a.first_seen_at, $now) AS first_seen_at,
       coalesce(a.first_run_id, $run_id) AS first_run_id
FROM batch b LEFT JOIN articles a USING (pmid)
WHERE a.content_hash IS DISTINCT FROM b.content_hash;

DELETE FROM articles WHERE pmid IN (SELECT pmid FROM staged WHERE NOT is_new);

INSERT INTO articles BY NAME
SELECT * EXCLUDE (is_new, drugs, mentioned_drugs, nct_links, comments_corrections, grants),
       $now AS updated_at, $run_id AS last_run_id
FROM staged;

DELETE FROM record_drugs
WHERE record_kind = 'article' AND record_id IN (SELECT CAST(pmid AS VARCHAR) FROM staged);

INSERT INTO record_drugs (record_kind, record_id, drug, role)
SELECT DISTINCT 'article', CAST(pmid AS VARCHAR), drug,
       CASE WHEN list_contains(mentioned_drugs, drug) THEN 'mention' ELSE 'subject' END
FROM (SELECT pmid, unnest(drugs) AS drug, mentioned_drugs FROM staged);

-- Links: keep the ones that still hold (with when they were first seen), drop the rest, add new.
CREATE OR REPLACE TEMP TABLE staged_links AS
SELECT DISTINCT pmid, link.nct_id AS nct_id, link.evidence AS evidence
FROM (SELECT pmid, unnest(nct_links) AS link FROM staged);

DELETE FROM article_trials
WHERE evidence IN ('databank', 'abstract') AND pmid IN (SELECT pmid FROM staged)
  AND (pmid, nct_id, evidence) NOT IN (SELECT (pmid, nct_id, evidence) FROM staged_links);

INSERT OR IGNORE INTO article_trials
SELECT pmid, nct_id, evidence, $now, $run_id FROM staged_links;

-- Comments/corrections and grants belong to their paper: a changed paper's rows are replaced.
DELETE FROM comments_corrections WHERE pmid IN (SELECT pmid FROM staged);

INSERT INTO comments_corrections (pmid, ref_type, ref_pmid, ref_source)
SELECT pmid, link.ref_type, link.ref_pmid, link.ref_source
FROM (SELECT pmid, unnest(comments_corrections) AS link FROM staged);

DELETE FROM grants WHERE pmid IN (SELECT pmid FROM staged);

INSERT INTO grants (pmid, grant_id, acronym, agency, country)
SELECT pmid, g.grant_id, g.acronym, g.agency, g.country
FROM (SELECT pmid, unnest(grants) AS g FROM staged);
