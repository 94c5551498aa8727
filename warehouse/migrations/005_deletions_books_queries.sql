-- trialwatch warehouse, version 5: records gone from the services (reconciliation), book records,
-- what PubMed made of the query, and backfill slices cut below a single day.

-- One row per disappearance: a record that goes, comes back and goes again has two rows.
CREATE TABLE deleted_records (
    source          VARCHAR NOT NULL CHECK (source IN ('pubmed', 'ctgov')),
    record_id       VARCHAR NOT NULL,
    detected_at     TIMESTAMP NOT NULL,
    reason          VARCHAR NOT NULL,
    run_id          VARCHAR NOT NULL,
    restored_at     TIMESTAMP,
    restored_run_id VARCHAR
);

-- Records gone right now (not restored since).
CREATE VIEW v_deleted_records AS
SELECT source, record_id, detected_at, reason, run_id FROM deleted_records WHERE restored_at IS NULL;

-- articles and trials without the records that are gone: what the dashboard and the views read.
CREATE VIEW live_articles AS
SELECT * FROM articles a
WHERE NOT EXISTS (SELECT 1 FROM deleted_records g WHERE g.restored_at IS NULL AND g.source = 'pubmed'
                  AND g.record_id = CAST(a.pmid AS VARCHAR));

CREATE VIEW live_trials AS
SELECT * FROM trials t
WHERE NOT EXISTS (SELECT 1 FROM deleted_records g WHERE g.restored_at IS NULL AND g.source = 'ctgov'
                  AND g.record_id = t.nct_id);

ALTER TABLE articles ADD COLUMN record_type VARCHAR;
ALTER TABLE articles ADD COLUMN book_title VARCHAR;
ALTER TABLE articles ADD COLUMN book_publisher VARCHAR;
UPDATE articles SET record_type = 'article';  -- every record stored before books were kept

ALTER TABLE ingest_runs ADD COLUMN query_translation VARCHAR;
ALTER TABLE ingest_runs ADD COLUMN query_warnings VARCHAR[];

-- Backfill slices may now share a day (a day over the esearch cap is cut by publication date):
-- numbered slices instead of a key on the first day.
CREATE TABLE backfill_slices_v5 (
    plan_id      VARCHAR NOT NULL,
    slice_no     INTEGER NOT NULL,
    source       VARCHAR NOT NULL,
    datetype     VARCHAR NOT NULL,
    slice_start  DATE NOT NULL,
    slice_end    DATE NOT NULL,
    pdat_start   DATE,
    pdat_end     DATE,
    expected     INTEGER NOT NULL,
    done_run_id  VARCHAR,
    done_at      TIMESTAMP,
    PRIMARY KEY (plan_id, slice_no)
);
INSERT INTO backfill_slices_v5
SELECT plan_id, CAST(row_number() OVER (PARTITION BY plan_id ORDER BY slice_start) AS INTEGER), source, datetype,
       slice_start, slice_end, NULL, NULL, expected, done_run_id, done_at
FROM backfill_slices;
DROP TABLE backfill_slices;
ALTER TABLE backfill_slices_v5 RENAME TO backfill_slices;

-- The analyst views, without the records that are gone (v_articles: migration 006).
CREATE OR REPLACE VIEW v_trials AS
SELECT
    t.nct_id,
    t.brief_title,
    coalesce((SELECT list(d.drug ORDER BY d.drug) FROM record_drugs d
              WHERE d.record_kind = 'trial' AND d.record_id = t.nct_id), []) AS drugs,
    t.conditions,
    array_to_string(t.phases, '/') AS phase,
    t.overall_status,
    t.study_type,
    t.lead_sponsor_name,
    t.lead_sponsor_class,
    t.enrollment_count,
    t.enrollment_type,
    partial_date(t.start_date, t.start_date_precision) AS start,
    partial_date(t.primary_completion_date, t.primary_completion_date_precision) AS primary_completion,
    t.has_results,
    t.countries,
    (SELECT count(DISTINCT l.pmid) FROM article_trials l WHERE l.nct_id = t.nct_id) AS linked_papers,
    t.last_update_posted_date,
    t.first_seen_at,
    'https://clinicaltrials.gov/study/' || t.nct_id AS url
