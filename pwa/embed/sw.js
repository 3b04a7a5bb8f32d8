/* vendorbell's pushes in a service worker on a marketplace's origin.

   Either the whole worker the marketplace serves at /vendorbell/sw.js:
     importScripts('https://bell.example/embed/v1/sw.js');
     vendorbell.init({ server: 'https://bell.example' });
   or, inside the marketplace's own worker (wrapped in try/catch), the same two lines: then
   only vendorbell's pushes are handled (vendorbell.owns(event)) and every other push and
   click is left to the marketplace's own listeners.

   It reads the same Declarative Web Push JSON as vendorbell's own worker (pwa/sw.js), opens
   `navigate` (an absolute URL under the marketplace's link base) on click, and reports
   shown/clicked with the push's receipt token: the worker holds no session and no cookie.
   When the browser renews the subscription (`pushsubscriptionchange`), it hands vendorbell
   the new one with the device's renewal token (given by the element after subscribing,
   kept in this origin's IndexedDB): that token can only move this one device. */

(function () {
  'use strict';

  const ANSWERED = ['order.accepted', 'order.rejected', 'order.cancelled'];
  const WAITING = ['order.created', 'order.reminder'];
  let server = null;
  let listening = false;

  /** The push's message if it is vendorbell's (marked `data.app: "vendorbell"`), else null. */
  function message(event) {
    if (!event || !event.data) return null;
    try {
      const doc = event.data.json();
      const n = doc && doc.notification;
      const ours = n && n.data && n.data.app === 'vendorbell' && typeof n.title === 'string' && n.title;
      return ours ? doc : null;
    } catch {
      return null;
    }
  }

  function owns(event) {
    if (event && event.type === 'notificationclick') {
      const data = (event.notification && event.notification.data) || {};
      return data.app === 'vendorbell';
    }
    return message(event) !== null;
  }

  /** A notification link: absolute http(s) only (the server resolves it under link_base). */
  function target(data) {
    try {
      const url = new URL(data.navigate);
      if (url.protocol === 'https:' || url.protocol === 'http:') return url;
    } catch {
      // fall through
    }
    return new URL('/', self.location.origin);
  }

  async function report(data, what) {
    if (!server || !data.id || !data.receipt) return;
    try {
      // A simple request (text/plain, no cookie, no custom header): no preflight, and the
      // receipt token alone says which notification and device it is about.
      await fetch(`${server}/api/notifications/receipts`, {
        method: 'POST',
        mode: 'no-cors',
        credentials: 'omit',
        headers: { 'Content-Type': 'text/plain' },
        body: JSON.stringify({ notification: data.id, event: what, receipt: data.receipt }),
      });
    } catch {
      // Offline: the inbox's read state catches up when the bell opens.
    }
  }

  async function shownWithTag(tag) {
    if (!tag) return null;
    const [current] = await self.registration.getNotifications({ tag });
    return current || null;
  }

  async function show(doc) {
    const n = doc.notification;
    const data = { ...(n.data || {}), navigate: target({ navigate: n.navigate }).href, receipt: doc.receipt };
    const tag = n.tag ? `vendorbell-${n.tag}` : undefined; // never replaces the host's own
    const current = data.event === 'order.reminder' ? await shownWithTag(tag) : null;
    if (current && ANSWERED.includes((current.data || {}).event)) {
      // A late reminder must not bring an answered order back: show the answer again, quietly.
      await self.registration.showNotification(current.title, {
        body: current.body, tag, data: current.data, renotify: false, timestamp: current.timestamp,
      });
      return;
    }
    await self.registration.showNotification(n.title, {
      body: n.body || '',
      tag,
      lang: n.lang || undefined,
      data,
      renotify: Boolean(tag && n.renotify === true),
      requireInteraction: WAITING.includes(data.event),
      timestamp: Date.now(),
    });
    await report(data, 'shown');
  }

  async function click(notification) {
    notification.close();
    const data = notification.data || {};
    const url = target(data);
    const reported = report(data, 'clicked');
    const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
    const open = windows.find((client) => client.url === url.href);
    if (open) await open.focus().catch(() => null);
    else await self.clients.openWindow(url.href);
    await reported;
  }

  function onPush(event) {
    const doc = message(event);
    if (doc) event.waitUntil(show(doc));
  }

  function onClick(event) {
    if (!owns(event)) return;
    // The host's own click listeners must not also act on vendorbell's notification.
    event.stopImmediatePropagation();
    event.waitUntil(click(event.notification));
  }

  // ---------------------------------------------------------------- renewal

  /** The device record of this registration ({endpoint, renewal_token}), or `put` one. */
  function device(put) {
    return new Promise((resolve, reject) => {
      const opened = indexedDB.open('vendorbell', 1);
      opened.onupgradeneeded = () => opened.result.createObjectStore('device');
      opened.onerror = () => reject(opened.error);
      opened.onsuccess = () => {
        const db = opened.result;
        const tx = db.transaction('device', put ? 'readwrite' : 'readonly');
        const store = tx.objectStore('device');
        const request = put ? store.put(put, self.registration.scope) : store.get(self.registration.scope);
        tx.oncomplete = () => { db.close(); resolve(request.result); };
        tx.onerror = () => { db.close(); reject(tx.error); };
      };
    });
  }

  function onMessage(event) {
    const m = event.data;
    if (!m || m.vendorbell !== 'device' || typeof m.renewal_token !== 'string' || typeof m.endpoint !== 'string') return;
    event.waitUntil(device({ endpoint: m.endpoint, renewal_token: m.renewal_token }));
  }

  function keyBytes(base64url) {
    const base64 = base64url.replace(/-/g, '+').replace(/_/g, '/');
    return Uint8Array.from(atob(base64 + '='.repeat((4 - (base64.length % 4)) % 4)), (c) => c.charCodeAt(0));
  }

  async function renew(event) {
    const known = await device();
    // Not vendorbell's subscription (or never told of it): the host's own to handle.
    if (!server || !known || (event.oldSubscription && event.oldSubscription.endpoint !== known.endpoint)) return;
    let subscription = event.newSubscription;
    if (!subscription) {
      const answer = await fetch(`${server}/api/push/vapid-public-key`, { credentials: 'omit' });
      const { public_key: key } = await answer.json();
      subscription = await self.registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(key) });
    }
    const { endpoint, expirationTime, keys } = subscription.toJSON();
    const response = await fetch(`${server}/api/push/renewals`, {
      method: 'POST',
      credentials: 'omit',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ endpoint, expirationTime: expirationTime ?? null, keys, renewal_token: known.renewal_token }),
    });
    if (response.ok) {
      const saved = await response.json();
      await device({ endpoint: saved.endpoint, renewal_token: saved.renewal_token });
    }
  }

  function onSubscriptionChange(event) {
    event.waitUntil(renew(event).catch(() => null)); // offline: the element subscribes again
  }

  function init(options) {
    server = String((options && options.server) || '').replace(/\/+$/, '');
    if (listening) return;
    listening = true;
    self.addEventListener('push', onPush);
    self.addEventListener('notificationclick', onClick);
    self.addEventListener('pushsubscriptionchange', onSubscriptionChange);
    self.addEventListener('message', onMessage);
  }

  self.vendorbell = { init, owns, version: 'v1' };
})();
