"""The dashboard's SQL, as named constants. Values are always bound parameters (`$name`).

Two things are chosen at run time, and only ever from the fixed dictionaries below (never from
user input): where conditions come from (`CONDITION_SOURCES`, depending on whether the
`record_conditions` table exists) and the ORDER BY clause (`TRIAL_SORTS`, `ARTICLE_SORTS`).
"""
from __future__ import annotations

# --- warehouse state -------------------------------------------------------------------------

TABLES = "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
COLUMNS = """
SELECT column_name FROM information_schema.columns
WHERE table_schema = 'main' AND table_name = $table ORDER BY ordinal_position
"""
RECORD_COUNTS = "SELECT (SELECT count(*) FROM live_trials) AS trials, (SELECT count(*) FROM live_articles) AS papers"
LATEST_PUBLICATION = "SELECT generation, published_at FROM publications ORDER BY generation DESC LIMIT 1"
LAST_RUNS = """
SELECT source, max(finished_at) AS finished_at, max(watermark) AS watermark
FROM ingest_runs WHERE status = 'succeeded' GROUP BY source ORDER BY source
"""

# --- where conditions come from --------------------------------------------------------------
# Each variant defines the CTEs trial_conditions(nct_id, condition) and
# article_conditions(pmid, condition) — what a record shows — and trial_condition_terms(nct_id,
# term) / article_condition_terms(pmid, term) — what a condition filter matches; queries that need
# them are appended after it.
# "grouped": v_record_condition_groups (migration 010): a filter term is a condition group's label
#   or a concept, and matches every narrower concept ("Depression" finds treatment-resistant
#   depression; "Depressive disorders" the whole group).
# "tagged": record_conditions of a warehouse before migration 010: concepts only, matched exactly.
# "registered": trials' registered conditions; a paper inherits those of the trials it links to.
CONDITION_SOURCES = {
    "grouped": """
WITH condition_rows AS (
    SELECT record_kind, record_id, condition_group, condition_group_label, concept, broader_concept, levels_up
    FROM v_record_condition_groups
), trial_conditions AS (
    SELECT DISTINCT record_id AS nct_id, concept AS condition FROM condition_rows
    WHERE record_kind = 'trial' AND levels_up = 0
), article_conditions AS (
    SELECT DISTINCT TRY_CAST(record_id AS BIGINT) AS pmid, concept AS condition FROM condition_rows
    WHERE record_kind = 'article' AND levels_up = 0
), trial_condition_terms AS (
    SELECT DISTINCT record_id AS nct_id, term FROM condition_rows,
    LATERAL (SELECT unnest([broader_concept, condition_group_label]) AS term) WHERE record_kind = 'trial'
), article_condition_terms AS (
    SELECT DISTINCT TRY_CAST(record_id AS BIGINT) AS pmid, term FROM condition_rows,
    LATERAL (SELECT unnest([broader_concept, condition_group_label]) AS term) WHERE record_kind = 'article'
)
""",
    "tagged": """
WITH trial_conditions AS (
    SELECT DISTINCT record_id AS nct_id, concept AS condition
    FROM record_conditions WHERE record_kind = 'trial' AND concept IS NOT NULL
      AND record_id NOT IN (SELECT record_id FROM v_deleted_records WHERE source = 'ctgov')
), article_conditions AS (
    SELECT DISTINCT TRY_CAST(record_id AS BIGINT) AS pmid, concept AS condition
    FROM record_conditions WHERE record_kind = 'article' AND concept IS NOT NULL
      AND record_id NOT IN (SELECT record_id FROM v_deleted_records WHERE source = 'pubmed')
), trial_condition_terms AS (
    SELECT nct_id, condition AS term FROM trial_conditions
), article_condition_terms AS (
    SELECT pmid, condition AS term FROM article_conditions
)
""",
    "registered": """
WITH trial_conditions AS (
    SELECT DISTINCT nct_id, trim(condition) AS condition
    FROM (SELECT nct_id, unnest(conditions) AS condition FROM live_trials)
    WHERE condition IS NOT NULL AND trim(condition) <> ''
), article_conditions AS (
    SELECT DISTINCT l.pmid, c.condition
    FROM article_trials l JOIN trial_conditions c USING (nct_id)
), trial_condition_terms AS (
    SELECT nct_id, condition AS term FROM trial_conditions
), article_condition_terms AS (
    SELECT pmid, condition AS term FROM article_conditions
)
""",
}

