-- trialwatch warehouse, version 1: records from both sources, their links, drug labels,
-- quarantined rejects and the ledger of ingest runs.

CREATE TABLE articles (
    pmid                BIGINT PRIMARY KEY,
    title               VARCHAR,
    abstract            VARCHAR,
    abstract_sections   STRUCT(label VARCHAR, category VARCHAR, text VARCHAR)[],
    journal             VARCHAR,
    journal_iso         VARCHAR,
    pub_date            DATE,
    pub_date_precision  VARCHAR,
    pub_date_raw        VARCHAR,
    pub_year            INTEGER,
    authors             STRUCT(last_name VARCHAR, fore_name VARCHAR, initials VARCHAR, collective_name VARCHAR)[],
    languages           VARCHAR[],
    publication_types   STRUCT(ui VARCHAR, name VARCHAR)[],
    mesh_headings       STRUCT(ui VARCHAR, name VARCHAR, major BOOLEAN,
                               qualifiers STRUCT(ui VARCHAR, name VARCHAR, major BOOLEAN)[])[],
    chemicals           STRUCT(ui VARCHAR, name VARCHAR, registry_number VARCHAR)[],
    keywords            VARCHAR[],
    doi                 VARCHAR,
    pmcid               VARCHAR,
    nct_ids             VARCHAR[],
    entrez_date         DATE,
    revised_date        DATE,
    completed_date      DATE,
    status              VARCHAR,
    record_version      INTEGER,
    content_hash        VARCHAR NOT NULL,
    first_seen_at       TIMESTAMP NOT NULL,
    updated_at          TIMESTAMP NOT NULL,
    first_run_id        VARCHAR NOT NULL,
    last_run_id         VARCHAR NOT NULL
);

CREATE TABLE trials (
    nct_id                          VARCHAR PRIMARY KEY,
    brief_title                     VARCHAR,
    official_title                  VARCHAR,
    acronym                         VARCHAR,
    overall_status                  VARCHAR,
    why_stopped                     VARCHAR,
    study_type                      VARCHAR,
    phases                          VARCHAR[],
    enrollment_count                INTEGER,
    enrollment_type                 VARCHAR,
    start_date                      DATE,
    start_date_precision            VARCHAR,
    start_date_type                 VARCHAR,
    primary_completion_date         DATE,
    primary_completion_date_precision VARCHAR,
    primary_completion_date_type    VARCHAR,
    completion_date                 DATE,
    completion_date_precision       VARCHAR,
    completion_date_type            VARCHAR,
    first_posted_date               DATE,
    first_posted_date_precision     VARCHAR,
    first_posted_date_type          VARCHAR,
    last_update_posted_date         DATE,
    last_update_posted_date_precision VARCHAR,
    last_update_posted_date_type    VARCHAR,
    has_results                     BOOLEAN,
    lead_sponsor_name               VARCHAR,
    lead_sponsor_class              VARCHAR,
    collaborators                   STRUCT(name VARCHAR, "class" VARCHAR)[],
    conditions                      VARCHAR[],
    keywords                        VARCHAR[],
    interventions                   STRUCT(type VARCHAR, name VARCHAR, other_names VARCHAR[], description VARCHAR)[],
    condition_mesh                  STRUCT(id VARCHAR, term VARCHAR)[],
    intervention_mesh               STRUCT(id VARCHAR, term VARCHAR)[],
    countries                       VARCHAR[],
    "references"                    STRUCT(pmid VARCHAR, type VARCHAR, citation VARCHAR)[],
    brief_summary                   VARCHAR,
    detailed_description            VARCHAR,
    eligibility_criteria            VARCHAR,
    primary_outcomes                VARCHAR[],
    content_hash                    VARCHAR NOT NULL,
    first_seen_at                   TIMESTAMP NOT NULL,
    updated_at                      TIMESTAMP NOT NULL,
    first_run_id                    VARCHAR NOT NULL,
    last_run_id                     VARCHAR NOT NULL
);

CREATE TABLE article_trials (
    pmid        BIGINT NOT NULL,
    nct_id      VARCHAR NOT NULL,
    evidence    VARCHAR NOT NULL CHECK (evidence IN ('databank', 'abstract', 'ctgov_reference')),
    first_seen_at TIMESTAMP NOT NULL,
    run_id      VARCHAR NOT NULL,
    PRIMARY KEY (pmid, nct_id, evidence)
);

CREATE TABLE record_drugs (
    record_kind VARCHAR NOT NULL CHECK (record_kind IN ('article', 'trial')),
    record_id   VARCHAR NOT NULL,
    drug        VARCHAR NOT NULL,
    PRIMARY KEY (record_kind, record_id, drug)
);

