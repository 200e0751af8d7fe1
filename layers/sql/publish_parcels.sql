-- Publish a parcel version by the parcels' ids (ward before 2025 + sheet + number): a parcel
-- that stays keeps its row (cards, links and dossiers name it), a new one is added, one no
-- longer there goes. The facts per parcel are rebuilt after. {version} is the version's
-- table, quoted by the caller; codes, sheet and parcel numbers were checked at ingest.
DELETE FROM parcel_zoning;
DELETE FROM parcel_land_use;
DELETE FROM parcel_frontage;
DELETE FROM parcel_detailed_plan;
CREATE TEMP TABLE parcel_in ON COMMIT DROP AS
SELECT w.code || lpad(t.props->>'so_to', 3, '0') || lpad(t.props->>'so_thua', 4, '0')
           AS parcel_key,
       w.id AS ward_id, (t.props->>'so_to')::int AS sheet_no,
       (t.props->>'so_thua')::int AS parcel_no,
       round(ST_Area(ST_Transform(t.geom, 9210))::numeric, 1) AS area_m2,
       nullif(t.props->>'dia_chi', '') AS address, ST_Multi(t.geom) AS geom
FROM {version} t
JOIN admin_unit w ON w.level = 'ward' AND w.valid_to = DATE '2025-07-01'  -- OLD_WARD_END
                 AND w.code = t.props->>'ma_xa'
WHERE t.outcome IS DISTINCT FROM 'rejected' AND NOT ST_IsEmpty(t.geom);
DELETE FROM parcel p WHERE NOT EXISTS (SELECT 1 FROM parcel_in i
                                       WHERE i.parcel_key = p.parcel_key);
-- A parcel's area is measured again only when its outline moved.
UPDATE parcel p
SET area_m2 = CASE WHEN ST_OrderingEquals(p.geom, i.geom) THEN p.area_m2 ELSE i.area_m2 END,
    geom = i.geom, address = i.address,
    address_search = CASE WHEN p.address IS NOT DISTINCT FROM i.address THEN p.address_search
                     END
FROM parcel_in i
WHERE i.parcel_key = p.parcel_key
  AND (p.address IS DISTINCT FROM i.address OR NOT ST_OrderingEquals(p.geom, i.geom));
INSERT INTO parcel (parcel_key, ward_id, sheet_no, parcel_no, area_m2, address, geom)
SELECT i.parcel_key, i.ward_id, i.sheet_no, i.parcel_no, i.area_m2, i.address, i.geom
FROM parcel_in i
WHERE NOT EXISTS (SELECT 1 FROM parcel p WHERE p.parcel_key = i.parcel_key);
