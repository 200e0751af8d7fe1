"""Run every benchmark; each prints `BENCH <name> ...` lines."""

import sys

from bench import dossiers, etl, feedback, office, pwa, raster, tap, tiles

BENCHES = {"tap": tap.main, "tiles": tiles.main, "raster": raster.main, "pwa": pwa.main,
           "etl": etl.main, "dossiers": dossiers.main, "feedback": feedback.main,
           "office": office.main}

if __name__ == "__main__":
    chosen = sys.argv[1:] or list(BENCHES)
    for name in chosen:
        BENCHES[name]()
