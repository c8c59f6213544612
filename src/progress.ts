/** The steps of a run, in order; the fast method skips build and run. */
export type Step = 'resolve' | 'pull' | 'build' | 'run' | 'copy' | 'cleanup';

/** What {@link ExtractOptions.onProgress} receives. */
export type ProgressEvent =
  | { readonly kind: 'step'; readonly step: Step; readonly state: 'start'; readonly detail?: string }
  | { readonly kind: 'step'; readonly step: Step; readonly state: 'done'; readonly durationMs: number }
  /** A line of the build's own output. */
  | { readonly kind: 'output'; readonly step: Step; readonly line: string }
  /** Bytes and entries moved so far; `totalBytes` when known in advance (an estimate from the image size). */
  | {
      readonly kind: 'transfer';
      readonly step: Step;
      readonly bytes: number;
      readonly entries: number;
      readonly totalBytes?: number;
    };

export type ProgressListener = (event: ProgressEvent) => void;

/** Times one step, announcing its start and end. */
export async function step<T>(
  listener: ProgressListener | undefined,
  name: Step,
  work: () => Promise<T>,
  detail?: string,
): Promise<T> {
  const started = performance.now();
  listener?.({ kind: 'step', step: name, state: 'start', ...(detail !== undefined && { detail }) });
  const result = await work();
  listener?.({
    kind: 'step',
    step: name,
    state: 'done',
    durationMs: Math.round(performance.now() - started),
  });
  return result;
}
