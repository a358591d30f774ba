/** Global setup: refuse to run the tests on another Node.js major than Lambda's. */
import { assertLambdaNodeMajor } from '../../local/node-version';

export default function checkNodeVersion(): void {
  assertLambdaNodeMajor();
}
