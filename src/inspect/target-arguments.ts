import { UsageError } from '../errors.js';
import { type LoadTargetOptions, withTarget } from './load-target.js';
import type { Target } from './target.js';

/** What the library's report and diff functions take for each target: a loaded one, or what the CLI takes. */
export type TargetArgument = Target | string;

/** How string targets are loaded; `manifest` is left out since it names one folder's manifest. */
export type TargetArgumentOptions = Omit<LoadTargetOptions, 'manifest'>;

/**
 * Loads every string target (an image reference, a dump folder or a manifest file) and checks that the
 * others are loaded targets, then hands them all to `use`; temporary dumps of images last as long as it.
 */
export async function withTargetArguments<T>(
  values: readonly TargetArgument[],
  options: TargetArgumentOptions,
  use: (targets: Target[]) => Promise<T>,
): Promise<T> {
  const load = async (index: number, loaded: Target[]): Promise<T> => {
    if (index === values.length) return use(loaded);
    const value = values[index];
    if (typeof value === 'string') {
      return withTarget(value, options, (target) => load(index + 1, [...loaded, target]));
    }
    if (!isTarget(value)) {
      throw new UsageError(
        `Target ${index + 1} is ${describe(value)}: give an image reference, a dump folder or a manifest path (a string), or a target from withTarget().`,
      );
    }
    return load(index + 1, [...loaded, value]);
  };
  return load(0, []);
}

function isTarget(value: unknown): value is Target {
  return (
    typeof value === 'object' &&
    value !== null &&
    Array.isArray((value as Target).entries) &&
    Array.isArray((value as Target).notes) &&
    typeof (value as Target).kind === 'string'
  );
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object that is not a target' : `of type ${typeof value}`;
}
