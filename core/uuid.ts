/** Name-based UUIDs (RFC 4122 version 5): the same namespace and name give the same id everywhere. */
import { hash as digest } from 'node:crypto';

/** Formats 16 bytes as a canonical lowercase UUID. */
export function formatUuid(bytes: Uint8Array): string {
  const h = Buffer.from(bytes.buffer, bytes.byteOffset, 16).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** Namespace UUIDs as bytes, parsed once (a handful are used, on every derived event). */
const namespaces = new Map<string, Buffer>();

/** The version-5 UUID of `name` in `namespace` (a UUID string). */
export function uuidV5(namespace: string, name: string): string {
  let ns = namespaces.get(namespace);
  if (!ns) {
    ns = Buffer.from(namespace.replaceAll('-', ''), 'hex');
    namespaces.set(namespace, ns);
  }
  // One-shot `crypto.hash` (release candidate in Node 24, https://nodejs.org/api/crypto.html#cryptohashalgorithm-data-options):
  // about a quarter cheaper than a `createHash` object for a hash this small, once per derived event.
  const data = Buffer.allocUnsafe(16 + Buffer.byteLength(name, 'utf8'));
  ns.copy(data, 0);
  data.write(name, 16, 'utf8');
  const hash = digest('sha1', data, 'buffer');
  hash[6] = ((hash[6] ?? 0) & 0x0f) | 0x50;
  hash[8] = ((hash[8] ?? 0) & 0x3f) | 0x80;
  return formatUuid(hash);
}
