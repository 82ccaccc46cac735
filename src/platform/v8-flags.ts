// V8 settings for the server process, imported first by src/main.ts so that they hold before the rest of
// the app is loaded, however the server is started (npm start, a WORKERS process, the benchmarks).
//
// No allocation-site pretenuring. V8 watches where objects are allocated and, when most of a site's
// objects outlive a few young-generation collections, allocates that site's objects in the old
// generation from then on. A burst of SCIM creates made it do so for code the reads share: after
// 300,000 creates over HTTP, a walk of cursor pages put its short-lived objects straight into the old
// generation (its heap grew 0.4 MB between young collections against 0.0-0.1 MB without), whose full
// collections then came every 2-3 s and held requests for 8-24 ms each (docs/performance.md, session 21).
// Without it, creates and reads ran as fast as with it (the benchmark at 10,000 users, in turns).
import v8 from 'node:v8';

v8.setFlagsFromString('--no-allocation-site-pretenuring');
