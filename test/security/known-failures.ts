import type { Method } from './guarded-run.js';

export interface KnownFailure {
  readonly reason: string;
  /** It writes outside the output, not only gets the dump wrong. */
  readonly escapes?: boolean;
}

/**
 * Hostile cases a method gets wrong today, by case name, with where the fix belongs. Their tests run and are
 * expected to fail; the day one passes, vitest reports it, and its line goes.
 */
export const KNOWN_FAILURES: Partial<Readonly<Record<Method, Readonly<Record<string, KnownFailure>>>>> = {};
