"""The replay's faster paths give the same output as the plain ones, on the whole real corpus.

* Tagging: `Tagger` calls the tokenizer and each pipeline component directly instead of going
  through `nlp.pipe`; every record of ../shared/corpus (PubMed and CT.gov) must get the same
  mentions, and the same `about()` conditions, as the spaCy-standard `nlp.pipe` path.
* Tag tables are built column by column: equal to `from_pylist` of row dicts.
* The content hash (orjson) is deterministic and changes when any stored field changes.
"""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pyarrow as pa
import pytest

from extract.tagger import ARTICLE_FIELDS, TRIAL_FIELDS, Tagger, about, field_text
from tests.helpers import corpus_parsed_records
from warehouse.load import content_hash
from warehouse.tags import CONDITION_SCHEMA, RECORD_SCHEMA, TAG_SCHEMA, RecordTags, tag_tables


@pytest.fixture(scope="module")
def tagger() -> Tagger:
    return Tagger()


@pytest.fixture(scope="module")
def corpus_records(corpus_dir: Path) -> dict[str, list[dict]]:
    return corpus_parsed_records(corpus_dir)


def reference_tags(tagger: Tagger, kind: str, records: list[dict]) -> list[list]:
    """What `Tagger._tag_batch` did before the direct calls: every text through `nlp.pipe`."""
    fields = ARTICLE_FIELDS if kind == "article" else TRIAL_FIELDS
    texts = [(text, (index, field, text)) for index, record in enumerate(records) for field in fields
             if (text := field_text(kind, record, field)).strip()]
    found: list[list] = [[] for _ in records]
    for doc, (index, field, text) in tagger.nlp.pipe(texts, as_tuples=True, batch_size=256):
        if not doc._.conditions:
            continue
        mentions = tagger._mentions(doc, text, field)
        if field == "abstract" and kind == "article":
            mentions = tagger._with_sections(records[index], mentions)
        found[index].extend(mentions)
    return found


@pytest.mark.parametrize("kind", ["article", "trial"])
def test_direct_calls_tag_the_whole_corpus_like_nlp_pipe(tagger, corpus_records, kind):
    records = corpus_records[kind]
    assert len(records) >= (15_000 if kind == "article" else 40)
    tagged = tagger.tag_articles(records) if kind == "article" else tagger.tag_trials(records)
    fast = [mentions for _, mentions in tagged]
    reference = reference_tags(tagger, kind, records)
    assert len(fast) == len(reference) == len(records)
    differ = [i for i, (a, b) in enumerate(zip(fast, reference)) if a != b]
    assert not differ, f"{len(differ)} records tagged differently, first {records[differ[0]].get('pmid') or records[differ[0]].get('nct_id')}"
    assert sum(map(len, reference)) > 100  # the corpus does exercise the tagger
    for mentions, expected in zip(fast, reference):
        assert about(kind, mentions, tagger.lexicon) == about(kind, expected, tagger.lexicon)


def test_tag_text_agrees_with_bulk_tagging(tagger, corpus_records):
    """`tag_text` (spaCy's `nlp(text)`) and the bulk path find the same mentions."""
    for record in corpus_records["article"][:300]:
        _, bulk = next(tagger.tag_articles([record]))
        single = [m for m in tagger.tag_text(record.get("title") or "", "title")] if record.get("title") else []
        assert [m for m in bulk if m.field == "title"] == single


def test_column_built_tag_tables_equal_row_built(tagger, corpus_records):
    records = corpus_records["article"][:2000]
    tagged = [RecordTags("article", str(record["pmid"]), mentions,
                         about("article", mentions, tagger.lexicon))
              for record, mentions in tagger.tag_articles(records)]
    tagged.append(RecordTags("article", "0"))  # a record without tags still counts as tagged
    tables = tag_tables(tagged, "9.9.9")
    rows = [{"record_kind": t.kind, "record_id": t.record_id, "mesh_id": m.mesh_id, "concept": m.concept,
             "category": m.category, "field": m.field, "start_offset": m.start, "end_offset": m.end,
             "matched_text": m.text, "negated": m.negated, "adverse": m.adverse, "tagger_version": "9.9.9"}
            for t in tagged for m in t.mentions]
    conditions = [{"record_kind": t.kind, "record_id": t.record_id, "mesh_id": c.mesh_id, "concept": c.concept,
                   "category": c.category, "evidence": c.evidence, "tagger_version": "9.9.9",
                   "source": list(getattr(c, "source", ("text",)))} for t in tagged for c in t.conditions]
    assert rows and conditions
    assert tables.mentions.equals(pa.Table.from_pylist(rows, schema=TAG_SCHEMA))
    assert tables.conditions.equals(pa.Table.from_pylist(conditions, schema=CONDITION_SCHEMA))
    assert tables.records.equals(pa.Table.from_pylist(
        [{"record_kind": kind, "record_id": rid} for kind, rid in {(t.kind, t.record_id): None for t in tagged}],
        schema=RECORD_SCHEMA))  # each record once (a page may repeat one)
    empty = tag_tables([], "9.9.9")
    assert empty.mentions.num_rows == 0 and empty.mentions.schema == TAG_SCHEMA


def test_content_hash_is_deterministic_and_sees_every_field(corpus_records):
    records = corpus_records["article"][:500] + corpus_records["trial"]
    for record in records:
        again = json.loads(json.dumps(record, default=str))  # same values, rebuilt objects
        shuffled = dict(reversed(list(record.items())))     # key order does not matter
        assert content_hash(record) == content_hash(shuffled)
        assert content_hash(record) == content_hash({**again, **{k: v for k, v in record.items()
                                                                  if isinstance(v, date)}})
    record = dict(corpus_records["article"][0])
    base = content_hash(record)
    for name, value in record.items():
        changed = {**record, name: ["changed"] if isinstance(value, list) else "changed"}
        assert content_hash(changed) != base, name
    assert content_hash({**record, "title": (record["title"] or "") + " "}) != base
    assert content_hash({**record, "new_field": None}) != base


def test_content_hash_falls_back_for_what_orjson_cannot_write():
    surrogate = {"title": "bad \udcff byte", "pmid": 1}
    huge = {"pmid": 2 ** 70}
    for record in (surrogate, huge):
        assert content_hash(record) == content_hash(dict(record))
    assert content_hash(surrogate) != content_hash({"title": "bad \udcfe byte", "pmid": 1})
    assert content_hash(huge) != content_hash({"pmid": 2 ** 70 + 1})
