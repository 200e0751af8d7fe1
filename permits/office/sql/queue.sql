-- An officer's queue: the open dossiers, feedback reports and tasks given to them, or to their
-- department in the wards they serve (a leader: the whole department), the most urgent first,
-- each with its place (new ward, old ward, a point), its deadline in its department's working
-- days, its urgency, the one next move the caller may make and its ETag. Bound parameters only:
--   %(me)s person id; %(depts)s departments reached whole; %(pd)s, %(pw)s (department, ward)
--   pairs reached; %(today)s; %(soon)s working days that count as "soon"; %(limit)s;
--   %(first)s, %(last)s the calendar's window; %(offs)s weekdays closed and %(ons)s weekend
--   days worked in it, for every office (core.workdays: holidays and swaps); a department's
--   closures are read here, closing even a day worked in exchange (the calendar's rule 1);
--   %(moves)s the next move by (kind, status) with who may make it: [{kind, status, next,
--   everything, departments, pairs: ["department|ward", ...]}] (accounts.policy.reach);
--   %(open_dossier)s, %(open_feedback)s, %(open_task)s the statuses in which an item is still
--   the office's work (repository.OPEN, from the workflows).
WITH reach AS (
    SELECT x.d, x.w FROM unnest(%(pd)s::text[], %(pw)s::text[]) AS x(d, w)
), items AS (
    SELECT 'dossier' AS kind, d.id, d.version, d.code AS label, p.name_vi AS title, d.status,
           d.department, d.ward_code, d.due_on, d.assignee_id, d.submitted_at AS since,
           d.parcel_key, NULL::geometry AS geom
    FROM dossier d
    JOIN procedure p ON p.id = d.procedure_id
    WHERE d.status = ANY(%(open_dossier)s::text[])
      AND (d.assignee_id = %(me)s OR d.department = ANY(%(depts)s::text[])
           OR EXISTS (SELECT 1 FROM reach WHERE reach.d = d.department
                      AND reach.w = d.ward_code))
    UNION ALL
    SELECT 'feedback', r.id, r.version, '#' || r.id, c.name_vi, r.status, r.department,
           r.ward_code, r.due_on, r.assignee_id, r.confirmed_at, NULL, r.geom
    FROM feedback_report r
    JOIN feedback_category c ON c.code = r.category
    WHERE r.status = ANY(%(open_feedback)s::text[])
      AND (r.assignee_id = %(me)s OR r.department = ANY(%(depts)s::text[])
           OR EXISTS (SELECT 1 FROM reach WHERE reach.d = r.department
                      AND reach.w = r.ward_code))
    UNION ALL
    SELECT 'task', t.id, t.version, NULL, t.title, t.status, t.department, t.ward_code,
           t.due_on, t.assignee_id, t.created_at, NULL, t.geom
    FROM office_task t
    WHERE t.status = ANY(%(open_task)s::text[])
      AND (t.assignee_id = %(me)s OR t.department = ANY(%(depts)s::text[])
           OR (t.assignee_id IS NULL AND EXISTS (SELECT 1 FROM reach
                                               WHERE reach.d = t.department
                                               AND (t.ward_code IS NULL
                                                    OR reach.w = t.ward_code))))
), days AS (
    -- Each day of the window, worked or not, for every office.
    SELECT g::date AS day,
           CASE WHEN g::date = ANY(%(ons)s::date[]) THEN 1
                WHEN g::date = ANY(%(offs)s::date[]) THEN 0
                WHEN extract(isodow FROM g) < 6 THEN 1 ELSE 0 END AS working
    FROM generate_series(%(first)s::date, %(last)s::date, interval '1 day') AS g
), counted AS (
    -- The working days up to each day, for every office.
    SELECT day, working, sum(working) OVER (ORDER BY day) AS n FROM days
), closed AS (
    -- The working days a department closed.
    SELECT DISTINCT s.department, s.day FROM department_closure s
    JOIN days w ON w.day = s.day AND w.working = 1
), by_department AS (
    -- The working days up to each day of the departments that closed some.
    SELECT d.department, c.day,
           c.n - count(cl.day) OVER (PARTITION BY d.department ORDER BY c.day) AS n
    FROM (SELECT DISTINCT department FROM closed) AS d
    CROSS JOIN counted c
    LEFT JOIN closed cl ON cl.department = d.department AND cl.day = c.day
), deadlines AS (
    -- Working days from today to the deadline (negative: overdue by that many); beyond the
    -- window, calendar days (only the sign tells).
    SELECT i.*,
           coalesce(coalesce(bd.n, due.n)
                    - coalesce(bt.n, (SELECT n FROM counted WHERE day = %(today)s)),
                    i.due_on - %(today)s::date)::int AS working_days_left
    FROM items i
    LEFT JOIN counted due ON due.day = i.due_on
    LEFT JOIN by_department bd ON bd.department = i.department AND bd.day = i.due_on
    LEFT JOIN by_department bt ON bt.department = i.department AND bt.day = %(today)s
), ranked AS (
    -- 0 overdue, 1 due today, 2 soon, 3 later, 4 no deadline yet.
    SELECT *,
           CASE WHEN due_on IS NULL THEN 4
                WHEN due_on < %(today)s OR status = 'overdue' THEN 0
                WHEN due_on = %(today)s THEN 1
                WHEN working_days_left <= %(soon)s THEN 2
                ELSE 3 END AS urgency_rank
    FROM deadlines
), top AS MATERIALIZED (
    -- Ranked again after the cut: the rows come sorted, so this sort only checks them.
    SELECT t.*, row_number() OVER (ORDER BY urgency_rank, due_on, since NULLS FIRST, kind,
                                   id) AS queue_position
    FROM (SELECT * FROM ranked ORDER BY urgency_rank, due_on, since NULLS FIRST, kind, id
          LIMIT %(limit)s) AS t
), moves AS (
    SELECT * FROM jsonb_to_recordset(%(moves)s::jsonb)
        AS m(kind text, status text, next text, everything boolean, departments text[],
             pairs text[])
), placed AS MATERIALIZED (
    -- Materialized: a parcel's point is made once, not once for each use below.
    SELECT t.*, pc.current_ward_id AS new_ward_id, pc.ward_id AS old_ward_id,
           coalesce(t.geom, ST_PointOnSurface(pc.geom)) AS point
    FROM top t
    LEFT JOIN parcel pc ON pc.parcel_key = t.parcel_key
)
SELECT i.kind, i.id, i.version, i.label, i.title, i.status, i.department, i.ward_code,
       i.due_on, i.assignee_id, i.since, i.working_days_left, i.queue_position,
       (ARRAY['overdue', 'today', 'soon', 'later', 'none'])[i.urgency_rank + 1] AS urgency,
       CASE WHEN m.everything OR i.department = ANY(m.departments)
                 OR i.department || '|' || i.ward_code = ANY(m.pairs) THEN m.next END
           AS next_action,
       -- As core.workflow's Workflow.etag writes it (a workflow's name is its kind here).
       '"' || i.kind || '-' || i.id || '-v' || i.version || '"' AS etag,
       coalesce(nw.name, (SELECT a.name FROM admin_unit a WHERE a.level = 'ward'
                          AND a.valid_to IS NULL AND a.code = i.ward_code LIMIT 1)) AS ward,
       coalesce(ow.name, (SELECT a.name FROM admin_unit a WHERE a.level = 'ward'
                          AND a.valid_to IS NOT NULL AND i.point IS NOT NULL
                          AND ST_Intersects(a.geom, i.point) LIMIT 1)) AS old_ward,
       ST_X(i.point) AS lon, ST_Y(i.point) AS lat
FROM placed i
LEFT JOIN moves m ON m.kind = i.kind AND m.status = i.status
LEFT JOIN admin_unit nw ON nw.id = i.new_ward_id
LEFT JOIN admin_unit ow ON ow.id = i.old_ward_id
ORDER BY i.queue_position
