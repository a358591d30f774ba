/** Cold-start attribution: what importing @middy/core alone costs. Not deployed. */
import * as m0 from '@middy/core';

export async function handler() {
  return { statusCode: 200, body: String(Object.keys(m0).length) };
}
