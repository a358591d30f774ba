/**
 * Cold-start attribution: importing the contracts and their validator (TypeBox builds the schemas at
 * load, Ajv and ajv-formats), and compiling one contract at the first invocation, as the functions
 * do. Not deployed.
 */
import { checkContract } from '../../../schemas/validator';

export async function handler() {
  return { statusCode: 200, body: String(checkContract('user_registered', {}).length) };
}
