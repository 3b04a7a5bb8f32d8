/* vendorbell service worker: shows pushes (Declarative Web Push JSON), reports clicks,
   keeps the subscription alive, and serves the app shell when offline. */

importScripts('/device-label.js');  // self.deviceLabel(), shared with the page

const CACHE = 'vendorbell-shell-v10';
// The page writes the reader's language here (i18n.js); the catalogues are in the shell.
const LOCALE_CACHE = 'vendorbell-locale';
const SHELL = [
  '/index.html', '/styles.css', '/manifest.webmanifest',
  '/app.js', '/api.js', '/bell.js', '/connection.js', '/device-label.js', '/dom.js', '/format.js', '/header.js', '/i18n.js', '/inbox.js', '/kinds.js', '/live.js',
  '/messages.js', '/push.js', '/router.js', '/saved.js', '/session.js', '/sound.js', '/state.js', '/time-zone.js', '/toast.js',
  '/views/auth.js', '/views/checkout.js', '/views/devices.js', '/views/home.js', '/views/notifications.js',
  '/views/order.js', '/views/order-alerts.js', '/views/order-list.js', '/views/orders.js', '/views/push-card.js',
  '/views/analytics.js', '/views/preferences.js',
  '/views/password-card.js', '/views/sessions-card.js', '/views/console-health.js', '/views/console-activity.js',
  '/views/console-broadcasts.js', '/push-preview.js',
  '/views/console-keys.js',
  '/i18n/en.json', '/i18n/de.json', '/i18n/fr.json',
  '/icons/icon-192.png', '/icons/icon-512.png', '/icons/maskable-512.png', '/icons/badge-96.png',
];
const ICON = '/icons/icon-192.png';
const BADGE = '/icons/badge-96.png';
const LOCALES = ['en', 'de', 'fr'];  // the catalogues in SHELL

self.addEventListener('install', (event) => event.waitUntil(precache()));
self.addEventListener('activate', (event) => event.waitUntil(activate()));
self.addEventListener('fetch', (event) => handleFetch(event));
self.addEventListener('push', (event) => event.waitUntil(handlePush(event)));
self.addEventListener('notificationclick', (event) => event.waitUntil(handleClick(event)));
self.addEventListener('pushsubscriptionchange', (event) => event.waitUntil(handleSubscriptionChange(event)));

// ------------------------------------------------------------------ app shell

async function precache() {
  const cache = await caches.open(CACHE);
  await cache.addAll(SHELL);
  await self.skipWaiting();
}

async function activate() {
  const names = await caches.keys();
  await Promise.all(names.filter((name) => name !== CACHE && name !== LOCALE_CACHE).map((name) => caches.delete(name)));
  await self.clients.claim();
}

// Served by the server itself, never by the app shell: data, API docs, metrics.
const NOT_SHELL = ['/api/', '/ws/', '/docs', '/redoc', '/openapi.json', '/metrics'];
const NAVIGATION_TIMEOUT = 4000; // ms before a hanging network gives way to the cached shell

function handleFetch(event) {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== 'GET' || url.origin !== self.location.origin) return;
  if (NOT_SHELL.some((prefix) => url.pathname.startsWith(prefix))) return; // never cached
  event.respondWith(networkFirst(request));
}

function fetchWithTimeout(request, ms) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), ms);
  return fetch(request, { signal: controller.signal }).finally(() => clearTimeout(timer));
}

/** Fresh when online (no stale UI after a deploy), the cached shell when not. */
async function networkFirst(request) {
  const cache = await caches.open(CACHE);
  const navigation = request.mode === 'navigate';
  try {
    const response = navigation ? await fetchWithTimeout(request, NAVIGATION_TIMEOUT) : await fetch(request);
    const isShell = !navigation || (response.headers.get('content-type') || '').startsWith('text/html');
    if (response.ok && isShell) await cache.put(navigation ? '/index.html' : request, response.clone());
    return response;
  } catch (error) {
    const cached = await cache.match(navigation ? '/index.html' : request, { ignoreSearch: true });
    if (cached) return cached;
    throw error;
  }
}

// ------------------------------------------------------------------ words

/** The reader's language: the push's own `lang`, else the one the page last chose. */
async function readerLocale(lang) {
  if (LOCALES.includes(lang)) return lang;
  try {
    const stored = await (await caches.open(LOCALE_CACHE)).match('/i18n/current');
    const { locale } = stored ? await stored.json() : {};
    return LOCALES.includes(locale) ? locale : 'en';
  } catch {
    return 'en';
  }
}

/** `key` from the cached catalogue of `lang` (English, then the key, when missing). */
async function text(lang, key) {
  for (const tag of [lang, 'en']) {
    try {
      const response = (await caches.match(`/i18n/${tag}.json`)) || (await fetch(`/i18n/${tag}.json`));
      const strings = await response.json();
      if (typeof strings[key] === 'string') return strings[key];
    } catch {
      // Not cached and offline: try English, then the key itself.
    }
  }
  return key;
}