HAS_RECORD_CONDITIONS = "SELECT EXISTS (SELECT 1 FROM record_conditions)"
# One record's conditions for its page: with group and where each came from once migration 010 is in.
RECORD_CONDITIONS = {
    "grouped": """
SELECT c.concept, coalesce(g.labels, c.category) AS "group", array_to_string(c.source, ', ') AS source,
       c.evidence, c.mesh_id
FROM record_conditions c
LEFT JOIN (SELECT mesh_id, string_agg(condition_group_label, ', ' ORDER BY condition_group_label) AS labels
           FROM condition_concepts GROUP BY mesh_id) g USING (mesh_id)
WHERE c.record_kind = $kind AND c.record_id = $id ORDER BY "group", c.concept
""",
    "tagged": """
SELECT concept, mesh_id, category, evidence FROM record_conditions
WHERE record_kind = $kind AND record_id = $id ORDER BY concept, evidence
""",
}

# --- filter options ----------------------------------------------------------------------------

DRUGS = "SELECT DISTINCT drug FROM record_drugs ORDER BY drug"
TRIAL_CONDITION_OPTIONS = """
SELECT condition, count(*) AS n FROM trial_conditions GROUP BY condition ORDER BY n DESC, condition
"""
# Grouped: the groups first, in GROUP_ORDER ($groups), then the concepts, most used first.
# (FLAT_CONDITION_OPTIONS, after ARTICLE_CONDITION_OPTIONS: the concepts alone, before migration 010.)
GROUPED_CONDITION_OPTIONS = """
SELECT term FROM (
    SELECT condition_group_label AS term, 0 AS tier, list_position(CAST($groups AS VARCHAR[]), condition_group) AS rank,
           count(DISTINCT record_id) AS n
    FROM condition_rows WHERE record_kind = $kind GROUP BY ALL
    UNION ALL
    SELECT concept, 1, 0, count(DISTINCT record_id) FROM condition_rows
    WHERE record_kind = $kind AND levels_up = 0 GROUP BY ALL
) GROUP BY term ORDER BY min(tier), min(rank) NULLS LAST, max(n) DESC, term
"""
# Grouped heatmap: records per drug and condition group, rows in GROUP_ORDER for trials and papers.
GROUPED_DRUG_CONDITION_COUNTS = """
, counts AS (
    SELECT d.drug, c.condition_group_label AS condition, list_position(CAST($groups AS VARCHAR[]), c.condition_group) AS rank,
           CASE c.record_kind WHEN 'trial' THEN 'trials' ELSE 'papers' END AS records, count(DISTINCT c.record_id) AS n
    FROM condition_rows c JOIN record_drugs d ON d.record_kind = c.record_kind AND d.record_id = c.record_id
    WHERE c.levels_up = 0 AND d.role IS DISTINCT FROM 'mention'   -- papers about the drug
    GROUP BY ALL
), top AS (
    SELECT condition FROM counts GROUP BY condition ORDER BY min(rank) NULLS LAST, condition LIMIT $top
)
SELECT drug, condition, records, n, rank FROM counts WHERE condition IN (SELECT condition FROM top)
ORDER BY records, drug, rank NULLS LAST, condition
"""
ARTICLE_CONDITION_OPTIONS = """
SELECT condition, count(*) AS n FROM article_conditions GROUP BY condition ORDER BY n DESC, condition
"""
FLAT_CONDITION_OPTIONS = {"trial": TRIAL_CONDITION_OPTIONS, "article": ARTICLE_CONDITION_OPTIONS}
TRIAL_OPTIONS = """
SELECT
    (SELECT list(DISTINCT overall_status ORDER BY overall_status) FROM live_trials
        WHERE overall_status IS NOT NULL) AS statuses,
    (SELECT list(DISTINCT CASE WHEN phase = '' THEN 'NOT_GIVEN' ELSE phase END ORDER BY
        CASE WHEN phase = '' THEN 'NOT_GIVEN' ELSE phase END) FROM v_trials) AS phases,
    (SELECT list(DISTINCT study_type ORDER BY study_type) FROM live_trials WHERE study_type IS NOT NULL) AS study_types,
    (SELECT list(DISTINCT lead_sponsor_class ORDER BY lead_sponsor_class) FROM live_trials
        WHERE lead_sponsor_class IS NOT NULL) AS sponsor_classes,
    (SELECT list(country ORDER BY n DESC, country) FROM
        (SELECT country, count(*) AS n FROM (SELECT unnest(countries) AS country FROM live_trials) GROUP BY country))
        AS countries,
    (SELECT min(start_date) FROM live_trials) AS first_start,
    (SELECT max(start_date) FROM live_trials) AS last_start,
    (SELECT list(DISTINCT allocation ORDER BY allocation) FROM designs d JOIN live_trials USING (nct_id)
        WHERE allocation IS NOT NULL) AS allocations,
    (SELECT list(DISTINCT masking ORDER BY masking) FROM designs d JOIN live_trials USING (nct_id)
        WHERE masking IS NOT NULL) AS maskings,
    (SELECT list(DISTINCT comparator ORDER BY comparator) FROM v_trial_design) AS comparators
"""
ARTICLE_OPTIONS = """
SELECT
    (SELECT list(name ORDER BY n DESC, name) FROM
        (SELECT p.name, count(*) AS n FROM (SELECT unnest(publication_types) AS p FROM live_articles) GROUP BY p.name))
        AS publication_types,
    (SELECT list(journal ORDER BY n DESC, journal) FROM
        (SELECT journal, count(*) AS n FROM live_articles WHERE journal IS NOT NULL GROUP BY journal)) AS journals,
    (SELECT list(DISTINCT study_design ORDER BY study_design) FROM live_articles WHERE study_design IS NOT NULL)
        AS study_designs,
    (SELECT min(pub_year) FROM live_articles) AS first_year,
    (SELECT max(pub_year) FROM live_articles) AS last_year
"""

