import { Transform, type TransformCallback } from 'node:stream';
import {
  BLOCK,
  decodeLongName,
  decodeMember,
  decodePax,
  type ExtensionKind,
  type Extensions,
  padding,
  readRawHeader,
  type TarHeader,
} from './tar-header.js';

/** Receives a kept regular file's data, padding excluded. */
export interface DataSink {
  update(chunk: Buffer): void;
  end(): void;
}

/** Decides, before GNU tar sees a member, whether it passes; a kept file may ask for its data. */
export type MemberHandler = (header: TarHeader) => { readonly keep: boolean; readonly data?: DataSink };

/** Extension records are small; a bigger one means a corrupt or hostile layer. */
const MAX_EXTENSION = 1024 * 1024;

type State =
  | { readonly at: 'header' }
  | {
      readonly at: 'extension';
      readonly block: Buffer;
      readonly kind: ExtensionKind;
      readonly size: number;
      remaining: number;
      readonly chunks: Buffer[];
    }
  | {
      readonly at: 'data';
      dataLeft: number;
      padLeft: number;
      readonly keep: boolean;
      readonly sink?: DataSink;
    }
  | { readonly at: 'end' };

/**
 * Passes a layer tar through byte for byte, member by member, minus the members the handler drops
 * (whiteouts, the root), ending with a clean end marker. Extension headers travel with their member. Only
 * one header and its extension records are held at a time: data flows through with backpressure.
 */
export function createLayerFilter(handler: MemberHandler): Transform {
  let state: State = { at: 'header' };
  let partial: Buffer | undefined;
  let pending: Buffer[] = [];
  let extensions: Extensions = {};
  let globalPax: Record<string, string> = {};

  const startData = (size: number, keep: boolean, sink: DataSink | undefined): void => {
    state = { at: 'data', dataLeft: size, padLeft: padding(size), keep, ...(sink && { sink }) };
    if (size === 0) endData();
  };

  const endData = (): void => {
    if (state.at === 'data') state.sink?.end();
    state = { at: 'header' };
  };

  const takeHeader = (block: Buffer, out: Buffer[]): void => {
    const raw = readRawHeader(block);
    if (raw.type === 'end') {
      state = { at: 'end' };
      return;
    }
    if (raw.type === 'extension') {
      if (raw.size > MAX_EXTENSION)
        throw new Error(`a tar extension header of ${raw.size} bytes is too large`);
      state = {
        at: 'extension',
        block: Buffer.from(block),
        kind: raw.kind,
        size: raw.size,
        remaining: raw.size + padding(raw.size),
        chunks: [],
      };
      if (raw.size === 0) endExtension(out);
      return;
    }
    const header = decodeMember(block, extensions, globalPax);
    const before = pending;
    pending = [];
    extensions = {};
    // Directories carry no data whatever their size field says (GNU tar and tar-stream agree).
    const size = header.kind === 'dir' ? 0 : header.size;
    if (header.kind !== 'file' && size !== 0) {
      throw new Error(
        `layer member ${JSON.stringify(header.name)} of type ${header.kind} claims ${size} bytes of data`,
      );
    }
    const decision = handler(header);
    if (decision.keep) out.push(...before, block);
    startData(size, decision.keep, decision.keep ? decision.data : undefined);
  };

  const endExtension = (out: Buffer[]): void => {
    if (state.at !== 'extension') return;
    const { kind, block, chunks, size } = state;
    const data = Buffer.concat(chunks).subarray(0, size);
    if (kind === 'pax') extensions.pax = { ...extensions.pax, ...decodePax(data) };
    else if (kind === 'gnu-long-name') extensions.longName = decodeLongName(data);
    else if (kind === 'gnu-long-link') extensions.longLink = decodeLongName(data);
    if (kind === 'pax-global') {
      globalPax = { ...globalPax, ...decodePax(data) };
      // Global records speak to GNU tar too, for every member after them.
      out.push(block, ...chunks);
    } else {
      pending.push(block, ...chunks);
    }
    state = { at: 'header' };
  };

  const consume = (chunk: Buffer, out: Buffer[]): void => {
    let offset = 0;
    while (offset < chunk.length && state.at !== 'end') {
      if (state.at === 'header') {
        const need = BLOCK - (partial?.length ?? 0);
        if (chunk.length - offset < need) {
          const rest = chunk.subarray(offset);
          partial = partial ? Buffer.concat([partial, rest]) : Buffer.from(rest);
          return;
        }
        const block = partial
          ? Buffer.concat([partial, chunk.subarray(offset, offset + need)])
          : chunk.subarray(offset, offset + need);
        partial = undefined;
        offset += need;
        takeHeader(block, out);
        continue;
      }
      if (state.at === 'extension') {
        const take = Math.min(state.remaining, chunk.length - offset);
        state.chunks.push(Buffer.from(chunk.subarray(offset, offset + take)));
        offset += take;
        state.remaining -= take;
        if (state.remaining === 0) endExtension(out);
        continue;
      }
      const take = Math.min(state.dataLeft + state.padLeft, chunk.length - offset);
      const piece = chunk.subarray(offset, offset + take);
      offset += take;
      if (state.keep) out.push(piece);
      const dataTaken = Math.min(take, state.dataLeft);
      if (dataTaken > 0) state.sink?.update(piece.subarray(0, dataTaken));
      state.dataLeft -= dataTaken;
      state.padLeft -= take - dataTaken;
      if (state.dataLeft === 0 && state.padLeft === 0) endData();
    }
  };

  return new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      const out: Buffer[] = [];
      try {
        consume(chunk, out);
      } catch (error) {
        callback(error as Error);
        return;
      }
      for (const piece of out) this.push(piece);
      callback();
    },
    flush(callback: TransformCallback) {
      if (state.at !== 'end' && (state.at !== 'header' || partial !== undefined)) {
        callback(new Error('the layer tar ends in the middle of a member'));
        return;
      }
      this.push(Buffer.alloc(2 * BLOCK));
      callback();
    },
  });
}
