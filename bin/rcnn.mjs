#!/usr/bin/env node
// The `rcnn` command: runs the TypeScript sources directly (through tsx), so the CLI and the
// app always share the very same pipeline modules.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
