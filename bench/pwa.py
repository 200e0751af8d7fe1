"""BENCH pwa: Lighthouse (mobile, simulated slow 4G) on the home page and a deep-linked parcel,
and the home page against a bare MapLibre page drawing the same style from the same server."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import tempfile
from pathlib import Path
from urllib.request import Request, urlopen

import psycopg
from playwright.sync_api import Request as PlaywrightRequest
from playwright.sync_api import sync_playwright

from bench.common import bench_database, log, start_server, stop
from bench.page import wait_for
from core.settings import PROJECT_ROOT

PARCELS = int(os.environ.get("BENCH_TAP_PARCELS", "200000"))
LIGHTHOUSE = PROJECT_ROOT / "bench" / "lighthouse"
CHROMIUM = "/usr/bin/chromium"
# A phone composites on its GPU. With --disable-gpu Chrome composites in software and its main
# thread reads the WebGL canvas back every frame (measured: 100-330 ms "Commit" per frame, most
# of the blocking time); SwiftShader through ANGLE keeps the phone's GPU path, in software.
FLAGS = ("--headless=new --no-sandbox --use-angle=swiftshader --enable-unsafe-swiftshader "
         "--disable-background-networking --disable-component-update --no-first-run "
         "--disable-sync")
FIRST_MAP = "civicmap:first-map"
GOALS = {"performance": 90, "accessibility": 95, "first_map_ms": 2500}
# The bare page (dist/bench-bare.html, built for this bench): our style, MapLibre, one heading.
BARE = "bench-bare.html"
ROUNDS = int(os.environ.get("BENCH_PWA_ROUNDS", "3"))
# BENCH_PWA_ONLY=vs_bare: that comparison alone (the other lines take ~5 minutes more).
ONLY = os.environ.get("BENCH_PWA_ONLY", "")


def _lighthouse(url: str, throttling: str = "simulate") -> dict[str, object]:
    if not (LIGHTHOUSE / "node_modules" / ".bin" / "lighthouse").exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                       cwd=LIGHTHOUSE, check=True)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "report.json"
        subprocess.run(
            [str(LIGHTHOUSE / "node_modules" / ".bin" / "lighthouse"), url, "--quiet",
             "--output=json", f"--output-path={out}", "--form-factor=mobile",
             f"--throttling-method={throttling}",
             "--only-categories=performance,accessibility,best-practices",
             f"--chrome-flags={FLAGS}"],
            env=dict(os.environ, CHROME_PATH=CHROMIUM), check=True,
        )
        report = json.loads(out.read_text())
    audits = report["audits"]
    marks = audits.get("user-timings", {}).get("details", {}).get("items", [])
    first_map = next((m["startTime"] for m in marks if m.get("name") == FIRST_MAP),
                     float("nan"))
    return {
        "performance": round(report["categories"]["performance"]["score"] * 100),
        "accessibility": round(report["categories"]["accessibility"]["score"] * 100),
        "best_practices": round(report["categories"]["best-practices"]["score"] * 100),
        "fcp_ms": round(audits["first-contentful-paint"]["numericValue"]),
        "lcp_ms": round(audits["largest-contentful-paint"]["numericValue"]),
        "tbt_ms": round(audits["total-blocking-time"]["numericValue"]),
        # nan: the page's first map came after Lighthouse stopped (seen on a loaded machine)
        "first_map_ms": round(first_map) if first_map == first_map else float("nan"),
    }


def _transferred_kb(url: str) -> int:
    """Bytes the page loads until its first map, as the server sends them (KB).

    Lighthouse (and CDP's sizes) count 0 bytes for the requests of MapLibre's worker (its
    script, tiles) and for the glyphs: every request the page made is fetched again here with
    the Accept-Encoding the browser sent, and the encoded bodies are summed.
    """
    made: list[PlaywrightRequest] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS.split())
        page = browser.new_context(viewport={"width": 412, "height": 823},
                                   device_scale_factor=1.75, is_mobile=True).new_page()
        page.on("requestfinished", lambda r: made.append(r))
        page.goto(url)
        wait_for(page, f"performance.getEntriesByName('{FIRST_MAP}').length > 0",
                 timeout=60_000)
        # Chrome's network stack sends one Accept-Encoding on every request, but CDP shows it
        # only for some (not for fetches, nor for the worker's): the page's is taken for all.
        accept = next(r.all_headers()["accept-encoding"] for r in made if r.is_navigation_request())
        seen = {r.url for r in made if r.url.startswith("http")}
        browser.close()
    total = 0
    for address in seen:
        with urlopen(Request(address, headers={"Accept-Encoding": accept})) as res:
            total += len(res.read())
    return round(total / 1024)


def _installability_errors(url: str) -> list[str]:
    """Chrome's own installability check (Lighthouse 12 has no PWA category)."""
    with tempfile.TemporaryDirectory() as profile, sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, args=FLAGS.split())
        page = context.new_page()
        page.goto(url)
        page.evaluate("navigator.serviceWorker.ready")
        page.reload()
        wait_for(page, "navigator.serviceWorker.controller !== null")
        cdp = context.new_cdp_session(page)
        errors = cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]
        context.close()
    return [e["errorId"] for e in errors]


