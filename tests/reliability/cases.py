"""Every fault case the reliability suite tries: the single list the tests record against and the
table in docs/reliability.md is rendered from (tests/reliability/test_doc.py checks the doc has a
row for each, so the doc cannot silently lose a case)."""
from __future__ import annotations

from dataclasses import dataclass

from extract.standins import FAULT_KINDS


@dataclass(frozen=True)
class Case:
    id: str
    area: str
    fault: str  # what was done to trialwatch
    expected: str  # what must happen (the guarantee)
    test: str  # module::function of the test that proves it


FAULTS_TEST = "test_faults.py::test_a_20_percent_fault_rate_ends_with_exactly_the_fault_free_rows"
DOWN_TEST = "test_faults.py::test_a_source_down_past_the_retry_budget_stores_nothing_partial"
EMPTY_TEST = "test_faults.py::test_an_efetch_batch_that_keeps_coming_back_empty_is_not_a_silent_gap"
CRASH_TEST = "test_crash.py::test_kill_9_at_random_points_keeps_the_published_warehouse_consistent_and_a_rerun_converges"
BAD_PUBMED_TEST = "test_bad_records.py::test_bad_pubmed_records_are_quarantined_and_the_rest_of_the_page_stored"
BAD_CTGOV_TEST = "test_bad_records.py::test_bad_ctgov_studies_are_quarantined_and_the_rest_of_the_page_stored"
CTGOV_BYTES_TEST = "test_bad_records.py::test_a_ctgov_study_with_non_utf8_bytes_is_quarantined_alone"
XXE_TEST = "test_security.py::test_external_entities_and_dtds_are_never_resolved_through_the_ingest"
LAUGHS_TEST = "test_security.py::test_billion_laughs_through_the_ingest_stays_small"
SECRET_TEST = "test_security.py::test_the_api_key_is_in_no_output_of_a_failing_verbose_run"
SQL_TEST = "test_security.py::test_sql_is_only_ever_parameterised"
DASHBOARD_TEST = "test_security.py::test_the_dashboard_listens_on_localhost_only_by_default"
MODES_TEST = "test_security.py::test_warehouse_archive_digest_and_feed_are_owner_only"
READERS_TEST = "test_concurrency.py::test_readers_keep_working_during_a_nightly_run_and_never_see_a_partial_load"

KIND_WORDS = {
    "429": "HTTP 429 without Retry-After (the service's own rate-limit body)",
    "retry-after": "HTTP 429 with Retry-After: 1",
    "500": "HTTP 500 with an HTML error page",
    "502": "HTTP 502 with an HTML error page",
    "503": "HTTP 503 with an HTML error page",
    "truncate": "HTTP 200 whose body is cut in half (Content-Length matches the cut body)",
    "empty": "HTTP 200, well-formed but with no results, mid-paging",
    "stall": "no answer for 1.5 s (client timeout 1 s)",
    "drop": "connection closed without an answer",
}
KILL_POINTS = 5

