import { describe, expect, it } from 'vitest';
import { whiteoutOf } from '../../../src/extract/fast/whiteout.js';

describe('whiteoutOf', () => {
  it('reads the opaque marker, a whiteout, an engine-reserved name and an ordinary name apart', () => {
    expect(whiteoutOf('.wh..wh..opq')).toEqual({ kind: 'opaque' });
    expect(whiteoutOf('.wh.passwd')).toEqual({ kind: 'hides', name: 'passwd' });
    // A whiteout of a name that itself starts with a dot keeps that dot.
    expect(whiteoutOf('.wh..bashrc')).toEqual({ kind: 'hides', name: '.bashrc' });
    expect(whiteoutOf('.wh..wh.plnk')).toEqual({ kind: 'reserved' });
    expect(whiteoutOf('.wh..wh..opq.bak')).toEqual({ kind: 'reserved' });
    expect(whiteoutOf('passwd.wh.')).toBeUndefined();
    expect(whiteoutOf('.wh')).toBeUndefined();
  });
});
