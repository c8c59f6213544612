export interface BuildTestImagesOptions {
  /** Rebuild every image even when its recipe label is current. */
  force?: boolean;
  log?: (message: string) => void;
}

/** Milliseconds each rebuilt recipe (shell, static, edge) took; empty when everything was current. */
export declare function buildTestImages(options?: BuildTestImagesOptions): Promise<Record<string, number>>;
