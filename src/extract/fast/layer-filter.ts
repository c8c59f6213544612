import { Transform, type TransformCallback } from 'node:stream';
import { dataPadding, encodeMember } from '../../tar/member-header.js';
import { splitPath } from '../../tar/member-path.js';
import { paxTime } from '../../tar/pax-time.js';
import { type TarHeader, toMember } from '../../tar/tar-member.js';
import { type DataSink, TarParser } from '../../tar/tar-reader.js';

export type { DataSink };

/**
 * Decides, before GNU tar sees a member, whether it passes; a kept file may ask for its data. The header it
 * gets is the one GNU tar will get: name (and hardlink target) already canonical, frozen.
 */
export type MemberHandler = (header: TarHeader) => { readonly keep: boolean; readonly data?: DataSink };

/**
 * Reads a layer tar as the engine's reader (Go's archive/tar) splits it into members (src/tar), and writes for
 * GNU tar a new tar of the members the handler keeps: each with a header made from what the handler approved
 * (member-header.ts), then its data, then an end marker. Not one byte of the layer's own framing reaches GNU
 * tar, so it cannot read a member the handler never saw: several PAX headers, long-name records, cut name
 * fields, global headers and data that looks like headers mean only what they mean to the engine. One header
 * and its extension records are held at a time: data flows through with backpressure.
 */
export function createLayerFilter(handler: MemberHandler): Transform {
  let out: Buffer[] = [];
  /** Data chunks for the handlers' sinks, hashed once the chunk's output is on its way to GNU tar. */
  let sinkWork: (DataSink | Buffer | null)[] = [];
  const parser = new TarParser({
    entry(entry) {
      // Engines ignore global headers (Go returns them as entries of their own); GNU tar never sees one.
      if (entry.typeflag === 'g') return undefined;
      const header = canonical(toMember(entry));
      const decision = handler(header);
      if (!decision.keep) return undefined;
      out.push(...encodeMember(header));
      const sink = decision.data;
      return {
        update(chunk) {
          out.push(chunk);
          if (sink) sinkWork.push(sink, chunk);
        },
        end() {
          if (sink) sinkWork.push(sink, null);
          out.push(dataPadding(header.size));
        },
      };
    },
  });

  const drain = (stream: Transform): void => {
    pushCoalesced(stream, out);
    out = [];
    const work = sinkWork;
    sinkWork = [];
    for (let i = 0; i < work.length; i += 2) {
      const sink = work[i] as DataSink;
      const chunk = work[i + 1] as Buffer | null;
      if (chunk) sink.update(chunk);
      else sink.end();
    }
  };

  return new Transform({
    // Output is pushed in few, large pieces: GNU tar's pipe takes one write per push.
    writableHighWaterMark: 256 * 1024,
    readableHighWaterMark: 256 * 1024,
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      try {
        if (!parser.ended) parser.write(chunk);
      } catch (error) {
        callback(error as Error);
        return;
      }
      drain(this);
      callback();
    },
    flush(callback: TransformCallback) {
      try {
        parser.end();
      } catch (error) {
        callback(error as Error);
        return;
      }
      out.push(Buffer.alloc(1024));
      drain(this);
      callback();
    },
  });
}

/** Pieces at least this long go out as they are (no copy); shorter runs are joined into one buffer. */
const COPY_LIMIT = 16 * 1024;

/**
 * Pushes `pieces` with few pushes and no copy of large data: headers, padding and small files between two
 * large pieces are joined (one write into GNU tar's pipe instead of one per piece).
 */
function pushCoalesced(stream: Transform, pieces: readonly Buffer[]): void {
  let run: Buffer[] = [];
  let runBytes = 0;
  const flushRun = () => {
    if (runBytes > 0) stream.push(run.length === 1 ? run[0] : Buffer.concat(run, runBytes));
    run = [];
    runBytes = 0;
  };
  for (const piece of pieces) {
    if (piece.length >= COPY_LIMIT) {
      flushRun();
      stream.push(piece);
    } else if (piece.length > 0) {
      run.push(piece);
      runBytes += piece.length;
    }
  }
  flushRun();
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
