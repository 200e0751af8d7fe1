-- One layer of a Mapbox Vector Tile. {table}, {columns} and {where} come from the fixed
-- registry in tiles/layers.py, never from a request; z, x, y and the rest are bound.
-- fid is the MVT feature id where the layer has one (%(fid)s = 'fid'), else NULL.
SELECT ST_AsMVT(tile, %(name)s, 4096, 'geom', %(fid)s)
FROM (
    SELECT ST_AsMVTGeom(
               CASE WHEN %(simplify)s
                    THEN ST_Simplify(t.geom_3857, %(tolerance)s, true)
                    ELSE t.geom_3857 END,
               ST_TileEnvelope(%(z)s, %(x)s, %(y)s)::box2d, 4096, 64, true) AS geom,
           {feature_id} AS fid, {columns}
    FROM {table} AS t
    WHERE t.geom_3857 && ST_Expand(ST_TileEnvelope(%(z)s, %(x)s, %(y)s), %(margin)s)
      AND {where}
) AS tile
WHERE tile.geom IS NOT NULL