CREATE TABLE rejects (
    source        VARCHAR NOT NULL,
    record_id     VARCHAR,
    reason        VARCHAR NOT NULL,
    raw           VARCHAR,
    raw_sha1      VARCHAR NOT NULL,
    run_id        VARCHAR NOT NULL,
    first_seen_at TIMESTAMP NOT NULL,
    seen_at       TIMESTAMP NOT NULL,
    times_seen    INTEGER NOT NULL,
    PRIMARY KEY (source, raw_sha1)
);

CREATE TABLE ingest_runs (
    run_id        VARCHAR PRIMARY KEY,
    source        VARCHAR NOT NULL,
    mode          VARCHAR NOT NULL,
    window_start  DATE,
    started_at    TIMESTAMP NOT NULL,
    finished_at   TIMESTAMP,
    status        VARCHAR NOT NULL CHECK (status IN ('running', 'succeeded', 'failed')),
    fetched       INTEGER,
    new           INTEGER,
    updated       INTEGER,
    unchanged     INTEGER,
    deleted       INTEGER,
    rejected      INTEGER,
    http_requests INTEGER,
    http_retries  INTEGER,
    watermark     DATE,
    message       VARCHAR
);

COMMENT ON TABLE articles IS 'One row per PubMed article about a catalogue drug (key pmid), as last fetched.';
COMMENT ON COLUMN articles.pmid IS 'PubMed identifier.';
COMMENT ON COLUMN articles.title IS 'ArticleTitle with inline markup reduced to text.';
COMMENT ON COLUMN articles.abstract IS 'All abstract sections joined by blank lines; labelled sections as "LABEL: text".';
COMMENT ON COLUMN articles.abstract_sections IS 'Abstract sections with their Label and NlmCategory.';
COMMENT ON COLUMN articles.journal IS 'Journal title.';
COMMENT ON COLUMN articles.journal_iso IS 'ISO journal abbreviation.';
COMMENT ON COLUMN articles.pub_date IS 'Publication date (first day of the period the source gives).';
COMMENT ON COLUMN articles.pub_date_precision IS 'day | month | year: how much of pub_date the source gave.';
COMMENT ON COLUMN articles.pub_date_raw IS 'Publication date as written in the record (e.g. a MedlineDate "2019 Jan-Feb").';
COMMENT ON COLUMN articles.pub_year IS 'Publication year.';
COMMENT ON COLUMN articles.authors IS 'Authors in order; collective_name set for group authors.';
COMMENT ON COLUMN articles.languages IS 'Language codes (e.g. eng).';
COMMENT ON COLUMN articles.publication_types IS 'Publication types with their MeSH UI (e.g. D016449 Randomized Controlled Trial).';
COMMENT ON COLUMN articles.mesh_headings IS 'MeSH descriptors (ui, name, major topic) with qualifiers; empty until NLM indexes the record.';
COMMENT ON COLUMN articles.chemicals IS 'ChemicalList substances (ui, name, registry number).';
COMMENT ON COLUMN articles.keywords IS 'Author/publisher keywords.';
COMMENT ON COLUMN articles.doi IS 'DOI, when known.';
COMMENT ON COLUMN articles.pmcid IS 'PubMed Central id, when the article is in PMC.';
COMMENT ON COLUMN articles.nct_ids IS 'ClinicalTrials.gov ids named in the DataBankList or the title/abstract.';
COMMENT ON COLUMN articles.entrez_date IS 'Entrez date: when the record entered PubMed (incremental pulls use it).';
COMMENT ON COLUMN articles.revised_date IS 'DateRevised of the citation.';
COMMENT ON COLUMN articles.completed_date IS 'DateCompleted of the citation (MEDLINE indexing finished).';
COMMENT ON COLUMN articles.status IS 'MedlineCitation Status (MEDLINE, PubMed-not-MEDLINE, In-Process, …).';
COMMENT ON COLUMN articles.record_version IS 'PMID Version attribute.';
COMMENT ON COLUMN articles.content_hash IS 'Hash of the parsed record; a changed hash on re-fetch counts as an update.';
COMMENT ON COLUMN articles.first_seen_at IS 'When trialwatch first stored this article (UTC).';
COMMENT ON COLUMN articles.updated_at IS 'When trialwatch last stored a changed version (UTC).';
COMMENT ON COLUMN articles.first_run_id IS 'ingest_runs.run_id that first stored the article.';
COMMENT ON COLUMN articles.last_run_id IS 'ingest_runs.run_id that last stored a changed version.';

