export function ensureCommands(
  commands: Record<string, string>,
  options?: { log?: (line: string) => void },
): Promise<void>;
