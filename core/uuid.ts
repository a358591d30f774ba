/** Name-based UUIDs (RFC 4122 version 5): the same namespace and name give the same id everywhere. */

/** Two lowercase hex digits of every byte value. */
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** Formats 16 bytes as a canonical lowercase UUID. */
export function formatUuid(bytes: Uint8Array): string {
  const h = HEX as readonly string[];
  const b = bytes as unknown as readonly number[];
  return (
    (h[b[0] as number] as string) +
    h[b[1] as number] +
    h[b[2] as number] +
    h[b[3] as number] +
    '-' +
    h[b[4] as number] +
    h[b[5] as number] +
    '-' +
    h[b[6] as number] +
    h[b[7] as number] +
    '-' +
    h[b[8] as number] +
    h[b[9] as number] +
    '-' +
    h[b[10] as number] +
    h[b[11] as number] +
    h[b[12] as number] +
    h[b[13] as number] +
    h[b[14] as number] +
    h[b[15] as number]
  );
}

/** Namespace UUIDs as bytes, parsed once (a handful are used, on every derived event). */
const namespaces = new Map<string, Uint8Array>();

/** Message buffer of {@link sha1Into}, grown as needed: namespace + name + padding. */
let message = new Uint8Array(256);
/** The 80-word message schedule of SHA-1, reused. */
const w = new Int32Array(80);
/** The digest of the last {@link sha1Into}. */
const digest = new Uint8Array(20);

const rotl = (x: number, n: number): number => (x << n) | (x >>> (32 - n));

/**
 * SHA-1 (FIPS 180-4, section 6.1) of `message[0..length)`, into {@link digest}. Pads `message` in
 * place. In plain JavaScript rather than node:crypto: a derived event's name is two 64-byte blocks,
 * and for input this small the call into OpenSSL (`crypto.hash`) cost several times the hashing
 * itself (13 % of the consumer logic's CPU in the `cpu` benchmark's profile). Checked against
 * node:crypto in test/unit/uuid.test.ts.
 */
function sha1Into(length: number): void {
  const m = message;
  const padded = (((length + 8) >>> 6) + 1) * 64;
  m[length] = 0x80;
  m.fill(0, length + 1, padded);
  // Length in bits, big-endian, in the last 8 bytes (names here are far below 2^29 bytes).
  const bits = length * 8;
  m[padded - 4] = bits >>> 24;
  m[padded - 3] = bits >>> 16;
  m[padded - 2] = bits >>> 8;
  m[padded - 1] = bits;
  let h0 = 0x67452301;
  let h1 = 0xefcdab89 | 0;
  let h2 = 0x98badcfe | 0;
  let h3 = 0x10325476;
  let h4 = 0xc3d2e1f0 | 0;
  for (let block = 0; block < padded; block += 64) {
    for (let t = 0, i = block; t < 16; t++, i += 4)
      w[t] =
        ((m[i] as number) << 24) |
        ((m[i + 1] as number) << 16) |
        ((m[i + 2] as number) << 8) |
        (m[i + 3] as number);
    for (let t = 16; t < 80; t++)
      w[t] = rotl(
        (w[t - 3] as number) ^ (w[t - 8] as number) ^ (w[t - 14] as number) ^ (w[t - 16] as number),
        1,
      );
    let a = h0;
    let b = h1;
    let c = h2;
    let d = h3;
    let e = h4;
    let t = 0;
    for (; t < 20; t++) {
      const temp = (rotl(a, 5) + ((b & c) | (~b & d)) + e + (w[t] as number) + 0x5a827999) | 0;
      e = d;
      d = c;
      c = rotl(b, 30);
      b = a;
      a = temp;
    }
    for (; t < 40; t++) {
      const temp = (rotl(a, 5) + (b ^ c ^ d) + e + (w[t] as number) + 0x6ed9eba1) | 0;
      e = d;
      d = c;
      c = rotl(b, 30);
      b = a;
      a = temp;
    }
    for (; t < 60; t++) {
      const temp = (rotl(a, 5) + ((b & c) | (b & d) | (c & d)) + e + (w[t] as number) - 0x70e44324) | 0;
      e = d;
      d = c;
      c = rotl(b, 30);
      b = a;
      a = temp;
    }
    for (; t < 80; t++) {
      const temp = (rotl(a, 5) + (b ^ c ^ d) + e + (w[t] as number) - 0x359d3e2a) | 0;
      e = d;
      d = c;
      c = rotl(b, 30);
      b = a;
      a = temp;
    }
    h0 = (h0 + a) | 0;
    h1 = (h1 + b) | 0;
    h2 = (h2 + c) | 0;
    h3 = (h3 + d) | 0;
    h4 = (h4 + e) | 0;
  }
  const hs = [h0, h1, h2, h3, h4];
  for (let i = 0; i < 5; i++) {
    const h = hs[i] as number;
    digest[i * 4] = h >>> 24;
    digest[i * 4 + 1] = h >>> 16;
    digest[i * 4 + 2] = h >>> 8;
    digest[i * 4 + 3] = h;
  }
}

const utf8 = new TextEncoder();

/** The version-5 UUID of `name` in `namespace` (a UUID string). */
export function uuidV5(namespace: string, name: string): string {
  let ns = namespaces.get(namespace);
  if (!ns) {
    ns = Uint8Array.from(Buffer.from(namespace.replaceAll('-', ''), 'hex'));
    if (ns.length !== 16) throw new Error(`uuidV5: namespace ${JSON.stringify(namespace)} is not a UUID`);
    namespaces.set(namespace, ns);
  }
  // Room for the namespace, the name's UTF-8 (at most 3 bytes a UTF-16 unit) and the padding.
  const room = 16 + name.length * 3 + 72;
  if (message.length < room) message = new Uint8Array(room * 2);
  message.set(ns, 0);
  let length = 16;
  for (let i = 0; i < name.length; i++) {
    const code = name.charCodeAt(i);
    if (code >= 0x80) {
      // Not ASCII: the encoder writes the rest (lone surrogates as U+FFFD, as Buffer.from does).
      length += utf8.encodeInto(name.slice(i), message.subarray(length)).written;
      break;
    }
    message[length++] = code;
  }
  sha1Into(length);
  digest[6] = ((digest[6] as number) & 0x0f) | 0x50;
  digest[8] = ((digest[8] as number) & 0x3f) | 0x80;
  return formatUuid(digest);
}
