// Bundles the web app into dist/: our code + MapLibre (its worker copied beside the bundle,
// where MapLibre 6 looks for it), CSS, the page, manifest and icons. No CDN anywhere.
import { build } from "esbuild";
import { cpSync, mkdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { writePacked } from "./packed.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const dist = join(root, "dist");
const maplibre = join(root, "node_modules", "maplibre-gl", "dist");
rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });

await build({
  entryPoints: [join(root, "src", "main.js")],
  bundle: true,
  format: "esm",
  minify: true,
  target: "es2022",
  outfile: join(dist, "app.js"),
  logLevel: "warning",
});
for (const file of ["maplibre-gl-worker.mjs", "maplibre-gl-shared.mjs"]) {
  cpSync(join(maplibre, file), join(dist, file));
}
writeFileSync(join(dist, "app.css"),
  readFileSync(join(maplibre, "maplibre-gl.css"), "utf8") + "\n" +
  readFileSync(join(root, "src", "app.css"), "utf8"));
cpSync(join(root, "src", "index.html"), join(dist, "index.html"));
cpSync(join(root, "public"), dist, { recursive: true });

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
  `${kb("maplibre-gl-worker.mjs.br")} KB)`);
