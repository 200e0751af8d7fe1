-- Publish a land-use version: its accepted features become the land-use zones.
-- {version} is the version's table (layer_data."land_use_vN"), quoted by the caller.
DELETE FROM land_use_piece;
DELETE FROM land_use_zone;
INSERT INTO land_use_zone (code, area_m2, geom, extra)
SELECT t.props->>'ma_loai_dat', ST_Area(ST_Transform(t.geom, 9210)), ST_Multi(t.geom),
       nullif(t.props - 'ma_loai_dat', '{}')  -- what else the file carried
FROM {version} t
WHERE t.outcome IS DISTINCT FROM 'rejected' AND NOT ST_IsEmpty(t.geom);
