-- trialwatch warehouse, version 2: trial change history, publication generations, analyst views.

CREATE TABLE trial_history (
    nct_id       VARCHAR NOT NULL,
    field        VARCHAR NOT NULL,
    old_value    VARCHAR,
    new_value    VARCHAR,
    observed_at  TIMESTAMP NOT NULL,
    run_id       VARCHAR NOT NULL
);

CREATE TABLE publications (
    generation   INTEGER PRIMARY KEY,
    published_at TIMESTAMP NOT NULL,
    run_ids      VARCHAR[] NOT NULL
);

-- A partial date as the source gave it: 2021, 2021-09 or 2021-09-14.
CREATE MACRO partial_date(d, precision) AS
    CASE precision WHEN 'year' THEN strftime(d, '%Y') WHEN 'month' THEN strftime(d, '%Y-%m')
                   ELSE CAST(d AS VARCHAR) END;

CREATE VIEW v_trials AS
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
FROM trials t;

CREATE VIEW v_articles AS
SELECT
    a.pmid,
    a.title,
    coalesce((SELECT list(d.drug ORDER BY d.drug) FROM record_drugs d
              WHERE d.record_kind = 'article' AND d.record_id = CAST(a.pmid AS VARCHAR)), []) AS drugs,
    a.journal,
    a.pub_year,
    partial_date(a.pub_date, a.pub_date_precision) AS published,
    [p.name FOR p IN a.publication_types] AS publication_types,
    [m.name FOR m IN a.mesh_headings] AS mesh_terms,
    coalesce((SELECT list(DISTINCT l.nct_id ORDER BY l.nct_id) FROM article_trials l WHERE l.pmid = a.pmid), [])
        AS linked_trials,
    a.doi,
    a.entrez_date,
    a.first_seen_at,
    'https://pubmed.ncbi.nlm.nih.gov/' || a.pmid || '/' AS url
FROM articles a;

CREATE VIEW v_trial_changes AS
SELECT h.observed_at, h.nct_id, t.brief_title, h.field, h.old_value, h.new_value, h.run_id
FROM trial_history h LEFT JOIN trials t USING (nct_id);

-- Completed trials whose primary completion is over 12 months ago, with no results submitted
-- and no linked publication (what FDAAA TrialsTracker flags), for our drugs.
CREATE VIEW v_overdue_trials AS
SELECT
    t.nct_id,
    t.brief_title,
    t.lead_sponsor_name,
    t.lead_sponsor_class,
    partial_date(t.primary_completion_date, t.primary_completion_date_precision) AS primary_completion,
    date_diff('month', t.primary_completion_date, current_date) AS months_since_primary_completion,
    'completed; primary completion ' || partial_date(t.primary_completion_date, t.primary_completion_date_precision)
        || '; no results submitted; no linked publication' AS reason,
    'https://clinicaltrials.gov/study/' || t.nct_id AS url
FROM trials t
WHERE t.overall_status = 'COMPLETED'
  AND t.primary_completion_date < current_date - INTERVAL 12 MONTH
  AND NOT coalesce(t.has_results, false)
  AND len(list_filter(coalesce(t."references", []), lambda r: r.type IN ('RESULT', 'DERIVED'))) = 0
  AND NOT EXISTS (SELECT 1 FROM article_trials l WHERE l.nct_id = t.nct_id
                  AND l.evidence IN ('databank', 'abstract'));

-- Everything new since a day: new trials, trial changes, new papers, new paper↔trial links.
CREATE MACRO new_since(since_day) AS TABLE
SELECT 'new trial' AS kind, nct_id AS record_id, brief_title AS title, overall_status AS detail, first_seen_at AS seen_at
FROM trials WHERE first_seen_at >= since_day
UNION ALL
SELECT 'trial change', h.nct_id, t.brief_title,
       h.field || ': ' || coalesce(h.old_value, '∅') || ' → ' || coalesce(h.new_value, '∅'), h.observed_at
FROM trial_history h LEFT JOIN trials t USING (nct_id) WHERE h.observed_at >= since_day
UNION ALL
SELECT 'new paper', CAST(pmid AS VARCHAR), title, journal, first_seen_at
FROM articles WHERE first_seen_at >= since_day
UNION ALL
SELECT 'new link', CAST(l.pmid AS VARCHAR) || ' ↔ ' || l.nct_id, a.title, l.evidence, l.first_seen_at
FROM article_trials l LEFT JOIN articles a USING (pmid) WHERE l.first_seen_at >= since_day;

CREATE VIEW v_new_this_week AS SELECT * FROM new_since(current_date - INTERVAL 7 DAY);

COMMENT ON TABLE trial_history IS 'How trials changed: one row per changed field per run (status, phases, enrollment, dates, results, why stopped, last update). New trials have no rows.';
COMMENT ON COLUMN trial_history.nct_id IS 'ClinicalTrials.gov identifier.';
COMMENT ON COLUMN trial_history.field IS 'overall_status, phases, enrollment_count, enrollment_type, start_date, primary_completion_date, completion_date, has_results, why_stopped or last_update_posted_date.';
COMMENT ON COLUMN trial_history.old_value IS 'Value before, as text (dates at the precision the registry gave; phases joined by /).';
COMMENT ON COLUMN trial_history.new_value IS 'Value after, as text.';
COMMENT ON COLUMN trial_history.observed_at IS 'When trialwatch saw the change (UTC), not when the registry made it (see last_update_posted_date).';
COMMENT ON COLUMN trial_history.run_id IS 'ingest_runs.run_id that saw the change.';

COMMENT ON TABLE publications IS 'Each time a finished load was published (swapped in for readers).';
COMMENT ON COLUMN publications.generation IS 'Increments by one per publication.';
COMMENT ON COLUMN publications.published_at IS 'When it was published (UTC).';
COMMENT ON COLUMN publications.run_ids IS 'The ingest_runs in this publication.';

COMMENT ON VIEW v_trials IS 'One row per trial: drugs, conditions, phase, status, sponsor, dates at their precision, linked paper count, registry URL.';
COMMENT ON VIEW v_articles IS 'One row per paper: drugs, journal, year, publication types, MeSH terms, linked trials, PubMed URL.';
COMMENT ON VIEW v_trial_changes IS 'trial_history with trial titles, newest changes being the interesting ones.';
COMMENT ON VIEW v_overdue_trials IS 'Completed trials with primary completion over 12 months ago, no results submitted and no linked publication.';
COMMENT ON VIEW v_new_this_week IS 'new_since(current_date - 7 days): new trials, trial changes, new papers and new links.';
