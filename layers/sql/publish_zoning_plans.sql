-- Publish a zoning-plan version by the plans' codes: a plan that stays keeps its row (its
-- zoning blocks name it), a new one is added, one no longer there goes unless zoning blocks
-- still name it (the publisher refuses that after this script). {version} is the version's
-- table, quoted by the caller; codes are unique and dates ISO, checked at ingest.
CREATE TEMP TABLE plan_in ON COMMIT DROP AS
SELECT t.props->>'ma_qh' AS plan_code, t.props->>'ten' AS name,
       coalesce(nullif(t.props->>'ty_le', ''), '1/2000') AS scale,
       t.props->>'so_qd' AS decision_no, (t.props->>'ngay_qd')::date AS decision_date,
       t.props->>'co_quan' AS approving_body, ST_Multi(t.geom) AS geom,
       nullif(t.props - ARRAY['ma_qh', 'ten', 'ty_le', 'so_qd', 'ngay_qd', 'co_quan'], '{}')
           AS extra  -- what else the file carried
FROM {version} t
WHERE t.outcome IS DISTINCT FROM 'rejected' AND NOT ST_IsEmpty(t.geom);
DELETE FROM zoning_plan p
WHERE NOT EXISTS (SELECT 1 FROM plan_in i WHERE i.plan_code = p.plan_code)
  AND NOT EXISTS (SELECT 1 FROM zoning_block b WHERE b.plan_id = p.id);
UPDATE zoning_plan p
SET name = i.name, scale = i.scale, decision_no = i.decision_no,
    decision_date = i.decision_date, approving_body = i.approving_body, geom = i.geom,
    extra = i.extra
FROM plan_in i
WHERE i.plan_code = p.plan_code;
INSERT INTO zoning_plan (plan_code, name, scale, decision_no, decision_date, approving_body,
                         geom, extra)
SELECT i.plan_code, i.name, i.scale, i.decision_no, i.decision_date, i.approving_body, i.geom,
       i.extra
FROM plan_in i
WHERE NOT EXISTS (SELECT 1 FROM zoning_plan p WHERE p.plan_code = i.plan_code);
