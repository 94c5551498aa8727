-- Replace the tags of the records in `reused_tags` (record_kind, record_id) with the published
-- warehouse's (attached as `published`), inside the caller's transaction. The three tables have
-- the same columns in both warehouses (checked before: warehouse/tag_reuse.py).
DELETE FROM condition_tags
WHERE (record_kind, record_id) IN (SELECT (record_kind, record_id) FROM reused_tags);

DELETE FROM record_conditions
WHERE (record_kind, record_id) IN (SELECT (record_kind, record_id) FROM reused_tags);

DELETE FROM record_tagging
WHERE (record_kind, record_id) IN (SELECT (record_kind, record_id) FROM reused_tags);

INSERT INTO condition_tags BY NAME
SELECT c.* FROM published.condition_tags c SEMI JOIN reused_tags r USING (record_kind, record_id);

INSERT INTO record_conditions BY NAME
SELECT c.* FROM published.record_conditions c SEMI JOIN reused_tags r USING (record_kind, record_id);

INSERT INTO record_tagging BY NAME
SELECT t.* FROM published.record_tagging t SEMI JOIN reused_tags r USING (record_kind, record_id);
