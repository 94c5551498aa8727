-- Replace the tags of the records in `tagged_records` (record_kind, record_id) with `tag_rows`
-- and `condition_rows`, inside the caller's transaction.
DELETE FROM condition_tags
WHERE (record_kind, record_id) IN (SELECT (record_kind, record_id) FROM tagged_records);

DELETE FROM record_conditions
WHERE (record_kind, record_id) IN (SELECT (record_kind, record_id) FROM tagged_records);

INSERT INTO condition_tags BY NAME SELECT * FROM tag_rows;

INSERT INTO record_conditions BY NAME SELECT * FROM condition_rows;

INSERT OR REPLACE INTO record_tagging
SELECT record_kind, record_id, $tagger_version, $now FROM tagged_records;
