-- trialwatch warehouse, version 7: AACT-shaped tables (CTTI's relational layout of ClinicalTrials.gov),
-- built from v2 study JSON by extract/aact.py. Names follow ctti-clinicaltrials/aact db/structure.sql;
-- ids are strings "<nct_id>:<table>:<ordinal>" instead of AACT's integer surrogates, so AACT joins carry over.

CREATE TABLE designs (
    nct_id VARCHAR NOT NULL,
    allocation VARCHAR,
    intervention_model VARCHAR,
    observational_model VARCHAR,
    primary_purpose VARCHAR,
    time_perspective VARCHAR,
    masking VARCHAR,
    masking_description VARCHAR,
    intervention_model_description VARCHAR,
    subject_masked BOOLEAN,
    caregiver_masked BOOLEAN,
    investigator_masked BOOLEAN,
    outcomes_assessor_masked BOOLEAN
);

CREATE TABLE design_groups (
    nct_id VARCHAR NOT NULL,
    id VARCHAR,
    group_type VARCHAR,
    title VARCHAR,
    description VARCHAR
);

CREATE TABLE design_group_interventions (
    nct_id VARCHAR NOT NULL,
    id VARCHAR,
    design_group_id VARCHAR,
    intervention_id VARCHAR
);

CREATE TABLE interventions (
    nct_id VARCHAR NOT NULL,
    id VARCHAR,
    intervention_type VARCHAR,
    name VARCHAR,
    description VARCHAR,
    other_names VARCHAR[]
);

CREATE TABLE design_outcomes (
    nct_id VARCHAR NOT NULL,
    id VARCHAR,
    outcome_type VARCHAR,
    measure VARCHAR,
    time_frame VARCHAR,
    population VARCHAR,
    description VARCHAR
);

CREATE TABLE eligibilities (
    nct_id VARCHAR NOT NULL,
    sampling_method VARCHAR,
    gender VARCHAR,
    minimum_age VARCHAR,
    maximum_age VARCHAR,
    healthy_volunteers BOOLEAN,
    population VARCHAR,
    criteria VARCHAR,
    gender_description VARCHAR,
    gender_based BOOLEAN,
    adult BOOLEAN,
    child BOOLEAN,
    older_adult BOOLEAN,
    std_ages VARCHAR[]
);

CREATE TABLE facilities (
    nct_id VARCHAR NOT NULL,
    id VARCHAR,
    status VARCHAR,
    name VARCHAR,
    city VARCHAR,
    state VARCHAR,
    zip VARCHAR,
    country VARCHAR,
    latitude DOUBLE,
    longitude DOUBLE
);

CREATE TABLE id_information (
    nct_id VARCHAR NOT NULL,
    id VARCHAR,
    id_source VARCHAR,
    id_type VARCHAR,
    id_type_description VARCHAR,
    id_value VARCHAR,
    id_link VARCHAR
);

CREATE TABLE overall_officials (
    nct_id VARCHAR NOT NULL,
    id VARCHAR,
    role VARCHAR,
    name VARCHAR,
    affiliation VARCHAR
);

CREATE TABLE responsible_parties (
    nct_id VARCHAR NOT NULL,
    id VARCHAR,
    responsible_party_type VARCHAR,
    name VARCHAR,
    title VARCHAR,
    organization VARCHAR,
    affiliation VARCHAR,
    old_name_title VARCHAR
);

CREATE TABLE sponsors (
    nct_id VARCHAR NOT NULL,
    id VARCHAR,
    agency_class VARCHAR,
    lead_or_collaborator VARCHAR,
    name VARCHAR
);

CREATE TABLE provided_documents (
    nct_id VARCHAR NOT NULL,
    id VARCHAR,
    document_type VARCHAR,
    has_protocol BOOLEAN,
    has_icf BOOLEAN,
    has_sap BOOLEAN,
    document_date DATE,
    document_date_raw VARCHAR,
    url VARCHAR
);

CREATE TABLE result_groups (
    nct_id VARCHAR NOT NULL,
    id VARCHAR,
    ctgov_group_code VARCHAR,
    result_type VARCHAR,
    title VARCHAR,
    description VARCHAR,
    outcome_id VARCHAR
);

CREATE TABLE participant_flows (
    nct_id VARCHAR NOT NULL,
    recruitment_details VARCHAR,
    pre_assignment_details VARCHAR,
    units_analyzed VARCHAR
);

CREATE TABLE milestones (
    nct_id VARCHAR NOT NULL,
    id VARCHAR,
    result_group_id VARCHAR,
    ctgov_group_code VARCHAR,
    title VARCHAR,
    period VARCHAR,
    description VARCHAR,
    count BIGINT,
    milestone_description VARCHAR,
    count_units BIGINT
);

CREATE TABLE drop_withdrawals (
    nct_id VARCHAR NOT NULL,
    id VARCHAR,
    result_group_id VARCHAR,
    ctgov_group_code VARCHAR,
    period VARCHAR,
    reason VARCHAR,
    count BIGINT,
    drop_withdraw_comment VARCHAR,
    reason_comment VARCHAR
);

CREATE TABLE baseline_measurements (
    nct_id VARCHAR NOT NULL,
    id VARCHAR,
    result_group_id VARCHAR,
    ctgov_group_code VARCHAR,
    classification VARCHAR,
    category VARCHAR,
    title VARCHAR,
    description VARCHAR,
    units VARCHAR,
    param_type VARCHAR,
    param_value VARCHAR,
    param_value_num DOUBLE,
    dispersion_type VARCHAR,
    dispersion_value VARCHAR,
    dispersion_value_num DOUBLE,
    dispersion_lower_limit DOUBLE,
    dispersion_upper_limit DOUBLE,
    dispersion_lower_limit_raw VARCHAR,
    dispersion_upper_limit_raw VARCHAR,
    explanation_of_na VARCHAR,
    population_description VARCHAR
);

CREATE TABLE outcomes (
    nct_id VARCHAR NOT NULL,
    id VARCHAR,
    outcome_type VARCHAR,
    title VARCHAR,
    description VARCHAR,
    time_frame VARCHAR,
    population VARCHAR,
    anticipated_posting_month_year VARCHAR,
    units VARCHAR,
    units_analyzed VARCHAR,
    dispersion_type VARCHAR,
    param_type VARCHAR
);

CREATE TABLE outcome_measurements (
    nct_id VARCHAR NOT NULL,
    id VARCHAR,
    outcome_id VARCHAR,
    result_group_id VARCHAR,
    ctgov_group_code VARCHAR,
    classification VARCHAR,
    category VARCHAR,
    title VARCHAR,
    description VARCHAR,
    units VARCHAR,
    param_type VARCHAR,
    param_value VARCHAR,
    param_value_num DOUBLE,
    dispersion_type VARCHAR,
    dispersion_value VARCHAR,
    dispersion_value_num DOUBLE,
    dispersion_lower_limit DOUBLE,
    dispersion_upper_limit DOUBLE,
    dispersion_lower_limit_raw VARCHAR,
    dispersion_upper_limit_raw VARCHAR,
    explanation_of_na VARCHAR
);

CREATE TABLE outcome_analyses (
    nct_id VARCHAR NOT NULL,
    id VARCHAR,
    outcome_id VARCHAR,
    non_inferiority_type VARCHAR,
    non_inferiority_description VARCHAR,
    param_type VARCHAR,
    param_value DOUBLE,
    dispersion_type VARCHAR,
    dispersion_value DOUBLE,
    p_value_modifier VARCHAR,
    p_value DOUBLE,
    p_value_raw VARCHAR,
    p_value_description VARCHAR,
    ci_n_sides VARCHAR,
    ci_percent DOUBLE,
    ci_lower_limit DOUBLE,
    ci_upper_limit DOUBLE,
    ci_lower_limit_raw VARCHAR,
    ci_upper_limit_raw VARCHAR,
    ci_upper_limit_na_comment VARCHAR,
    method VARCHAR,
    method_description VARCHAR,
    estimate_description VARCHAR,
    groups_description VARCHAR,
    other_analysis_description VARCHAR,
    group_codes VARCHAR[]
);

CREATE TABLE reported_events (
    nct_id VARCHAR NOT NULL,
    id VARCHAR,
    result_group_id VARCHAR,
    ctgov_group_code VARCHAR,
    time_frame VARCHAR,
    event_type VARCHAR,
    default_vocab VARCHAR,
    default_assessment VARCHAR,
    subjects_affected BIGINT,
    subjects_at_risk BIGINT,
    description VARCHAR,
    event_count BIGINT,
    organ_system VARCHAR,
    adverse_event_term VARCHAR,
    frequency_threshold DOUBLE,
    vocab VARCHAR,
    assessment VARCHAR
);

CREATE TABLE reported_event_totals (
    nct_id VARCHAR NOT NULL,
    id VARCHAR,
    ctgov_group_code VARCHAR,
    event_type VARCHAR,
    classification VARCHAR,
    subjects_affected BIGINT,
    subjects_at_risk BIGINT
);

COMMENT ON TABLE designs IS 'AACT designs: one row per study with protocolSection.designModule.designInfo. Enum values kept as v2 writes them (RANDOMIZED, PARALLEL, …), as AACT''s v2 loader does.';
COMMENT ON COLUMN designs.nct_id IS 'Study id: protocolSection.identificationModule.nctId.';
COMMENT ON COLUMN designs.allocation IS 'v2 enum RANDOMIZED / NON_RANDOMIZED / NA: protocolSection.designModule.designInfo.allocation.';
COMMENT ON COLUMN designs.intervention_model IS 'v2 enum (PARALLEL, CROSSOVER, SINGLE_GROUP, FACTORIAL, SEQUENTIAL): protocolSection.designModule.designInfo.interventionModel.';
COMMENT ON COLUMN designs.observational_model IS 'v2 enum (COHORT, CASE_CONTROL, …) for observational studies: protocolSection.designModule.designInfo.observationalModel.';
COMMENT ON COLUMN designs.primary_purpose IS 'v2 enum (TREATMENT, PREVENTION, BASIC_SCIENCE, …): protocolSection.designModule.designInfo.primaryPurpose.';
COMMENT ON COLUMN designs.time_perspective IS 'v2 enum (PROSPECTIVE, RETROSPECTIVE, CROSS_SECTIONAL, OTHER): protocolSection.designModule.designInfo.timePerspective.';
COMMENT ON COLUMN designs.masking IS 'v2 enum (NONE, SINGLE, DOUBLE, TRIPLE, QUADRUPLE): protocolSection.designModule.designInfo.maskingInfo.masking.';
COMMENT ON COLUMN designs.masking_description IS 'Free-text masking details: protocolSection.designModule.designInfo.maskingInfo.maskingDescription.';
COMMENT ON COLUMN designs.intervention_model_description IS 'Free-text model details: protocolSection.designModule.designInfo.interventionModelDescription.';
COMMENT ON COLUMN designs.subject_masked IS 'True when protocolSection.designModule.designInfo.maskingInfo.whoMasked contains PARTICIPANT; NULL when whoMasked is absent.';
COMMENT ON COLUMN designs.caregiver_masked IS 'True when protocolSection.designModule.designInfo.maskingInfo.whoMasked contains CARE_PROVIDER; NULL when whoMasked is absent.';
COMMENT ON COLUMN designs.investigator_masked IS 'True when protocolSection.designModule.designInfo.maskingInfo.whoMasked contains INVESTIGATOR; NULL when whoMasked is absent.';
COMMENT ON COLUMN designs.outcomes_assessor_masked IS 'True when protocolSection.designModule.designInfo.maskingInfo.whoMasked contains OUTCOMES_ASSESSOR; NULL when whoMasked is absent.';
COMMENT ON TABLE design_groups IS 'AACT design_groups: arms / groups of the protocol, one row per protocolSection.armsInterventionsModule.armGroups[].';
COMMENT ON COLUMN design_groups.nct_id IS 'Study id: protocolSection.identificationModule.nctId.';
COMMENT ON COLUMN design_groups.id IS 'Row id, deterministic string "<nct_id>:design_groups:<ordinal>" (ordinal from 1 in JSON order; AACT uses an integer surrogate).';
COMMENT ON COLUMN design_groups.group_type IS 'v2 arm type enum (EXPERIMENTAL, PLACEBO_COMPARATOR, ACTIVE_COMPARATOR, …): protocolSection.armsInterventionsModule.armGroups[].type.';
COMMENT ON COLUMN design_groups.title IS 'Arm label (what interventions[].armGroupLabels refer to): armGroups[].label.';
COMMENT ON COLUMN design_groups.description IS 'Arm description: armGroups[].description.';
COMMENT ON TABLE design_group_interventions IS 'AACT design_group_interventions: which intervention is given in which arm, one row per interventions[].armGroupLabels[] entry that names an armGroups[].label.';
COMMENT ON COLUMN design_group_interventions.nct_id IS 'Study id: protocolSection.identificationModule.nctId.';
COMMENT ON COLUMN design_group_interventions.id IS 'Row id, deterministic string "<nct_id>:design_group_interventions:<ordinal>" (ordinal from 1 in JSON order; AACT uses an integer surrogate).';
COMMENT ON COLUMN design_group_interventions.design_group_id IS 'design_groups.id of the arm named in interventions[].armGroupLabels[].';
COMMENT ON COLUMN design_group_interventions.intervention_id IS 'interventions.id of the intervention.';
COMMENT ON TABLE interventions IS 'AACT interventions: one row per protocolSection.armsInterventionsModule.interventions[] (other names as a list instead of AACT''s intervention_other_names table).';
COMMENT ON COLUMN interventions.nct_id IS 'Study id: protocolSection.identificationModule.nctId.';
COMMENT ON COLUMN interventions.id IS 'Row id, deterministic string "<nct_id>:interventions:<ordinal>" (ordinal from 1 in JSON order; AACT uses an integer surrogate).';
COMMENT ON COLUMN interventions.intervention_type IS 'v2 enum (DRUG, BEHAVIORAL, DEVICE, …): protocolSection.armsInterventionsModule.interventions[].type.';
COMMENT ON COLUMN interventions.name IS 'Intervention name: interventions[].name.';
COMMENT ON COLUMN interventions.description IS 'Intervention description: interventions[].description.';
COMMENT ON COLUMN interventions.other_names IS 'Other names (brand names, codes), in order: interventions[].otherNames[] (AACT: table intervention_other_names).';
COMMENT ON TABLE design_outcomes IS 'AACT design_outcomes: planned outcome measures, one row per protocolSection.outcomesModule primaryOutcomes[] / secondaryOutcomes[] / otherOutcomes[].';
COMMENT ON COLUMN design_outcomes.nct_id IS 'Study id: protocolSection.identificationModule.nctId.';
COMMENT ON COLUMN design_outcomes.id IS 'Row id, deterministic string "<nct_id>:design_outcomes:<ordinal>" (ordinal from 1 in JSON order; AACT uses an integer surrogate).';
COMMENT ON COLUMN design_outcomes.outcome_type IS '''primary'', ''secondary'' or ''other'' (AACT''s text): which of outcomesModule primaryOutcomes / secondaryOutcomes / otherOutcomes the row comes from.';
COMMENT ON COLUMN design_outcomes.measure IS 'Outcome measure title: <list>[].measure.';
COMMENT ON COLUMN design_outcomes.time_frame IS 'Time frame: <list>[].timeFrame.';
COMMENT ON COLUMN design_outcomes.population IS 'Always NULL: v2 protocol outcomes carry no population (AACT column kept for compatibility).';
COMMENT ON COLUMN design_outcomes.description IS 'Outcome description: <list>[].description.';
COMMENT ON TABLE eligibilities IS 'AACT eligibilities: one row per study with protocolSection.eligibilityModule.';
COMMENT ON COLUMN eligibilities.nct_id IS 'Study id: protocolSection.identificationModule.nctId.';
COMMENT ON COLUMN eligibilities.sampling_method IS 'v2 enum PROBABILITY_SAMPLE / NON_PROBABILITY_SAMPLE (observational): protocolSection.eligibilityModule.samplingMethod.';
COMMENT ON COLUMN eligibilities.gender IS 'v2 enum ALL / FEMALE / MALE: protocolSection.eligibilityModule.sex.';
COMMENT ON COLUMN eligibilities.minimum_age IS 'Minimum age as text, e.g. ''18 Years'': protocolSection.eligibilityModule.minimumAge; NULL when absent (AACT writes ''N/A'').';
COMMENT ON COLUMN eligibilities.maximum_age IS 'Maximum age as text: protocolSection.eligibilityModule.maximumAge; NULL when absent (AACT writes ''N/A'').';
COMMENT ON COLUMN eligibilities.healthy_volunteers IS 'Accepts healthy volunteers: protocolSection.eligibilityModule.healthyVolunteers (BOOLEAN; AACT stores text).';
COMMENT ON COLUMN eligibilities.population IS 'Study population (observational studies): protocolSection.eligibilityModule.studyPopulation.';
COMMENT ON COLUMN eligibilities.criteria IS 'Inclusion/exclusion criteria text: protocolSection.eligibilityModule.eligibilityCriteria.';
COMMENT ON COLUMN eligibilities.gender_description IS 'Gender eligibility details: protocolSection.eligibilityModule.genderDescription.';
COMMENT ON COLUMN eligibilities.gender_based IS 'Eligibility is based on gender identity: protocolSection.eligibilityModule.genderBased.';
COMMENT ON COLUMN eligibilities.adult IS 'protocolSection.eligibilityModule.stdAges contains ADULT (NULL when stdAges is absent).';
COMMENT ON COLUMN eligibilities.child IS 'protocolSection.eligibilityModule.stdAges contains CHILD (NULL when stdAges is absent).';
COMMENT ON COLUMN eligibilities.older_adult IS 'protocolSection.eligibilityModule.stdAges contains OLDER_ADULT (NULL when stdAges is absent).';
COMMENT ON COLUMN eligibilities.std_ages IS 'Standard age groups as v2 enums, in order: protocolSection.eligibilityModule.stdAges[].';
COMMENT ON TABLE facilities IS 'AACT facilities: one row per protocolSection.contactsLocationsModule.locations[].';
COMMENT ON COLUMN facilities.nct_id IS 'Study id: protocolSection.identificationModule.nctId.';
COMMENT ON COLUMN facilities.id IS 'Row id, deterministic string "<nct_id>:facilities:<ordinal>" (ordinal from 1 in JSON order; AACT uses an integer surrogate).';
COMMENT ON COLUMN facilities.status IS 'Site recruitment status as v2 enum (RECRUITING, COMPLETED, …): protocolSection.contactsLocationsModule.locations[].status.';
COMMENT ON COLUMN facilities.name IS 'Facility name: protocolSection.contactsLocationsModule.locations[].facility.';
COMMENT ON COLUMN facilities.city IS 'protocolSection.contactsLocationsModule.locations[].city.';
COMMENT ON COLUMN facilities.state IS 'protocolSection.contactsLocationsModule.locations[].state.';
COMMENT ON COLUMN facilities.zip IS 'protocolSection.contactsLocationsModule.locations[].zip.';
COMMENT ON COLUMN facilities.country IS 'protocolSection.contactsLocationsModule.locations[].country.';
COMMENT ON COLUMN facilities.latitude IS 'Latitude in degrees: protocolSection.contactsLocationsModule.locations[].geoPoint.lat.';
COMMENT ON COLUMN facilities.longitude IS 'Longitude in degrees: protocolSection.contactsLocationsModule.locations[].geoPoint.lon.';
COMMENT ON TABLE id_information IS 'AACT id_information: the organisation''s study id, secondary ids and NCT aliases (protocolSection.identificationModule).';
COMMENT ON COLUMN id_information.nct_id IS 'Study id: protocolSection.identificationModule.nctId.';
COMMENT ON COLUMN id_information.id IS 'Row id, deterministic string "<nct_id>:id_information:<ordinal>" (ordinal from 1 in JSON order; AACT uses an integer surrogate).';
COMMENT ON COLUMN id_information.id_source IS '''org_study_id'' (identificationModule.orgStudyIdInfo), ''secondary_id'' (secondaryIdInfos[]) or ''nct_alias'' (nctIdAliases[]), as AACT.';
COMMENT ON COLUMN id_information.id_type IS 'v2 id type enum (NIH, FDA, OTHER_GRANT, REGISTRY, …): .type.';
COMMENT ON COLUMN id_information.id_type_description IS 'Issuing domain / registry name: .domain.';
COMMENT ON COLUMN id_information.id_value IS 'The identifier: .id (the alias itself for nct_alias).';
COMMENT ON COLUMN id_information.id_link IS 'Link for the id: .link.';
COMMENT ON TABLE overall_officials IS 'AACT overall_officials: one row per protocolSection.contactsLocationsModule.overallOfficials[].';
COMMENT ON COLUMN overall_officials.nct_id IS 'Study id: protocolSection.identificationModule.nctId.';
COMMENT ON COLUMN overall_officials.id IS 'Row id, deterministic string "<nct_id>:overall_officials:<ordinal>" (ordinal from 1 in JSON order; AACT uses an integer surrogate).';
COMMENT ON COLUMN overall_officials.role IS 'v2 enum (PRINCIPAL_INVESTIGATOR, STUDY_CHAIR, STUDY_DIRECTOR): protocolSection.contactsLocationsModule.overallOfficials[].role.';
COMMENT ON COLUMN overall_officials.name IS 'overallOfficials[].name.';
COMMENT ON COLUMN overall_officials.affiliation IS 'overallOfficials[].affiliation.';
COMMENT ON TABLE responsible_parties IS 'AACT responsible_parties: protocolSection.sponsorCollaboratorsModule.responsibleParty.';
COMMENT ON COLUMN responsible_parties.nct_id IS 'Study id: protocolSection.identificationModule.nctId.';
COMMENT ON COLUMN responsible_parties.id IS 'Row id, deterministic string "<nct_id>:responsible_parties:<ordinal>" (ordinal from 1 in JSON order; AACT uses an integer surrogate).';
COMMENT ON COLUMN responsible_parties.responsible_party_type IS 'v2 enum SPONSOR / PRINCIPAL_INVESTIGATOR / SPONSOR_INVESTIGATOR: protocolSection.sponsorCollaboratorsModule.responsibleParty.type.';
COMMENT ON COLUMN responsible_parties.name IS 'Investigator''s full name: responsibleParty.investigatorFullName.';
COMMENT ON COLUMN responsible_parties.title IS 'Investigator''s title: responsibleParty.investigatorTitle.';
COMMENT ON COLUMN responsible_parties.organization IS 'Organisation of older records: responsibleParty.oldOrganization.';
COMMENT ON COLUMN responsible_parties.affiliation IS 'Investigator''s affiliation: responsibleParty.investigatorAffiliation.';
COMMENT ON COLUMN responsible_parties.old_name_title IS 'Name/title of older records: responsibleParty.oldNameTitle.';
COMMENT ON TABLE sponsors IS 'AACT sponsors: the lead sponsor and each collaborator (protocolSection.sponsorCollaboratorsModule).';
COMMENT ON COLUMN sponsors.nct_id IS 'Study id: protocolSection.identificationModule.nctId.';
COMMENT ON COLUMN sponsors.id IS 'Row id, deterministic string "<nct_id>:sponsors:<ordinal>" (ordinal from 1 in JSON order; AACT uses an integer surrogate).';
COMMENT ON COLUMN sponsors.agency_class IS 'v2 enum (NIH, FED, INDUSTRY, OTHER, …): leadSponsor.class / collaborators[].class.';
COMMENT ON COLUMN sponsors.lead_or_collaborator IS '''lead'' (sponsorCollaboratorsModule.leadSponsor) or ''collaborator'' (collaborators[]), as AACT.';
COMMENT ON COLUMN sponsors.name IS 'Sponsor name: .name.';
COMMENT ON TABLE provided_documents IS 'AACT provided_documents: protocol, SAP and consent documents, one row per documentSection.largeDocumentModule.largeDocs[].';
COMMENT ON COLUMN provided_documents.nct_id IS 'Study id: protocolSection.identificationModule.nctId.';
COMMENT ON COLUMN provided_documents.id IS 'Row id, deterministic string "<nct_id>:provided_documents:<ordinal>" (ordinal from 1 in JSON order; AACT uses an integer surrogate).';
COMMENT ON COLUMN provided_documents.document_type IS 'Document label, e.g. ''Study Protocol and Statistical Analysis Plan'': documentSection.largeDocumentModule.largeDocs[].label.';
COMMENT ON COLUMN provided_documents.has_protocol IS 'documentSection.largeDocumentModule.largeDocs[].hasProtocol.';
COMMENT ON COLUMN provided_documents.has_icf IS 'Has informed consent form: documentSection.largeDocumentModule.largeDocs[].hasIcf.';
COMMENT ON COLUMN provided_documents.has_sap IS 'Has statistical analysis plan: documentSection.largeDocumentModule.largeDocs[].hasSap.';
COMMENT ON COLUMN provided_documents.document_date IS 'Document date when documentSection.largeDocumentModule.largeDocs[].date is a full YYYY-MM-DD, else NULL (see document_date_raw).';
COMMENT ON COLUMN provided_documents.document_date_raw IS 'Document date as given (may be partial): documentSection.largeDocumentModule.largeDocs[].date.';
COMMENT ON COLUMN provided_documents.url IS 'https://ClinicalTrials.gov/ProvidedDocs/<last 2 digits>/<nct_id>/<documentSection.largeDocumentModule.largeDocs[].filename>, built as AACT does.';
COMMENT ON TABLE result_groups IS 'AACT result_groups: the groups results are reported for, one row per resultsSection participantFlowModule.groups[], baselineCharacteristicsModule.groups[], outcomeMeasures[].groups[] (per outcome) and adverseEventsModule.eventGroups[].';
COMMENT ON COLUMN result_groups.nct_id IS 'Study id: protocolSection.identificationModule.nctId.';
COMMENT ON COLUMN result_groups.id IS 'Row id, deterministic string "<nct_id>:result_groups:<ordinal>" (ordinal from 1 in JSON order; AACT uses an integer surrogate).';
COMMENT ON COLUMN result_groups.ctgov_group_code IS 'Group code as given (FG000, BG000, OG000, EG000): groups[].id / eventGroups[].id.';
COMMENT ON COLUMN result_groups.result_type IS '''Participant Flow'', ''Baseline'', ''Outcome'' or ''Reported Event'' (AACT''s text): which results module the group belongs to.';
COMMENT ON COLUMN result_groups.title IS 'Group title: .title.';
COMMENT ON COLUMN result_groups.description IS 'Group description: .description.';
COMMENT ON COLUMN result_groups.outcome_id IS 'For ''Outcome'' groups, outcomes.id of the outcome measure the group belongs to (outcome groups are per measure); NULL otherwise.';
COMMENT ON TABLE participant_flows IS 'AACT participant_flows: one row per study with resultsSection.participantFlowModule.';
COMMENT ON COLUMN participant_flows.nct_id IS 'Study id: protocolSection.identificationModule.nctId.';
COMMENT ON COLUMN participant_flows.recruitment_details IS 'resultsSection.participantFlowModule.recruitmentDetails.';
COMMENT ON COLUMN participant_flows.pre_assignment_details IS 'resultsSection.participantFlowModule.preAssignmentDetails.';
COMMENT ON COLUMN participant_flows.units_analyzed IS 'Units other than participants, if any: resultsSection.participantFlowModule.typeUnitsAnalyzed.';
COMMENT ON TABLE milestones IS 'AACT milestones: participant counts per milestone, period and group (resultsSection.participantFlowModule.periods[].milestones[].achievements[]).';
COMMENT ON COLUMN milestones.nct_id IS 'Study id: protocolSection.identificationModule.nctId.';
COMMENT ON COLUMN milestones.id IS 'Row id, deterministic string "<nct_id>:milestones:<ordinal>" (ordinal from 1 in JSON order; AACT uses an integer surrogate).';
COMMENT ON COLUMN milestones.result_group_id IS 'result_groups.id of the group (ctgov_group_code within this section''s groups); join result_groups ON id.';
COMMENT ON COLUMN milestones.ctgov_group_code IS 'Group code: resultsSection.participantFlowModule.periods[].milestones[].achievements[].groupId.';
COMMENT ON COLUMN milestones.title IS 'Milestone, e.g. STARTED, COMPLETED: milestones[].type.';
COMMENT ON COLUMN milestones.period IS 'Period title: periods[].title.';
COMMENT ON COLUMN milestones.description IS 'Comment on the count: achievements[].comment.';
COMMENT ON COLUMN milestones.count IS 'Participants: achievements[].numSubjects as an integer.';
COMMENT ON COLUMN milestones.milestone_description IS 'Comment on the milestone: milestones[].comment.';
COMMENT ON COLUMN milestones.count_units IS 'Units (other than participants) count: achievements[].numUnits as an integer.';
COMMENT ON TABLE drop_withdrawals IS 'AACT drop_withdrawals: participants who left, per reason, period and group (resultsSection.participantFlowModule.periods[].dropWithdraws[].reasons[]).';
COMMENT ON COLUMN drop_withdrawals.nct_id IS 'Study id: protocolSection.identificationModule.nctId.';
COMMENT ON COLUMN drop_withdrawals.id IS 'Row id, deterministic string "<nct_id>:drop_withdrawals:<ordinal>" (ordinal from 1 in JSON order; AACT uses an integer surrogate).';
COMMENT ON COLUMN drop_withdrawals.result_group_id IS 'result_groups.id of the group (ctgov_group_code within this section''s groups); join result_groups ON id.';
COMMENT ON COLUMN drop_withdrawals.ctgov_group_code IS 'Group code: resultsSection.participantFlowModule.periods[].dropWithdraws[].reasons[].groupId.';
COMMENT ON COLUMN drop_withdrawals.period IS 'Period title: periods[].title.';
COMMENT ON COLUMN drop_withdrawals.reason IS 'Reason, e.g. ''Withdrawal by Subject'': dropWithdraws[].type.';
COMMENT ON COLUMN drop_withdrawals.count IS 'Participants: reasons[].numSubjects as an integer.';
COMMENT ON COLUMN drop_withdrawals.drop_withdraw_comment IS 'dropWithdraws[].comment.';
COMMENT ON COLUMN drop_withdrawals.reason_comment IS 'reasons[].comment.';
COMMENT ON TABLE baseline_measurements IS 'AACT baseline_measurements: one row per resultsSection.baselineCharacteristicsModule.measures[].classes[].categories[].measurements[].';
COMMENT ON COLUMN baseline_measurements.nct_id IS 'Study id: protocolSection.identificationModule.nctId.';
COMMENT ON COLUMN baseline_measurements.id IS 'Row id, deterministic string "<nct_id>:baseline_measurements:<ordinal>" (ordinal from 1 in JSON order; AACT uses an integer surrogate).';
COMMENT ON COLUMN baseline_measurements.result_group_id IS 'result_groups.id of the group (ctgov_group_code within this section''s groups); join result_groups ON id.';
COMMENT ON COLUMN baseline_measurements.ctgov_group_code IS 'Group code as ClinicalTrials.gov gives it (e.g. BG000, OG001): resultsSection.baselineCharacteristicsModule.measures[].classes[].categories[].measurements[].groupId.';
COMMENT ON COLUMN baseline_measurements.classification IS 'Class title (row label within the measure; often NULL): resultsSection.baselineCharacteristicsModule.measures[].classes[].title.';
COMMENT ON COLUMN baseline_measurements.category IS 'Category title within the class (often NULL): resultsSection.baselineCharacteristicsModule.measures[].classes[].categories[].title.';
COMMENT ON COLUMN baseline_measurements.title IS 'Measure title: measures[].title (outcomeMeasures[].title for outcomes).';
COMMENT ON COLUMN baseline_measurements.description IS 'Measure description: .description of the measure.';
COMMENT ON COLUMN baseline_measurements.units IS 'Unit of measure: .unitOfMeasure of the measure.';
COMMENT ON COLUMN baseline_measurements.param_type IS 'Measure type as v2 enum (COUNT_OF_PARTICIPANTS, MEAN, MEDIAN, …): .paramType of the measure.';
COMMENT ON COLUMN baseline_measurements.param_value IS 'The value as text, as given: resultsSection.baselineCharacteristicsModule.measures[].classes[].categories[].measurements[].value.';
COMMENT ON COLUMN baseline_measurements.param_value_num IS 'param_value as a number; NULL when the text is not a number (e.g. NA).';
COMMENT ON COLUMN baseline_measurements.dispersion_type IS 'Dispersion type as v2 enum (STANDARD_DEVIATION, FULL_RANGE, …): .dispersionType of the measure.';
COMMENT ON COLUMN baseline_measurements.dispersion_value IS 'Spread as text: resultsSection.baselineCharacteristicsModule.measures[].classes[].categories[].measurements[].spread.';
COMMENT ON COLUMN baseline_measurements.dispersion_value_num IS 'dispersion_value as a number; NULL when not a number.';
COMMENT ON COLUMN baseline_measurements.dispersion_lower_limit IS 'Lower limit (range / CI) as a number: resultsSection.baselineCharacteristicsModule.measures[].classes[].categories[].measurements[].lowerLimit.';
COMMENT ON COLUMN baseline_measurements.dispersion_upper_limit IS 'Upper limit (range / CI) as a number: resultsSection.baselineCharacteristicsModule.measures[].classes[].categories[].measurements[].upperLimit.';
COMMENT ON COLUMN baseline_measurements.dispersion_lower_limit_raw IS 'Lower limit as text: resultsSection.baselineCharacteristicsModule.measures[].classes[].categories[].measurements[].lowerLimit.';
COMMENT ON COLUMN baseline_measurements.dispersion_upper_limit_raw IS 'Upper limit as text: resultsSection.baselineCharacteristicsModule.measures[].classes[].categories[].measurements[].upperLimit.';
COMMENT ON COLUMN baseline_measurements.explanation_of_na IS 'Why a value is NA: resultsSection.baselineCharacteristicsModule.measures[].classes[].categories[].measurements[].comment.';
COMMENT ON COLUMN baseline_measurements.population_description IS 'Analysis population of the measure: resultsSection.baselineCharacteristicsModule.measures[].populationDescription.';
COMMENT ON TABLE outcomes IS 'AACT outcomes: reported outcome measures, one row per resultsSection.outcomeMeasuresModule.outcomeMeasures[].';
COMMENT ON COLUMN outcomes.nct_id IS 'Study id: protocolSection.identificationModule.nctId.';
COMMENT ON COLUMN outcomes.id IS 'Row id, deterministic string "<nct_id>:outcomes:<ordinal>" (ordinal from 1 in JSON order; AACT uses an integer surrogate).';
COMMENT ON COLUMN outcomes.outcome_type IS 'v2 enum PRIMARY / SECONDARY / OTHER_PRE_SPECIFIED / POST_HOC (kept as v2, as AACT''s v2 loader): resultsSection.outcomeMeasuresModule.outcomeMeasures[].type.';
COMMENT ON COLUMN outcomes.title IS 'outcomeMeasures[].title.';
COMMENT ON COLUMN outcomes.description IS 'outcomeMeasures[].description.';
COMMENT ON COLUMN outcomes.time_frame IS 'outcomeMeasures[].timeFrame.';
COMMENT ON COLUMN outcomes.population IS 'Analysis population: outcomeMeasures[].populationDescription.';
COMMENT ON COLUMN outcomes.anticipated_posting_month_year IS 'When results not yet posted are expected, as given (YYYY-MM): outcomeMeasures[].anticipatedPostingDate.';
COMMENT ON COLUMN outcomes.units IS 'outcomeMeasures[].unitOfMeasure.';
COMMENT ON COLUMN outcomes.units_analyzed IS 'outcomeMeasures[].typeUnitsAnalyzed.';
COMMENT ON COLUMN outcomes.dispersion_type IS 'v2 enum: outcomeMeasures[].dispersionType.';
COMMENT ON COLUMN outcomes.param_type IS 'v2 enum: outcomeMeasures[].paramType.';
COMMENT ON TABLE outcome_measurements IS 'AACT outcome_measurements: one row per resultsSection.outcomeMeasuresModule.outcomeMeasures[].classes[].categories[].measurements[].';
COMMENT ON COLUMN outcome_measurements.nct_id IS 'Study id: protocolSection.identificationModule.nctId.';
COMMENT ON COLUMN outcome_measurements.id IS 'Row id, deterministic string "<nct_id>:outcome_measurements:<ordinal>" (ordinal from 1 in JSON order; AACT uses an integer surrogate).';
COMMENT ON COLUMN outcome_measurements.outcome_id IS 'outcomes.id of the measure.';
COMMENT ON COLUMN outcome_measurements.result_group_id IS 'result_groups.id of this outcome''s group (result_type ''Outcome'', same outcome_id).';
COMMENT ON COLUMN outcome_measurements.ctgov_group_code IS 'Group code as ClinicalTrials.gov gives it (e.g. BG000, OG001): resultsSection.outcomeMeasuresModule.outcomeMeasures[].classes[].categories[].measurements[].groupId.';
COMMENT ON COLUMN outcome_measurements.classification IS 'Class title (row label within the measure; often NULL): resultsSection.outcomeMeasuresModule.outcomeMeasures[].classes[].title.';
COMMENT ON COLUMN outcome_measurements.category IS 'Category title within the class (often NULL): resultsSection.outcomeMeasuresModule.outcomeMeasures[].classes[].categories[].title.';
COMMENT ON COLUMN outcome_measurements.title IS 'Measure title: measures[].title (outcomeMeasures[].title for outcomes).';
COMMENT ON COLUMN outcome_measurements.description IS 'Measure description: .description of the measure.';
COMMENT ON COLUMN outcome_measurements.units IS 'Unit of measure: .unitOfMeasure of the measure.';
COMMENT ON COLUMN outcome_measurements.param_type IS 'Measure type as v2 enum (COUNT_OF_PARTICIPANTS, MEAN, MEDIAN, …): .paramType of the measure.';
COMMENT ON COLUMN outcome_measurements.param_value IS 'The value as text, as given: resultsSection.outcomeMeasuresModule.outcomeMeasures[].classes[].categories[].measurements[].value.';
COMMENT ON COLUMN outcome_measurements.param_value_num IS 'param_value as a number; NULL when the text is not a number (e.g. NA).';
COMMENT ON COLUMN outcome_measurements.dispersion_type IS 'Dispersion type as v2 enum (STANDARD_DEVIATION, FULL_RANGE, …): .dispersionType of the measure.';
COMMENT ON COLUMN outcome_measurements.dispersion_value IS 'Spread as text: resultsSection.outcomeMeasuresModule.outcomeMeasures[].classes[].categories[].measurements[].spread.';
COMMENT ON COLUMN outcome_measurements.dispersion_value_num IS 'dispersion_value as a number; NULL when not a number.';
COMMENT ON COLUMN outcome_measurements.dispersion_lower_limit IS 'Lower limit (range / CI) as a number: resultsSection.outcomeMeasuresModule.outcomeMeasures[].classes[].categories[].measurements[].lowerLimit.';
COMMENT ON COLUMN outcome_measurements.dispersion_upper_limit IS 'Upper limit (range / CI) as a number: resultsSection.outcomeMeasuresModule.outcomeMeasures[].classes[].categories[].measurements[].upperLimit.';
COMMENT ON COLUMN outcome_measurements.dispersion_lower_limit_raw IS 'Lower limit as text: resultsSection.outcomeMeasuresModule.outcomeMeasures[].classes[].categories[].measurements[].lowerLimit.';
COMMENT ON COLUMN outcome_measurements.dispersion_upper_limit_raw IS 'Upper limit as text: resultsSection.outcomeMeasuresModule.outcomeMeasures[].classes[].categories[].measurements[].upperLimit.';
COMMENT ON COLUMN outcome_measurements.explanation_of_na IS 'Why a value is NA: resultsSection.outcomeMeasuresModule.outcomeMeasures[].classes[].categories[].measurements[].comment.';
COMMENT ON TABLE outcome_analyses IS 'AACT outcome_analyses: statistical analyses, one row per resultsSection.outcomeMeasuresModule.outcomeMeasures[].analyses[] (groups as group_codes instead of AACT''s outcome_analysis_groups table).';
COMMENT ON COLUMN outcome_analyses.nct_id IS 'Study id: protocolSection.identificationModule.nctId.';
COMMENT ON COLUMN outcome_analyses.id IS 'Row id, deterministic string "<nct_id>:outcome_analyses:<ordinal>" (ordinal from 1 in JSON order; AACT uses an integer surrogate).';
COMMENT ON COLUMN outcome_analyses.outcome_id IS 'outcomes.id of the measure analysed.';
COMMENT ON COLUMN outcome_analyses.non_inferiority_type IS 'v2 enum (SUPERIORITY, NON_INFERIORITY, EQUIVALENCE, OTHER, …): resultsSection.outcomeMeasuresModule.outcomeMeasures[].analyses[].nonInferiorityType.';
COMMENT ON COLUMN outcome_analyses.non_inferiority_description IS 'analyses[].nonInferiorityComment.';
COMMENT ON COLUMN outcome_analyses.param_type IS 'Estimate type, e.g. ''Mean Difference (Final Values)'': analyses[].paramType.';
COMMENT ON COLUMN outcome_analyses.param_value IS 'Estimate as a number: analyses[].paramValue.';
COMMENT ON COLUMN outcome_analyses.dispersion_type IS 'v2 enum: analyses[].dispersionType.';
COMMENT ON COLUMN outcome_analyses.dispersion_value IS 'As a number: analyses[].dispersionValue.';
COMMENT ON COLUMN outcome_analyses.p_value_modifier IS 'What precedes the number in analyses[].pValue, e.g. ''<''; NULL for a plain number.';
COMMENT ON COLUMN outcome_analyses.p_value IS 'The number in analyses[].pValue (e.g. 0.001 for ''<0.001'').';
COMMENT ON COLUMN outcome_analyses.p_value_raw IS 'analyses[].pValue as given.';
COMMENT ON COLUMN outcome_analyses.p_value_description IS 'analyses[].pValueComment.';
COMMENT ON COLUMN outcome_analyses.ci_n_sides IS 'v2 enum ONE_SIDED / TWO_SIDED: analyses[].ciNumSides.';
COMMENT ON COLUMN outcome_analyses.ci_percent IS 'Confidence level as a number: analyses[].ciPctValue.';
COMMENT ON COLUMN outcome_analyses.ci_lower_limit IS 'As a number: analyses[].ciLowerLimit.';
COMMENT ON COLUMN outcome_analyses.ci_upper_limit IS 'As a number: analyses[].ciUpperLimit.';
COMMENT ON COLUMN outcome_analyses.ci_lower_limit_raw IS 'analyses[].ciLowerLimit as given.';
COMMENT ON COLUMN outcome_analyses.ci_upper_limit_raw IS 'analyses[].ciUpperLimit as given.';
COMMENT ON COLUMN outcome_analyses.ci_upper_limit_na_comment IS 'analyses[].ciUpperLimitComment.';
COMMENT ON COLUMN outcome_analyses.method IS 'Statistical method, e.g. ANCOVA: analyses[].statisticalMethod.';
COMMENT ON COLUMN outcome_analyses.method_description IS 'analyses[].statisticalComment.';
COMMENT ON COLUMN outcome_analyses.estimate_description IS 'analyses[].estimateComment.';
COMMENT ON COLUMN outcome_analyses.groups_description IS 'analyses[].groupDescription.';
COMMENT ON COLUMN outcome_analyses.other_analysis_description IS 'analyses[].otherAnalysisDescription.';
COMMENT ON COLUMN outcome_analyses.group_codes IS 'Codes of the groups compared (OG000, …): analyses[].groupIds[] (AACT: table outcome_analysis_groups).';
COMMENT ON TABLE reported_events IS 'AACT reported_events: adverse events per term and group, one row per resultsSection.adverseEventsModule seriousEvents[].stats[] and otherEvents[].stats[].';
COMMENT ON COLUMN reported_events.nct_id IS 'Study id: protocolSection.identificationModule.nctId.';
COMMENT ON COLUMN reported_events.id IS 'Row id, deterministic string "<nct_id>:reported_events:<ordinal>" (ordinal from 1 in JSON order; AACT uses an integer surrogate).';
COMMENT ON COLUMN reported_events.result_group_id IS 'result_groups.id of the event group (result_type ''Reported Event'').';
COMMENT ON COLUMN reported_events.ctgov_group_code IS '<events>[].stats[].groupId.';
COMMENT ON COLUMN reported_events.time_frame IS 'resultsSection.adverseEventsModule.timeFrame (module-wide).';
COMMENT ON COLUMN reported_events.event_type IS '''serious'' (seriousEvents) or ''other'' (otherEvents), as AACT.';
COMMENT ON COLUMN reported_events.default_vocab IS 'Always NULL: v2 has no module-wide default vocabulary (see vocab).';
COMMENT ON COLUMN reported_events.default_assessment IS 'Always NULL: v2 has no module-wide default assessment (see assessment).';
COMMENT ON COLUMN reported_events.subjects_affected IS '<events>[].stats[].numAffected.';
COMMENT ON COLUMN reported_events.subjects_at_risk IS '<events>[].stats[].numAtRisk.';
COMMENT ON COLUMN reported_events.description IS 'resultsSection.adverseEventsModule.description (module-wide).';
COMMENT ON COLUMN reported_events.event_count IS '<events>[].stats[].numEvents.';
COMMENT ON COLUMN reported_events.organ_system IS '<events>[].organSystem.';
COMMENT ON COLUMN reported_events.adverse_event_term IS '<events>[].term.';
COMMENT ON COLUMN reported_events.frequency_threshold IS 'Reporting threshold for other events, in percent: resultsSection.adverseEventsModule.frequencyThreshold as a number.';
COMMENT ON COLUMN reported_events.vocab IS '<events>[].sourceVocabulary, e.g. MedDRA 21.0.';
COMMENT ON COLUMN reported_events.assessment IS 'v2 enum SYSTEMATIC_ASSESSMENT / NON_SYSTEMATIC_ASSESSMENT: <events>[].assessmentType.';
COMMENT ON TABLE reported_event_totals IS 'AACT reported_event_totals: per event group, totals for serious, other and all-cause mortality (resultsSection.adverseEventsModule.eventGroups[], three rows each).';
COMMENT ON COLUMN reported_event_totals.nct_id IS 'Study id: protocolSection.identificationModule.nctId.';
COMMENT ON COLUMN reported_event_totals.id IS 'Row id, deterministic string "<nct_id>:reported_event_totals:<ordinal>" (ordinal from 1 in JSON order; AACT uses an integer surrogate).';
COMMENT ON COLUMN reported_event_totals.ctgov_group_code IS 'resultsSection.adverseEventsModule.eventGroups[].id.';
COMMENT ON COLUMN reported_event_totals.event_type IS '''serious'', ''other'' or ''deaths'', as AACT.';
COMMENT ON COLUMN reported_event_totals.classification IS 'AACT''s label: ''Total, serious adverse events'', ''Total, other adverse events'', ''Total, all-cause mortality''.';
COMMENT ON COLUMN reported_event_totals.subjects_affected IS 'eventGroups[].seriousNumAffected / otherNumAffected / deathsNumAffected.';
COMMENT ON COLUMN reported_event_totals.subjects_at_risk IS 'eventGroups[].seriousNumAtRisk / otherNumAtRisk / deathsNumAtRisk.';
