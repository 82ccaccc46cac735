#!/usr/bin/env node
// `npm test`: builds the web UI (browser tests need it), then runs every *.test.ts under src/,
// test/ and demo/ with node's test runner. TEST_DATABASE=postgres runs the same suite on PostgreSQL.
// Extra arguments are file paths or substrings to select test files.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
process.chdir(root);

function walk(dir, out = []) {
  if (!fs.existsSync(dir)) return out;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name !== 'node_modules') walk(p, out);
    } else if (e.name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const filters = process.argv.slice(2);
let files = [...walk('src'), ...walk('test'), ...walk('demo')].sort();
if (filters.length) files = files.filter((f) => filters.some((x) => f.includes(x)));
if (!files.length) {
  console.error('no test files matched');
  process.exit(1);
}

if (!process.env.SKIP_WEB_BUILD && fs.existsSync('web/vite.config.ts')) {
  const b = spawnSync('npx', ['vite', 'build', '--config', 'web/vite.config.ts', '--logLevel', 'warn'], { stdio: 'inherit' });
  if (b.status !== 0) {
    console.error('web build failed');
    process.exit(1);
  }
}

console.log(`# database: ${process.env.TEST_DATABASE === 'postgres' ? 'PostgreSQL' : 'SQLite'}; ${files.length} test files`);
const r = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', `--test-concurrency=${process.env.TEST_CONCURRENCY || 2}`, '--test-timeout=180000', ...files],
  { stdio: 'inherit', env: { ...process.env, NODE_ENV: 'test' } },
);
process.exit(r.status ?? 1);
