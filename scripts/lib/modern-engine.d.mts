export const MODERN_ROOT: string;
export const MODERN_SOCKET: string;
export const MODERN_HOST: string;
export const MODERN_BRIDGE: string;
export function ensureModernEngine(options?: { log?: (line: string) => void }): Promise<void>;
