import { TarFormatError } from './tar-error.js';

/** Keys whose value may not hold a NUL (Go's validPAXRecord); for the others, the key may not. */
const NAMED = new Set(['path', 'linkpath', 'uname', 'gname']);
const SPARSE_OFFSET = 'GNU.sparse.offset';
const SPARSE_NUMBYTES = 'GNU.sparse.numbytes';

/**
 * PAX records (`LEN KEY=VALUE\n`) as Go's parsePAX reads them: raw bytes in latin1 strings, the last record of
 * a key wins, GNU sparse 0.0 offset/numbytes pairs gathered into `GNU.sparse.map`; a malformed record
 * refuses the whole header.
 */
export function parsePaxRecords(data: Buffer): Map<string, string> {
  const records = new Map<string, string>();
  const sparseMap: string[] = [];
  let rest = data.toString('latin1');
  while (rest.length > 0) {
    const space = rest.indexOf(' ');
    if (space < 0) throw malformed();
    const lengthText = rest.slice(0, space);
    const length = /^[+-]?[0-9]+$/.test(lengthText) ? Number(lengthText) : Number.NaN;
    if (!(length >= 5 && length <= rest.length)) throw malformed();
    const n = length - (lengthText.length + 1);
    if (n <= 0) throw malformed();
    const body = rest.slice(space + 1);
    if (body[n - 1] !== '\n') throw malformed();
    const record = body.slice(0, n - 1);
    rest = body.slice(n);
    const equals = record.indexOf('=');
    if (equals < 0) throw malformed();
    const key = record.slice(0, equals);
    const value = record.slice(equals + 1);
    if (key === '' || (NAMED.has(key) ? value : key).includes('\0')) throw malformed();
    if (key === SPARSE_OFFSET || key === SPARSE_NUMBYTES) {
      const expected = sparseMap.length % 2 === 0 ? SPARSE_OFFSET : SPARSE_NUMBYTES;
      if (key !== expected || value.includes(',')) throw malformed();
      sparseMap.push(value);
    } else records.set(key, value);
  }
  if (sparseMap.length > 0) records.set('GNU.sparse.map', sparseMap.join(','));
  return records;
}

function malformed(): TarFormatError {
  return new TarFormatError('a PAX header holds a malformed record');
}
