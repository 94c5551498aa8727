-- trialwatch warehouse, version 6: what a researcher acts on in a paper — retractions and
-- corrections, grants, affiliations and ORCIDs, journal details, study design — and whether a
-- catalogue drug is the subject of a record or only mentioned.

ALTER TABLE articles ALTER COLUMN authors TYPE
    STRUCT(last_name VARCHAR, fore_name VARCHAR, initials VARCHAR, collective_name VARCHAR,
           affiliations VARCHAR[], identifier VARCHAR, equal_contrib BOOLEAN)[]
USING [struct_pack(last_name := a.last_name, fore_name := a.fore_name, initials := a.initials,
                   collective_name := a.collective_name, affiliations := CAST([] AS VARCHAR[]),
                   identifier := CAST(NULL AS VARCHAR), equal_contrib := CAST(NULL AS BOOLEAN))
       FOR a IN authors];

ALTER TABLE articles ADD COLUMN retracted BOOLEAN;
ALTER TABLE articles ADD COLUMN expression_of_concern BOOLEAN;
ALTER TABLE articles ADD COLUMN journal_volume VARCHAR;
ALTER TABLE articles ADD COLUMN journal_issue VARCHAR;
ALTER TABLE articles ADD COLUMN journal_pages VARCHAR;
ALTER TABLE articles ADD COLUMN issn_print VARCHAR;
ALTER TABLE articles ADD COLUMN issn_electronic VARCHAR;
ALTER TABLE articles ADD COLUMN nlm_journal_id VARCHAR;
ALTER TABLE articles ADD COLUMN publication_status VARCHAR;
ALTER TABLE articles ADD COLUMN received_date DATE;
ALTER TABLE articles ADD COLUMN accepted_date DATE;
ALTER TABLE articles ADD COLUMN epublish_date DATE;
ALTER TABLE articles ADD COLUMN coi_statement VARCHAR;
ALTER TABLE articles ADD COLUMN suppl_mesh STRUCT(ui VARCHAR, name VARCHAR, type VARCHAR)[];
ALTER TABLE articles ADD COLUMN study_design VARCHAR;
ALTER TABLE articles ADD COLUMN study_design_source VARCHAR;
ALTER TABLE articles ADD COLUMN derivation_version VARCHAR;

ALTER TABLE record_drugs ADD COLUMN role VARCHAR;

CREATE TABLE comments_corrections (
    pmid        BIGINT NOT NULL,
    ref_type    VARCHAR NOT NULL,
    ref_pmid    BIGINT,
    ref_source  VARCHAR
);

CREATE TABLE grants (
    pmid      BIGINT NOT NULL,
    grant_id  VARCHAR,
    acronym   VARCHAR,
    agency    VARCHAR,
    country   VARCHAR
);

