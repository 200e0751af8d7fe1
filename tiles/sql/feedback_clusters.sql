-- The public reports layer below tile zoom 14 (cluster_below): the tile is cut into a grid of cells (cell: metres)
-- (on the world's grid, so a cell is the same in every tile that sees it) and each
-- cell with reports is one feature at its reports' centroid. A cell of one report is that
-- report's point (id, status, category, late); a cell of several is a cluster: count, the
-- most urgent status of its members (urgency: the statuses, most urgent first) and late when any is.
-- Cells one row beyond the tile are counted whole, so a cluster drawn in the tile's buffer
-- has the count its own tile gives it. The same reports as feedback_points.sql.
WITH member AS (
    SELECT r.id, r.status::text AS status, r.category::text AS category,
           (r.status <> 'closed'
            AND coalesce(r.due_on < (now() AT TIME ZONE 'Asia/Ho_Chi_Minh')::date, false))
               AS late,
           p.geom,
           -- The cell on the world's grid (not the tile's envelope): a report on a tile's
           -- edge falls in the same cell whichever tile counts it.
           floor((ST_X(p.geom) + %(origin)s) / %(cell)s) AS cx,
           floor((%(origin)s - ST_Y(p.geom)) / %(cell)s) AS cy
    FROM (SELECT ST_TileEnvelope(%(z)s, %(x)s, %(y)s) AS tile) AS e
    JOIN feedback_report AS r
      ON r.geom && ST_Transform(ST_Expand(e.tile, %(cell)s), 4326)
    CROSS JOIN LATERAL (SELECT ST_Transform(r.geom, 3857) AS geom) AS p
    WHERE r.status NOT IN ('unconfirmed', 'expired')
      AND NOT r.joined
),
cluster AS (
    SELECT count(*) AS n, ST_Centroid(ST_Collect(geom)) AS geom, min(id) AS id,
           min(category) AS category, bool_or(late) AS late,
           (array_agg(status ORDER BY array_position(%(urgency)s::text[], status), id))[1]
               AS status
    FROM member
    GROUP BY cx, cy
)
SELECT ST_AsMVT(tile, 'feedback', 4096, 'geom', 'fid')
FROM (
    SELECT ST_AsMVTGeom(c.geom, ST_TileEnvelope(%(z)s, %(x)s, %(y)s)::box2d, 4096, 64, true)
               AS geom,
           -- NULL attributes are left out of a feature: a cluster has no id nor category.
           CASE WHEN c.n = 1 THEN c.id END AS fid,
           CASE WHEN c.n = 1 THEN c.id END AS id,
           c.status,
           CASE WHEN c.n = 1 THEN c.category END AS category,
           c.late,
           CASE WHEN c.n > 1 THEN c.n END AS count
    FROM cluster AS c
) AS tile
WHERE tile.geom IS NOT NULL
