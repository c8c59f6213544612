/** A tar stream that Go's archive/tar refuses (its ErrHeader and friends): the engine refuses it too. */
export class TarFormatError extends Error {
  constructor(reason: string) {
    super(`invalid tar stream: ${reason}`);
    this.name = 'TarFormatError';
  }
}
