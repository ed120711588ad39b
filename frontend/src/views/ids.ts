// Convex document ids name their table: base32 of (varint table number, 16 bytes, Fletcher-16).
// Decoding one in the browser turns an id cell into a link to its document.

const ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz";

/** The table number an id encodes, or null if `text` is not a well-formed id. */
export function idTableNumber(text: string): number | null {
  if (text.length < 31 || text.length > 37) return null;
  let n = 0n;
  for (const ch of text) {
    const d = ALPHABET.indexOf(ch);
    if (d < 0) return null;
    n = (n << 5n) | BigInt(d);
  }
  const nbytes = Math.floor((text.length * 5) / 8);
  const pad = BigInt(text.length * 5 - nbytes * 8);
  if (n & ((1n << pad) - 1n)) return null;
  n >>= pad;
  const raw = new Uint8Array(nbytes);
  for (let i = nbytes - 1; i >= 0; i--) {
    raw[i] = Number(n & 0xffn);
    n >>= 8n;
  }
  if (raw.length < 19) return null;
  const body = raw.subarray(0, raw.length - 2);
  let a = 0;
  let b = 0;
  for (const byte of body) {
    a = (a + byte) % 255;
    b = (b + a) % 255;
  }
  if (raw[raw.length - 2] !== b || raw[raw.length - 1] !== a) return null;
  let table = 0;
  let shift = 0;
  for (const byte of body.subarray(0, body.length - 16)) {
    table += (byte & 0x7f) * 2 ** shift;
    shift += 7;
    if (!(byte & 0x80)) return table;
  }
  return null;
}
