/**
 * The flags of every command that reads an image (extract, report, diff), as `parseArgs` options: one list, so
 * a command cannot forget one; the library checks their values (src/options.ts).
 */
export const IMAGE_FLAGS = {
  pull: { type: 'string' },
  method: { type: 'string' },
  platform: { type: 'string' },
  'tls-verify': { type: 'string' },
  base: { type: 'string' },
  quiet: { type: 'boolean', short: 'q' },
  debug: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;
