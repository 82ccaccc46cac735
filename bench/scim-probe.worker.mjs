// @ts-check
// bench:scim's probe, on a thread of its own: asks the server for something small (workerData.path),
// one request a millisecond after the last, until the benchmark's thread posts any message; then
// posts the longest wait in ms and how many answers it timed. On the benchmark's thread (until session
// 25) these requests also waited while the benchmark parsed the large group's 21.4 MB answer or wrote
// its 8 MB body, and that wait was printed as the server's. JavaScript, started without tsx (as
// src/scim/provisioning-log.worker.mjs is), so it starts in a few tens of ms.
import { parentPort, workerData } from 'node:worker_threads';
import { Pool } from 'undici';

/** @typedef {{ origin: string; path: string; token: string }} ProbeData */

const port = /** @type {import('node:worker_threads').MessagePort} */ (parentPort);
const data = /** @type {ProbeData} */ (workerData);
const pool = new Pool(data.origin, { connections: 1 });
let on = true;
let longest = 0;
let answered = 0;
port.on('message', () => {
  on = false;
});
while (on) {
  const t0 = performance.now();
  const res = await pool.request({ method: 'GET', path: data.path, headers: { authorization: `Bearer ${data.token}`, accept: 'application/scim+json' } });
  const text = await res.body.text();
  if (res.statusCode !== 200) throw new Error(`probe: ${res.statusCode} ${text.slice(0, 200)}`);
  // The first answer opens the connection and says the probe is running; it is not timed.
  if (answered++ === 0) port.postMessage({ ready: true });
  else longest = Math.max(longest, performance.now() - t0);
  await new Promise((resolve) => setTimeout(resolve, 1));
}
await pool.close();
port.postMessage({ longest, answered: answered - 1 });
