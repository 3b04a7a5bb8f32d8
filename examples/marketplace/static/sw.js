/* The marketplace's own service worker (scope /): caches its own assets, shows its own
   pushes. vendorbell's pushes go to /vendorbell/sw.js; a marketplace that prefers one
   worker imports vendorbell's snippet here instead, as the lines below show. */

// `VENDORBELL` (the server's URL) is set by the line the marketplace serves before this file.
try {
  // vendorbell's snippet in our own worker: it shows only vendorbell's pushes (those sent to
  // a subscription of this registration), and every other push stays ours.
  importScripts(`${VENDORBELL}/embed/v1/sw.js`);
  self.vendorbell.init({ server: VENDORBELL });
} catch {
  // vendorbell unreachable when this worker started: our own work goes on without it.
}

const CACHE = 'corner-market-v1';
const ASSETS = ['/static/style.css', '/static/app.js'];

self.addEventListener('install', (event) => event.waitUntil(caches.open(CACHE).then((c) => c.addAll(ASSETS)).then(() => self.skipWaiting())));
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== 'GET' || url.origin !== self.location.origin || !url.pathname.startsWith('/static/')) return;
  event.respondWith(caches.match(event.request).then((hit) => hit || fetch(event.request)));
});

self.addEventListener('push', (event) => {
  if (self.vendorbell && self.vendorbell.owns(event)) return; // vendorbell's own listener shows it
  let message = {};
  try { message = event.data ? event.data.json() : {}; } catch { message = { title: event.data.text() }; }
  event.waitUntil(self.registration.showNotification(message.title || 'Corner Market', {
    body: message.body || '', tag: message.tag || 'corner-market', data: { shop: true },
  }));
});
