import { Transform, type TransformCallback } from 'node:stream';
import { dataPadding, encodeMember } from './canonical-header.js';
import { splitPath } from './member-path.js';
import {
  BLOCK,
  decodeLongName,
  decodeMember,
  decodePax,
  type ExtensionKind,
  type Extensions,
  padding,
  paxTime,
  readRawHeader,
  type TarHeader,
} from './tar-header.js';
import { UnsupportedLayerError } from './unsupported-layer-error.js';

/** Receives a kept regular file's data, padding excluded. */
export interface DataSink {
  update(chunk: Buffer): void;
  end(): void;
}

/**
 * Decides, before GNU tar sees a member, whether it passes; a kept file may ask for its data. The header it
 * gets is the one GNU tar will get: name (and hardlink target) already canonical, frozen.
 */
export type MemberHandler = (header: TarHeader) => { readonly keep: boolean; readonly data?: DataSink };

/** Extension records are small (Go refuses more than 1 MiB); a bigger one means a corrupt or hostile layer. */
const MAX_EXTENSION = 1024 * 1024;

type State =
  | { readonly at: 'header' }
  /** A block of zeros was read: the next one must be zeros too (the end), or the stream end there. */
  | { readonly at: 'zero' }
  | {
      readonly at: 'extension';
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
      readonly size: number;
      readonly sink?: DataSink;
    }
  | { readonly at: 'end' };

/**
 * Reads a layer tar as the engine's reader (Go's archive/tar) splits it into members, and writes for GNU tar a
 * new tar of the members the handler keeps: each with a header made from what the handler approved
 * (canonical-header.ts), then its data, then an end marker. Not one byte of the layer's own framing reaches
 * GNU tar, so it cannot read a member the handler never saw: several PAX headers, long-name records, cut
 * name fields and data that looks like headers mean only what they mean to the engine. Global PAX headers,
 * whose effect the engine does not share with GNU tar, are refused. One header and its extension records are
 * held at a time: data flows through with backpressure.
 */
export function createLayerFilter(handler: MemberHandler): Transform {
  let state: State = { at: 'header' };
  let partial: Buffer | undefined;
  let extensions: Extensions = {};

  const startData = (size: number, keep: boolean, sink: DataSink | undefined, out: Buffer[]): void => {
    state = { at: 'data', dataLeft: size, padLeft: padding(size), keep, size, ...(sink && { sink }) };
    if (size === 0) endData(out);
  };

  const endData = (out: Buffer[]): void => {
    if (state.at !== 'data') return;
    state.sink?.end();
    if (state.keep) out.push(dataPadding(state.size));
    state = { at: 'header' };
  };

  const takeHeader = (block: Buffer, out: Buffer[]): void => {
    if (state.at === 'zero') {
      if (readRawHeader(block).type !== 'zero') throw new Error('the layer tar has a lone block of zeros');
      state = { at: 'end' };
      return;
    }
    const raw = readRawHeader(block);
    if (raw.type === 'zero') {
      state = { at: 'zero' };
      return;
    }
    if (raw.type === 'extension') {
      if (raw.kind === 'pax-global') {
        throw new UnsupportedLayerError(
          'layer holds a PAX global header, which GNU tar would apply and the engine ignores',
        );
      }
      if (raw.size > MAX_EXTENSION)
        throw new Error(`a tar extension header of ${raw.size} bytes is too large`);
      state = {
        at: 'extension',
        kind: raw.kind,
        size: raw.size,
        remaining: raw.size + padding(raw.size),
        chunks: [],
      };
      if (raw.size === 0) endExtension();
      return;
    }
    const header = canonical(decodeMember(block, extensions));
    extensions = {};
    const decision = handler(header);
    if (decision.keep) out.push(...encodeMember(header));
    startData(header.size, decision.keep, decision.keep ? decision.data : undefined, out);
  };

  // Each kind's last record counts, the earlier ones are gone: Go's reader (GNU tar's too) keeps only those.
  const endExtension = (): void => {
    if (state.at !== 'extension') return;
    const data = Buffer.concat(state.chunks).subarray(0, state.size);
    if (state.kind === 'pax') extensions.pax = decodePax(data);
    else if (state.kind === 'gnu-long-name') extensions.longName = decodeLongName(data);
    else if (state.kind === 'gnu-long-link') extensions.longLink = decodeLongName(data);
    state = { at: 'header' };
  };

  const consume = (chunk: Buffer, out: Buffer[]): void => {
    let offset = 0;
    while (offset < chunk.length && state.at !== 'end') {
      if (state.at === 'header' || state.at === 'zero') {
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
        if (state.remaining === 0) endExtension();
        continue;
      }
      const take = Math.min(state.dataLeft + state.padLeft, chunk.length - offset);
      const dataTaken = Math.min(take, state.dataLeft);
      if (dataTaken > 0) {
        const data = chunk.subarray(offset, offset + dataTaken);
        if (state.keep) out.push(data);
        state.sink?.update(data);
      }
      offset += take;
      state.dataLeft -= dataTaken;
      state.padLeft -= take - dataTaken;
      if (state.dataLeft === 0 && state.padLeft === 0) endData(out);
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
      for (const piece of out) if (piece.length > 0) this.push(piece);
      callback();
    },
    flush(callback: TransformCallback) {
      // Go ends a tar cleanly where a header would start, whole end marker or not.
      const clean = state.at === 'end' || state.at === 'zero' || (state.at === 'header' && !partial);
      if (!clean) {
        callback(new Error('the layer tar ends in the middle of a member'));
        return;
      }
      this.push(Buffer.alloc(2 * BLOCK));
      callback();
    },
  });
}

/** Go's latest time, where the engine stops trusting a layer's times (moby's system.Chtimes). */
const ENGINE_MAX_SECONDS = 2 ** 63 / 1e9;

/**
 * A time before 1970 or past 2262 becomes the epoch, on all but symlinks. Differs from umoci, which sets any
 * time: every engine's applier (moby's Chtimes, containerd's boundTime) does this, and the spec is silent.
 */
function engineBoundsTime(kind: TarHeader['kind'], seconds: number): boolean {
  return kind !== 'symlink' && (seconds < 0 || seconds > ENGINE_MAX_SECONDS);
}

/**
 * The member as GNU tar is to write it, and as the engine applied it: the name, and a hardlink's target, as
 * the components the engine resolves below the layer's root (no leading `/`, no `.` or empty components; `..`
 * refused); a time before 1970 or past 2262 set to the epoch, as the engine sets it on all but symlinks.
 */
function canonical(header: TarHeader): TarHeader {
  const name = splitPath(header.name).join('/');
  const linkname = header.kind === 'hardlink' ? splitPath(header.linkname).join('/') : header.linkname;
  const { mtime: paxMtime, ...pax } = header.pax;
  const exact = paxMtime === undefined ? header.mtime : paxTime(paxMtime);
  if (engineBoundsTime(header.kind, exact)) {
    return Object.freeze({ ...header, name, linkname, mtime: 0, pax: Object.freeze(pax) });
  }
  return Object.freeze({ ...header, name, linkname, pax: Object.freeze({ ...header.pax }) });
}
