#!/usr/bin/env node
// atmanrl CLI entry (placeholder until the trainer issue lands).
console.error('atmanrl: the trainer CLI is not built yet (see issue 9).');
process.exit(1);
