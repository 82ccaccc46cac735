// Entry of the SQLite provisioning log's writer thread (src/scim/provisioning-log.worker.ts). A worker
// thread does not inherit the loader hooks of the process that starts it, so this entry registers
// tsx itself before loading the TypeScript, as bin/ledgerline.mjs does.
import { register } from 'tsx/esm/api';

register();
await import('./provisioning-log.worker.ts');
