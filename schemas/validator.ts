/**
 * The one validator of every contract. The producer, the consumers, the local runtime and the tests
 * all call {@link validateEvent} / {@link validateContract}; nobody compiles schemas on their own. The
 * validators are compiled at build time (`npm run contracts`, Ajv standalone code in
 * `schemas/generated/validators.js`), so a cold start neither loads Ajv's compiler nor compiles a
 * schema, and this module loads none of the TypeBox schemas either (only their types).
 */
import type { ErrorObject } from 'ajv';
import { isEventType } from './catalogue';
import { type ContractValidator, contractNames, validators } from './generated/validators';
import type { AnyEvent, ContractName, DeadLetter, EventOf, EventType } from './index';

/** One problem found in a value: where (JSON Pointer, `''` for the root) and what. */
export interface ContractIssue {
  readonly path: string;
  readonly message: string;
  /** The JSON Schema keyword that failed, e.g. `required`, `type`, `pattern`. */
  readonly keyword: string;
}

/** Most issues reported for one value; the rest are summarised in one last issue. */
export const MAX_ISSUES = 50;

/** A value does not satisfy its contract. Lists every problem (up to {@link MAX_ISSUES}). */
export class ContractViolation extends Error {
  override readonly name = 'ContractViolation';
  constructor(
    readonly contract: string,
    readonly issues: readonly ContractIssue[],
  ) {
    super(
      `${contract}: ${issues
        .slice(0, 3)
        .map((i) => `${i.path || '/'} ${i.message}`)
        .join('; ')}${issues.length > 3 ? `; and ${issues.length - 3} more` : ''}`,
    );
  }
}

function validatorFor(name: ContractName): ContractValidator {
  const fn = Object.hasOwn(validators, name) ? validators[name] : undefined;
  if (!fn) throw new Error(`no validator for contract ${JSON.stringify(name)} (npm run contracts)`);
  return fn;
}

function toIssues(errors: readonly ErrorObject[] | null | undefined): ContractIssue[] {
  const issues = (errors ?? []).map((e) => ({
    path: e.keyword === 'required' ? `${e.instancePath}/${e.params.missingProperty}` : e.instancePath,
    message:
      e.keyword === 'additionalProperties'
        ? `must not have property "${e.params.additionalProperty}"`
        : e.keyword === 'const' || e.keyword === 'enum'
          ? `${e.message}: ${JSON.stringify(e.params.allowedValue ?? e.params.allowedValues)}`
          : (e.message ?? 'is invalid'),
    keyword: e.keyword,
  }));
  if (issues.length > MAX_ISSUES) {
    const rest = issues.length - (MAX_ISSUES - 1);
    return [
      ...issues.slice(0, MAX_ISSUES - 1),
      { path: '', message: `${rest} more problems`, keyword: 'truncated' },
    ];
  }
  return issues;
}

/** Issues of `value` against contract `name`; empty when it is valid. */
export function checkContract(name: ContractName, value: unknown): ContractIssue[] {
  const fn = validatorFor(name);
  return fn(value) ? [] : toIssues(fn.errors);
}

/** Returns `value` typed as contract `name`, or throws a {@link ContractViolation}. */
export function validateContract<T extends EventType>(name: T, value: unknown): EventOf<T>;
export function validateContract(name: 'dead_letter', value: unknown): DeadLetter;
export function validateContract(name: ContractName, value: unknown): unknown {
  const issues = checkContract(name, value);
  if (issues.length > 0) throw new ContractViolation(name, issues);
  return value;
}

/**
 * Validates an event whose type is read from its own `eventType`. An absent or unknown event type is
 * a violation at `/eventType`.
 */
export function validateEvent(value: unknown): AnyEvent {
  const eventType =
    typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>).eventType
      : undefined;
  if (!isEventType(eventType)) {
    const message =
      typeof value !== 'object' || value === null || Array.isArray(value)
        ? 'must be an object'
        : eventType === undefined
          ? "must have required property 'eventType'"
          : `unknown event type ${JSON.stringify(eventType)}`;
    const path = typeof value === 'object' && value !== null && !Array.isArray(value) ? '/eventType' : '';
    throw new ContractViolation('event', [
      { path, message, keyword: eventType === undefined ? 'required' : 'enum' },
    ]);
  }
  return validateContract(eventType, value) as AnyEvent;
}

/**
 * Checks that every contract has its validator. The validators are compiled at build time; this stays
 * for the callers (benchmarks, processes that prefer failing at start-up) that used to compile here.
 */
export function compileAll(): void {
  for (const name of contractNames) validatorFor(name);
}
