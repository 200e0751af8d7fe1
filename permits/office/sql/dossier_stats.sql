-- Dossier handling figures of a period, computed from the events alone (never from stored
-- counters or the dossier's own columns): a dossier counts as received on its `receive` event,
-- as handled on its decision (`approve` or `refuse`); it was handled on time when decided on or
-- before its return date as the events last set it (the receipt's, moved on by each answered
-- supplement: the days the applicant owed one do not count against the office; an apology's
-- new date does not make a late dossier timely). Days are Hồ Chí Minh City's.
-- Bound parameters: %(first)s, %(last)s (the period, both days included), %(today)s,
-- %(all)s / %(depts)s (the departments the caller reaches), %(group)s.
WITH zone AS (SELECT 'Asia/Ho_Chi_Minh'::text AS tz),
ev AS (
    SELECT e.dossier_id, e.id, e.action, e.actor_id, e.detail,
           (e.at AT TIME ZONE (SELECT tz FROM zone))::date AS day
    FROM dossier_event e
    WHERE e.action IN ('receive', 'supplement', 'approve', 'refuse')
),
life AS (
    SELECT ev.dossier_id,
           min(ev.day) FILTER (WHERE ev.action = 'receive') AS received_on,
           min(ev.day) FILTER (WHERE ev.action IN ('approve', 'refuse')) AS decided_on,
           (array_agg((ev.detail->>'due_on')::date ORDER BY ev.id DESC)
               FILTER (WHERE ev.action IN ('receive', 'supplement')
                       AND ev.detail ? 'due_on'))[1] AS due_on,
           coalesce(sum((ev.detail->>'stopped_days')::int)
               FILTER (WHERE ev.action = 'supplement'), 0) AS supplement_days,
           (array_agg(ev.actor_id ORDER BY ev.id)
               FILTER (WHERE ev.action IN ('approve', 'refuse')))[1] AS decided_by
    FROM ev
    GROUP BY ev.dossier_id
),
counted AS (
    SELECT l.*, d.procedure_id, p.name_vi AS procedure_vi, p.field, d.department,
           d.ward_code, d.assignee_id,
           l.received_on BETWEEN %(first)s AND %(last)s AS received_in,
           l.decided_on BETWEEN %(first)s AND %(last)s AS handled_in
    FROM life l
    JOIN dossier d ON d.id = l.dossier_id
    JOIN procedure p ON p.id = d.procedure_id
    WHERE l.received_on IS NOT NULL
      AND (%(all)s OR d.department = ANY(%(depts)s::text[]))
)
SELECT CASE %(group)s WHEN 'procedure' THEN procedure_id WHEN 'field' THEN field
                      WHEN 'ward' THEN ward_code
                      WHEN 'officer' THEN coalesce(assignee_id, decided_by)::text
                      ELSE department END AS key,
       min(CASE %(group)s WHEN 'procedure' THEN procedure_vi ELSE NULL END) AS name,
       count(*) FILTER (WHERE received_in) AS received,
       count(*) FILTER (WHERE handled_in) AS handled,
       count(*) FILTER (WHERE handled_in AND decided_on <= due_on) AS on_time,
       count(*) FILTER (WHERE handled_in AND decided_on > due_on) AS late,
       count(*) FILTER (WHERE decided_on IS NULL AND due_on < least(%(last)s, %(today)s)
                        AND received_on <= %(last)s) AS overdue,
       coalesce(sum(supplement_days) FILTER (WHERE handled_in), 0) AS supplement_days
FROM counted
WHERE received_in OR handled_in OR (decided_on IS NULL AND received_on <= %(last)s)
GROUP BY 1
ORDER BY 1
