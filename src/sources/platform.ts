/** Node's names for the CPU, as the image spec's GOARCH values. */
const ARCHITECTURES: Readonly<Record<string, string>> = {
  x64: 'amd64',
  arm64: 'arm64',
  arm: 'arm',
  ia32: '386',
  ppc64: 'ppc64le',
  s390x: 's390x',
  riscv64: 'riscv64',
  loong64: 'loong64',
  mips64el: 'mips64le',
};

/** The host's platform, as an engine picks an image for it by default. */
export function hostPlatform(): string {
  return `linux/${ARCHITECTURES[process.arch] ?? process.arch}`;
}

export interface Platform {
  readonly os?: string;
  readonly architecture?: string;
  readonly variant?: string;
}

/** `os/architecture[/variant]`. */
export function platformName(platform: Platform | undefined): string {
  return [platform?.os ?? '?', platform?.architecture ?? '?', platform?.variant].filter(Boolean).join('/');
}

/**
 * Whether `platform` serves `wanted` (`os/arch[/variant]`): the variant counts only when asked for, and
 * arm64's v8 is arm64 itself, as containerd's platform matcher has it.
 */
export function platformMatches(platform: Platform | undefined, wanted: string): boolean {
  const [os, architecture, variant] = wanted.split('/');
  if (platform?.os !== os || platform?.architecture !== architecture) return false;
  if (variant === undefined) return true;
  const normal = (value: string | undefined) =>
    architecture === 'arm64' && value === 'v8' ? undefined : value;
  return normal(platform?.variant) === normal(variant);
}
