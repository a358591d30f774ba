/**
 * The one validator of every contract. The producer, the consumers, the local runtime and the tests
 * all call {@link validateEvent} / {@link validateContract}; nobody compiles schemas on their own. The
 * validators are compiled at build time (`npm run contracts`, Ajv standalone code in
 * `schemas/generated/validators.js`), so a cold start neither loads Ajv's compiler nor compiles a
 * schema, and this module loads none of the TypeBox schemas either (only their types).
 */
import { isEventType } from './catalogue';
import {
  type ContractError,
  type ContractValidator,
  contractNames,
  validators,
} from './generated/validators';
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

/**
 * The message Ajv 8 writes for an error (its `messages` option, in ajv/dist/vocabularies), from the
 * keyword and parameters: the generated validators carry no message strings (scripts/contracts.ts).
 * test/unit/validators-generated.test.ts checks every keyword the validators report against Ajv's own.
 */
export function ajvMessage(e: ContractError): string {
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required':
      return `must have required property '${p.missingProperty}'`;
    case 'type':
      return `must be ${p.type}`;
    case 'additionalProperties':
      return 'must NOT have additional properties';
    case 'const':
      return 'must be equal to constant';
    case 'enum':
      return 'must be equal to one of the allowed values';
    case 'pattern':
      return `must match pattern "${p.pattern}"`;
    case 'format':
      return `must match format "${p.format}"`;
    case 'maxLength':
    case 'minLength':
      return `must NOT have ${e.keyword === 'maxLength' ? 'more' : 'fewer'} than ${p.limit} characters`;
    case 'maxItems':
    case 'minItems':
      return `must NOT have ${e.keyword === 'maxItems' ? 'more' : 'fewer'} than ${p.limit} items`;
    case 'maxProperties':
    case 'minProperties':
      return `must NOT have ${e.keyword === 'maxProperties' ? 'more' : 'fewer'} than ${p.limit} properties`;
    case 'maximum':
    case 'minimum':
    case 'exclusiveMaximum':
    case 'exclusiveMinimum':
      return `must be ${p.comparison} ${p.limit}`;
    case 'multipleOf':
      return `must be multiple of ${p.multipleOf}`;
    case 'uniqueItems':
      return `must NOT have duplicate items (items ## ${p.j} and ${p.i} are identical)`;
    case 'anyOf':
      return 'must match a schema in anyOf';
    case 'oneOf':
      return 'must match exactly one schema in oneOf';
    default:
      return `must pass "${e.keyword}" keyword validation`;
  }
}

function toIssues(errors: readonly ContractError[] | null | undefined): ContractIssue[] {
  const issues = (errors ?? []).map((e) => ({
    path: e.keyword === 'required' ? `${e.instancePath}/${e.params.missingProperty}` : e.instancePath,
    message:
      e.keyword === 'additionalProperties'
        ? `must not have property "${e.params.additionalProperty}"`
        : e.keyword === 'const' || e.keyword === 'enum'
          ? `${ajvMessage(e)}: ${JSON.stringify(e.params.allowedValue ?? e.params.allowedValues)}`
          : ajvMessage(e),
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
  const fn = validatorFor(name);
  // Valid: no issue list to build (this runs for every event read and every event derived).
  if (fn(value)) return value;
  throw new ContractViolation(name, toIssues(fn.errors));
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
