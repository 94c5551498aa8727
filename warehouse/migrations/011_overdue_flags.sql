-- trialwatch warehouse, version 11: overdue, honestly — two separate flags with their rules
-- (results due under FDAAA 801, approximated; unpublished), and the drugs the page filters by.

CREATE OR REPLACE VIEW v_overdue_trials AS
WITH flagged AS (
    SELECT t.*,
           coalesce((SELECT list(d.drug ORDER BY d.drug) FROM record_drugs d
                     WHERE d.record_kind = 'trial' AND d.record_id = t.nct_id), []) AS drugs,
           list_contains(coalesce(t.countries, []), 'United States') AS has_us_site,
           -- FDAAA 801 / 42 CFR 11, as FDAAA TrialsTracker approximates an "applicable clinical
           -- trial": interventional; phase 2 or later (phase 1/2 included) or an FDA-regulated device;
           -- a US site or an FDA-regulated product; primary completion after the final rule took
           -- effect (2017-01-18) and more than a year ago; no results submitted or posted; no
           -- certificate of delay; not withdrawn.
           (t.study_type = 'INTERVENTIONAL'
            AND (list_has_any(coalesce(t.phases, []), ['PHASE2', 'PHASE3', 'PHASE4'])
                 OR coalesce(t.is_fda_regulated_device, false))
            AND (list_contains(coalesce(t.countries, []), 'United States')
                 OR coalesce(t.is_fda_regulated_drug, false) OR coalesce(t.is_fda_regulated_device, false))
            AND t.primary_completion_date >= DATE '2017-01-18'
            AND t.primary_completion_date < current_date - INTERVAL 1 YEAR
            AND NOT coalesce(t.has_results, false) AND t.results_first_submitted_date IS NULL
            AND t.disposition_first_submitted_date IS NULL
            AND coalesce(t.overall_status, '') <> 'WITHDRAWN') AS results_due,
           -- Unpublished: completed or terminated more than two years ago and no paper linked to
           -- it by any evidence, nor a results reference in the registry.
           (t.overall_status IN ('COMPLETED', 'TERMINATED')
            AND coalesce(t.completion_date, t.primary_completion_date) < current_date - INTERVAL 2 YEAR
            AND NOT EXISTS (SELECT 1 FROM article_trials l WHERE l.nct_id = t.nct_id)
            AND len(list_filter(coalesce(t."references", []), lambda r: r.type IN ('RESULT', 'DERIVED'))) = 0)
               AS unpublished
    FROM live_trials t
)
SELECT
    nct_id,
    brief_title,
    drugs,
    array_to_string(phases, '/') AS phase,
    overall_status,
    lead_sponsor_name,
    lead_sponsor_class,
    has_us_site,
    partial_date(primary_completion_date, primary_completion_date_precision) AS primary_completion,
    date_diff('month', primary_completion_date, current_date) AS months_since_primary_completion,
    partial_date(completion_date, completion_date_precision) AS completion,
    date_diff('month', coalesce(completion_date, primary_completion_date), current_date) AS months_since_completion,
    results_due,
    unpublished,
    concat_ws('; ',
        CASE WHEN results_due THEN 'results due under FDAAA 801: primary completion '
             || partial_date(primary_completion_date, primary_completion_date_precision)
             || ', no results posted, no certificate of delay' END,
        CASE WHEN unpublished THEN 'unpublished: ' || lower(overall_status) || ' '
             || partial_date(coalesce(completion_date, primary_completion_date),
                             coalesce(completion_date_precision, primary_completion_date_precision))
             || ', no linked paper' END) AS reason,
    'https://clinicaltrials.gov/study/' || nct_id AS url
FROM flagged
WHERE results_due OR unpublished;

COMMENT ON VIEW v_overdue_trials IS 'Trials overdue by either of two rules, each its own flag. results_due: results due under FDAAA 801 as FDAAA TrialsTracker approximates an applicable clinical trial (interventional; phase 2 or later, phase 1/2 included, or an FDA-regulated device; a US site or an FDA-regulated drug/device; primary completion on or after 2017-01-18 and over a year ago; no results submitted or posted; no certificate of delay; not withdrawn) — the law''s own test also weighs INDs/IDEs and product approval, which the registry does not show. unpublished: completed or terminated over two years ago with no linked paper (any evidence) and no results reference in the registry.';
