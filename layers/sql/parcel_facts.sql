-- Per-parcel planning facts, rebuilt from the geometries of every parcel and layer.
-- Shares are of the parcel's area; slivers under 0.05 % (touching edges, rounding) are left out.
DELETE FROM parcel_zoning;
DELETE FROM parcel_land_use;
DELETE FROM parcel_frontage;
DELETE FROM parcel_detailed_plan;

INSERT INTO parcel_zoning (parcel_id, block_id, share_pct)
SELECT parcel_id, block_id, share FROM (
    SELECT p.id AS parcel_id, b.id AS block_id,
           CASE WHEN ST_CoveredBy(p.geom, b.geom) THEN 100.0
                ELSE 100.0 * ST_Area(ST_Intersection(b.geom, p.geom)) / ST_Area(p.geom) END
               AS share
    FROM zoning_block b
    JOIN parcel p ON ST_Intersects(b.geom, p.geom)
) AS s
WHERE share >= 0.05;

INSERT INTO parcel_land_use (parcel_id, code, share_pct)
SELECT parcel_id, code, share FROM (
    SELECT p.id AS parcel_id, l.code,
           sum(CASE WHEN ST_CoveredBy(p.geom, l.geom) THEN 100.0
                    ELSE 100.0 * ST_Area(ST_Intersection(l.geom, p.geom)) / ST_Area(p.geom) END)
               AS share
    FROM land_use_piece l
    JOIN parcel p ON ST_Intersects(l.geom, p.geom)
    GROUP BY p.id, l.code
) AS s
WHERE share >= 0.05;

-- Frontage: the parcel's boundary segments lying on the right-of-way edge (midpoint within
-- ~1 m of it), measured on the ellipsoid; the side is the compass direction of the street.
INSERT INTO parcel_frontage (parcel_id, road_id, frontage_m, side)
SELECT parcel_id, road_id, frontage_m,
       (ARRAY['N', 'NE', 'E', 'SE', 'S', 'SW', 'W', 'NW'])[
           (floor(((azimuth + 22.5)::numeric % 360) / 45))::int + 1]
FROM (
    SELECT p.id AS parcel_id, r.id AS road_id,
           degrees(ST_Azimuth(ST_Centroid(p.geom),
                              ST_ClosestPoint(r.geom, ST_Centroid(p.geom)))) AS azimuth,
           (SELECT COALESCE(sum(ST_Length(s.geom::geography)), 0)
            FROM ST_DumpSegments(ST_Boundary(p.geom)) AS s
            WHERE ST_DWithin(r.row_geom, ST_LineInterpolatePoint(s.geom, 0.5), 0.00001))
               AS frontage_m
    FROM road r
    JOIN parcel p ON ST_DWithin(r.row_geom, p.geom, 0.00001)
) AS s
WHERE frontage_m >= 0.5;

INSERT INTO parcel_detailed_plan (parcel_id, plan_id, share_pct)
SELECT parcel_id, plan_id, share FROM (
    SELECT p.id AS parcel_id, d.id AS plan_id,
           100.0 * ST_Area(ST_Intersection(d.geom, p.geom)) / ST_Area(p.geom) AS share
    FROM detailed_plan d
    JOIN parcel p ON ST_Intersects(d.geom, p.geom)
) AS s
WHERE share >= 0.05;
