// Builds MapLibre glyph ranges (SDF .pbf) for the fonts the district style uses, from Debian's
// Noto fonts, into ../var/glyphs/<font name>/<start>-<end>.pbf. Vietnamese needs them: no
// third-party glyph server is ever asked.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "..", "var", "glyphs");
const fonts = {
  "Noto Sans Regular": "/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf",
  "Noto Sans Bold": "/usr/share/fonts/truetype/noto/NotoSans-Bold.ttf",
};
const builder = join(here, "..", "node_modules", "fontnik", "bin", "build-glyphs");
for (const [name, ttf] of Object.entries(fonts)) {
  if (!existsSync(ttf)) {
    console.error(`missing ${ttf}: install the Debian package fonts-noto-core`);
    process.exit(1);
  }
  const dir = join(out, name);
  mkdirSync(dir, { recursive: true });
  execFileSync("node", [builder, ttf, dir], { stdio: "inherit" });
  console.log(`glyphs: ${name} -> ${dir}`);
}
