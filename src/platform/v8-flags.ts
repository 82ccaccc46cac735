// V8 settings for the server process, imported first by src/main.ts so that they hold before the rest of
// the app is loaded, however the server is started (npm start, a WORKERS process, the benchmarks).
//
// No allocation-site pretenuring. V8 watches where objects are allocated and, when most of a site's
// objects outlive a few young-generation collections, allocates that site's objects in the old
// generation from then on. Measured: after 300,000 creates over HTTP, during a walk of cursor pages the
// old generation grew 0.4 MB between young collections and a full collection (12-14 ms) came every
// ~3 s; with this flag 0.0-0.1 MB and none (docs/performance.md, session 21). That a site the reads
// share was pretenured during the creates is the likely cause, not one that was seen.
// Creates and reads ran as fast with the flag as without it (the benchmark at 10,000 users, in turns).
import v8 from 'node:v8';

v8.setFlagsFromString('--no-allocation-site-pretenuring');
