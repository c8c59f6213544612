import { UsageError } from '../errors.js';
import { checkMethod, checkPull, checkTlsVerify } from '../options.js';
import type { LoadTargetOptions } from './load-target.js';

/** The flags report and diff share for image targets (--pull, --platform, --base, --method, --tls-verify), checked. */
export function imageTargetOptions(
  values: {
    pull?: string | undefined;
    platform?: string | undefined;
    base?: string | undefined;
    method?: string | undefined;
    'tls-verify'?: string | undefined;
  },
  context: Pick<LoadTargetOptions, 'signal' | 'log' | 'onProgress'>,
): LoadTargetOptions {
  return {
    pull: checkPull(values.pull),
    platform: values.platform,
    base: values.base,
    method: checkMethod(values.method),
    tlsVerify: checkTlsVerify(
      values['tls-verify'] === 'true'
        ? true
        : values['tls-verify'] === 'false'
          ? false
          : values['tls-verify'],
    ),
    ...context,
  };
}

/** A whole number flag such as --depth or --top, at least `min`. */
export function countOption(name: string, value: string | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) < min) {
    throw new UsageError(
      `Invalid --${name} ${JSON.stringify(value)}: expected a whole number of at least ${min}.`,
    );
  }
  return Number(value);
}
