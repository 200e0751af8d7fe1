-- The whole parcel card as one JSON document. The parcel is chosen by the locator fragment
-- put in place of {locate} (a fixed fragment from layers.repository, never user text);
-- every value is a bound parameter. Shares and frontage come precomputed from the
-- parcel_* fact tables (etl/sql/parcel_facts.sql); what can be built is worked out here from
-- them, the blocks' indicators and the roads' right-of-way polygons.
WITH p AS (
    SELECT id, parcel_key, sheet_no, parcel_no, area_m2, address, ward_id, current_ward_id,
           geom
    FROM parcel
    WHERE {locate}
    LIMIT 1
),
z AS (
    SELECT b.block_code, b.function_name, b.function_category, b.floors_min, b.floors_max,
           b.height_max_m, b.coverage_max_pct, b.far_max, b.population, b.area_m2, b.colour,
           pl.plan_code, pl.name AS plan_name, pl.scale, pl.decision_no, pl.decision_date,
           pl.approving_body, pz.share_pct AS share
    FROM p
    JOIN parcel_zoning pz ON pz.parcel_id = p.id
    JOIN zoning_block b ON b.id = pz.block_id
    JOIN zoning_plan pl ON pl.id = b.plan_id
),
lu AS (
    SELECT pu.code, pu.share_pct AS share
    FROM p
    JOIN parcel_land_use pu ON pu.parcel_id = p.id
),
rd AS (
    SELECT r.name, r.right_of_way_m, pf.side, pf.frontage_m
    FROM p
    JOIN parcel_frontage pf ON pf.parcel_id = p.id
    JOIN road r ON r.id = pf.road_id
),
dp AS (
    SELECT d.kind, d.name, d.decision_no, d.decision_date, d.approving_body,
           pd.share_pct AS share
    FROM p
    JOIN parcel_detailed_plan pd ON pd.parcel_id = p.id
    JOIN detailed_plan d ON d.id = pd.plan_id
),
-- The blocks whose limits count: the governing one (the largest share) and any other holding
-- at least min_block_share per cent of the parcel.
zc AS (
    SELECT zr.*, zr.governing OR zr.share >= %(min_block_share)s AS counted
    FROM (SELECT z.*, row_number() OVER (ORDER BY z.share DESC, z.block_code) = 1 AS governing
          FROM z) AS zr
),
-- Each indicator from the counted block where it is most restrictive: the lowest maximum, the
-- highest minimum (a tie goes to the larger share). A block that gives none is passed over.
lim AS (
    SELECT DISTINCT ON (i.indicator) i.indicator, i.value, zc.block_code, zc.decision_no
    FROM zc
    CROSS JOIN LATERAL (VALUES
        ('floors_min', zc.floors_min::numeric, -1),
        ('floors_max', zc.floors_max::numeric, 1),
        ('height_max_m', zc.height_max_m::numeric, 1),
        ('coverage_max_pct', zc.coverage_max_pct::numeric, 1),
        ('far_max', zc.far_max::numeric, 1)
    ) AS i (indicator, value, sense)
    WHERE zc.counted AND i.value IS NOT NULL
    ORDER BY i.indicator, i.sense * i.value, zc.share DESC
),
lims AS (
    SELECT json_object_agg(indicator, json_build_object(
               'value', value, 'block_code', block_code, 'decision_no', decision_no)) AS j,
           max(value) FILTER (WHERE indicator = 'coverage_max_pct') AS coverage,
           max(value) FILTER (WHERE indicator = 'far_max') AS far
    FROM lim
),
-- The widening strip (phần đất nằm trong lộ giới): the part of the parcel inside the planned
-- right-of-way of each road it fronts, and how deep it reaches from the land that stays (the
-- farthest of its corners; none when the whole parcel lies in the right-of-way). Materialised:
-- the geometry is worked out once, not again for each place the rows are read.
ws AS MATERIALIZED (
    SELECT r.name, r.right_of_way_m, s.strip, ST_Area(s.strip::geography) AS area_m2,
           (SELECT max(ST_Distance(v.geom::geography, s.rest::geography))
            FROM ST_DumpPoints(s.strip) AS v) AS depth_m
    FROM p
    JOIN parcel_frontage pf ON pf.parcel_id = p.id
    JOIN road r ON r.id = pf.road_id
    CROSS JOIN LATERAL (
        SELECT ST_CollectionExtract(ST_Intersection(p.geom, r.row_geom), 3) AS strip,
               ST_Difference(p.geom, r.row_geom) AS rest
    ) AS s
),
-- Shallower strips are noise of the survey and of the projections (a right-of-way is buffered
-- in UTM metres, parcels are surveyed in VN-2000), not land an owner gives up; nor is a tip
-- the card would show as 0.0 m².
strip AS (
    SELECT * FROM ws
    WHERE area_m2 >= 0.05 AND (depth_m IS NULL OR depth_m >= %(min_strip_depth_m)s)
),
-- The areas as the card shows them (0.1 m²), so that parcel − strip = what remains exactly;
-- strips of two roads overlapping at a corner are counted once.
area AS (
    SELECT a.strip_m2, GREATEST(p.area_m2 - a.strip_m2, 0) AS rest_m2
    FROM p, (SELECT round(COALESCE(ST_Area(ST_Union(strip)::geography), 0)::numeric, 1)
                 AS strip_m2
             FROM strip) AS a
)
SELECT json_build_object(
    'parcel', json_build_object(
        'id', p.id,
        'key', p.parcel_key,
        'sheet', p.sheet_no,
        'number', p.parcel_no,
        'area_m2', p.area_m2,
        'address', p.address,
        'ward', json_build_object(
            'old', json_build_object('code', ow.code, 'name', ow.name,
                                     'valid_from', ow.valid_from, 'valid_to', ow.valid_to,
                                     'verified', ow.verified),
            'current', CASE WHEN cw.id IS NULL THEN NULL ELSE json_build_object(
                'code', cw.code, 'name', cw.name, 'valid_from', cw.valid_from,
                'valid_to', cw.valid_to, 'verified', cw.verified) END
        ),
        'district', json_build_object('code', dist.code, 'name', dist.name,
                                      'valid_to', dist.valid_to),
        'province', json_build_object('code', prov.code, 'name', prov.name),
        'geometry', ST_AsGeoJSON(p.geom, 7)::json
    ),
    'zoning', COALESCE((
        SELECT json_agg(json_build_object(
            'block_code', z.block_code,
            'function', z.function_name,
            'function_category', z.function_category,
            'share_pct', round(z.share::numeric, 1),
            'floors_min', z.floors_min,
            'floors_max', z.floors_max,
            'height_max_m', z.height_max_m,
            'coverage_max_pct', z.coverage_max_pct,
            'far_max', z.far_max,
            'population', z.population,
            'block_area_m2', round(z.area_m2::numeric, 1),
            'colour', z.colour,
            'plan', json_build_object('code', z.plan_code, 'name', z.plan_name,
                                      'scale', z.scale, 'decision_no', z.decision_no,
                                      'decision_date', z.decision_date,
                                      'approving_body', z.approving_body)
        ) ORDER BY z.share DESC)
        FROM z), '[]'::json),
    'land_use', COALESCE((
        SELECT json_agg(json_build_object(
            'code', lu.code, 'name_vi', c.name_vi, 'name_en', c.name_en,
            'colour', c.fill_colour, 'share_pct', round(lu.share::numeric, 1)
        ) ORDER BY lu.share DESC)
        FROM lu
        LEFT JOIN land_use_code c ON c.code = lu.code AND c.catalogue = %(catalogue)s),
        '[]'::json),
    'road_frontage', COALESCE((
        SELECT json_agg(json_build_object(
            'street', rd.name,
            'right_of_way_m', rd.right_of_way_m,
            'side', rd.side,
            'frontage_m', round(rd.frontage_m::numeric, 1)
        ) ORDER BY rd.frontage_m DESC)
        FROM rd), '[]'::json),
    'plans', COALESCE((
        SELECT json_agg(json_build_object(
            'kind', x.kind, 'name', x.name, 'decision_no', x.decision_no,
            'decision_date', x.decision_date, 'approving_body', x.approving_body,
            'share_pct', x.share_pct
        ) ORDER BY x.sort, x.decision_date DESC) FROM (
            SELECT 0 AS sort, 'zoning_1_2000' AS kind, z.plan_name AS name, z.decision_no,
                   z.decision_date, z.approving_body,
                   round(sum(z.share)::numeric, 1) AS share_pct
            FROM z
            GROUP BY z.plan_name, z.decision_no, z.decision_date, z.approving_body
            UNION ALL
            SELECT 1, dp.kind, dp.name, dp.decision_no, dp.decision_date, dp.approving_body,
                   round(dp.share::numeric, 1)
            FROM dp
        ) AS x), '[]'::json),
    'services', COALESCE((
        SELECT json_agg(json_build_object(
            'id', pr.id, 'name_vi', pr.name_vi, 'name_en', pr.name_en,
            'online_level', pr.online_level, 'statutory_days', pr.statutory_days
        ) ORDER BY pr.id)
        FROM procedure pr
        WHERE cardinality(pr.applies_to) = 0
           OR pr.applies_to && ARRAY(SELECT z.function_category::varchar FROM z)),
        '[]'::json),
    'buildable', (
        SELECT json_build_object(
            'governing_block', (SELECT zc.block_code FROM zc WHERE zc.governing),
            'spans_blocks', (SELECT count(*) > 1 FROM z),
            'blocks', COALESCE((
                SELECT json_agg(json_build_object(
                    'block_code', zc.block_code, 'share_pct', round(zc.share::numeric, 1),
                    'governing', zc.governing, 'counted', zc.counted
                ) ORDER BY zc.share DESC)
                FROM zc), '[]'::json),
            'floors_min', lims.j -> 'floors_min',
            'floors_max', lims.j -> 'floors_max',
            'height_max_m', lims.j -> 'height_max_m',
            'coverage_max_pct', lims.j -> 'coverage_max_pct',
            'far_max', lims.j -> 'far_max',
            'parcel_area_m2', p.area_m2,
            'widening', COALESCE((
                SELECT json_agg(json_build_object(
                    'street', strip.name,
                    'right_of_way_m', strip.right_of_way_m,
                    'area_m2', round(strip.area_m2::numeric, 1),
                    'depth_m', round(strip.depth_m::numeric, 2)
                ) ORDER BY strip.area_m2 DESC)
                FROM strip), '[]'::json),
            'widening_area_m2', area.strip_m2,
            'buildable_area_m2', area.rest_m2,
            'computed_on', 'buildable_area_m2',
            'footprint_max_m2', round(area.rest_m2 * lims.coverage / 100, 1),
            'floor_area_max_m2', round(area.rest_m2 * lims.far, 1)
        )
        FROM lims, area)
)::text AS card
FROM p
JOIN admin_unit ow ON ow.id = p.ward_id
LEFT JOIN admin_unit cw ON cw.id = p.current_ward_id
LEFT JOIN admin_unit dist ON dist.id = ow.parent_id
LEFT JOIN admin_unit prov ON prov.id = dist.parent_id
