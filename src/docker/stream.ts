import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** One JSON message of a pull or build stream. */
export interface StreamEvent {
  readonly stream?: string;
  readonly status?: string;
  /** A pull's layer, with its download counters. */
  readonly id?: string;
  readonly progressDetail?: { readonly current?: number; readonly total?: number };
  readonly error?: string;
  readonly errorDetail?: { readonly message?: string };
  readonly aux?: { readonly ID?: string };
}

/** An `error` event inside a stream that the engine answered with HTTP 200. */
export class StreamEventError extends Error {
  override name = 'StreamEventError';
}

/**
 * Reads a pull or build stream to its end and fails with the first error event: the engine reports a failed
 * build or pull as HTTP 200 with an `error` message, which `modem.followProgress` would pass over.
 */
export async function followStream(
  stream: Readable,
  signal?: AbortSignal,
  onEvent?: (event: StreamEvent) => void,
): Promise<void> {
  let failure: string | undefined;
  const handle = (line: string) => {
    if (!line.trim()) return;
    const event = parseEvent(line);
    const message = event.errorDetail?.message ?? event.error;
    if (message !== undefined) failure ??= message.trim();
    onEvent?.(event);
  };
  stream.setEncoding('utf8');
  await pipeline(
    stream,
    async (source: AsyncIterable<string>) => {
      let rest = '';
      for await (const chunk of source) {
        rest += chunk;
        for (let end = rest.indexOf('\n'); end >= 0; end = rest.indexOf('\n')) {
          handle(rest.slice(0, end));
          rest = rest.slice(end + 1);
        }
      }
      handle(rest);
    },
    ...(signal ? [{ signal }] : []),
  );
  if (failure !== undefined) throw new StreamEventError(failure);
}

function parseEvent(line: string): StreamEvent {
  try {
    return JSON.parse(line) as StreamEvent;
  } catch {
    return { stream: line };
  }
}