FROM live_trials t;

CREATE OR REPLACE VIEW v_trial_changes AS
SELECT h.observed_at, h.nct_id, t.brief_title, h.field, h.old_value, h.new_value, h.run_id
FROM trial_history h JOIN live_trials t USING (nct_id);

CREATE OR REPLACE VIEW v_overdue_trials AS
SELECT
    t.nct_id,
    t.brief_title,
    t.lead_sponsor_name,
    t.lead_sponsor_class,
    partial_date(t.primary_completion_date, t.primary_completion_date_precision) AS primary_completion,
    date_diff('month', t.primary_completion_date, current_date) AS months_since_primary_completion,
    'completed; primary completion ' || partial_date(t.primary_completion_date, t.primary_completion_date_precision)
        || '; no results posted; no linked publication' AS reason,
    'https://clinicaltrials.gov/study/' || t.nct_id AS url
FROM live_trials t
WHERE t.overall_status = 'COMPLETED'
  AND t.primary_completion_date < current_date - INTERVAL 12 MONTH
  AND NOT coalesce(t.has_results, false)
  AND len(list_filter(coalesce(t."references", []), lambda r: r.type IN ('RESULT', 'DERIVED'))) = 0
  AND NOT EXISTS (SELECT 1 FROM article_trials l WHERE l.nct_id = t.nct_id
                  AND l.evidence IN ('databank', 'abstract'));

CREATE OR REPLACE MACRO new_since(since_day) AS TABLE
SELECT 'new trial' AS kind, nct_id AS record_id, brief_title AS title, overall_status AS detail, first_seen_at AS seen_at
FROM live_trials WHERE first_seen_at >= since_day
UNION ALL
SELECT 'trial change', h.nct_id, t.brief_title,
       h.field || ': ' || coalesce(h.old_value, '∅') || ' → ' || coalesce(h.new_value, '∅'), h.observed_at
FROM trial_history h JOIN live_trials t USING (nct_id) WHERE h.observed_at >= since_day
UNION ALL
SELECT 'new paper', CAST(pmid AS VARCHAR), title, journal, first_seen_at
FROM live_articles WHERE first_seen_at >= since_day
UNION ALL
SELECT 'new link', CAST(l.pmid AS VARCHAR) || ' ↔ ' || l.nct_id, a.title, l.evidence, l.first_seen_at
FROM article_trials l LEFT JOIN articles a USING (pmid)
WHERE l.first_seen_at >= since_day
  AND NOT EXISTS (SELECT 1 FROM v_deleted_records g WHERE g.source = 'pubmed' AND g.record_id = CAST(l.pmid AS VARCHAR))
  AND NOT EXISTS (SELECT 1 FROM v_deleted_records g WHERE g.source = 'ctgov' AND g.record_id = l.nct_id);

CREATE OR REPLACE VIEW v_new_this_week AS SELECT * FROM new_since(current_date - INTERVAL 7 DAY);

COMMENT ON TABLE deleted_records IS 'Records the service no longer returns for the catalogue query (found by reconciliation: stored ids compared with the service''s full id set). Their rows stay in articles/trials with their history; the views, the dashboard and the digest leave them out while restored_at is NULL. One row per disappearance.';
COMMENT ON COLUMN deleted_records.source IS 'pubmed or ctgov.';
COMMENT ON COLUMN deleted_records.record_id IS 'PMID (as text) or NCT id.';
COMMENT ON COLUMN deleted_records.detected_at IS 'When reconciliation found it gone (UTC).';
COMMENT ON COLUMN deleted_records.reason IS 'Why it counts as gone, e.g. "not in PubMed''s id set for the catalogue query" (deleted, or no longer matching the query).';
COMMENT ON COLUMN deleted_records.run_id IS 'ingest_runs.run_id of the reconciliation that found it gone.';
COMMENT ON COLUMN deleted_records.restored_at IS 'When it came back (UTC); NULL while it is gone.';
COMMENT ON COLUMN deleted_records.restored_run_id IS 'ingest_runs.run_id that saw it come back.';

