/** Cold-start attribution: what importing kafkajs alone costs. Not deployed. */
import * as m0 from 'kafkajs';

export async function handler() {
  return { statusCode: 200, body: String(Object.keys(m0).length) };
}
