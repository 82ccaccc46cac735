#!/usr/bin/env node
// The `ledgerline` command: loads the TypeScript CLI through tsx so operators need no build step.
import { register } from 'tsx/esm/api';
register();
await import('../src/cli.ts');
