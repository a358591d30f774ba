/**
 * Tracing is opt-in: without POWERTOOLS_TRACE_ENABLED=true the functions get a middleware that does
 * nothing (and never import the X-Ray SDK); with it, Powertools Tracer's middleware wraps the handler,
 * results and errors passing through unchanged.
 */
import middy from '@middy/core';
import { afterEach, describe, expect, it } from 'vitest';
import { tracing } from '../../lambdas/shared/observability';

const saved = process.env.POWERTOOLS_TRACE_ENABLED;
afterEach(() => {
  if (saved === undefined) delete process.env.POWERTOOLS_TRACE_ENABLED;
  else process.env.POWERTOOLS_TRACE_ENABLED = saved;
});

const context = {
  functionName: 'producer',
  awsRequestId: 'req-1',
  getRemainingTimeInMillis: () => 10_000,
} as unknown as import('aws-lambda').Context;

describe('tracing middleware', () => {
  it.each([undefined, 'false', 'TRUE', '1'])(
    'does nothing when POWERTOOLS_TRACE_ENABLED is %s',
    async (value) => {
      if (value === undefined) delete process.env.POWERTOOLS_TRACE_ENABLED;
      else process.env.POWERTOOLS_TRACE_ENABLED = value;
      const middleware = tracing('svc');
      expect(Object.keys(middleware)).toEqual(['before']);
      // middy refuses a middleware without hooks: the disabled one must still be usable.
      const handler = middy(async (event: { n: number }) => event.n + 1).use(middleware);
      expect(await handler({ n: 1 }, context)).toBe(2);
    },
  );

  it('wraps the handler in Powertools Tracer when POWERTOOLS_TRACE_ENABLED=true', async () => {
    process.env.POWERTOOLS_TRACE_ENABLED = 'true';
    const middleware = tracing('svc');
    expect(Object.keys(middleware).sort()).toEqual(['after', 'before', 'onError']);
    const ok = middy(async (event: { n: number }) => ({ doubled: event.n * 2 })).use(middleware);
    expect(await ok({ n: 21 }, context)).toEqual({ doubled: 42 });
    const failing = middy(async () => {
      throw new Error('handler failed');
    }).use(tracing('svc'));
    await expect(failing({}, context)).rejects.toThrow('handler failed');
  });
});
