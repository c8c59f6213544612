import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { DockerError, type ErrorCode } from '../errors.js';

/** One entry of `auths` in the docker CLI's config.json. */
export interface AuthEntry {
  /** base64 of `user:password`. */
  readonly auth?: string;
  readonly username?: string;
  readonly password?: string;
  readonly identitytoken?: string;
}

/** The parts of the docker CLI's config.json this tool reads. */
export interface CliConfig {
  readonly auths?: Readonly<Record<string, AuthEntry>>;
  readonly credsStore?: string;
  readonly credHelpers?: Readonly<Record<string, string>>;
  readonly currentContext?: string;
}

/** The docker CLI's configuration folder: DOCKER_CONFIG, else ~/.docker. */
export function cliConfigDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.DOCKER_CONFIG || join(homedir(), '.docker');
}

/**
 * Reads config.json as the docker CLI does: a missing file is an empty configuration, a broken one an error
 * (with `code`, since it stops whatever needed the file: reaching the engine or pulling).
 */
export function readCliConfig(env: NodeJS.ProcessEnv, code: ErrorCode): { path: string; config: CliConfig } {
  const path = join(cliConfigDir(env), 'config.json');
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { path, config: {} };
    throw configError(path, error, code);
  }
  try {
    const config: unknown = JSON.parse(text);
    if (typeof config !== 'object' || config === null || Array.isArray(config)) {
      throw new Error('not a JSON object');
    }
    return { path, config: config as CliConfig };
  } catch (error) {
    throw configError(path, error, code);
  }
}

function configError(path: string, error: unknown, code: ErrorCode): DockerError {
  const reason = error instanceof Error ? error.message : String(error);
  return new DockerError(
    code,
    `Cannot read the docker CLI configuration ${path} (${reason}); fix or remove it, or point DOCKER_CONFIG elsewhere.`,
    { cause: error },
  );
}
