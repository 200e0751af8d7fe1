-- Publish a road version: its accepted lines become the roads, each with its right-of-way
-- (lộ giới) buffered in metres (UTM 48N: a projection of WGS 84 itself, no datum shift).
-- {version} is the version's table, quoted by the caller; lo_gioi was checked (1–200 m).
DELETE FROM parcel_frontage;
DELETE FROM road;
INSERT INTO road (name, name_search, right_of_way_m, geom, row_geom, extra)
SELECT t.props->>'ten_duong', '', (t.props->>'lo_gioi')::float8, ST_Multi(t.geom),
       ST_Multi(ST_Transform(ST_Buffer(ST_Transform(t.geom, 32648),
                                       (t.props->>'lo_gioi')::float8 / 2, 'endcap=flat'), 4326)),
       nullif(t.props - ARRAY['ten_duong', 'lo_gioi'], '{}')  -- what else the file carried
FROM {version} t
WHERE t.outcome IS DISTINCT FROM 'rejected' AND NOT ST_IsEmpty(t.geom);
