/**
 * Tests must run on the Node.js major that Lambda runs (nodejs24.x). npm scripts find the Node 24
 * binary installed by the `node-linux-*` optional dependency first on PATH; this check catches a
 * run that bypassed it (for example `npx vitest` from a shell with another Node).
 */
export const LAMBDA_NODE_MAJOR = 24;

export default function checkNodeVersion(): void {
  const major = Number(process.versions.node.split('.')[0]);
  if (major !== LAMBDA_NODE_MAJOR) {
    throw new Error(
      `Tests run on Node ${process.versions.node}, but Lambda runs nodejs${LAMBDA_NODE_MAJOR}.x. ` +
        `Run them through npm (npm test), which puts node_modules/.bin/node (Node ${LAMBDA_NODE_MAJOR}) first on PATH, ` +
        `or install Node ${LAMBDA_NODE_MAJOR} (see .nvmrc).`,
    );
  }
}
