/**
 * Loads Powertools Tracer on demand, through its CommonJS build. lambdas/shared/observability.ts calls
 * this only when tracing is on.
 *
 * Why CommonJS: in an ESM bundle, esbuild hoists the static imports of every bundled ES module to the
 * top of the bundle, lazily evaluated or not. The Tracer's ES build imports `node:http`
 * (provider/ProviderService.js), and importing `node:http` from ESM builds its module namespace, which
 * loads Node's bundled undici: about 40 ms of every cold start, tracing on or off. Its CommonJS build
 * `require`s `node:http` inside a function esbuild evaluates only when this one runs.
 */
'use strict';

/*
 * A build with the `tracer` setting off defines `__TRACER_BUNDLED__` as `false` (core/bundling.ts):
 * esbuild then drops the branch below, and with it the Tracer, the X-Ray SDK and semver. Unbundled
 * (tsx, vitest) the global is absent and the Tracer loads as before.
 */
module.exports = function loadTracer() {
  if (typeof __TRACER_BUNDLED__ === 'undefined' || __TRACER_BUNDLED__) {
    const { Tracer } = require('@aws-lambda-powertools/tracer');
    const { captureLambdaHandler } = require('@aws-lambda-powertools/tracer/middleware');
    return { Tracer, captureLambdaHandler };
  }
  throw new Error(
    'POWERTOOLS_TRACE_ENABLED is true but this function was built without Powertools Tracer: ' +
      'turn the tracer setting on and deploy again, so that the build includes it',
  );
};