# --- overview --------------------------------------------------------------------------------

TRIALS_BY_DRUG_AND_STATUS = """
SELECT d.drug, t.overall_status AS status, count(*) AS trials
FROM record_drugs d JOIN live_trials t ON d.record_kind = 'trial' AND d.record_id = t.nct_id
GROUP BY ALL ORDER BY ALL
"""
# Papers about each drug, and apart those that only mention it (an anaesthetic, a background name).
PAPERS_BY_DRUG = """
SELECT d.drug, count(*) FILTER (WHERE d.role IS DISTINCT FROM 'mention') AS papers,
       count(*) FILTER (WHERE d.role = 'mention') AS mentions
FROM record_drugs d JOIN live_articles a ON d.record_kind = 'article' AND d.record_id = CAST(a.pmid AS VARCHAR)
GROUP BY ALL ORDER BY ALL
"""
# Of a new_since row `n` that is a new paper: is it about a catalogue drug (not every drug it names
# only mentioned), and is it a retraction / correction notice? What's new and its counts share them.
NEW_PAPER_ABOUT_A_DRUG = """coalesce((SELECT bool_or(d.role IS DISTINCT FROM 'mention') FROM record_drugs d
          WHERE d.record_kind = 'article' AND d.record_id = n.record_id), true)"""
NEW_PAPER_IS_NOTICE = """coalesce((SELECT any_value(a.study_design = 'notice') FROM articles a
          WHERE CAST(a.pmid AS VARCHAR) = n.record_id), false)"""
# What's new counts as the digest does: a paper↔trial pair once (new_since has a row per
# evidence), no "last update posted" changes (the registry's date moves with every edit; a
# trial change's detail is "<field>: <old> → <new>"), and new papers about a drug (not those that
# only mention one, nor retraction / correction notices).
NEW_SINCE_COUNTS = """
SELECT kind, CASE kind WHEN 'new link' THEN count(DISTINCT record_id) ELSE count(*) END AS n
FROM new_since(CAST($since AS TIMESTAMP)) n
WHERE NOT (kind = 'trial change' AND starts_with(detail, 'last_update_posted_date:'))
  AND NOT (kind = 'new paper' AND (""" + NEW_PAPER_IS_NOTICE + " OR NOT " + NEW_PAPER_ABOUT_A_DRUG + """))
GROUP BY kind
"""
DRUG_CONDITION_COUNTS = """
, counts AS (
    SELECT d.drug, c.condition, 'trials' AS records, count(DISTINCT c.nct_id) AS n
    FROM trial_conditions c JOIN record_drugs d ON d.record_kind = 'trial' AND d.record_id = c.nct_id
    GROUP BY ALL
    UNION ALL
    SELECT d.drug, c.condition, 'papers' AS records, count(DISTINCT c.pmid) AS n
    FROM article_conditions c
    JOIN record_drugs d ON d.record_kind = 'article' AND d.record_id = CAST(c.pmid AS VARCHAR)
                           AND d.role IS DISTINCT FROM 'mention'   -- papers about the drug
    GROUP BY ALL
), top AS (
    SELECT condition FROM counts GROUP BY condition ORDER BY sum(n) DESC, condition LIMIT $top
)
SELECT drug, condition, records, n FROM counts WHERE condition IN (SELECT condition FROM top)
ORDER BY records, drug, condition
"""
TRIALS_BY_DRUG_AND_PHASE = """
SELECT drug, phase, count(*) AS trials
FROM (SELECT unnest(drugs) AS drug, CASE WHEN phase = '' THEN 'NOT_GIVEN' ELSE phase END AS phase FROM v_trials)
GROUP BY ALL ORDER BY ALL
"""
PAPERS_BY_DRUG_AND_YEAR = """
SELECT d.drug, a.pub_year AS year, count(*) AS papers
FROM record_drugs d JOIN live_articles a ON d.record_kind = 'article' AND d.record_id = CAST(a.pmid AS VARCHAR)
WHERE a.pub_year IS NOT NULL AND d.role IS DISTINCT FROM 'mention'   -- papers about the drug
GROUP BY ALL ORDER BY ALL
"""

