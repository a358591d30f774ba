/** Cold-start attribution: what importing @aws-lambda-powertools/tracer alone costs. Not deployed. */
import * as m0 from '@aws-lambda-powertools/tracer';

export async function handler() {
  return { statusCode: 200, body: String(Object.keys(m0).length) };
}
