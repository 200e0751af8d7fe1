-- The whole parcel card as one JSON document. The parcel is chosen by the locator fragment
-- put in place of {locate} (a fixed fragment from layers.repository, never user text);
-- every value is a bound parameter. Shares and frontage come precomputed from the
-- parcel_* fact tables (etl/sql/parcel_facts.sql).
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
        '[]'::json)
)::text AS card
FROM p
JOIN admin_unit ow ON ow.id = p.ward_id
LEFT JOIN admin_unit cw ON cw.id = p.current_ward_id
LEFT JOIN admin_unit dist ON dist.id = ow.parent_id
LEFT JOIN admin_unit prov ON prov.id = dist.parent_id