COMMENT ON VIEW v_deleted_records IS 'Records gone right now: deleted_records rows not restored since.';
COMMENT ON VIEW live_articles IS 'articles without the papers that are gone from PubMed (v_deleted_records): every column of articles.';
COMMENT ON VIEW live_trials IS 'trials without the studies that are gone from ClinicalTrials.gov (v_deleted_records): every column of trials.';

COMMENT ON COLUMN articles.record_type IS 'article (PubmedArticle: a journal article) or book (PubmedBookArticle: a book or chapter, e.g. StatPearls).';
COMMENT ON COLUMN articles.book_title IS 'For books: the title of the book (for a chapter, the book it is in); NULL for articles.';
COMMENT ON COLUMN articles.book_publisher IS 'For books: the publisher name; NULL for articles.';

COMMENT ON COLUMN ingest_runs.query_translation IS 'PubMed only: esearch''s querytranslation, what PubMed actually searched for the catalogue term.';
COMMENT ON COLUMN ingest_runs.query_warnings IS 'PubMed only: parts of the term that matched nothing or were ignored (errorlist.phrasesnotfound / fieldsnotfound, warninglist.quotedphrasesnotfound / phrasesignored); empty when none.';
COMMENT ON COLUMN ingest_runs.mode IS 'full, incremental, since, replay, or reconcile (a comparison of stored ids with the service''s full id set).';
COMMENT ON COLUMN ingest_runs.deleted IS 'Records removed (PubMed DeleteCitation), or, for a reconcile run, found gone and logged in deleted_records.';
COMMENT ON COLUMN trials.has_results IS 'Results posted on ClinicalTrials.gov (the registry''s hasResults: a results section is public), not merely submitted.';

COMMENT ON TABLE backfill_slices IS 'Slices of a full PubMed backfill (each under the 9,999-record esearch cap): Entrez-date ranges, a day over the cap cut further by publication date; a slice commits with its records, so an interrupted backfill resumes at the first slice not done.';
COMMENT ON COLUMN backfill_slices.plan_id IS 'ingest_runs.run_id of the run that planned the backfill.';
COMMENT ON COLUMN backfill_slices.slice_no IS 'Position of the slice in the plan (1, 2, …), the order slices are fetched in.';
COMMENT ON COLUMN backfill_slices.source IS 'pubmed.';
COMMENT ON COLUMN backfill_slices.datetype IS 'The PubMed date the slice is cut on (edat: Entrez date).';
COMMENT ON COLUMN backfill_slices.slice_start IS 'First day of the slice.';
COMMENT ON COLUMN backfill_slices.slice_end IS 'Last day of the slice (inclusive).';
COMMENT ON COLUMN backfill_slices.pdat_start IS 'For a part of a day over the cap: first publication date of the part; NULL otherwise.';
COMMENT ON COLUMN backfill_slices.pdat_end IS 'For a part of a day over the cap: last publication date of the part (inclusive); NULL otherwise.';
COMMENT ON COLUMN backfill_slices.expected IS 'Records esearch counted in the slice when planned.';
COMMENT ON COLUMN backfill_slices.done_run_id IS 'Run that stored the slice; NULL while pending.';
COMMENT ON COLUMN backfill_slices.done_at IS 'When the slice was stored (UTC); NULL while pending.';

COMMENT ON VIEW v_trials IS 'One row per trial still in the registry: drugs, conditions, phase, status, sponsor, dates at their precision, linked paper count, registry URL.';
COMMENT ON VIEW v_trial_changes IS 'trial_history with trial titles (trials still in the registry), newest changes being the interesting ones.';
COMMENT ON VIEW v_overdue_trials IS 'Completed trials with primary completion over 12 months ago, no results posted and no linked publication.';
COMMENT ON VIEW v_new_this_week IS 'new_since(current_date - 7 days): new trials, trial changes, new papers and new links (records that are gone left out).';
