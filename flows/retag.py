"""Re-tagging stored records when the lexicon or tagger changes (no refetching), and measuring
the tagger against MeSH indexing on the stored records."""
from __future__ import annotations

from typing import Callable

import duckdb

from extract.evaluate_tagger import Report, evaluate_records
from extract.tagger import Tagger
from flows.pipeline import tag_records
from warehouse.load import transaction

CHUNK = 2_000

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
# The text fields the tagger reads (never MeSH indexing, which is its yardstick).
ARTICLE_TEXT = """
SELECT pmid, title, abstract, abstract_sections, keywords FROM articles
WHERE list_contains($ids, CAST(pmid AS VARCHAR))
"""
TRIAL_TEXT = """
SELECT nct_id, brief_title, official_title, conditions, keywords, brief_summary, detailed_description,
       eligibility_criteria
FROM trials WHERE list_contains($ids, nct_id)
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


def evaluate_stored(conn: duckdb.DuckDBPyConnection, tagger: Tagger) -> Report:
    """Score the tagger on stored records that have MeSH indexing, from their text alone."""
    articles = conn.sql(INDEXED_ARTICLES).to_arrow_table().to_pylist()
    trials = conn.sql(INDEXED_TRIALS).to_arrow_table().to_pylist()
    return evaluate_records(tagger, articles, trials,
                            population=f"{len(articles):,} MeSH-indexed articles, {len(trials):,} trials with condition MeSH")
