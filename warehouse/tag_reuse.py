"""A replay reuses the published warehouse's condition tags for records whose content it tagged.

Tagging is half the CPU of a replay (docs/benchmarks.md), and its output is a pure function of
the record (every field of it is in `content_hash`) and the tagger version (bumped with every
change to the tagger or its lexicon). So a record the replay rebuilds with the same content hash
as the published warehouse holds, tagged there by this tagger version, gets exactly the tags it
would get again. The workers skip tagging those records (`flows.prepare`), and before the rebuilt
warehouse is published their tags are copied from the published one, in one statement per table.

Reuse needs the published warehouse readable (read-only: an analyst's open session does not stop
it) with tag tables shaped like this version's; otherwise every record is tagged, and the replay
says why. `trialwatch replay --tag-all` tags every record whatever the published warehouse holds.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from extract.sources import SOURCES
from warehouse.load import run_script, transaction

ATTACH_PUBLISHED = "ATTACH ? AS published (READ_ONLY)"
DETACH_PUBLISHED = "DETACH published"
TAG_TABLES = ("condition_tags", "record_conditions", "record_tagging")
# Each tag table's columns, here and in the published warehouse: reuse only when they agree.
TAG_TABLE_COLUMNS = """
SELECT database_name = current_database() AS here, table_name,
       list((column_name, data_type) ORDER BY column_index) AS columns
FROM duckdb_columns()
WHERE schema_name = 'main' AND list_contains($tables, table_name)
  AND database_name IN (current_database(), 'published')
GROUP BY ALL
"""
# Per parent table: content hashes of the published records this tagger version tagged.
PUBLISHED_TAGGED_HASHES = {
    "articles": """
        SELECT a.content_hash FROM published.articles a
        JOIN published.record_tagging t ON t.record_kind = 'article' AND t.record_id = CAST(a.pmid AS VARCHAR)
        WHERE t.tagger_version = $version""",
    "trials": """
        SELECT g.content_hash FROM published.trials g
        JOIN published.record_tagging t ON t.record_kind = 'trial' AND t.record_id = g.nct_id
        WHERE t.tagger_version = $version""",
}
# Per parent table: the rebuilt records whose content the published warehouse tagged with this version.
REUSABLE_RECORDS = {
    "articles": """
        INSERT INTO reused_tags
        SELECT 'article', CAST(a.pmid AS VARCHAR) FROM articles a
        JOIN published.articles p ON p.pmid = a.pmid AND p.content_hash = a.content_hash
        JOIN published.record_tagging t ON t.record_kind = 'article' AND t.record_id = CAST(a.pmid AS VARCHAR)
        WHERE t.tagger_version = $version""",
    "trials": """
        INSERT INTO reused_tags
        SELECT 'trial', g.nct_id FROM trials g
        JOIN published.trials p ON p.nct_id = g.nct_id AND p.content_hash = g.content_hash
        JOIN published.record_tagging t ON t.record_kind = 'trial' AND t.record_id = g.nct_id
        WHERE t.tagger_version = $version""",
}
CREATE_REUSED = "CREATE OR REPLACE TEMP TABLE reused_tags (record_kind VARCHAR, record_id VARCHAR)"
COUNT_REUSED = "SELECT count(*) FROM reused_tags"
DROP_REUSED = "DROP TABLE reused_tags"


@dataclass(frozen=True)
class PublishedTags:
    """What the published warehouse can lend a replay: the content hashes of the records it holds
    tags of this version for (empty, with `reason`, when it can lend nothing)."""

    hashes: frozenset[str]
    reason: str | None = None


def attach_published(conn: duckdb.DuckDBPyConnection, published: Path, tagger_version: str) -> PublishedTags:
    """Attach the published warehouse read-only to `conn` (the replay's working copy) and read
    which records' tags can be reused; it stays attached for `copy_published_tags`."""
    if not Path(published).exists():
        return PublishedTags(frozenset(), f"no published warehouse at {published} yet")
    try:
        conn.execute(ATTACH_PUBLISHED, [str(published)])
    except duckdb.Error as error:
        return PublishedTags(frozenset(), f"the published warehouse could not be opened ({str(error).splitlines()[0]})")
    problem = _tables_differ(conn)
    if problem:
        conn.execute(DETACH_PUBLISHED)
        return PublishedTags(frozenset(), problem)
    hashes: set[str] = set()
    for source in SOURCES.values():
        rows = conn.execute(PUBLISHED_TAGGED_HASHES[source.table], {"version": tagger_version}).fetchall()
        hashes.update(digest for (digest,) in rows)
    if not hashes:
        conn.execute(DETACH_PUBLISHED)
        return PublishedTags(frozenset(), f"the published warehouse holds no tags of tagger {tagger_version}")
    return PublishedTags(frozenset(hashes))


def _tables_differ(conn: duckdb.DuckDBPyConnection) -> str | None:
    columns: dict[bool, dict[str, list]] = {True: {}, False: {}}
    for here, table, table_columns in conn.execute(TAG_TABLE_COLUMNS, {"tables": list(TAG_TABLES)}).fetchall():
        columns[here][table] = table_columns
    for table in TAG_TABLES:
        if columns[False].get(table) != columns[True].get(table):
            return f"the published warehouse's {table} table is shaped differently (an older schema)"
    return None


def copy_published_tags(conn: duckdb.DuckDBPyConnection, tagger_version: str) -> int:
    """Give every rebuilt record whose content the published warehouse tagged with this version
    the published tags (replacing any a worker made), then detach it; the number of records."""
    with transaction(conn):
        conn.execute(CREATE_REUSED)
        for source in SOURCES.values():
            conn.execute(REUSABLE_RECORDS[source.table], {"version": tagger_version})
        reused = conn.execute(COUNT_REUSED).fetchall()[0][0]
        run_script(conn, "reuse_published_tags", {})
        conn.execute(DROP_REUSED)
    conn.execute(DETACH_PUBLISHED)
    return reused
