-- Feedback handling figures of a period, from the events alone: a report counts as received
-- on its `confirm`, as handled on its first `answer` or `close`, on time when handled on or
-- before the deadline it was given at confirmation (the report's due_on is set then and never
-- moved). Bound parameters as dossier_stats.sql.
WITH ev AS (
    SELECT e.report_id, e.action, (e.at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date AS day
    FROM feedback_event e
    WHERE e.action IN ('confirm', 'answer', 'close')
),
life AS (
    SELECT ev.report_id,
           min(ev.day) FILTER (WHERE ev.action = 'confirm') AS received_on,
           min(ev.day) FILTER (WHERE ev.action IN ('answer', 'close')) AS handled_on
    FROM ev GROUP BY ev.report_id
),
counted AS (
    SELECT l.*, r.due_on, r.category, c.name_vi, r.department, r.ward_code, r.assignee_id,
           l.received_on BETWEEN %(first)s AND %(last)s AS received_in,
           l.handled_on BETWEEN %(first)s AND %(last)s AS handled_in
    FROM life l
    JOIN feedback_report r ON r.id = l.report_id
    JOIN feedback_category c ON c.code = r.category
    WHERE l.received_on IS NOT NULL AND NOT r.joined
      AND (%(all)s OR r.department = ANY(%(depts)s::text[]))
)
SELECT CASE %(group)s WHEN 'procedure' THEN category WHEN 'field' THEN 'feedback'
                      WHEN 'ward' THEN ward_code WHEN 'officer' THEN assignee_id::text
                      ELSE department END AS key,
       min(CASE %(group)s WHEN 'procedure' THEN name_vi ELSE NULL END) AS name,
       count(*) FILTER (WHERE received_in) AS received,
       count(*) FILTER (WHERE handled_in) AS handled,
       count(*) FILTER (WHERE handled_in AND handled_on <= due_on) AS on_time,
       count(*) FILTER (WHERE handled_in AND handled_on > due_on) AS late,
       count(*) FILTER (WHERE handled_on IS NULL AND due_on < least(%(last)s, %(today)s)
                        AND received_on <= %(last)s) AS overdue,
       0::bigint AS supplement_days
FROM counted
WHERE received_in OR handled_in OR (handled_on IS NULL AND received_on <= %(last)s)
GROUP BY 1
ORDER BY 1
