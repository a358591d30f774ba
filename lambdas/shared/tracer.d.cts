import type { Tracer } from '@aws-lambda-powertools/tracer';
import type { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';

declare function loadTracer(): {
  Tracer: typeof Tracer;
  captureLambdaHandler: typeof captureLambdaHandler;
};
export = loadTracer;