def _versus_bare(base: str) -> None:
    """Our home page and the bare page, alternated round by round; medians of each side."""
    sides: dict[str, dict[str, list[float]]] = {"ours": {}, "bare": {}}
    urls = {"ours": f"{base}/", "bare": f"{base}/{BARE}"}
    for round_no in range(ROUNDS):
        for side, url in urls.items():
            log(f"pwa: vs bare, round {round_no + 1}/{ROUNDS}, {side}")
            figures = _lighthouse(url)
            throttled = _lighthouse(url, "devtools")
            got = sides[side]
            got.setdefault("performance", []).append(float(figures["performance"]))  # type: ignore[arg-type]
            got.setdefault("first_map_ms", []).append(float(throttled["first_map_ms"]))  # type: ignore[arg-type]
            got.setdefault("kb", []).append(float(_transferred_kb(url)))
    def median(values: list[float]) -> float:
        kept = [v for v in values if v == v]  # a run without its first map (nan) is left out
        return statistics.median(kept) if kept else float("nan")

    ours = {k: median(v) for k, v in sides["ours"].items()}
    bare = {k: median(v) for k, v in sides["bare"].items()}
    print(f"BENCH pwa vs_bare performance={ours['performance']:.0f} "
          f"bare_performance={bare['performance']:.0f} "
          f"first_map_ms={ours['first_map_ms']:.0f} bare_first_map_ms={bare['first_map_ms']:.0f} "
          f"kb={ours['kb']:.0f} bare_kb={bare['kb']:.0f} "
          f"ratio={ours['first_map_ms'] / bare['first_map_ms']:.2f}", flush=True)
    log("pwa: vs bare, every round (ours | bare): " + "; ".join(
        f"{k}={sides['ours'][k]} | {sides['bare'][k]}" for k in sides["ours"]))


def main() -> None:
    """Measure and print the BENCH pwa lines."""
    cluster = bench_database(PARCELS)
    with psycopg.connect(cluster.libpq_dsn()) as conn:
        row = conn.execute("SELECT parcel_key FROM parcel ORDER BY parcel_key LIMIT 1 OFFSET 5000"
                           ).fetchone()
    assert row is not None
    proc, port = start_server(cluster, 2)
    base = f"http://127.0.0.1:{port}"
    try:
        pages = {"home": f"{base}/", "parcel": f"{base}/#/parcel/{row[0]}"}
        for name, url in pages.items() if ONLY != "vs_bare" else ():
            log(f"pwa: lighthouse on {name}")
            figures = _lighthouse(url)
            # Lighthouse simulates slow 4G for its metrics but reports user timings as observed
            # (unthrottled); the first map under slow 4G comes from a run throttled for real.
            throttled = _lighthouse(url, "devtools")
            figures["first_map_observed_ms"] = figures.pop("first_map_ms")
            figures["first_map_slow4g_ms"] = throttled["first_map_ms"]
            figures["total_kb"] = _transferred_kb(url)
            ratio = max(GOALS["performance"] / max(int(figures["performance"]), 1),  # type: ignore[call-overload]
                        GOALS["accessibility"] / max(int(figures["accessibility"]), 1),  # type: ignore[call-overload]
                        float(figures["first_map_slow4g_ms"]) / GOALS["first_map_ms"])  # type: ignore[arg-type]
            fields = " ".join(f"{k}={v}" for k, v in figures.items())
            print(f"BENCH pwa {name} {fields} compositing=gpu-swiftshader "
                  f"goals=perf>=90,a11y>=95,first_map_slow4g<2500 ratio={ratio:.2f}", flush=True)
        _versus_bare(base)
        if ONLY == "vs_bare":
            return
        errors = _installability_errors(f"{base}/")
        print(f"BENCH pwa installability errors={len(errors)} ids={','.join(errors) or '-'} "
              f"ratio={float(len(errors)):.2f}", flush=True)
    finally:
        stop(proc)


if __name__ == "__main__":
    main()
