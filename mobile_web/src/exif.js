// The place a JPEG photo was taken, from its EXIF GPS tags, read here (no library): the
// reporter may place the report there. The server removes EXIF from every copy it keeps.
// Returns { lon, lat } or null.
export async function photoPlace(file) {
  const head = new DataView(await file.slice(0, 256 * 1024).arrayBuffer());
  if (head.byteLength < 4 || head.getUint16(0) !== 0xffd8) return null; // not a JPEG
  let at = 2;
  while (at + 4 <= head.byteLength) {
    const marker = head.getUint16(at);
    const size = head.getUint16(at + 2);
    if ((marker & 0xff00) !== 0xff00 || marker === 0xffda) return null; // the image begins
    if (marker === 0xffe1 && at + 10 <= head.byteLength &&
        head.getUint32(at + 4) === 0x45786966) { // "Exif"
      return gps(head, at + 10, Math.min(head.byteLength, at + 2 + size));
    }
    at += 2 + size;
  }
  return null;
}

function gps(view, tiff, end) {
  const little = view.getUint16(tiff) === 0x4949; // "II"
  const u16 = (o) => view.getUint16(o, little);
  const u32 = (o) => view.getUint32(o, little);
  const inside = (o, n) => o >= tiff && o + n <= end;
  if (!inside(tiff, 8) || u16(tiff + 2) !== 42) return null;
  // Each IFD entry: tag, type, count, value (or offset from the TIFF header).
  const entries = (ifd) => {
    if (!inside(ifd, 2)) return [];
    const count = u16(ifd);
    const out = [];
    for (let i = 0; i < count && inside(ifd + 2 + i * 12, 12); i += 1) {
      const e = ifd + 2 + i * 12;
      out.push({ tag: u16(e), type: u16(e + 2), count: u32(e + 4), value: e + 8 });
    }
    return out;
  };
  const pointer = entries(tiff + u32(tiff + 4)).find((e) => e.tag === 0x8825);
  if (!pointer) return null;
  const tags = new Map(entries(tiff + u32(pointer.value)).map((e) => [e.tag, e]));
  const ref = (tag) => {
    const e = tags.get(tag);
    return e && e.type === 2 ? String.fromCharCode(view.getUint8(e.value)) : null;
  };
  const degrees = (tag) => {
    const e = tags.get(tag);
    if (!e || e.type !== 5 || e.count !== 3) return null;
    const at = tiff + u32(e.value);
    if (!inside(at, 24)) return null;
    const [d, m, s] = [0, 1, 2].map((i) => {
      const den = u32(at + i * 8 + 4);
      return den ? u32(at + i * 8) / den : Number.NaN;
    });
    return d + m / 60 + s / 3600;
  };
  const lat = degrees(2);
  const lon = degrees(4);
  if (!Number.isFinite(lat) || !Number.isFinite(lon) || (lat === 0 && lon === 0)) return null;
  return { lat: ref(1) === "S" ? -lat : lat, lon: ref(3) === "W" ? -lon : lon };
}
