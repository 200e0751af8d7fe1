-- Publish a zoning-block version: its accepted features become the zoning blocks of the
-- plans they name. {version} is the version's table, quoted by the caller; values were checked
-- against the layer's schema at ingest (numbers are numbers, the plan exists). What else the
-- file carried is kept as the block's extra properties.
DELETE FROM parcel_zoning;
DELETE FROM zoning_block;
INSERT INTO zoning_block (plan_id, block_code, function_name, function_category, floors_min,
                          floors_max, height_max_m, coverage_max_pct, far_max, population,
                          colour, area_m2, geom, extra)
SELECT p.id, t.props->>'ma_o_pho', t.props->>'chuc_nang', t.props->>'ma_chuc_nang',
       round((t.props->>'tang_cao_min')::numeric)::int,
       round((t.props->>'tang_cao_max')::numeric)::int,
       (t.props->>'chieu_cao')::float8, (t.props->>'mat_do_xd')::float8,
       (t.props->>'he_so_sdd')::float8, round((t.props->>'dan_so')::numeric)::int,
       CASE WHEN t.props->>'mau' ~ '^#[0-9A-Fa-f]{6}$' THEN t.props->>'mau' ELSE '#CCCCCC' END,
       ST_Area(ST_Transform(t.geom, 9210)), ST_Multi(t.geom),
       nullif(t.props - ARRAY['ma_o_pho', 'ma_qh', 'chuc_nang', 'ma_chuc_nang', 'tang_cao_min',
                              'tang_cao_max', 'chieu_cao', 'mat_do_xd', 'he_so_sdd', 'dan_so',
                              'mau'], '{}')
FROM {version} t
JOIN zoning_plan p ON p.plan_code = t.props->>'ma_qh'
WHERE t.outcome IS DISTINCT FROM 'rejected' AND NOT ST_IsEmpty(t.geom);
