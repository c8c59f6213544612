import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dumpImageLayers } from '../../../src/extract/fast/fast-method.js';

// Docker 26+ with the containerd image store refuses `docker save` of an image pulled for one platform of a
// multi-platform index (moby#49473). The main engine here (20.10, graph driver store) cannot show that, so
// a stand-in answers GET /images/{id}/get with the daemon's own words from that bug; every other request
// fails the test. The engines suite on Docker 26 exercises the real one.

const WORDS =
  'unable to create manifests file: NotFound: content digest sha256:e225d70fafe80791f18c79b8d76afa1d1b4192b3a40a50f1ffd4de84555ebd04: not found';
const ID = `sha256:${'ab'.repeat(32)}`;
let work: string;
let server: Server;
const requests: string[] = [];

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'dc-save-failure-'));
  server = createServer((request, response) => {
    requests.push(`${request.method} ${request.url}`);
    const isSave = request.method === 'GET' && /^\/(v[\d.]+\/)?images\/[^/]+\/get$/.test(request.url ?? '');
    response.writeHead(isSave ? 500 : 404, { 'Content-Type': 'application/json' });
    response.end(JSON.stringify({ message: isSave ? WORDS : 'not part of this test' }));
  });
  await new Promise<void>((resolve) => server.listen(join(work, 'engine.sock'), resolve));
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await rm(work, { recursive: true, force: true });
});

describe('docker save refused for a single-platform pull of a multi-platform image', () => {
  it('fails with one line that names the cause, keeps the daemon words and says to use --method article', async () => {
    const docker = new Docker({ socketPath: join(work, 'engine.sock') });
    const parent = join(work, 'out');
    // The staging folder exists before the layers are read, as in a run.
    await mkdir(join(parent, 'dump'), { recursive: true });
    const image = { Id: ID, RootFS: { Type: 'layers', Layers: [`sha256:${'cd'.repeat(32)}`] } };
    const error = await dumpImageLayers(
      docker,
      image as unknown as Docker.ImageInspectInfo,
      join(parent, 'dump'),
      {
        log: () => {},
      },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toBe(
      `docker save of ${ID} failed: the engine holds only some platforms of this multi-platform image and cannot save it (${WORDS}; moby#49473); use --method article.`,
    );
    expect((error as Error).message).not.toContain('\n');
    expect(requests).toEqual([`GET /images/${ID}/get`]);
    // Nothing but the (empty) staging folder the caller made: no spilled layers beside it.
    expect(await readdir(parent)).toEqual(['dump']);
    expect(await readdir(join(parent, 'dump'))).toEqual([]);
  });
});
