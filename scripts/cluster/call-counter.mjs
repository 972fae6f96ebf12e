// A transparent HTTP proxy in front of the example agents that writes one JSON line per
// agent call (Pallet's POST /execute) to a log: the call's Idempotency-Key (the worker's
// `<workflow id>/<first run id>/<step>`), the skill, whether the agent answered with a result
// or an error, and whether it replayed a stored answer (`idempotent-replayed: true`) instead
// of doing the work again. scripts/cluster/check-runs.mjs reads the log to prove that no
// call was carried out twice. Everything else (cards, A2A) is passed through unrecorded.
//
// CALL_DELAY_MS (default 0) holds each call that long before passing it on, so that calls are in
// flight when the cluster script kills a worker (the example agents answer in a millisecond).
//
//   node scripts/cluster/call-counter.mjs <log file> <listen port>=<agent port> ...
import { appendFileSync } from 'node:fs';
import http from 'node:http';

const [logFile, ...pairs] = process.argv.slice(2);
const delayMs = Number(process.env.CALL_DELAY_MS ?? 0);
if (!logFile || pairs.length === 0) {
  console.error('usage: call-counter.mjs <log file> <listen port>=<agent port> ...');
  process.exit(2);
}

function record(entry) {
  appendFileSync(logFile, `${JSON.stringify(entry)}\n`);
}

function proxy(listenPort, agentPort) {
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      const body = Buffer.concat(chunks);
      if (delayMs > 0 && req.method === 'POST') await new Promise((r) => setTimeout(r, delayMs));
      const upstream = http.request(
        { host: '127.0.0.1', port: agentPort, method: req.method, path: req.url, headers: { ...req.headers, host: `127.0.0.1:${agentPort}` } },
        (answer) => {
          const out = [];
          answer.on('data', (c) => out.push(c));
          answer.on('end', () => {
            const reply = Buffer.concat(out);
            if (req.method === 'POST' && req.url.split('?')[0] === '/execute') {
              let skill;
              let ok = false;
              try {
                skill = JSON.parse(body.toString('utf8')).method;
                ok = answer.statusCode === 200 && 'result' in JSON.parse(reply.toString('utf8'));
              } catch {
                // not JSON: recorded as a failed call
              }
              record({
                at: new Date().toISOString(),
                port: listenPort,
                key: req.headers['idempotency-key'] ?? null,
                skill,
                status: answer.statusCode,
                ok,
                replayed: answer.headers['idempotent-replayed'] === 'true',
              });
            }
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            res.end(reply);
          });
        },
      );
      upstream.on('error', (err) => {
        res.writeHead(502, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: `call-counter: agent on :${agentPort} unreachable: ${err.message}` }));
      });
      upstream.end(body);
    });
  });
  server.listen(listenPort, '127.0.0.1', () => console.log(`call-counter: :${listenPort} -> :${agentPort}`));
}

for (const pair of pairs) {
  const [listen, agent] = pair.split('=').map(Number);
  proxy(listen, agent);
}
