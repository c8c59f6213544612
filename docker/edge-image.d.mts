export declare const EDGE_OLD_MTIME: number;
export declare const EDGE_HUGE_ID: number;
export declare const EDGE_BIG_FILE_SIZE: number;
export declare const EDGE_LONG_NAME: string;
export declare const EDGE_DEEP_DIRS: readonly string[];
export declare const EDGE_CAPABILITY: Buffer;
export declare function edgeBigFileContent(): Buffer;
export declare function buildEdgeImage(options: {
  workDir: string;
  labels: Record<string, string>;
}): Promise<void>;
