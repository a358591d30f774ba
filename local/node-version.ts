/**
 * Everything that runs our code locally (tests, `npm start`, benchmarks) runs on the Node.js major
 * that Lambda runs (nodejs24.x). npm scripts find the Node 24 binary of the `node-linux-*` optional
 * dependency first on PATH (node_modules/.bin/node); this check catches a run that bypassed it.
 */
const LAMBDA_NODE_MAJOR = 24;

export function assertLambdaNodeMajor(): void {
  const major = Number(process.versions.node.split('.')[0]);
  if (major !== LAMBDA_NODE_MAJOR) {
    throw new Error(
      `Running on Node ${process.versions.node}, but Lambda runs nodejs${LAMBDA_NODE_MAJOR}.x. ` +
        `Use the npm scripts (npm start, npm test), which put node_modules/.bin/node (Node ${LAMBDA_NODE_MAJOR}) first on PATH, ` +
        `or install Node ${LAMBDA_NODE_MAJOR} yourself (see .nvmrc) on a platform without a node-<os>-<arch> package.`,
    );
  }
}
