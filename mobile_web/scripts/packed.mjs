// Pre-compressed copies beside a built file, which the platform sends as they are: brotli for
// the browsers that accept it (the smaller), gzip for the others.
import { writeFileSync } from "node:fs";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";

const brotli = { [constants.BROTLI_PARAM_QUALITY]: 11 };

// Writes file.br and file.gz of data; returns the brotli size in bytes.
export function writePacked(file, data) {
  const br = brotliCompressSync(data, { params: brotli });
  writeFileSync(`${file}.br`, br);
  writeFileSync(`${file}.gz`, gzipSync(data, { level: 9 }));
  return br.length;
}
