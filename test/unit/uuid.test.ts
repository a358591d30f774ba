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
