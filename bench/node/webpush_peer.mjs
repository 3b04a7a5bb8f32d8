// Node's web-push as a peer of bench/bench_push.py: sends one push to each subscription of
// a JSON file (written by the Python side), `concurrency` in flight, and prints one JSON
// line: pushes sent, accepted, failed, wall seconds and this process's CPU for the sends.
//
//   node webpush_peer.mjs job.json
//
// job.json: {"vapid": {"subject", "publicKey", "privateKey"}, "payload", "ttl",
//            "concurrency", "subscriptions": [{"endpoint", "keys": {"p256dh", "auth"}}]}
// The push service's certificate is trusted through NODE_EXTRA_CA_CERTS.
import { readFileSync } from 'node:fs';
import https from 'node:https';
import webpush from 'web-push';

const job = JSON.parse(readFileSync(process.argv[2], 'utf8'));
// Keep-alive with as many sockets as pushes in flight: the set-up web-push's README
// leaves to the caller, given here so the peer runs at its best.
const agent = new https.Agent({ keepAlive: true, maxSockets: job.concurrency });
const options = { vapidDetails: job.vapid, TTL: job.ttl, agent, timeout: 15000 };
const subscriptions = job.subscriptions;
let next = 0;
let ok = 0;
const errors = [];

async function lane() {
  while (next < subscriptions.length) {
    const subscription = subscriptions[next++];
    try {
      await webpush.sendNotification(subscription, job.payload, options);
      ok += 1;
    } catch (error) {
      if (errors.length < 5) errors.push(String(error.statusCode ?? error.message));
    }
  }
}

const cpu0 = process.cpuUsage();
const wall0 = process.hrtime.bigint();
await Promise.all(Array.from({ length: job.concurrency }, lane));
const seconds = Number(process.hrtime.bigint() - wall0) / 1e9;
const cpu = process.cpuUsage(cpu0);
agent.destroy();
console.log(
  JSON.stringify({
    sent: subscriptions.length,
    ok,
    failed: subscriptions.length - ok,
    seconds,
    cpu_seconds: (cpu.user + cpu.system) / 1e6,
    pushes_per_second: subscriptions.length / seconds,
    errors,
  }),
);
