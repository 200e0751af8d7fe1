-- Publish a water version: its accepted features become the rivers and canals.
-- {version} is the version's table, quoted by the caller.
DELETE FROM water_body;
INSERT INTO water_body (name, kind, geom, extra)
SELECT t.props->>'ten', t.props->>'loai', ST_Multi(t.geom),
       nullif(t.props - ARRAY['ten', 'loai'], '{}')  -- what else the file carried
FROM {version} t
WHERE t.outcome IS DISTINCT FROM 'rejected' AND NOT ST_IsEmpty(t.geom);
