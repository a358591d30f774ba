import { createHash, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { uuidV5 } from '../../core/uuid';

describe('uuidV5', () => {
  it('gives the RFC 4122 version-5 UUIDs other implementations give', () => {
    // Python's uuid.uuid5(uuid.NAMESPACE_DNS, 'python.org') (its documentation's example).
    expect(uuidV5('6ba7b810-9dad-11d1-80b4-00c04fd430c8', 'python.org')).toBe(
      '886313e1-3b8a-5372-9b90-0c9aee199e5d',
    );
    // A name with multi-byte UTF-8, in the URL namespace, as Python computes it.
    expect(uuidV5('6ba7b811-9dad-11d1-80b4-00c04fd430c8', 'https://example.com/é')).toBe(
      '20ecd233-a9e7-5067-a96f-fd6600ca3fda',
    );
  });
});

describe('uuidV5 against node:crypto', () => {
  /** The version-5 UUID computed with node:crypto's SHA-1, as RFC 4122 section 4.3 describes. */
  const reference = (namespace: string, name: string): string => {
    const digest = createHash('sha1')
      .update(Buffer.from(namespace.replaceAll('-', ''), 'hex'))
      .update(name, 'utf8')
      .digest();
    digest[6] = ((digest[6] as number) & 0x0f) | 0x50;
    digest[8] = ((digest[8] as number) & 0x3f) | 0x80;
    const h = digest.toString('hex', 0, 16);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  };
  const namespace = '3f0b9c52-8d4e-4a71-b6a2-5c9e0d7f1e43';

  it('agrees for every name length around the SHA-1 block boundaries, up to several blocks', () => {
    // 16 namespace bytes + the name: 55/56 and 119/120 bytes are where the padding needs a new block.
    for (let length = 0; length <= 600; length++) {
      const name = Array.from({ length }, (_, i) => String.fromCharCode(0x21 + ((i * 7) % 94))).join('');
      expect(uuidV5(namespace, name), `length ${length}`).toBe(reference(namespace, name));
    }
  });

  it('agrees for names with multi-byte UTF-8, astral characters and lone surrogates', () => {
    const samples = [
      'é',
      `${'a'.repeat(38)}é`,
      `${'a'.repeat(39)}€`,
      '😀/user-events/welcome_email_sent/0',
      `x${'\u{10FFFF}'.repeat(40)}`,
      '\uD800',
      'a\uDC00b',
      '\u0000\u007f\u0080\u07ff\u0800\uffff',
      `${'ü'.repeat(200)}/${'字'.repeat(100)}`,
    ];
    for (const name of samples)
      expect(uuidV5(namespace, name), JSON.stringify(name)).toBe(reference(namespace, name));
  });

  it('agrees on random names in other namespaces', () => {
    let seed = 1;
    const random = () => {
      seed = (Math.imul(seed, 48271) >>> 0) % 0x7fffffff;
      return seed / 0x7fffffff;
    };
    for (let k = 0; k < 2000; k++) {
      const ns = randomUUID();
      const name = Array.from({ length: Math.floor(random() * 200) }, () =>
        random() < 0.85
          ? String.fromCharCode(32 + Math.floor(random() * 95))
          : String.fromCharCode(Math.floor(random() * 0x10000)),
      ).join('');
      expect(uuidV5(ns, name)).toBe(reference(ns, name));
    }
  });

  it('rejects a namespace that is not a UUID', () => {
    expect(() => uuidV5('not-a-uuid', 'x')).toThrow(/namespace "not-a-uuid" is not a UUID/);
  });
});