COMMENT ON TABLE trials IS 'One row per ClinicalTrials.gov study with a catalogue drug among its interventions (key nct_id), as last fetched.';
COMMENT ON COLUMN trials.nct_id IS 'ClinicalTrials.gov identifier (NCT + 8 digits).';
COMMENT ON COLUMN trials.brief_title IS 'Brief title.';
COMMENT ON COLUMN trials.official_title IS 'Official title.';
COMMENT ON COLUMN trials.acronym IS 'Study acronym.';
COMMENT ON COLUMN trials.overall_status IS 'Overall recruitment status (RECRUITING, COMPLETED, TERMINATED, …).';
COMMENT ON COLUMN trials.why_stopped IS 'Reason given for a terminated, suspended or withdrawn study.';
COMMENT ON COLUMN trials.study_type IS 'INTERVENTIONAL, OBSERVATIONAL or EXPANDED_ACCESS.';
COMMENT ON COLUMN trials.phases IS 'Phases as listed (e.g. [PHASE2, PHASE3]; NA for non-drug designs).';
COMMENT ON COLUMN trials.enrollment_count IS 'Enrollment (participants).';
COMMENT ON COLUMN trials.enrollment_type IS 'ACTUAL or ESTIMATED enrollment.';
COMMENT ON COLUMN trials.start_date IS 'Study start (first day of the period given).';
COMMENT ON COLUMN trials.start_date_precision IS 'day | month | year.';
COMMENT ON COLUMN trials.start_date_type IS 'ACTUAL or ESTIMATED.';
COMMENT ON COLUMN trials.primary_completion_date IS 'Primary completion (first day of the period given).';
COMMENT ON COLUMN trials.primary_completion_date_precision IS 'day | month | year.';
COMMENT ON COLUMN trials.primary_completion_date_type IS 'ACTUAL or ESTIMATED.';
COMMENT ON COLUMN trials.completion_date IS 'Study completion (first day of the period given).';
COMMENT ON COLUMN trials.completion_date_precision IS 'day | month | year.';
COMMENT ON COLUMN trials.completion_date_type IS 'ACTUAL or ESTIMATED.';
COMMENT ON COLUMN trials.first_posted_date IS 'When the study was first posted on ClinicalTrials.gov.';
COMMENT ON COLUMN trials.first_posted_date_precision IS 'day | month | year.';
COMMENT ON COLUMN trials.first_posted_date_type IS 'ACTUAL or ESTIMATED.';
COMMENT ON COLUMN trials.last_update_posted_date IS 'When the latest registry update was posted (incremental pulls use it).';
COMMENT ON COLUMN trials.last_update_posted_date_precision IS 'day | month | year.';
COMMENT ON COLUMN trials.last_update_posted_date_type IS 'ACTUAL or ESTIMATED.';
COMMENT ON COLUMN trials.has_results IS 'Results submitted to ClinicalTrials.gov (not necessarily posted yet).';
COMMENT ON COLUMN trials.lead_sponsor_name IS 'Lead sponsor.';
COMMENT ON COLUMN trials.lead_sponsor_class IS 'Lead sponsor class (INDUSTRY, NIH, OTHER_GOV, OTHER, …).';
COMMENT ON COLUMN trials.collaborators IS 'Collaborators with their class.';
COMMENT ON COLUMN trials.conditions IS 'Conditions as registered (free text).';
COMMENT ON COLUMN trials.keywords IS 'Registered keywords.';
COMMENT ON COLUMN trials.interventions IS 'Interventions: type, name, other names, description.';
COMMENT ON COLUMN trials.condition_mesh IS 'MeSH terms ClinicalTrials.gov derived for the conditions (id, term).';
COMMENT ON COLUMN trials.intervention_mesh IS 'MeSH terms ClinicalTrials.gov derived for the interventions (id, term).';
COMMENT ON COLUMN trials.countries IS 'Distinct countries of the study locations.';
COMMENT ON COLUMN trials."references" IS 'Registered references (pmid, type RESULT/BACKGROUND/DERIVED, citation).';
COMMENT ON COLUMN trials.brief_summary IS 'Brief summary.';
COMMENT ON COLUMN trials.detailed_description IS 'Detailed description.';
COMMENT ON COLUMN trials.eligibility_criteria IS 'Eligibility criteria text (inclusion and exclusion).';
COMMENT ON COLUMN trials.primary_outcomes IS 'Primary outcome measures.';
COMMENT ON COLUMN trials.content_hash IS 'Hash of the parsed record; a changed hash on re-fetch counts as an update.';
COMMENT ON COLUMN trials.first_seen_at IS 'When trialwatch first stored this study (UTC).';
COMMENT ON COLUMN trials.updated_at IS 'When trialwatch last stored a changed version (UTC).';
COMMENT ON COLUMN trials.first_run_id IS 'ingest_runs.run_id that first stored the study.';
COMMENT ON COLUMN trials.last_run_id IS 'ingest_runs.run_id that last stored a changed version.';