# --- what's new --------------------------------------------------------------------------------

NEW_SINCE_FEED = """
SELECT kind, record_id, title, detail, seen_at, drugs, about_drug, retracted, notice FROM (
    SELECT n.kind, n.record_id, n.title, n.detail, n.seen_at,
           -- a new paper is about a drug unless every drug it names is only mentioned
           n.kind <> 'new paper' OR """ + NEW_PAPER_ABOUT_A_DRUG + """
               AS about_drug,
           n.kind = 'new paper' AND coalesce((SELECT any_value(a.retracted) FROM articles a
                                              WHERE CAST(a.pmid AS VARCHAR) = n.record_id), false) AS retracted,
           -- a retraction, erratum or expression-of-concern notice is listed apart from new research
           n.kind = 'new paper' AND """ + NEW_PAPER_IS_NOTICE + """ AS notice,
           coalesce((SELECT list(DISTINCT d.drug ORDER BY d.drug) FROM record_drugs d
                     WHERE (n.kind IN ('new trial', 'trial change')
                            AND d.record_kind = 'trial' AND d.record_id = n.record_id)
                        OR (n.kind = 'new paper' AND d.record_kind = 'article' AND d.record_id = n.record_id)
                        OR (n.kind = 'new link'
                            AND ((d.record_kind = 'article' AND d.record_id = split_part(n.record_id, ' ↔ ', 1))
                              OR (d.record_kind = 'trial' AND d.record_id = split_part(n.record_id, ' ↔ ', 2))))),
                    []) AS drugs
    FROM new_since(CAST($since AS TIMESTAMP)) n
)
WHERE len(CAST($drugs AS VARCHAR[])) = 0 OR list_has_any(drugs, CAST($drugs AS VARCHAR[]))
ORDER BY seen_at DESC, kind, record_id
"""
# "Since the last run": the newest publication with a successful ingest run, from when its first
# run started (what it stored is first seen, observed or linked from then on).
LATEST_RUN = """
WITH latest AS (
    SELECT p.generation, p.published_at, p.run_ids FROM publications p
    WHERE EXISTS (SELECT 1 FROM ingest_runs r WHERE list_contains(p.run_ids, r.run_id) AND r.status = 'succeeded')
    ORDER BY p.generation DESC LIMIT 1
)
SELECT min(r.started_at) AS since, any_value(l.published_at) AS published_at,
       list(r.run_id ORDER BY r.run_id) AS run_ids
FROM latest l JOIN ingest_runs r ON list_contains(l.run_ids, r.run_id)
"""
TRIAL_CHANGES_SINCE = """
SELECT c.observed_at, c.nct_id, c.brief_title, c.field, c.old_value, c.new_value,
       'https://clinicaltrials.gov/study/' || c.nct_id AS url
FROM v_trial_changes c
WHERE c.observed_at >= CAST($since AS TIMESTAMP)
  AND (len(CAST($drugs AS VARCHAR[])) = 0 OR EXISTS (
        SELECT 1 FROM record_drugs d WHERE d.record_kind = 'trial' AND d.record_id = c.nct_id
        AND list_contains(CAST($drugs AS VARCHAR[]), d.drug)))
ORDER BY c.observed_at DESC, c.nct_id, c.field
"""

# --- trials explorer ---------------------------------------------------------------------------

# The CTE trial_design(nct_id, allocation, masking, comparator) for TRIALS. v_trial_design
# classifies every trial's arms, so it is only read when a design filter is chosen (True);
# otherwise the CTE is empty and the design conditions in TRIALS are all vacuous.
TRIAL_DESIGN_SOURCES = {
    True: """
, trial_design AS (SELECT nct_id, allocation, masking, comparator FROM v_trial_design)
""",
    False: """
, trial_design AS (
    SELECT nct_id, CAST(NULL AS VARCHAR) AS allocation, CAST(NULL AS VARCHAR) AS masking,
           CAST(NULL AS VARCHAR) AS comparator
    FROM live_trials WHERE false
)
""",
}

