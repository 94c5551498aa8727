-- trialwatch warehouse, version 12: correction, retraction and expression-of-concern notices are
-- their own study design ("notice", study design rules v4), so a retraction notice is not counted
-- as new research on the drug it names; v_article_notices says which paper each one concerns.
-- Stored papers keep their old design until `trialwatch retag` re-derives them (their
-- derivation_version names design 3).

CREATE VIEW v_article_notices AS
SELECT n.pmid, n.title, n.first_seen_at, n.first_run_id,
       CASE c.ref_type WHEN 'RetractionOf' THEN 'retraction' WHEN 'ErratumFor' THEN 'erratum'
                       WHEN 'ExpressionOfConcernFor' THEN 'expression of concern' END AS notice_type,
       c.ref_pmid AS concerns_pmid, c.ref_source AS concerns_source, a.title AS concerns_title
FROM live_articles n
LEFT JOIN comments_corrections c
       ON c.pmid = n.pmid AND c.ref_type IN ('RetractionOf', 'ErratumFor', 'ExpressionOfConcernFor')
LEFT JOIN articles a ON a.pmid = c.ref_pmid
WHERE n.study_design = 'notice';

COMMENT ON VIEW v_article_notices IS 'Every paper whose study_design is notice, a row per paper it concerns (its RetractionOf, ErratumFor or ExpressionOfConcernFor link; one row with NULLs when it has none): notice_type retraction, erratum or expression of concern; concerns_pmid and concerns_source as PubMed gives them; concerns_title when that paper is stored. The digest lists a run''s new notices from here.';
COMMENT ON COLUMN articles.study_design IS 'randomized controlled trial, clinical trial, systematic review, meta-analysis, review, observational study, case report, preclinical, protocol, guideline, editorial, letter, comment, notice (a correction, retraction or expression-of-concern notice about another paper; since schema 12) or other.';
COMMENT ON COLUMN articles.study_design_source IS '"publication type" where NLM or the publisher typed it, "correction link" where its CommentsCorrections make it a notice (RetractionOf, ErratumFor, ExpressionOfConcernFor), "text" where derived from title, abstract and keywords.';