COMMENT ON TABLE article_trials IS 'Links between papers and trials, one row per way the link was found. Either side may not (yet) be in the warehouse.';
COMMENT ON COLUMN article_trials.pmid IS 'PubMed identifier.';
COMMENT ON COLUMN article_trials.nct_id IS 'ClinicalTrials.gov identifier.';
COMMENT ON COLUMN article_trials.evidence IS 'databank (PubMed DataBankList), abstract (NCT id in title/abstract) or ctgov_reference (the registry lists the PMID).';
COMMENT ON COLUMN article_trials.first_seen_at IS 'When the link was stored (UTC).';
COMMENT ON COLUMN article_trials.run_id IS 'ingest_runs.run_id that stored the link.';

COMMENT ON TABLE record_drugs IS 'Which catalogue drugs each article or trial concerns (names matched in its text and interventions).';
COMMENT ON COLUMN record_drugs.record_kind IS 'article or trial.';
COMMENT ON COLUMN record_drugs.record_id IS 'PMID (as text) or NCT id.';
COMMENT ON COLUMN record_drugs.drug IS 'Drug key from the catalogue: ketamine, psilocybin, mdma.';

COMMENT ON TABLE rejects IS 'Records or pages that could not be parsed, quarantined with the reason and the raw fragment.';
COMMENT ON COLUMN rejects.source IS 'pubmed or ctgov.';
COMMENT ON COLUMN rejects.record_id IS 'PMID or NCT id when it could be read.';
COMMENT ON COLUMN rejects.reason IS 'What was wrong.';
COMMENT ON COLUMN rejects.raw IS 'The offending fragment (at most 100,000 characters).';
COMMENT ON COLUMN rejects.raw_sha1 IS 'SHA-1 of the raw fragment: the same fragment seen again updates its row.';
COMMENT ON COLUMN rejects.run_id IS 'Last run that saw it.';
COMMENT ON COLUMN rejects.first_seen_at IS 'First time it was seen (UTC).';
COMMENT ON COLUMN rejects.seen_at IS 'Last time it was seen (UTC).';
COMMENT ON COLUMN rejects.times_seen IS 'How many runs have seen it.';

COMMENT ON TABLE ingest_runs IS 'One row per source per ingest/replay run: window, outcome, counts and the watermark the next incremental run starts from.';
COMMENT ON COLUMN ingest_runs.run_id IS 'Run identifier (UTC start time and source).';
COMMENT ON COLUMN ingest_runs.source IS 'pubmed or ctgov.';
COMMENT ON COLUMN ingest_runs.mode IS 'full, incremental, since or replay.';
COMMENT ON COLUMN ingest_runs.window_start IS 'First day asked for (NULL for a full pull).';
COMMENT ON COLUMN ingest_runs.started_at IS 'Start (UTC).';
COMMENT ON COLUMN ingest_runs.finished_at IS 'End (UTC); NULL while running or after a crash.';
COMMENT ON COLUMN ingest_runs.status IS 'running, succeeded or failed. Only succeeded runs advance the watermark.';
COMMENT ON COLUMN ingest_runs.fetched IS 'Records fetched and parsed.';
COMMENT ON COLUMN ingest_runs.new IS 'Records stored for the first time.';
COMMENT ON COLUMN ingest_runs.updated IS 'Records whose content changed.';
COMMENT ON COLUMN ingest_runs.unchanged IS 'Records fetched again with identical content.';
COMMENT ON COLUMN ingest_runs.deleted IS 'Records removed (PubMed DeleteCitation).';
COMMENT ON COLUMN ingest_runs.rejected IS 'Records quarantined in rejects.';
COMMENT ON COLUMN ingest_runs.http_requests IS 'HTTP requests made.';
COMMENT ON COLUMN ingest_runs.http_retries IS 'HTTP requests retried (rate limits, 5xx, truncated bodies, timeouts).';
COMMENT ON COLUMN ingest_runs.watermark IS 'Day the run''s window reached; the next incremental run starts here minus the overlap.';
COMMENT ON COLUMN ingest_runs.message IS 'Error message of a failed run.';
