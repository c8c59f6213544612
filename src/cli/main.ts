#!/usr/bin/env node
import './heap-flags.js';

// The commands load only now: their modules alone, loaded first, grow V8's young generation to 8 MiB.
await import('./commands.js');
