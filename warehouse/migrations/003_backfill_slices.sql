-- trialwatch warehouse, version 3: the plan of a PubMed backfill, slice by slice, so that a
-- killed or failed backfill resumes from its first unfinished slice.

CREATE TABLE backfill_slices (
    plan_id      VARCHAR NOT NULL,
    source       VARCHAR NOT NULL,
    datetype     VARCHAR NOT NULL,
    slice_start  DATE NOT NULL,
    slice_end    DATE NOT NULL,
    expected     INTEGER NOT NULL,
    done_run_id  VARCHAR,
    done_at      TIMESTAMP,
    PRIMARY KEY (plan_id, slice_start)
);

COMMENT ON TABLE backfill_slices IS 'Date slices of a full PubMed backfill (each under the 9,999-record esearch cap); a slice commits with its records, so an interrupted backfill resumes at the first slice not done.';
COMMENT ON COLUMN backfill_slices.plan_id IS 'ingest_runs.run_id of the run that planned the backfill.';
COMMENT ON COLUMN backfill_slices.source IS 'pubmed.';
COMMENT ON COLUMN backfill_slices.datetype IS 'The PubMed date the slice is cut on (edat: Entrez date).';
COMMENT ON COLUMN backfill_slices.slice_start IS 'First day of the slice.';
COMMENT ON COLUMN backfill_slices.slice_end IS 'Last day of the slice (inclusive).';
COMMENT ON COLUMN backfill_slices.expected IS 'Records esearch counted in the slice when planned.';
COMMENT ON COLUMN backfill_slices.done_run_id IS 'Run that stored the slice; NULL while pending.';
COMMENT ON COLUMN backfill_slices.done_at IS 'When the slice was stored (UTC); NULL while pending.';
