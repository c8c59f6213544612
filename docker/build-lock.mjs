import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const LOCK_DIR = join(tmpdir(), 'distroless-contents-test-images.lock');
// A holder that died between taking the lock and writing its pid leaves a lock without one.
const PIDLESS_STALE_MS = 60_000;

/** Runs `fn` while holding a machine-wide lock, so parallel test workers do not build the same images twice. */
export async function withBuildLock(fn, log) {
  let waited = false;
  for (;;) {
    try {
      await mkdir(LOCK_DIR);
      break;
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
    }
    if (await isStale()) {
      await rm(LOCK_DIR, { recursive: true, force: true });
      continue;
    }
    if (!waited) log(`test images: waiting for another build (lock ${LOCK_DIR})`);
    waited = true;
    await sleep(250);
  }
  let failed = false;
  try {
    await writeFile(join(LOCK_DIR, 'pid'), String(process.pid));
    return await fn();
  } catch (error) {
    failed = true;
    throw error;
  } finally {
    await rm(LOCK_DIR, { recursive: true, force: true }).catch((error) => {
      if (!failed) throw error;
    });
  }
}

async function isStale() {
  const pid = Number(await readFile(join(LOCK_DIR, 'pid'), 'utf8').catch(() => ''));
  if (pid > 0) return !isAlive(pid);
  const since = await stat(LOCK_DIR).then(
    (s) => Date.now() - s.mtimeMs,
    () => 0,
  );
  return since > PIDLESS_STALE_MS;
}

function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}
