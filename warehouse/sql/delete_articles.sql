-- Remove articles PubMed deleted (DeleteCitation), with their drug labels, tags, own links,
-- comments/corrections and grants.
CREATE OR REPLACE TEMP TABLE doomed AS
SELECT DISTINCT CAST(pmid AS BIGINT) AS pmid FROM deleted WHERE TRY_CAST(pmid AS BIGINT) IS NOT NULL;
DELETE FROM record_drugs WHERE record_kind = 'article' AND record_id IN (SELECT CAST(pmid AS VARCHAR) FROM doomed);
DELETE FROM article_trials WHERE evidence IN ('databank', 'abstract') AND pmid IN (SELECT pmid FROM doomed);
DELETE FROM condition_tags WHERE record_kind = 'article' AND record_id IN (SELECT CAST(pmid AS VARCHAR) FROM doomed);
DELETE FROM record_conditions WHERE record_kind = 'article' AND record_id IN (SELECT CAST(pmid AS VARCHAR) FROM doomed);
DELETE FROM record_tagging WHERE record_kind = 'article' AND record_id IN (SELECT CAST(pmid AS VARCHAR) FROM doomed);
DELETE FROM comments_corrections WHERE pmid IN (SELECT pmid FROM doomed);
DELETE FROM grants WHERE pmid IN (SELECT pmid FROM doomed);
DELETE FROM articles WHERE pmid IN (SELECT pmid FROM doomed);
