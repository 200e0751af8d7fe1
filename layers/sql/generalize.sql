-- Low-zoom land use: zones of one code merged across the streets between them (a closing by
-- 12 m), simplified to 4 m; road zones are left to the roads layer. Read by tiles below z15.
DELETE FROM land_use_generalized;
INSERT INTO land_use_generalized (code, geom_3857)
SELECT code,
       ST_Multi(ST_CollectionExtract(ST_MakeValid(ST_SimplifyPreserveTopology(
           ST_Buffer(ST_Union(ST_Buffer(geom_3857, 12, 'join=mitre')), -12, 'join=mitre'),
           4)), 3))
FROM land_use_zone
WHERE code <> 'DGT'
GROUP BY code;
