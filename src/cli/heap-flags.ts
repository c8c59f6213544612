import { setFlagsFromString } from 'node:v8';

// Imported first by the CLI, before anything allocates. The layer tree grows with every entry of the image
// and lives to the end, so V8's defaults (a young generation grown to 32 MiB by the survivors, an old one
// let grow to several times its live size between full collections) put a 100,000-file dump near 250 MiB.
// Both flags are read by V8's heap controller whenever it resizes, so setting them at run time takes effect.
setFlagsFromString('--semi-space-growth-factor=1');
setFlagsFromString('--heap-growing-percent=20');
