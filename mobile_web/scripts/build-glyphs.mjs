// Builds MapLibre glyph ranges (SDF .pbf) for the fonts the district style uses, from Debian's
// Noto fonts, into ../var/glyphs/<font name>/<start>-<end>.pbf. Vietnamese needs them: no
// third-party glyph server is ever asked.
//
// The two ranges beyond Latin-1 that Vietnamese labels need are trimmed to Vietnamese's letters
// (fontnik writes every glyph the font has: 62 KB gzipped for 256-511, of which Vietnamese uses
// 12 letters), and the ranges a first map loads get brotli and gzip copies the server sends as
// they are: the labels of a first map on a slow phone network wait for these bytes.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { writePacked } from "./packed.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "..", "var", "glyphs");
const fonts = {
  "Noto Sans Regular": "/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf",
  "Noto Sans Bold": "/usr/share/fonts/truetype/noto/NotoSans-Bold.ttf",
};

const codes = (text) => new Set([...text].map((c) => c.codePointAt(0)));
const range = (first, last) => new Set(Array.from({ length: last - first + 1 }, (_, i) => first + i));
// Vietnamese letters outside Latin-1: Ă Đ Ĩ Ũ Ơ Ư (256-511) and Ạ..ỹ (U+1EA0-U+1EF9, 7680-7935).
const VIETNAMESE = {
  "256-511": codes("ĂăĐđĨĩŨũƠơƯư"),
  "7680-7935": range(0x1ea0, 0x1ef9),
};
const COMPRESSED = ["0-255", "256-511", "7680-7935"];

function readVarint(buf, pos) {
  let value = 0;
  let shift = 0;
  for (;;) {
    const byte = buf[pos++];
    value += (byte & 0x7f) * 2 ** shift;
    if (byte < 0x80) return [value, pos];
    shift += 7;
  }
}

function varint(value) {
  const bytes = [];
  while (value >= 0x80) {
    bytes.push((value & 0x7f) | 0x80);
    value = Math.floor(value / 128);
  }
  bytes.push(value);
  return Buffer.from(bytes);
}

// Protobuf fields of a message: [field number, wire type, whole field bytes, payload bytes].
function* fields(buf) {
  let pos = 0;
  while (pos < buf.length) {
    const start = pos;
    let key;
    [key, pos] = readVarint(buf, pos);
    const [field, wire] = [Math.floor(key / 8), key & 7];
    let payload;
    if (wire === 0) {
      const end = readVarint(buf, pos)[1];
      payload = buf.subarray(pos, end);
      pos = end;
    } else if (wire === 2) {
      let length;
      [length, pos] = readVarint(buf, pos);
      payload = buf.subarray(pos, pos + length);
      pos += length;
    } else {
      throw new Error(`unexpected wire type ${wire} in a glyph range`);
    }
    yield [field, wire, buf.subarray(start, pos), payload];
  }
}

const glyphId = (glyph) => {
  for (const [field, wire, , payload] of fields(glyph)) {
    if (field === 1 && wire === 0) return readVarint(payload, 0)[0];
  }
  throw new Error("a glyph without id");
};

// glyphs { repeated fontstack stacks = 1 }, fontstack { name = 1; range = 2; repeated glyph = 3 }
function keepGlyphs(pbf, keep) {
  const parts = [];
  for (const [field, wire, whole, stack] of fields(pbf)) {
    if (field !== 1 || wire !== 2) {
      parts.push(whole);
      continue;
    }
    const kept = [...fields(stack)]
      .filter(([f, w, , payload]) => !(f === 3 && w === 2 && !keep.has(glyphId(payload))))
      .map(([, , bytes]) => bytes);
    const body = Buffer.concat(kept);
    parts.push(Buffer.from([0x0a]), varint(body.length), body);
  }
  return Buffer.concat(parts);
}

const builder = join(here, "..", "node_modules", "fontnik", "bin", "build-glyphs");
for (const [name, ttf] of Object.entries(fonts)) {
  if (!existsSync(ttf)) {
    console.error(`missing ${ttf}: install the Debian package fonts-noto-core`);
    process.exit(1);
  }
  const dir = join(out, name);
  mkdirSync(dir, { recursive: true });
  execFileSync("node", [builder, ttf, dir], { stdio: "inherit" });
  const sizes = [];
  for (const glyphRange of COMPRESSED) {
    const file = join(dir, `${glyphRange}.pbf`);
    let data = readFileSync(file);
    if (VIETNAMESE[glyphRange]) {
      data = keepGlyphs(data, VIETNAMESE[glyphRange]);
      writeFileSync(file, data);
    }
    sizes.push(`${glyphRange} ${Math.round(writePacked(file, data) / 1024)} KB`);
  }
  console.log(`glyphs: ${name} -> ${dir} (brotli: ${sizes.join(", ")})`);
}
