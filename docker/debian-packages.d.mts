export declare function packageInputs(
  names: readonly string[],
  log: (line: string) => void,
): Promise<Record<string, { version: string; sha256: string }>>;
export declare function downloadPackages(
  names: readonly string[],
  dir: string,
  log: (line: string) => void,
): Promise<Map<string, string>>;
export declare function extractPackage(deb: string, dest: string): Promise<void>;
export declare function packageStatus(
  deb: string,
  controlDir: string,
): Promise<{ name: string; stanza: string; md5sums: string }>;
