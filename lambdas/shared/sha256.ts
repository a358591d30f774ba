/**
 * SHA-256 and HMAC-SHA-256 from Node's crypto, with the interface of `@aws-crypto/sha256-js`'s
 * `Sha256` (the AWS SDK's `Checksum`: `update`, `digest`, `reset`; HMAC when built with a secret).
 * The bundles put it in place of that package (core/bundling.ts, esbuild `alias`): MSK IAM's token
 * signer (aws-msk-iam-sasl-signer-js) hands it to SigV4, and the package's pure-JavaScript hash and its
 * tslib copy were 4 KB of every gzipped bundle. test/unit/sha256.test.ts checks both give the same
 * digests and the same MSK IAM token. `npm run verify` signs its API requests with it too
 * (scripts/verify.ts).
 */
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';

type SourceData = string | ArrayBuffer | ArrayBufferView;

/** The bytes of `data`, strings as UTF-8 (as @aws-crypto/util's convertToBuffer). */
function bytes(data: SourceData): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}

const isEmpty = (data: SourceData) => (typeof data === 'string' ? data.length === 0 : data.byteLength === 0);

export class Sha256 {
  readonly #secret: SourceData | undefined;
  #hash!: Hash | Hmac;

  constructor(secret?: SourceData) {
    this.#secret = secret;
    this.reset();
  }

  update(data: SourceData): void {
    if (isEmpty(data)) return;
    this.#hash.update(bytes(data));
  }

  digestSync(): Uint8Array {
    return new Uint8Array(this.#hash.digest());
  }

  async digest(): Promise<Uint8Array> {
    return this.digestSync();
  }

  reset(): void {
    // @aws-crypto/sha256-js keys an HMAC only with a secret that is not empty.
    this.#hash =
      this.#secret !== undefined && !isEmpty(this.#secret)
        ? createHmac('sha256', bytes(this.#secret))
        : createHash('sha256');
  }
}
