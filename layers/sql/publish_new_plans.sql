-- Zoning plans a zoning-block version makes for decisions the catalogue did not know (as the
-- planner answered at ingest), each outlined by its accepted blocks; run before the blocks
-- are published. {version} is the version's table, quoted by the caller.
INSERT INTO zoning_plan (plan_code, name, decision_no, decision_date, geom)
SELECT n->>'plan_code', n->>'name', n->>'decision_no', (n->>'decision_date')::date, b.geom
FROM catalogue_version v
CROSS JOIN jsonb_array_elements(v.report->'new_plans') n
JOIN LATERAL (
    SELECT ST_Multi(ST_CollectionExtract(ST_Union(t.geom), 3)) AS geom FROM {version} t
    WHERE t.props->>'ma_qh' = n->>'plan_code' AND t.outcome IS DISTINCT FROM 'rejected'
) b ON b.geom IS NOT NULL
WHERE v.id = %(version_id)s
  AND NOT EXISTS (SELECT 1 FROM zoning_plan p WHERE p.plan_code = n->>'plan_code');