TRIALS = """
, trial_condition_lists AS (
    SELECT nct_id, list(condition ORDER BY condition) AS conditions FROM trial_conditions GROUP BY nct_id
)
SELECT t.nct_id, t.brief_title, t.drugs, coalesce(c.conditions, []) AS conditions,
       CASE WHEN t.phase = '' THEN 'NOT_GIVEN' ELSE t.phase END AS phase,
       t.overall_status, t.study_type, t.lead_sponsor_name, t.lead_sponsor_class,
       t.enrollment_count, t.start, t.primary_completion, t.has_results, t.countries,
       t.linked_papers, t.last_update_posted_date, t.url
FROM v_trials t
JOIN live_trials r USING (nct_id)
LEFT JOIN trial_condition_lists c USING (nct_id)
LEFT JOIN trial_design d USING (nct_id)
WHERE (len(CAST($drugs AS VARCHAR[])) = 0 OR list_has_any(t.drugs, CAST($drugs AS VARCHAR[])))
  AND (len(CAST($conditions AS VARCHAR[])) = 0
       OR t.nct_id IN (SELECT nct_id FROM trial_condition_terms WHERE list_contains(CAST($conditions AS VARCHAR[]), term)))
  AND (len(CAST($allocations AS VARCHAR[])) = 0 OR list_contains(CAST($allocations AS VARCHAR[]), d.allocation))
  AND (len(CAST($maskings AS VARCHAR[])) = 0 OR list_contains(CAST($maskings AS VARCHAR[]), d.masking))
  AND (len(CAST($comparators AS VARCHAR[])) = 0 OR list_contains(CAST($comparators AS VARCHAR[]), d.comparator))
  AND (len(CAST($phases AS VARCHAR[])) = 0 OR list_contains(CAST($phases AS VARCHAR[]),
       CASE WHEN t.phase = '' THEN 'NOT_GIVEN' ELSE t.phase END))
  AND (len(CAST($statuses AS VARCHAR[])) = 0 OR list_contains(CAST($statuses AS VARCHAR[]), r.overall_status))
  AND (len(CAST($study_types AS VARCHAR[])) = 0 OR list_contains(CAST($study_types AS VARCHAR[]), r.study_type))
  AND (len(CAST($sponsor_classes AS VARCHAR[])) = 0
       OR list_contains(CAST($sponsor_classes AS VARCHAR[]), r.lead_sponsor_class))
  AND (len(CAST($countries AS VARCHAR[])) = 0
       OR list_has_any(coalesce(r.countries, []), CAST($countries AS VARCHAR[])))
  AND (CAST($start_from AS DATE) IS NULL OR r.start_date >= CAST($start_from AS DATE))
  AND (CAST($start_to AS DATE) IS NULL OR r.start_date <= CAST($start_to AS DATE))
  AND (CAST($has_results AS BOOLEAN) IS NULL OR coalesce(r.has_results, false) = CAST($has_results AS BOOLEAN))
  AND (CAST($search AS VARCHAR) IS NULL
       OR r.nct_id ILIKE $search ESCAPE '\\'
       OR r.brief_title ILIKE $search ESCAPE '\\'
       OR r.official_title ILIKE $search ESCAPE '\\'
       OR r.acronym ILIKE $search ESCAPE '\\'
       OR r.brief_summary ILIKE $search ESCAPE '\\'
       OR r.detailed_description ILIKE $search ESCAPE '\\')
ORDER BY """

# ORDER BY clauses for TRIALS: a fixed whitelist keyed by the label shown in the UI.
TRIAL_SORTS = {
    "Last registry update": "r.last_update_posted_date DESC NULLS LAST, t.nct_id",
    "Start date (newest first)": "r.start_date DESC NULLS LAST, t.nct_id",
    "Start date (oldest first)": "r.start_date ASC NULLS LAST, t.nct_id",
    "Enrollment (largest first)": "t.enrollment_count DESC NULLS LAST, t.nct_id",
    "Linked papers (most first)": "t.linked_papers DESC, t.nct_id",
    # upcoming readouts: the nearest primary completion still ahead first, past ones after
    "Primary completion soonest": "r.primary_completion_date < current_date, r.primary_completion_date ASC NULLS LAST, "
                                  "t.nct_id",
    "NCT id": "t.nct_id",
}

