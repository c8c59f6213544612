export interface DockerArchiveLayer {
  /** Path of the uncompressed layer tar. */
  readonly file: string;
  /** `sha256:<hex>` of the layer tar's bytes. */
  readonly diffId: string;
}

/** Writes a docker-archive for `docker load`; `config` gets its rootfs.diff_ids from `layers` (lowest first). */
export declare function writeDockerArchive(options: {
  file: string;
  tag: string;
  config: Record<string, unknown>;
  layers: readonly DockerArchiveLayer[];
}): Promise<void>;
