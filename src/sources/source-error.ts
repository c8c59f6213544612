import { DistrolessContentsError } from '../errors.js';

/** An image file or folder that cannot be read as the image it claims to be; the message names the file. */
export class SourceError extends DistrolessContentsError {
  override name = 'SourceError';

  constructor(message: string, options?: { cause?: unknown }) {
    super('EXTRACT_FAILED', message, options);
  }
}