TRIAL_TITLES = "SELECT nct_id, brief_title FROM live_trials WHERE list_contains(CAST($ids AS VARCHAR[]), nct_id)"
TRIAL_DESIGN = """
SELECT allocation, intervention_model, primary_purpose, masking, subject_masked, caregiver_masked,
       investigator_masked, outcomes_assessor_masked, comparator, comparator_interventions
FROM v_trial_design WHERE nct_id = $nct
"""
TRIAL_OUTCOMES = """
SELECT outcome_type, measure, time_frame, description FROM design_outcomes WHERE nct_id = $nct
ORDER BY CASE outcome_type WHEN 'primary' THEN 0 WHEN 'secondary' THEN 1 ELSE 2 END, id
"""
# Rows of the AACT tables (migration 007) are ordered by the ordinal ending their string id
# ("<nct_id>:<table>:<n>", JSON order); a plain string sort would put 10 before 2.
TRIAL_ARMS = """
SELECT g.group_type, g.title, g.description,
       coalesce(list({'type': i.intervention_type, 'name': i.name}
                     ORDER BY TRY_CAST(string_split(i.id, ':')[-1] AS INTEGER)) FILTER (i.name IS NOT NULL), [])
           AS interventions
FROM design_groups g
LEFT JOIN design_group_interventions gi ON gi.nct_id = g.nct_id AND gi.design_group_id = g.id
LEFT JOIN interventions i ON i.nct_id = gi.nct_id AND i.id = gi.intervention_id
WHERE g.nct_id = $nct
GROUP BY g.id, g.group_type, g.title, g.description
ORDER BY TRY_CAST(string_split(g.id, ':')[-1] AS INTEGER)
"""
TRIAL_ELIGIBILITY = """
SELECT gender, gender_description, minimum_age, maximum_age, healthy_volunteers, std_ages, sampling_method,
       population, criteria
FROM eligibilities WHERE nct_id = $nct
"""
TRIAL_SITES = """
SELECT name, city, state, country, status, latitude, longitude FROM facilities WHERE nct_id = $nct
ORDER BY country NULLS LAST, state NULLS LAST, city NULLS LAST, name, TRY_CAST(string_split(id, ':')[-1] AS INTEGER)
"""
TRIAL_RESULT_OUTCOMES = """
SELECT id, outcome_type, title, description, time_frame, population, units, param_type, dispersion_type
FROM outcomes WHERE nct_id = $nct
ORDER BY CASE upper(outcome_type) WHEN 'PRIMARY' THEN 0 WHEN 'SECONDARY' THEN 1 ELSE 2 END,
         TRY_CAST(string_split(id, ':')[-1] AS INTEGER)
"""
TRIAL_OUTCOME_MEASUREMENTS = """
SELECT m.outcome_id, m.classification, m.category, m.ctgov_group_code AS group_code,
       (SELECT any_value(g.title) FROM result_groups g WHERE g.nct_id = m.nct_id AND g.id = m.result_group_id)
           AS group_title,
       m.param_value, m.dispersion_value, m.dispersion_lower_limit_raw AS lower_limit,
       m.dispersion_upper_limit_raw AS upper_limit, m.explanation_of_na
FROM outcome_measurements m WHERE m.nct_id = $nct
ORDER BY TRY_CAST(string_split(m.id, ':')[-1] AS INTEGER)
"""
TRIAL_OUTCOME_ANALYSES = """
SELECT a.outcome_id,
       coalesce((SELECT list(g.title ORDER BY g.ctgov_group_code) FROM result_groups g
                 WHERE g.nct_id = a.nct_id AND g.outcome_id = a.outcome_id
                   AND list_contains(a.group_codes, g.ctgov_group_code)), a.group_codes) AS groups,
       a.non_inferiority_type, a.method, a.param_type, a.param_value, a.ci_percent, a.ci_n_sides,
       a.ci_lower_limit_raw AS ci_lower, a.ci_upper_limit_raw AS ci_upper, a.p_value_raw, a.estimate_description,
       a.groups_description
FROM outcome_analyses a WHERE a.nct_id = $nct
ORDER BY TRY_CAST(string_split(a.id, ':')[-1] AS INTEGER)
"""
TRIAL_ADVERSE_EVENTS = """
SELECT e.event_type, e.organ_system, e.adverse_event_term AS term, e.ctgov_group_code AS group_code,
       (SELECT any_value(g.title) FROM result_groups g WHERE g.nct_id = e.nct_id AND g.id = e.result_group_id)
           AS group_title,
       e.subjects_affected, e.subjects_at_risk, e.time_frame, e.frequency_threshold, e.vocab
FROM reported_events e WHERE e.nct_id = $nct
ORDER BY TRY_CAST(string_split(e.id, ':')[-1] AS INTEGER)
"""
TRIAL_EVENT_TOTALS = """
SELECT t.event_type, t.classification, t.ctgov_group_code AS group_code,
       (SELECT any_value(g.title) FROM result_groups g WHERE g.nct_id = t.nct_id AND g.result_type = 'Reported Event'
            AND g.ctgov_group_code = t.ctgov_group_code) AS group_title,
       t.subjects_affected, t.subjects_at_risk
FROM reported_event_totals t WHERE t.nct_id = $nct
ORDER BY TRY_CAST(string_split(t.id, ':')[-1] AS INTEGER)
"""
TRIAL_OUTCOME_CHANGES = """
SELECT detected_at, outcome_type, change, old_measure, new_measure, after_start FROM v_outcome_changes
WHERE nct_id = $nct ORDER BY detected_at DESC, outcome_type, change
"""
TRIAL_DETAIL = """
SELECT t.*, v.drugs, CASE WHEN v.phase = '' THEN 'NOT_GIVEN' ELSE v.phase END AS phase,
       v.start, v.primary_completion,
       partial_date(t.completion_date, t.completion_date_precision) AS completion,
       partial_date(t.first_posted_date, t.first_posted_date_precision) AS first_posted,
       partial_date(t.last_update_posted_date, t.last_update_posted_date_precision) AS last_update_posted,
       v.linked_papers, v.url
FROM live_trials t JOIN v_trials v USING (nct_id)
WHERE t.nct_id = $nct
"""
TRIAL_HISTORY = """
SELECT observed_at, field, old_value, new_value, run_id FROM trial_history
WHERE nct_id = $nct ORDER BY observed_at DESC, field
"""
TRIAL_PAPERS = """
SELECT l.pmid, CASE WHEN a.retracted THEN '⚠ RETRACTED · ' ELSE '' END || coalesce(a.title, '') AS title,
       a.journal, a.pub_year,
       list(DISTINCT l.evidence ORDER BY l.evidence) AS evidence,
       a.pmid IS NOT NULL AS in_warehouse,
       'https://pubmed.ncbi.nlm.nih.gov/' || l.pmid || '/' AS pubmed_url
FROM article_trials l LEFT JOIN live_articles a USING (pmid)
WHERE l.nct_id = $nct
GROUP BY l.pmid, a.title, a.retracted, a.journal, a.pub_year, a.pmid
ORDER BY a.pub_year DESC NULLS LAST, l.pmid
"""

