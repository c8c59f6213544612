import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { createEngineBridge, type EngineBridge } from './engine-bridge.js';
import { freeLoopbackPort, waitFor } from './free-port.js';
import { makeTestCertificates } from './test-certificates.js';

/** A second Docker engine on tcp://127.0.0.1 with mutual TLS, beside the main one and not disturbing it. */
export interface TlsEngine {
  /** `tcp://127.0.0.1:<port>`. */
  readonly host: string;
  /** ca.pem, cert.pem, key.pem of a client the engine trusts. */
  readonly clientCerts: string;
  /** The environment the docker CLI (and this tool) reach it with. */
  readonly env: Record<string, string>;
  readonly logFile: string;
  stop(): Promise<void>;
}

export async function startTlsEngine(): Promise<TlsEngine> {
  // Short: containerd's socket lives under the exec root, and unix socket paths are limited to 108 bytes.
  const dir = await mkdtemp(join(tmpdir(), 'dc-tls-'));
  const logFile = join(dir, 'dockerd.log');
  const pidFile = join(dir, 'dockerd.pid');
  let daemon: ResultPromise | undefined;
  let bridge: EngineBridge | undefined;
  const stop = async () => {
    daemon?.kill('SIGTERM');
    await daemon?.catch(() => {});
    // dockerd unmounts its overlays on a clean stop; what it leaves is plain files.
    await rm(dir, { recursive: true, force: true });
    await bridge?.remove();
  };
  try {
    bridge = await createEngineBridge();
    const certs = await makeTestCertificates(join(dir, 'certs'));
    await mkdir(join(dir, 'data'));
    await writeFile(join(dir, 'daemon.json'), '{}\n');
    const port = await freeLoopbackPort();
    const host = `tcp://127.0.0.1:${port}`;
    daemon = execa(
      'dockerd',
      [
        '--config-file',
        join(dir, 'daemon.json'),
        '--data-root',
        join(dir, 'data'),
        '--exec-root',
        join(dir, 'exec'),
        '--pidfile',
        pidFile,
        '--host',
        host,
        '--tlsverify',
        '--tlscacert',
        join(certs.server, 'ca.pem'),
        '--tlscert',
        join(certs.server, 'cert.pem'),
        '--tlskey',
        join(certs.server, 'key.pem'),
        // A bridge of its own (--bridge=none would delete the main engine's docker0), no iptables rules.
        '--bridge',
        bridge.name,
        '--iptables=false',
        '--ip-forward=false',
        '--ip-masq=false',
      ],
      { stdin: 'ignore', stdout: { file: logFile }, stderr: { file: logFile } },
    );
    let exited = false;
    daemon
      .finally(() => {
        exited = true;
      })
      .catch(() => {});
    const env = {
      DOCKER_HOST: host,
      DOCKER_TLS_VERIFY: '1',
      DOCKER_CERT_PATH: certs.client,
      DOCKER_CONTEXT: '',
    };
    await waitFor(
      `dockerd on ${host}`,
      async () =>
        (await execa('docker', ['version', '--format', '{{.Server.Version}}'], { env, reject: false }))
          .exitCode === 0,
      () => (exited ? 'it exited' : undefined),
    );
    return { host, clientCerts: certs.client, env, logFile, stop };
  } catch (error) {
    // The log goes with the folder: keep its end in the error.
    const log = await readFile(logFile, 'utf8').catch(() => '');
    await stop();
    throw new Error(`${(error as Error).message}; dockerd said:\n${log.split('\n').slice(-15).join('\n')}`, {
      cause: error,
    });
  }
}
