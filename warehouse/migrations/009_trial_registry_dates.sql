-- trialwatch warehouse, version 9: the registry dates and oversight flags AACT keeps in `studies`
-- (same column names), which say when results were submitted and posted, whether a certificate
-- of delay was filed, how current the record is and whether the FDA regulates the product.

ALTER TABLE trials ADD COLUMN study_first_submitted_date DATE;
ALTER TABLE trials ADD COLUMN results_first_submitted_date DATE;
ALTER TABLE trials ADD COLUMN results_first_posted_date DATE;
ALTER TABLE trials ADD COLUMN results_first_posted_date_precision VARCHAR;
ALTER TABLE trials ADD COLUMN results_first_posted_date_type VARCHAR;
ALTER TABLE trials ADD COLUMN disposition_first_submitted_date DATE;
ALTER TABLE trials ADD COLUMN disposition_first_posted_date DATE;
ALTER TABLE trials ADD COLUMN disposition_first_posted_date_precision VARCHAR;
ALTER TABLE trials ADD COLUMN disposition_first_posted_date_type VARCHAR;
ALTER TABLE trials ADD COLUMN last_update_submitted_date DATE;
ALTER TABLE trials ADD COLUMN verification_date DATE;
ALTER TABLE trials ADD COLUMN verification_date_precision VARCHAR;
ALTER TABLE trials ADD COLUMN last_known_status VARCHAR;
ALTER TABLE trials ADD COLUMN is_fda_regulated_drug BOOLEAN;
ALTER TABLE trials ADD COLUMN is_fda_regulated_device BOOLEAN;
ALTER TABLE trials ADD COLUMN has_dmc BOOLEAN;

-- Trials stored before get these from their next full fetch or a replay (as in migration 008).
UPDATE trials SET content_hash = 'stored before the registry dates (migration 009)';

COMMENT ON COLUMN trials.study_first_submitted_date IS 'When the sponsor first submitted the registration (statusModule.studyFirstSubmitDate; AACT studies.study_first_submitted_date).';
COMMENT ON COLUMN trials.results_first_submitted_date IS 'When results were first submitted (resultsFirstSubmitDate), before quality control; NULL = never submitted. AACT studies.results_first_submitted_date.';
COMMENT ON COLUMN trials.results_first_posted_date IS 'When results were first posted on ClinicalTrials.gov (resultsFirstPostDateStruct; first day of the period). AACT studies.results_first_posted_date.';
COMMENT ON COLUMN trials.results_first_posted_date_precision IS 'day | month | year: how much of results_first_posted_date the registry gave.';
COMMENT ON COLUMN trials.results_first_posted_date_type IS 'ACTUAL or ESTIMATED, as the registry writes it.';
COMMENT ON COLUMN trials.disposition_first_submitted_date IS 'When a certificate of delay (for results) was first submitted (dispFirstSubmitDate); NULL = none filed. AACT studies.disposition_first_submitted_date.';
COMMENT ON COLUMN trials.disposition_first_posted_date IS 'When the certificate of delay was first posted (dispFirstPostDateStruct). AACT studies.disposition_first_posted_date.';
COMMENT ON COLUMN trials.disposition_first_posted_date_precision IS 'day | month | year: how much of disposition_first_posted_date the registry gave.';
COMMENT ON COLUMN trials.disposition_first_posted_date_type IS 'ACTUAL or ESTIMATED, as the registry writes it.';
COMMENT ON COLUMN trials.last_update_submitted_date IS 'When the sponsor last submitted an update (lastUpdateSubmitDate). AACT studies.last_update_submitted_date.';
COMMENT ON COLUMN trials.verification_date IS 'When the sponsor last verified the record (statusVerifiedDate, usually a month: first day of it). AACT studies.verification_date.';
COMMENT ON COLUMN trials.verification_date_precision IS 'day | month | year: how much of verification_date the registry gave.';
COMMENT ON COLUMN trials.last_known_status IS 'For status UNKNOWN (not verified for over two years): the last status the sponsor reported (lastKnownStatus). AACT studies.last_known_status.';
COMMENT ON COLUMN trials.is_fda_regulated_drug IS 'The trial studies a drug regulated by the US FDA (oversightModule.isFdaRegulatedDrug); NULL = not said (older records). AACT studies.is_fda_regulated_drug.';
COMMENT ON COLUMN trials.is_fda_regulated_device IS 'The trial studies a device regulated by the US FDA (oversightModule.isFdaRegulatedDevice). AACT studies.is_fda_regulated_device.';
COMMENT ON COLUMN trials.has_dmc IS 'A data monitoring committee oversees the trial (oversightModule.oversightHasDmc). AACT studies.has_dmc.';
