// Bundles the web app into dist/ (flat: the server serves file names only): the shell + MapLibre
// as app.js, each view as its own chunk loaded when its route first opens (MapLibre's worker
// copied beside the bundle, where MapLibre 6 looks for it), CSS, the page, manifest and icons,
// and the bench's bare MapLibre page. No CDN anywhere.
import { build } from "esbuild";
import { cpSync, mkdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { readFileSync, readdirSync } from "node:fs";
import { basename, dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { writePacked } from "./packed.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const dist = join(root, "dist");
const maplibre = join(root, "node_modules", "maplibre-gl", "dist");
rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });

const common = { bundle: true, format: "esm", minify: true, target: "es2022", logLevel: "warning" };
const app = await build({
  ...common,
  entryPoints: { app: join(root, "src", "main.js") },
  splitting: true,
  outdir: dist,
  entryNames: "[name]",
  chunkNames: "[name]-[hash]",
  metafile: true,
});
// The first map's bytes: app.js must import nothing statically (a chunk shared with a view
// would be one more request before the map); views take what they share through ctx.
const outputs = app.metafile.outputs;
const appOut = outputs[relative(process.cwd(), join(dist, "app.js"))] ??
  Object.entries(outputs).find(([f]) => basename(f) === "app.js")[1];
const eager = appOut.imports.filter((i) => i.kind === "import-statement");
if (eager.length) throw new Error(`app.js imports ${eager.map((i) => i.path)} before the map`);
const chunks = Object.keys(outputs).map((f) => basename(f)).filter((f) => f !== "app.js");
const chunkOf = (source) => basename(Object.entries(outputs)
  .find(([, o]) => o.entryPoint?.endsWith(source))[0]);

// The bench's bare page: our style drawn by MapLibre and nothing else (its own bundle).
await build({ ...common, entryPoints: { "bench-bare": join(root, "src", "bench-bare.js") },
  outdir: dist, entryNames: "[name]" });
cpSync(join(root, "src", "bench-bare.html"), join(dist, "bench-bare.html"));
// The officers' map reports' page script: deck.gl over MapLibre (its own bundle: citizens'
// pages never load it).
await build({ ...common, entryPoints: { report: join(root, "src", "report.js") },
  outdir: dist, entryNames: "[name]" });

for (const file of ["maplibre-gl-worker.mjs", "maplibre-gl-shared.mjs"]) {
  cpSync(join(maplibre, file), join(dist, file));
}
const css = readFileSync(join(maplibre, "maplibre-gl.css"), "utf8");
writeFileSync(join(dist, "maplibre-gl.css"), css);
writeFileSync(join(dist, "app.css"), css + "\n" + readFileSync(join(root, "src", "app.css"), "utf8"));
writeFileSync(join(dist, "index.html"), readFileSync(join(root, "src", "index.html"), "utf8")
  .replace("__PARCEL_VIEW__", chunkOf("views/parcel.js")));
cpSync(join(root, "public"), dist, { recursive: true });
// The service worker precaches the views' chunks too (offline, any screen opens), and its cache
// is named after this build's chunks, so a new build replaces the old files.
const sw = readFileSync(join(root, "public", "sw.js"), "utf8");
writeFileSync(join(dist, "sw.js"), sw
  .replace("/* CHUNKS */", chunks.map((c) => JSON.stringify(`/${c}`)).join(", "))
  .replace("__BUILD__", chunks.map((c) => c.replace(/\.js$/, "").split("-").at(-1)).join("").slice(0, 32) || "0"));

// Pre-compressed copies (MapLibre and its worker come out ~80 KB smaller in brotli than in
// gzip, about 0.4 s on slow 4G).
for (const file of readdirSync(dist)) {
  if (/\.(js|mjs|css|html|json|svg|webmanifest)$/.test(file)) {
    writePacked(join(dist, file), readFileSync(join(dist, file)));
  }
}
const kb = (f) => (statSync(join(dist, f)).size / 1024).toFixed(0);
console.log(`web app: app.js ${kb("app.js")} KB (brotli ${kb("app.js.br")} KB, gzip ` +
  `${kb("app.js.gz")} KB), worker ${kb("maplibre-gl-worker.mjs")} KB (brotli ` +
  `${kb("maplibre-gl-worker.mjs.br")} KB), views ${chunks.map((c) => `${c} ` +
  `${kb(`${c}.br`)} KB`).join(", ")}`);
