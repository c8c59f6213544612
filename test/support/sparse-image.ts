import { createHash } from 'node:crypto';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';

/** One layer holding one file of zeros, 2 GiB: docker save copies it for seconds before sending a byte. */
export const SPARSE_IMAGE = 'distroless-contents-test/sparse-2g:latest';
const FILE_SIZE = 2 * 1024 ** 3;
const BLOCK = 512;

/**
 * Loads the image with `docker load` from a docker-archive written here. Both the layer and the archive are
 * sparse files (their zeros are holes), so writing them costs no disk; only the engine's copy does.
 */
export async function ensureSparseImage(): Promise<string> {
  if ((await execa('docker', ['image', 'inspect', SPARSE_IMAGE], { reject: false })).exitCode === 0)
    return SPARSE_IMAGE;
  const work = await mkdtemp(join(tmpdir(), 'dc-sparse-'));
  try {
    const member = ustarHeader('zeros', FILE_SIZE, '0');
    const layerSize = BLOCK + FILE_SIZE + 2 * BLOCK;
    const diffId = zerosDigest(member, layerSize - BLOCK);
    const id = diffId.slice('sha256:'.length);
    const config = Buffer.from(
      JSON.stringify({
        architecture: (await execa('docker', ['version', '--format', '{{.Server.Arch}}'])).stdout.trim(),
        os: 'linux',
        config: { Labels: { 'dev.distroless-contents.test': 'fixture' }, Cmd: ['/zeros'] },
        rootfs: { type: 'layers', diff_ids: [diffId] },
      }),
    );
    const configName = `${createHash('sha256').update(config).digest('hex')}.json`;
    const manifest = Buffer.from(
      JSON.stringify([{ Config: configName, RepoTags: [SPARSE_IMAGE], Layers: [`${id}/layer.tar`] }]),
    );
    const archive = join(work, 'image.tar');
    const handle = await open(archive, 'w');
    try {
      let at = 0;
      const write = async (bytes: Buffer) => {
        await handle.write(bytes, 0, bytes.length, at);
        at += bytes.length;
      };
      await write(ustarHeader(`${id}/layer.tar`, layerSize, '0'));
      await write(member);
      // The file's zeros and the layer's end blocks stay a hole.
      at += layerSize - BLOCK;
      for (const [name, data] of [
        [configName, config],
        ['manifest.json', manifest],
      ] as const) {
        await write(ustarHeader(name, data.length, '0'));
        await write(data);
        at += (BLOCK - (data.length % BLOCK)) % BLOCK;
      }
      await handle.truncate(at + 2 * BLOCK);
    } finally {
      await handle.close();
    }
    await execa('docker', ['load', '--quiet', '--input', archive]);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  return SPARSE_IMAGE;
}

/** sha256 of `head` followed by `zeros` zero bytes. */
function zerosDigest(head: Buffer, zeros: number): string {
  const hash = createHash('sha256').update(head);
  const chunk = Buffer.alloc(1024 * 1024);
  for (let left = zeros; left > 0; left -= chunk.length)
    hash.update(chunk.subarray(0, Math.min(left, chunk.length)));
  return `sha256:${hash.digest('hex')}`;
}

function ustarHeader(name: string, size: number, typeflag: string): Buffer {
  const block = Buffer.alloc(BLOCK);
  block.write(name, 0, 100, 'utf8');
  const octal = (offset: number, length: number, value: number) =>
    block.write(`${value.toString(8).padStart(length - 1, '0')}\0`, offset, length, 'latin1');
  octal(100, 8, 0o644);
  octal(108, 8, 0);
  octal(116, 8, 0);
  octal(124, 12, size);
  octal(136, 12, 1700000000);
  block.write(typeflag, 156, 1, 'latin1');
  block.write('ustar\u000000', 257, 8, 'latin1');
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += block[i] as number;
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
  return block;
}
