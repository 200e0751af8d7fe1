-- An officer's queue: the open dossiers, feedback reports and tasks given to them, or to their
-- department in the wards they serve (a leader: the whole department), each with its place
-- (new ward, old ward, a point), its deadline and its version. Urgency is the service's: it
-- counts working days in the department's calendar. Bound parameters only:
--   %(me)s person id; %(depts)s departments reached whole; %(pd)s, %(pw)s (department, ward)
--   pairs reached; %(limit)s.
WITH reach AS (
    SELECT x.d, x.w FROM unnest(%(pd)s::text[], %(pw)s::text[]) AS x(d, w)
), items AS (
    SELECT 'dossier' AS kind, d.id, d.version, d.code AS label, p.name_vi AS title, d.status,
           d.department, d.ward_code, d.due_on, d.assignee_id, d.submitted_at AS since,
           pc.current_ward_id AS new_ward_id, pc.ward_id AS old_ward_id,
           ST_PointOnSurface(pc.geom) AS point
    FROM dossier d
    JOIN procedure p ON p.id = d.procedure_id
    LEFT JOIN parcel pc ON pc.parcel_key = d.parcel_key
    WHERE d.status IN ('awaiting_receipt', 'received', 'in_processing', 'supplement_requested',
                       'supplemented', 'approved', 'overdue', 'result_ready', 'refused')
      AND (d.assignee_id = %(me)s OR d.department = ANY(%(depts)s::text[])
           OR EXISTS (SELECT 1 FROM reach WHERE reach.d = d.department
                      AND reach.w = d.ward_code))
    UNION ALL
    SELECT 'feedback', r.id, r.version, '#' || r.id, c.name_vi, r.status, r.department,
           r.ward_code, r.due_on, r.assignee_id, r.confirmed_at, NULL, NULL, r.geom
    FROM feedback_report r
    JOIN feedback_category c ON c.code = r.category
    WHERE r.status IN ('received', 'assigned', 'in_progress', 'question', 'answered')
      AND (r.assignee_id = %(me)s OR r.department = ANY(%(depts)s::text[])
           OR EXISTS (SELECT 1 FROM reach WHERE reach.d = r.department
                      AND reach.w = r.ward_code))
    UNION ALL
    SELECT 'task', t.id, t.version, NULL, t.title, t.status, t.department, t.ward_code,
           t.due_on, t.assignee_id, t.created_at, NULL, NULL, t.geom
    FROM office_task t
    WHERE t.status = 'open'
      AND (t.assignee_id = %(me)s OR t.department = ANY(%(depts)s::text[])
           OR (t.assignee_id IS NULL AND EXISTS (SELECT 1 FROM reach
                                               WHERE reach.d = t.department
                                               AND (t.ward_code IS NULL
                                                    OR reach.w = t.ward_code))))
    ORDER BY due_on NULLS LAST, since, kind, id
    LIMIT %(limit)s
)
SELECT i.kind, i.id, i.version, i.label, i.title, i.status, i.department, i.ward_code,
       i.due_on, i.assignee_id, i.since,
       coalesce(nw.name, (SELECT a.name FROM admin_unit a WHERE a.level = 'ward'
                          AND a.valid_to IS NULL AND a.code = i.ward_code LIMIT 1)) AS ward,
       coalesce(ow.name, (SELECT a.name FROM admin_unit a WHERE a.level = 'ward'
                          AND a.valid_to IS NOT NULL AND i.point IS NOT NULL
                          AND ST_Intersects(a.geom, i.point) LIMIT 1)) AS old_ward,
       ST_X(i.point) AS lon, ST_Y(i.point) AS lat
FROM items i
LEFT JOIN admin_unit nw ON nw.id = i.new_ward_id
LEFT JOIN admin_unit ow ON ow.id = i.old_ward_id