# --- literature explorer -----------------------------------------------------------------------

ARTICLES = """
, article_condition_lists AS (
    SELECT pmid, list(condition ORDER BY condition) AS conditions FROM article_conditions GROUP BY pmid
)
SELECT a.pmid, CASE WHEN a.retracted THEN '⚠ RETRACTED · ' ELSE '' END || coalesce(a.title, '') AS title,
       a.drugs, a.subject_drugs, coalesce(c.conditions, []) AS conditions, a.study_design,
       coalesce(a.journal, 'Book: ' || a.book_title) AS journal, a.pub_year,
       a.published, a.publication_types, a.linked_trials, a.doi, a.entrez_date, a.url
FROM v_articles a
JOIN live_articles r USING (pmid)
LEFT JOIN article_condition_lists c USING (pmid)
WHERE (len(CAST($drugs AS VARCHAR[])) = 0 OR list_has_any(a.drugs, CAST($drugs AS VARCHAR[])))
  AND (len(CAST($conditions AS VARCHAR[])) = 0
       OR a.pmid IN (SELECT pmid FROM article_condition_terms WHERE list_contains(CAST($conditions AS VARCHAR[]), term)))
  AND (len(CAST($publication_types AS VARCHAR[])) = 0
       OR list_has_any(a.publication_types, CAST($publication_types AS VARCHAR[])))
  AND (CAST($year_from AS INTEGER) IS NULL OR a.pub_year >= CAST($year_from AS INTEGER))
  AND (CAST($year_to AS INTEGER) IS NULL OR a.pub_year <= CAST($year_to AS INTEGER))
  AND (len(CAST($journals AS VARCHAR[])) = 0 OR list_contains(CAST($journals AS VARCHAR[]), a.journal))
  AND (len(CAST($designs AS VARCHAR[])) = 0 OR list_contains(CAST($designs AS VARCHAR[]), a.study_design))
  AND (CAST($include_mentions AS BOOLEAN)  -- else: a chosen drug (any, if none chosen) is the paper's subject
       OR (len(CAST($drugs AS VARCHAR[])) = 0 AND (len(a.drugs) = 0 OR len(a.subject_drugs) > 0))
       OR len(list_intersect(a.subject_drugs, CAST($drugs AS VARCHAR[]))) > 0)
  AND (CAST($search AS VARCHAR) IS NULL
       OR CAST(r.pmid AS VARCHAR) ILIKE $search ESCAPE '\\'
       OR r.title ILIKE $search ESCAPE '\\'
       OR r.abstract ILIKE $search ESCAPE '\\')
ORDER BY """

# ORDER BY clauses for ARTICLES: a fixed whitelist keyed by the label shown in the UI.
ARTICLE_SORTS = {
    "Newest in PubMed": "a.entrez_date DESC NULLS LAST, a.pmid DESC",
    "Publication date (newest first)": "r.pub_date DESC NULLS LAST, a.pmid DESC",
    "Publication date (oldest first)": "r.pub_date ASC NULLS LAST, a.pmid",
    "Linked trials (most first)": "len(a.linked_trials) DESC, a.pmid DESC",
    "PMID": "a.pmid",
}

