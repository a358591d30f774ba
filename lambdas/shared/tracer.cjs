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

module.exports = function loadTracer() {
  const { Tracer } = require('@aws-lambda-powertools/tracer');
  const { captureLambdaHandler } = require('@aws-lambda-powertools/tracer/middleware');
  return { Tracer, captureLambdaHandler };
};
