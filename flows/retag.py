"""Re-tagging stored records when the lexicon or tagger changes (no refetching), and measuring
the tagger against MeSH indexing on the stored records."""
from __future__ import annotations

from typing import Callable

import duckdb
import pyarrow as pa

from extract.catalogue import Catalogue
from extract.derive import DERIVATION_VERSION, derive_article
from extract.evaluate_tagger import Report, evaluate_records
from extract.tagger import Tagger
from flows.pipeline import tag_records
from warehouse.load import transaction

CHUNK = 2_000
DERIVED_FIELDS = ("pmid", "study_design", "study_design_source", "mentioned_drugs", "derivation_version")

# Records whose tags come from another tagger version (or none yet); `$all` selects every one.
STALE_ARTICLES = """
SELECT CAST(a.pmid AS VARCHAR) FROM articles a
LEFT JOIN record_tagging t ON t.record_kind = 'article' AND t.record_id = CAST(a.pmid AS VARCHAR)
WHERE $all OR t.tagger_version IS DISTINCT FROM $version ORDER BY a.pmid
"""
STALE_TRIALS = """
SELECT t.nct_id FROM trials t
LEFT JOIN record_tagging g ON g.record_kind = 'trial' AND g.record_id = t.nct_id
WHERE $all OR g.tagger_version IS DISTINCT FROM $version ORDER BY t.nct_id
"""
# The text fields the tagger reads, and the indexing merged with what it finds.
ARTICLE_TEXT = """
SELECT pmid, title, abstract, abstract_sections, keywords, mesh_headings FROM articles
WHERE list_contains($ids, CAST(pmid AS VARCHAR))
"""
TRIAL_TEXT = """
SELECT nct_id, brief_title, official_title, conditions, keywords, brief_summary, detailed_description,
       eligibility_criteria, condition_mesh
FROM trials WHERE list_contains($ids, nct_id)
"""
# Papers whose study design and drug roles come from other rule versions; their fields and drug labels.
STALE_DERIVATIONS = """
SELECT pmid FROM articles WHERE $all OR derivation_version IS DISTINCT FROM $version ORDER BY pmid
"""
DERIVATION_INPUT = """
SELECT a.*, coalesce((SELECT list(d.drug ORDER BY d.drug) FROM record_drugs d
                      WHERE d.record_kind = 'article' AND d.record_id = CAST(a.pmid AS VARCHAR)), []) AS drugs,
       coalesce((SELECT list({'ref_type': c.ref_type, 'ref_pmid': c.ref_pmid, 'ref_source': c.ref_source})
                 FROM comments_corrections c WHERE c.pmid = a.pmid), []) AS comments_corrections
FROM articles a WHERE list_contains($ids, a.pmid)
"""
STORE_DESIGNS = """
UPDATE articles SET study_design = d.study_design, study_design_source = d.study_design_source,
       derivation_version = d.derivation_version
FROM derived d WHERE articles.pmid = d.pmid
"""
STORE_ROLES = """
UPDATE record_drugs SET role = CASE WHEN list_contains(d.mentioned_drugs, record_drugs.drug) THEN 'mention' ELSE 'subject' END
FROM derived d WHERE record_drugs.record_kind = 'article' AND record_drugs.record_id = CAST(d.pmid AS VARCHAR)
"""
INDEXED_ARTICLES = "SELECT * FROM articles WHERE len(mesh_headings) > 0"
INDEXED_TRIALS = "SELECT * FROM trials WHERE len(condition_mesh) > 0"


def _rows(conn: duckdb.DuckDBPyConnection, sql: str, params: dict) -> list[dict]:
    return conn.sql(sql, params=params).to_arrow_table().to_pylist()


def retag(conn: duckdb.DuckDBPyConnection, *, everything: bool, tagger: Tagger,
          progress: Callable[[str], None]) -> dict[str, int]:
    """Tag again the records tagged by another tagger version (all with `everything`)."""
    done = {}
    for kind, stale_sql, text_sql in (("article", STALE_ARTICLES, ARTICLE_TEXT), ("trial", STALE_TRIALS, TRIAL_TEXT)):
        ids = [row[0] for row in conn.execute(stale_sql, {"all": everything, "version": tagger.version}).fetchall()]
        done[kind] = 0
        for start in range(0, len(ids), CHUNK):
            records = _rows(conn, text_sql, {"ids": ids[start:start + CHUNK]})
            with transaction(conn):
                done[kind] += tag_records(conn, kind, records, tagger)
            progress(f"retag: {done[kind]:,} of {len(ids):,} {kind}s")
    return done


def rederive(conn: duckdb.DuckDBPyConnection, *, everything: bool, catalogue: Catalogue,
             progress: Callable[[str], None]) -> int:
    """Derive study design and drug roles again for papers derived by other rule versions (all
    with `everything`), from their stored fields — no refetching."""
    ids = [row[0] for row in conn.execute(STALE_DERIVATIONS, {"all": everything,
                                                               "version": DERIVATION_VERSION}).fetchall()]
    for start in range(0, len(ids), CHUNK):
        records = _rows(conn, DERIVATION_INPUT, {"ids": ids[start:start + CHUNK]})
        for record in records:
            derive_article(record, catalogue)
        derived = pa.Table.from_pylist(
            [{key: record[key] for key in DERIVED_FIELDS} for record in records],
            schema=pa.schema([("pmid", pa.int64()), ("study_design", pa.string()), ("study_design_source", pa.string()),
                              ("mentioned_drugs", pa.list_(pa.string())), ("derivation_version", pa.string())]))
        conn.register("derived", derived)
        try:
            with transaction(conn):
                conn.execute(STORE_DESIGNS)
                conn.execute(STORE_ROLES)
        finally:
            conn.unregister("derived")
        progress(f"retag: study design and drug roles of {min(start + CHUNK, len(ids)):,} of {len(ids):,} papers")
    return len(ids)


def evaluate_stored(conn: duckdb.DuckDBPyConnection, tagger: Tagger) -> Report:
    """Score the tagger on stored records that have MeSH indexing, from their text alone."""
    articles = conn.sql(INDEXED_ARTICLES).to_arrow_table().to_pylist()
    trials = conn.sql(INDEXED_TRIALS).to_arrow_table().to_pylist()
    return evaluate_records(tagger, articles, trials,
                            population=f"{len(articles):,} MeSH-indexed articles, {len(trials):,} trials with condition MeSH")
