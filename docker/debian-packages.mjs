import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';

// apt drops to the _apt user to download, which cannot write into our root-only temp dir.
const APT_OPTIONS = ['-o', 'APT::Sandbox::User=root', '-q'];

let listsUpdated = false;

/** Runs `fn`; if it fails and the package lists were not refreshed in this process yet, runs `apt-get update` once and retries. */
async function withPackageLists(fn, log) {
  try {
    return await fn();
  } catch (error) {
    if (listsUpdated) throw error;
    listsUpdated = true;
    log(`test images: apt failed (${firstLine(error)}); running apt-get update once`);
    await execa('apt-get', [...APT_OPTIONS, 'update']);
    return fn();
  }
}

function firstLine(error) {
  const text = error?.stderr || error?.shortMessage || String(error);
  return text.trim().split('\n')[0];
}

/**
 * What `apt-get download` would fetch for each package: version and the .deb's SHA256.
 * These are the build inputs hashed into the recipe label, read from the local lists without downloading.
 */
export async function packageInputs(names, log) {
  if (names.length === 0) return {};
  const { stdout } = await withPackageLists(
    () => execa('apt-cache', ['show', '--no-all-versions', ...names]),
    log,
  );
  const inputs = {};
  for (const stanza of stdout.split(/\n\n+/)) {
    const field = (name) => stanza.match(new RegExp(`^${name}: (.*)$`, 'm'))?.[1];
    const name = field('Package');
    if (name && names.includes(name) && !inputs[name]) {
      inputs[name] = { version: field('Version'), sha256: field('SHA256') };
    }
  }
  const missing = names.filter((name) => !inputs[name]);
  if (missing.length > 0) {
    throw new Error(`apt-cache knows no package ${missing.join(', ')}: check /etc/apt/sources.list`);
  }
  return inputs;
}

/** Downloads each package's .deb into `dir`; returns package name -> .deb path. */
export async function downloadPackages(names, dir, log) {
  await withPackageLists(() => execa('apt-get', [...APT_OPTIONS, 'download', ...names], { cwd: dir }), log);
  const files = await readdir(dir);
  const debs = new Map();
  for (const name of names) {
    const file = files.find((f) => f.startsWith(`${name}_`) && f.endsWith('.deb'));
    if (!file) throw new Error(`apt-get download left no .deb for ${name} in ${dir}`);
    debs.set(name, join(dir, file));
  }
  return debs;
}

/** Unpacks the package's files (not its maintainer scripts) under `dest`, keeping owners and modes. */
export async function extractPackage(deb, dest) {
  await execa('dpkg-deb', ['-x', deb, dest]);
}

/**
 * The package's metadata as distroless stores it in /var/lib/dpkg/status.d: the control stanza with a
 * Status line, and the md5sums file. Maintainer scripts, templates, triggers and conffiles lists are left out.
 * `controlDir` must not exist yet; the control archive is unpacked there.
 */
export async function packageStatus(deb, controlDir) {
  await execa('dpkg-deb', ['-e', deb, controlDir]);
  const control = await readFile(join(controlDir, 'control'), 'utf8');
  const md5sums = await readFile(join(controlDir, 'md5sums'), 'utf8').catch(() => '');
  const name = control.match(/^Package: (.*)$/m)?.[1];
  if (!name) throw new Error(`${deb} has no Package field in its control file`);
  const stanza = control.replace(/^(Package: .*\n)/m, '$1Status: install ok installed\n');
  return { name, stanza: stanza.endsWith('\n') ? stanza : `${stanza}\n`, md5sums };
}
