-- Publish a detailed-plan version: its accepted features become the 1/500 plans (the parcels'
-- shares in them are rebuilt after). {version} is the version's table, quoted by the caller;
-- dates were checked and written as ISO dates at ingest.
DELETE FROM parcel_detailed_plan;
DELETE FROM detailed_plan;
INSERT INTO detailed_plan (kind, name, decision_no, decision_date, approving_body, area_m2,
                           geom, extra)
SELECT t.props->>'loai', t.props->>'ten', t.props->>'so_qd', (t.props->>'ngay_qd')::date,
       t.props->>'co_quan', ST_Area(ST_Transform(t.geom, 9210)), ST_Multi(t.geom),
       nullif(t.props - ARRAY['loai', 'ten', 'so_qd', 'ngay_qd', 'co_quan'], '{}')
FROM {version} t
WHERE t.outcome IS DISTINCT FROM 'rejected' AND NOT ST_IsEmpty(t.geom);
