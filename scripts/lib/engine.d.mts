export function engineAnswers(): Promise<boolean>;
export function ensureEngine(options?: { log?: (line: string) => void }): Promise<void>;
