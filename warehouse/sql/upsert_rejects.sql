-- Quarantine rejects (registered as `rejected`); the same raw fragment seen again updates its row.
INSERT INTO rejects BY NAME
SELECT source, record_id, reason, raw, raw_sha1, $run_id AS run_id,
       $now AS first_seen_at, $now AS seen_at, 1 AS times_seen
FROM rejected
ON CONFLICT (source, raw_sha1) DO UPDATE SET
    reason = excluded.reason, run_id = excluded.run_id, seen_at = excluded.seen_at,
    times_seen = rejects.times_seen + 1;