// ------------------------------------------------------------------ push

function parseMessage(data) {
  if (!data) return null;
  try {
    const message = data.json();
    const n = message && message.notification;
    return n && typeof n.title === 'string' && n.title ? message : null;
  } catch {
    return null;
  }
}

// An order's notification (tag `order-<id>`) is replaced by each push about it: its
// reminders, which show again with sound (`renotify`), and its answer, which does not.
const ANSWERED = ['order.accepted', 'order.rejected', 'order.cancelled'];
// Stays on screen until the vendor acts on it.
const WAITING = ['order.created', 'order.reminder'];

/** The notification now shown under `tag`, if any. */
async function shownWithTag(tag) {
  if (!tag) return null;
  const [current] = await self.registration.getNotifications({ tag });
  return current || null;
}

async function handlePush(event) {
  const message = parseMessage(event.data);
  if (!message) {
    // Never stay silent: browsers revoke push for workers that show nothing.
    const lang = await readerLocale(null);
    await self.registration.showNotification('vendorbell', {
      body: await text(lang, 'sw.update_body'),
      lang,
      tag: 'vendorbell-update',
      icon: ICON,
      badge: BADGE,
      data: { navigate: '/notifications' },
    });
    return;
  }
  const n = message.notification;
  const data = { ...(n.data || {}), navigate: n.navigate || '/notifications' };
  const tag = n.tag || undefined;
  const current = data.event === 'order.reminder' ? await shownWithTag(tag) : null;
  if (current && ANSWERED.includes((current.data || {}).event)) {
    // A reminder sent just before the answer, arriving after it, must not bring the
    // order back: the answer is shown again, quietly (every push must show something).
    await self.registration.showNotification(current.title, {
      body: current.body, tag, lang: current.lang || undefined, icon: ICON, badge: BADGE,
      data: current.data, renotify: false, timestamp: current.timestamp,
    });
    return;
  }
  await self.registration.showNotification(n.title, {
    body: n.body || '',
    tag,
    lang: n.lang || undefined,
    icon: ICON,
    badge: BADGE,
    data,
    // Only a reminder alerts again over the notification it replaces; renotify needs a tag.
    renotify: Boolean(tag && n.renotify === true),
    requireInteraction: WAITING.includes(data.event),
    timestamp: Date.now(),
  });
  await Promise.all([setBadge(message.app_badge), data.id ? report(data.id, 'shown') : null]);
}

async function setBadge(count) {
  if (typeof count !== 'number' || !('setAppBadge' in self.navigator)) return;
  try {
    if (count > 0) await self.navigator.setAppBadge(count);
    else await self.navigator.clearAppBadge();
  } catch {
    // Badging is best effort (not installed, or not supported on this platform).
  }
}

/** Tell the server what happened to a notification; `clicked` also marks it read. */
async function report(id, what) {
  try {
    await fetch(`/api/notifications/${encodeURIComponent(id)}/events`, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ event: what }),
    });
  } catch {
    // Offline: the read state catches up when the page opens and marks it read.
  }
}

// ------------------------------------------------------------------ clicks

function targetUrl(data) {
  const url = new URL((data && data.navigate) || '/', self.location.origin);
  // Only ever open our own pages, whatever a payload says.
  return url.origin === self.location.origin ? url : new URL('/', self.location.origin);
}

async function handleClick(event) {
  const notification = event.notification;
  notification.close();
  const data = notification.data || {};
  const url = targetUrl(data);
  const reported = data.id ? report(data.id, 'clicked') : null;
  const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
  const exact = windows.find((client) => new URL(client.url).pathname === url.pathname);
  const client = exact || windows[0];
  if (client) {
    // An open tab navigates inside the app (no reload, live connection kept).
    if (!exact) client.postMessage({ type: 'navigate', url: url.pathname + url.search });
    await client.focus().catch(() => null);
  } else {
    await self.clients.openWindow(url.href);
  }
  await reported;
}

// ------------------------------------------------------------------ subscription renewal

function keyBytes(text) {
  const padded = text.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (text.length % 4)) % 4);
  return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
}


async function handleSubscriptionChange(event) {
  let subscription = event.newSubscription;
  if (!subscription) {
    // Always use the server's current key: it may have rotated since the old subscription.
    const response = await fetch('/api/push/vapid-public-key', { credentials: 'same-origin' });
    const { public_key: key } = await response.json();
    subscription = await self.registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(key) });
  }
  await fetch('/api/push/subscriptions', {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ ...subscription.toJSON(), label: self.deviceLabel() }),
  });
}
