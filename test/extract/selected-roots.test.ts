import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerError } from '../../src/errors.js';
import { PathSelection } from '../../src/extract/path-selection.js';
import { readSelectedRoots } from '../../src/extract/selected-roots.js';

// The article method with --path reads the selected paths' parents through docker save. Docker 26 refuses
// that save for a single-platform pull of a multi-platform image (moby#49473), which the main engine here
// cannot show: a stand-in answers the save with the daemon's words from that bug (as save-failure.test.ts).

const WORDS =
  'unable to create manifests file: NotFound: content digest sha256:e225d70fafe80791f18c79b8d76afa1d1b4192b3a40a50f1ffd4de84555ebd04: not found';
let work: string;
let server: Server;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'dc-selected-roots-'));
  server = createServer((request, response) => {
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

describe('the article method reading the selected paths from the layers', () => {
  it('says in one line that --path needs the save, never to use the method it is', async () => {
    const docker = new Docker({ socketPath: join(work, 'engine.sock') });
    const parent = join(work, 'out');
    await mkdir(join(parent, 'dump'), { recursive: true });
    const image = {
      Id: `sha256:${'ab'.repeat(32)}`,
      RootFS: { Type: 'layers', Layers: [`sha256:${'cd'.repeat(32)}`] },
    };
    const error = await readSelectedRoots(
      docker,
      image as unknown as Docker.ImageInspectInfo,
      join(parent, 'dump'),
      new PathSelection(['/etc']),
      { log: () => {} },
    ).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DockerError);
    const message = (error as Error).message;
    expect(message).toMatch(
      /^--path reads the folders above each selected path from the image's own layers, and docker save of sha256:(ab){32} failed: /,
    );
    expect(message).toContain(WORDS);
    expect(message).toMatch(/moby#49473\); without --path the article method needs no docker save\.$/);
    expect(message).not.toContain('use --method article');
    expect(message).not.toContain('\n');
    // Its scratch folder is gone with it.
    expect(await readdir(parent)).toEqual(['dump']);
  });
});
