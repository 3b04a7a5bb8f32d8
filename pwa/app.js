// Boot: wires the pieces together. The service worker, who is signed in, the shell
// (header, bell, live dot), and the route table.

import { ApiError, get, OfflineError } from './api.js';
import { refreshCounts, setOffline } from './connection.js';
import { renderNav } from './header.js';
import { browserLocale, setLocale } from './i18n.js';
import { errorMessage } from './messages.js';
import { navigate, route, useRoutes } from './router.js';
import { save } from './saved.js';
import { drawHeader, goLive, signedIn, signedOut } from './session.js';
import { on, rememberedUser, state } from './state.js';
import { toast } from './toast.js';
import * as authView from './views/auth.js';
import * as checkoutView from './views/checkout.js';
import * as consoleActivityView from './views/console-activity.js';
import * as consoleBroadcastsView from './views/console-broadcasts.js';
import * as consoleHealthView from './views/console-health.js';
import * as consoleKeysView from './views/console-keys.js';
import * as devicesView from './views/devices.js';
import * as homeView from './views/home.js';
import * as notificationsView from './views/notifications.js';
import * as orderView from './views/order.js';
import * as ordersView from './views/orders.js';
import * as preferencesView from './views/preferences.js';

const ROUTES = [
  [/^\/$/, homeView],
  [/^\/signin$/, authView],
  [/^\/orders$/, ordersView],
  [/^\/orders\/([^/]+)$/, orderView],
  [/^\/notifications$/, notificationsView],
  [/^\/devices$/, devicesView],
  [/^\/checkout$/, checkoutView],
  [/^\/preferences$/, preferencesView],
  [/^\/console\/activity$/, consoleActivityView],
  [/^\/console\/health$/, consoleHealthView],
  [/^\/console\/broadcasts$/, consoleBroadcastsView],
  [/^\/console\/keys$/, consoleKeysView],
];

function showError(error) {
  if (error instanceof ApiError && error.status === 401) return signedOut();
  if (error instanceof OfflineError) return setOffline(true);
  toast(errorMessage(error), 'error');
}

function syncAppBadge({ unseen }) {
  // The app icon shows what is new since the vendor last looked (the push payload's app_badge).
  if ('setAppBadge' in navigator) (unseen ? navigator.setAppBadge(unseen) : navigator.clearAppBadge()).catch(() => {});
}

async function registerServiceWorker() {
  if (!('serviceWorker' in navigator)) return;
  try {
    await navigator.serviceWorker.register('/sw.js', { scope: '/' });
  } catch (error) {
    console.warn('vendorbell: service worker not registered', error);
  }
  // The worker asks an already open tab to show a notification's page (notificationclick).
  navigator.serviceWorker.addEventListener('message', (event) => {
    const data = event.data || {};
    if (data.type === 'navigate' && typeof data.url === 'string') navigate(data.url);
  });
}

/** The skip link, same-origin links without a reload, and coming back online. */
function listenToPage() {
  window.addEventListener('popstate', route);
  document.querySelector('.skip-link')?.addEventListener('click', (event) => {
    event.preventDefault(); // a #fragment would be a history entry, and a re-route
    const main = document.getElementById('main');
    const target = main.querySelector('h1') || main;
    target.setAttribute('tabindex', '-1');
    target.focus();
  });
  document.addEventListener('click', (event) => {
    const link = event.target.closest('a[href]');
    if (!link || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
    const url = new URL(link.href, location.href);
    if (url.origin !== location.origin || link.target || link.hasAttribute('download')) return;
    event.preventDefault();
    navigate(url.pathname + url.search);
  });
  window.addEventListener('online', () => { if (state.offline) location.reload(); });
  on('counts', (counts) => {
    syncAppBadge(counts);
    document.title = counts.unread ? `(${counts.unread}) vendorbell` : 'vendorbell';
    if (state.user && !state.offline) save('/api/notifications/count', counts); // the badge of an offline start
  });
}

/** Who is signed in: the server says, or (offline) this device remembers. */
async function resumeSession() {
  try {
    const user = await get('/api/me');
    await signedIn(user);
  } catch (error) {
    if (error instanceof OfflineError && rememberedUser()) {
      state.user = rememberedUser();
      drawHeader();
      setOffline(true);
      refreshCounts(); // the saved counts: the badge as it was
      goLive(); // keeps trying; when it connects the page redraws with fresh data
    } else if (error instanceof OfflineError) {
      drawHeader();
      setOffline(true);
    } else {
      drawHeader();
    }
  }
}

async function start() {
  // The words come before the first render: the account's language from the last visit,
  // else the browser's; /api/me may then switch to the account's current one.
  await setLocale(rememberedUser()?.locale || browserLocale()).catch(() => null);
  useRoutes(ROUTES, { onRoute: renderNav, onError: showError });
  registerServiceWorker();
  listenToPage();
  await resumeSession();
  route();
}

start();
