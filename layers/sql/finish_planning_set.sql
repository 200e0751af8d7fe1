-- After a planning set is loaded: derive unit outlines and the current ward of each parcel.
UPDATE admin_unit d
SET geom = ST_Multi(sub.geom)
FROM (
    SELECT parent_id, ST_Union(geom) AS geom
    FROM admin_unit
    WHERE level = 'ward' AND geom IS NOT NULL AND valid_to IS NOT NULL
    GROUP BY parent_id
) AS sub
WHERE d.id = sub.parent_id AND d.level = 'district';

UPDATE admin_unit n
SET geom = ST_Multi(sub.geom)
FROM (
    SELECT s.new_unit_id, ST_Union(o.geom) AS geom
    FROM admin_unit_succession s
    JOIN admin_unit o ON o.id = s.old_unit_id
    WHERE o.geom IS NOT NULL
    GROUP BY s.new_unit_id
) AS sub
WHERE n.id = sub.new_unit_id;

UPDATE parcel p
SET current_ward_id = w.id
FROM admin_unit w
WHERE w.level = 'ward'
  AND w.valid_to IS NULL
  AND ST_Intersects(w.geom, ST_PointOnSurface(p.geom));

-- The look-up pieces of the land-use zones (see migration 0002).
DELETE FROM land_use_piece;
INSERT INTO land_use_piece (zone_id, code, geom)
SELECT id, code, ST_Subdivide(geom, 16) FROM land_use_zone;
