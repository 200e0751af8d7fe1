-- The public reports layer from tile zoom 14 (cluster_below): one point a report. Confirmed reports on their own
-- only (not unconfirmed, not expired, not a "me too" joined to its original); nothing of
-- the reporter and no description: the map draws a point, its status and its category.
-- The index on geom (EPSG:4326) finds the reports; the points are projected here (cheap).
SELECT ST_AsMVT(tile, 'feedback', 4096, 'geom', 'fid')
FROM (
    SELECT ST_AsMVTGeom(ST_Transform(r.geom, 3857),
                        ST_TileEnvelope(%(z)s, %(x)s, %(y)s)::box2d, 4096, 64, true) AS geom,
           r.id AS fid, r.id, r.status::text AS status, r.category::text AS category,
           (r.status <> 'closed'
            AND coalesce(r.due_on < (now() AT TIME ZONE 'Asia/Ho_Chi_Minh')::date, false))
               AS late
    FROM feedback_report AS r
    WHERE r.geom && ST_Transform(ST_Expand(ST_TileEnvelope(%(z)s, %(x)s, %(y)s), %(margin)s),
                                 4326)
      AND r.status NOT IN ('unconfirmed', 'expired')
      AND NOT r.joined
) AS tile
WHERE tile.geom IS NOT NULL
