/** Cold-start attribution: importing the Powertools Logger and Metrics alone. Not deployed. */
import * as m0 from '@aws-lambda-powertools/logger';
import * as m1 from '@aws-lambda-powertools/metrics';

export async function handler() {
  return { statusCode: 200, body: String(Object.keys(m0).length + Object.keys(m1).length) };
}
