/** Machine-readable error codes; the CLI maps them to exit codes. */
export type ErrorCode =
  | 'USAGE'
  | 'INVALID_REFERENCE'
  | 'ENGINE_UNREACHABLE'
  | 'IMAGE_NOT_FOUND'
  | 'PULL_FAILED'
  | 'BASE_WITHOUT_SHELL'
  | 'BUILD_FAILED'
  | 'CONTAINER_FAILED'
  | 'OUTPUT_EXISTS'
  | 'OUTPUT_NOT_WRITABLE'
  | 'DISK_FULL'
  | 'EXTRACT_FAILED'
  | 'INTERRUPTED';

/** Every error the library throws on purpose. `message` is one line that says what went wrong and what to do. */
export class DistrolessContentsError extends Error {
  override name = 'DistrolessContentsError';
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** Bad input from the caller: caught before anything touches Docker or the disk (exit code 2). */
export class UsageError extends DistrolessContentsError {
  override name = 'UsageError';

  constructor(message: string, options?: { cause?: unknown; code?: 'USAGE' | 'INVALID_REFERENCE' }) {
    super(options?.code ?? 'USAGE', message, options);
  }
}

/** The engine refused or failed: unreachable, missing image, failed pull or build. */
export class DockerError extends DistrolessContentsError {
  override name = 'DockerError';
}

/** The output folder could not be written. */
export class OutputError extends DistrolessContentsError {
  override name = 'OutputError';
}

/** The run was stopped by a signal or an AbortSignal; everything it created has been removed. */
export class InterruptedError extends DistrolessContentsError {
  override name = 'InterruptedError';
  readonly signal: string;

  constructor(signal: string, options?: { cause?: unknown }) {
    super('INTERRUPTED', `Interrupted by ${signal}; removed what the run had created.`, options);
    this.signal = signal;
  }
}
