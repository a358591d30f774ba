/** The shape of bench/results/<timestamp>.json. */
import type { AnalyticsBenchResult } from '../suites/analytics';
import type { ColdStartResult } from '../suites/cold-start';
import type { ConsumerPathResult, ScalingResult } from '../suites/consumer';
import type { CpuPerRecordResult } from '../suites/cpu';
import type { EndToEndResult } from '../suites/e2e';
import type { HttpPathResult } from '../suites/http';
import type { MicroResult } from '../suites/micro';
import type { ProducerPathResult } from '../suites/producer';
import type { Machine } from './machine';

export const SUITES = [
  'micro',
  'cpu',
  'cold-start',
  'producer',
  'http',
  'consumer',
  'scaling',
  'e2e',
  'analytics',
] as const;
export type SuiteName = (typeof SUITES)[number];

export interface SuiteError {
  readonly error: string;
}

export interface BenchResults {
  readonly date: string;
  readonly smoke: boolean;
  readonly suites: readonly SuiteName[];
  durationSeconds: number;
  readonly machine: Machine;
  micro?: MicroResult | SuiteError;
  cpu?: CpuPerRecordResult | SuiteError;
  'cold-start'?: ColdStartResult | SuiteError;
  producer?: ProducerPathResult | SuiteError;
  http?: HttpPathResult | SuiteError;
  consumer?: ConsumerPathResult | SuiteError;
  scaling?: ScalingResult | SuiteError;
  e2e?: EndToEndResult | SuiteError;
  analytics?: AnalyticsBenchResult | SuiteError;
}

/** The suite's result, or undefined if it did not run or failed. */
export function ok<T>(value: T | SuiteError | undefined): T | undefined {
  return value === undefined || (typeof value === 'object' && value !== null && 'error' in value)
    ? undefined
    : (value as T);
}