COMMENT ON COLUMN articles.authors IS 'Authors in order: names (collective_name for group authors), affiliations (every AffiliationInfo), identifier (ORCID as https://orcid.org/…, when given) and equal_contrib (EqualContrib="Y").';
COMMENT ON COLUMN articles.retracted IS 'True exactly when the paper is retracted: a RetractionIn link in comments_corrections or the publication type "Retracted Publication". A retraction notice ("Retraction of Publication") is not itself retracted.';
COMMENT ON COLUMN articles.expression_of_concern IS 'True when an expression of concern was published about the paper (ExpressionOfConcernIn link).';
COMMENT ON COLUMN articles.journal_volume IS 'JournalIssue/Volume.';
COMMENT ON COLUMN articles.journal_issue IS 'JournalIssue/Issue.';
COMMENT ON COLUMN articles.journal_pages IS 'Pagination (MedlinePgn, or StartPage-EndPage).';
COMMENT ON COLUMN articles.issn_print IS 'Print ISSN of the journal.';
COMMENT ON COLUMN articles.issn_electronic IS 'Electronic ISSN of the journal.';
COMMENT ON COLUMN articles.nlm_journal_id IS 'NLM unique journal id (MedlineJournalInfo/NlmUniqueID).';
COMMENT ON COLUMN articles.publication_status IS 'PubmedData/PublicationStatus: ppublish, epublish or aheadofprint.';
COMMENT ON COLUMN articles.received_date IS 'History date "received" (by the journal).';
COMMENT ON COLUMN articles.accepted_date IS 'History date "accepted".';
COMMENT ON COLUMN articles.epublish_date IS 'Electronic publication date (ArticleDate Electronic, else History "epublish").';
COMMENT ON COLUMN articles.coi_statement IS 'Conflict-of-interest statement (CoiStatement).';
COMMENT ON COLUMN articles.suppl_mesh IS 'Supplementary MeSH concepts (SupplMeshList: ui, name, type Disease/Protocol/Organism).';
COMMENT ON COLUMN articles.study_design IS 'randomized controlled trial, clinical trial, systematic review, meta-analysis, review, observational study, case report, preclinical, protocol, guideline, editorial, letter, comment or other.';
COMMENT ON COLUMN articles.study_design_source IS '"publication type" where NLM or the publisher typed it, "text" where derived from title, abstract and keywords.';
COMMENT ON COLUMN articles.derivation_version IS 'Versions of the rules that derived study_design and record_drugs.role (e.g. "design 1; role 1"); `trialwatch retag` re-derives records made by other versions.';
COMMENT ON COLUMN record_drugs.role IS 'subject (the research is about the drug''s use or effects) or mention (incidental: an anaesthetic for a procedure, background, a list of other drugs). Trials found by the intervention query are subject.';

COMMENT ON TABLE comments_corrections IS 'PubMed CommentsCorrectionsList: one row per link from a paper to another (retractions, errata, comments, updates, expressions of concern), replaced with its paper.';
COMMENT ON COLUMN comments_corrections.pmid IS 'The paper that carries the link.';
COMMENT ON COLUMN comments_corrections.ref_type IS 'RefType exactly as PubMed writes it: RetractionIn, RetractionOf, ErratumIn, ErratumFor, CommentIn, CommentOn, UpdateIn, UpdateOf, ExpressionOfConcernIn, ExpressionOfConcernFor, RepublishedIn, ReprintOf, …';
COMMENT ON COLUMN comments_corrections.ref_pmid IS 'PMID of the other paper, when PubMed gives it.';
COMMENT ON COLUMN comments_corrections.ref_source IS 'RefSource: the citation of the other paper as text.';

COMMENT ON TABLE grants IS 'PubMed GrantList: who funded each paper, replaced with its paper.';
COMMENT ON COLUMN grants.pmid IS 'PubMed identifier.';
COMMENT ON COLUMN grants.grant_id IS 'GrantID as written (e.g. R01 MH123456).';
COMMENT ON COLUMN grants.acronym IS 'Funder acronym (e.g. MH).';
COMMENT ON COLUMN grants.agency IS 'Funding agency.';
COMMENT ON COLUMN grants.country IS 'Country of the agency.';

CREATE OR REPLACE VIEW v_articles AS
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
    'https://pubmed.ncbi.nlm.nih.gov/' || a.pmid || '/' AS url,
    a.record_type,
    a.book_title,
    coalesce((SELECT list(d.drug ORDER BY d.drug) FROM record_drugs d
              WHERE d.record_kind = 'article' AND d.record_id = CAST(a.pmid AS VARCHAR)
                AND d.role IS DISTINCT FROM 'mention'), []) AS subject_drugs,
    a.study_design,
    a.study_design_source,
    coalesce(a.retracted, false) AS retracted,
    coalesce(a.expression_of_concern, false) AS expression_of_concern
FROM live_articles a;

COMMENT ON VIEW v_articles IS 'One row per paper still in PubMed: drugs (subject_drugs: those the paper is about, not only mentioning), journal, year, publication types, study design, retraction, MeSH terms, linked trials, PubMed URL, record type (article or book). Filter len(subject_drugs) > 0 to leave out papers that only mention a drug (e.g. ketamine as an anaesthetic).';