CASES: tuple[Case, ...] = (
    Case("fault-rate-20", "HTTP faults",
         "20% of requests to both stand-ins fail, every kind below at least once per service; "
         "night 1 (full pull) then night 2 (incremental)",
         "exactly the rows of a fault-free run; retries reported in the run summary and ingest_runs",
         FAULTS_TEST),
    *(Case(f"fault-{kind}", "HTTP faults", KIND_WORDS[kind],
           "retried (or asked again) until a good answer; nothing lost, nothing doubled, no reject",
           FAULTS_TEST) for kind in FAULT_KINDS),
    Case("fault-empty-persistent", "HTTP faults",
         "PubMed answers one efetch batch with a well-formed but empty set every time it is asked (3×)",
         "the records arrive, or PubMed fails loudly and keeps its watermark; never a silent gap",
         EMPTY_TEST),
    Case("down-pubmed", "Source down",
         "PubMed answers 503 to every efetch after the first two (it asks for two at once), past the retry "
         "budget (incremental night)",
         "PubMed fails with a clear message; none of its rows change; its watermark stays; CT.gov completes",
         DOWN_TEST),
    Case("down-ctgov", "Source down",
         "ClinicalTrials.gov answers 503 to every page after the first, past the retry budget",
         "CT.gov fails with a clear message; none of its rows change; its watermark stays; PubMed completes",
         DOWN_TEST),
    *(Case(f"kill-9-{i}", "Crash", f"kill -9 of the whole `trialwatch ingest` process group, seeded point {i}",
           "the published warehouse opens and is consistent, and holds the previous load or the new one",
           CRASH_TEST) for i in range(1, KILL_POINTS + 1)),
    Case("kill-9-mid-load", "Crash", "kill -9 of `trialwatch ingest` right after it printed that PubMed pages were "
         "stored (inside the source's transaction)",
         "the published warehouse opens and is consistent, and holds the previous load",
         CRASH_TEST),
    Case("kill-9-rerun", "Crash", f"`trialwatch ingest` again after the {KILL_POINTS} seeded kills and the mid-load one",
         "converges to exactly the rows of an uninterrupted run; interrupted runs are marked failed",
         CRASH_TEST),
    Case("bad-pubmed-malformed-xml", "Bad records", "PubMed record with an unclosed tag",
         "quarantined in rejects with the reason; the rest of the page stored", BAD_PUBMED_TEST),
    Case("bad-pubmed-missing-pmid", "Bad records", "PubMed record without a PMID",
         "quarantined in rejects with the reason; the rest of the page stored", BAD_PUBMED_TEST),
    Case("bad-pubmed-non-numeric-pmid", "Bad records", "PubMed record whose PMID is not a number",
         "quarantined in rejects with the reason; the rest of the page stored", BAD_PUBMED_TEST),
    Case("bad-pubmed-impossible-date", "Bad records", "PubMed record published on 30 February",
         "quarantined in rejects with the reason; the rest of the page stored", BAD_PUBMED_TEST),
    Case("bad-pubmed-huge-abstract", "Bad records", "PubMed record with a 150,000-character abstract",
         "quarantined in rejects with the reason (raw capped at 100,000 characters); the rest stored",
         BAD_PUBMED_TEST),
    Case("bad-pubmed-non-utf8", "Bad records", "PubMed record with bytes that are not UTF-8",
         "quarantined in rejects with the reason; the rest of the page stored", BAD_PUBMED_TEST),
    Case("bad-pubmed-duplicate", "Bad records", "the same PMID twice in one efetch page",
         "stored once, the repeat quarantined; the rest of the page stored", BAD_PUBMED_TEST),
    Case("bad-pubmed-bad-nct-link", "Bad records", "PubMed record linking a malformed NCT id in its DataBankList",
         "quarantined in rejects with the reason; the rest of the page stored", BAD_PUBMED_TEST),
    Case("bad-ctgov-missing-nct-id", "Bad records", "CT.gov study without an nctId",
         "quarantined in rejects with the reason; the rest of the page stored", BAD_CTGOV_TEST),
    Case("bad-ctgov-malformed-nct-id", "Bad records", "CT.gov study whose nctId is `NCT123`",
         "quarantined in rejects with the reason; the rest of the page stored", BAD_CTGOV_TEST),
    Case("bad-ctgov-impossible-date", "Bad records", "CT.gov study starting on 2021-13-40",
         "quarantined in rejects with the reason; the rest of the page stored", BAD_CTGOV_TEST),
    Case("bad-ctgov-wrong-type", "Bad records", "CT.gov study whose enrollment count is \"about forty\"",
         "quarantined in rejects with the reason; the rest of the page stored", BAD_CTGOV_TEST),
    Case("bad-ctgov-no-protocol", "Bad records", "CT.gov study without a protocolSection",
         "quarantined in rejects with the reason; the rest of the page stored", BAD_CTGOV_TEST),
    Case("bad-ctgov-duplicate", "Bad records", "the same NCT id twice in one page",
         "stored once, the repeat quarantined; the rest of the page stored", BAD_CTGOV_TEST),
    Case("bad-ctgov-non-utf8", "Bad records", "CT.gov study with bytes that are not UTF-8 in its title",
         "quarantined in rejects with the reason; the rest of the page (and the source) stored",
         CTGOV_BYTES_TEST),
    Case("xxe-file-entity", "Security", "efetch page declaring an external entity that reads a local file",
         "the file is never opened or read; the record stored inert or rejected; the run succeeds", XXE_TEST),
    Case("xxe-external-dtd", "Security", "efetch page whose DOCTYPE points at a DTD on another server",
         "the DTD is never fetched; the run succeeds", XXE_TEST),
    Case("xxe-parameter-entity", "Security", "efetch page with an external parameter entity (`%p;`)",
         "never fetched; the run succeeds", XXE_TEST),
    Case("billion-laughs", "Security", "efetch page with nested entities expanding to ~3 GB (billion laughs)",
         "handled in seconds with a small, bounded memory increase; record inert or rejected", LAUGHS_TEST),
    Case("secret-logs", "Security", "NCBI_API_KEY set, `-v`, faults that trigger retry warnings, PubMed failing",
         "the key is in no stderr/stdout line", SECRET_TEST),
    Case("secret-warehouse", "Security", "as above", "the key is in no ingest_runs message nor any other table",
         SECRET_TEST),
    Case("secret-archive", "Security", "as above", "the key is in no archive file name nor archived byte",
         SECRET_TEST),
    Case("secret-digest", "Security", "as above", "the key is not in the run digest (Markdown)", SECRET_TEST),
    Case("secret-feed", "Security", "as above", "the key is not in the Atom feed", SECRET_TEST),
    Case("secret-prefect", "Security", "as above",
         "the key is not stored in Prefect (flow-run parameters)", SECRET_TEST),
    Case("sql-parameterised", "Security",
         "static check of every `execute(`/`sql(` in extract/, warehouse/, flows/, dashboard/",
         "no SQL built with f-strings, `%`, `.format` or `+` of non-constants; values are bound parameters",
         SQL_TEST),
    Case("dashboard-localhost", "Security", "`trialwatch dashboard` with no Streamlit address set",
         "listens on 127.0.0.1 only", DASHBOARD_TEST),
    Case("owner-only-files", "Security", "a `trialwatch ingest` run into a new data folder",
         "warehouse, lock, archive, digests and feed are 0600 files in 0700 folders", MODES_TEST),
    Case("owner-only-staging", "Security", "the staging copy (and lock) a kill -9 leaves behind",
         "0600, like the warehouse", CRASH_TEST),
    Case("readers-during-run", "Concurrency",
         "an analyst holding a read-only connection and a dashboard-like loop of short-lived read-only "
         "connections, both running through a nightly `trialwatch ingest`",
         "the run completes; readers never fail; every count they see is the old total or the new one",
         READERS_TEST),
)
CASES_BY_ID = {case.id: case for case in CASES}
assert len(CASES_BY_ID) == len(CASES), "duplicate case id"
