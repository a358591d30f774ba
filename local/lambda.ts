/**
 * Invoking a handler the way Lambda does: a context with the request id, the function's names and
 * `getRemainingTimeInMillis` counting down the configured timeout, and a timeout that fails the
 * invocation when the handler overruns it (the handler's promise is abandoned, as Lambda abandons a
 * timed-out invocation; https://docs.aws.amazon.com/lambda/latest/dg/nodejs-context.html).
 */
import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';

/** A Lambda handler in the async style our functions use. */
export type AsyncHandler<E = unknown, R = unknown> = (event: E, context: Context) => Promise<R>;

export interface FunctionSettings {
  readonly name: string;
  readonly timeoutSeconds: number;
  readonly memoryMb: number;
}

/** The invocation ran past its timeout. */
class InvocationTimeout extends Error {
  override readonly name = 'InvocationTimeout';
}

/** ARN-shaped identifiers for local functions and the local cluster. */
export const LOCAL_ACCOUNT = '000000000000';
export const LOCAL_REGION = 'local';
export const localFunctionArn = (name: string) =>
  `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:${name}`;

export function lambdaContext(fn: FunctionSettings, deadline: number, awsRequestId = randomUUID()): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: fn.name,
    functionVersion: '$LATEST',
    invokedFunctionArn: localFunctionArn(fn.name),
    memoryLimitInMB: String(fn.memoryMb),
    awsRequestId,
    logGroupName: `/aws/lambda/${fn.name}`,
    logStreamName: `local/${awsRequestId}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

export interface InvocationResult<R> {
  readonly ok: boolean;
  readonly value?: R;
  readonly error?: Error;
  readonly durationMs: number;
  readonly requestId: string;
}

/** Invokes `handler` with `event`; never throws: errors and timeouts come back as `ok: false`. */
export async function invoke<E, R>(
  fn: FunctionSettings,
  handler: AsyncHandler<E, R>,
  event: E,
): Promise<InvocationResult<R>> {
  const started = Date.now();
  const deadline = started + fn.timeoutSeconds * 1000;
  const context = lambdaContext(fn, deadline);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new InvocationTimeout(
            `${fn.name} timed out after ${fn.timeoutSeconds} s (request ${context.awsRequestId})`,
          ),
        ),
      fn.timeoutSeconds * 1000,
    );
  });
  try {
    const value = await Promise.race([handler(event, context), timeout]);
    return { ok: true, value, durationMs: Date.now() - started, requestId: context.awsRequestId };
  } catch (error) {
    const e = error instanceof Error ? error : new Error(String(error));
    return { ok: false, error: e, durationMs: Date.now() - started, requestId: context.awsRequestId };
  } finally {
    clearTimeout(timer);
  }
}