ARTICLE_TITLES = "SELECT pmid, title FROM live_articles WHERE list_contains(CAST($ids AS BIGINT[]), pmid)"
ARTICLE_DETAIL = """
SELECT a.*, v.drugs, v.subject_drugs, v.published, v.url FROM live_articles a JOIN v_articles v USING (pmid) WHERE a.pmid = $pmid
"""
# What a reference manager needs (RIS/BibTeX, dashboard/citations.py), for the papers listed, in their order.
ARTICLE_CITATIONS = """
WITH wanted AS (
    SELECT unnest(CAST($ids AS BIGINT[])) AS pmid, generate_subscripts(CAST($ids AS BIGINT[]), 1) AS position
)
SELECT a.pmid, a.title, a.authors, a.journal, a.journal_iso, a.pub_year, a.pub_date, a.journal_volume,
       a.journal_issue, a.journal_pages, a.doi, a.pmcid, a.abstract, a.keywords, a.languages, a.record_type,
       a.book_title, a.book_publisher, coalesce(a.issn_print, a.issn_electronic) AS issn
FROM wanted w JOIN live_articles a USING (pmid)
ORDER BY w.position
"""
ARTICLE_GRANTS = "SELECT grant_id, acronym, agency, country FROM grants WHERE pmid = $pmid ORDER BY agency, grant_id"
ARTICLE_CORRECTIONS = """
SELECT c.ref_type, c.ref_pmid, c.ref_source,
       CASE WHEN c.ref_pmid IS NOT NULL THEN 'https://pubmed.ncbi.nlm.nih.gov/' || c.ref_pmid || '/' END AS pubmed_url
FROM comments_corrections c WHERE c.pmid = $pmid ORDER BY c.ref_type, c.ref_pmid
"""
ARTICLE_TRIALS = """
SELECT l.nct_id, t.brief_title, t.overall_status,
       list(DISTINCT l.evidence ORDER BY l.evidence) AS evidence,
       t.nct_id IS NOT NULL AS in_warehouse,
       'https://clinicaltrials.gov/study/' || l.nct_id AS registry_url
FROM article_trials l LEFT JOIN live_trials t USING (nct_id)
WHERE l.pmid = $pmid
GROUP BY l.nct_id, t.brief_title, t.overall_status, t.nct_id
ORDER BY l.nct_id
"""

# Condition mentions the tagger found in a paper's abstract. Offsets index the whole `abstract`
# text (also for "abstract:<SECTION>" fields); see extract.tagger.field_text.
ABSTRACT_MENTIONS = """
SELECT start_offset, end_offset, matched_text, concept, mesh_id, negated, adverse
FROM condition_tags
WHERE record_kind = 'article' AND record_id = CAST($pmid AS VARCHAR)
  AND (field = 'abstract' OR field LIKE 'abstract:%')
ORDER BY start_offset, end_offset DESC
"""

# --- overdue -----------------------------------------------------------------------------------

OVERDUE = """
SELECT nct_id, brief_title, drugs, phase, overall_status, lead_sponsor_name, lead_sponsor_class, has_us_site,
       primary_completion, months_since_primary_completion, completion, months_since_completion,
       results_due, unpublished, reason, url
FROM v_overdue_trials
WHERE (len(CAST($drugs AS VARCHAR[])) = 0 OR list_has_any(drugs, CAST($drugs AS VARCHAR[])))
  AND (len(CAST($sponsor_classes AS VARCHAR[])) = 0
       OR list_contains(CAST($sponsor_classes AS VARCHAR[]), lead_sponsor_class))
  AND (($results_due AND results_due) OR ($unpublished AND unpublished))
ORDER BY results_due DESC, months_since_primary_completion DESC, nct_id
"""

# --- export ------------------------------------------------------------------------------------

# Whole datasets offered on the Export page: a fixed whitelist, label -> query.
EXPORTS = {
    "trials (v_trials)": "SELECT * FROM v_trials ORDER BY nct_id",
    "papers (v_articles)": "SELECT * FROM v_articles ORDER BY pmid",
    "trial changes (v_trial_changes)": "SELECT * FROM v_trial_changes ORDER BY observed_at DESC, nct_id, field",
    "overdue trials (v_overdue_trials)": "SELECT * FROM v_overdue_trials ORDER BY nct_id",
    "paper-trial links (article_trials)": "SELECT * FROM article_trials ORDER BY pmid, nct_id, evidence",
    "records gone from the services (deleted_records)": "SELECT * FROM deleted_records ORDER BY detected_at, source, record_id",
    "drug labels (record_drugs)": "SELECT * FROM record_drugs ORDER BY record_kind, record_id, drug",
}
