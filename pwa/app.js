// Boot: service worker, who is signed in, the shell (header, bell, live dot), the router.

import { ApiError, get, OfflineError, post } from './api.js';
import { createBell } from './bell.js';
import { h, mount } from './dom.js';
import { Live } from './live.js';
import { syncSubscription } from './push.js';
import { browserLocale, formatLocale, locale, setLocale, t } from './i18n.js';
import { errorMessage } from './messages.js';
import { forgetAll, save } from './saved.js';
import { chime } from './sound.js';
import { emit, on, rememberedUser, rememberUser, setCounts, state } from './state.js';
import * as authView from './views/auth.js';
import * as checkoutView from './views/checkout.js';
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
];

const shell = {
  header: document.getElementById('header'),
  banner: document.getElementById('banner'),
  main: document.getElementById('main'),
  toasts: document.getElementById('toasts'),
};
let cleanup = null;

export function navigate(path, { replace = false } = {}) {
  if (path.startsWith(location.origin)) path = path.slice(location.origin.length);
  if (replace) history.replaceState(null, '', path);
  else if (path !== location.pathname + location.search) history.pushState(null, '', path);
  route();
}

export function toast(text, kind = 'info') {
  // A failure stays until it is dismissed: it may take longer to read than any timeout.
  const error = kind === 'error';
  const el = h('div', { class: `toast toast-${kind}`, role: error ? 'alert' : 'status' }, h('span', {}, text),
    error ? h('button', { type: 'button', class: 'toast-close', 'aria-label': t('app.dismiss'), onclick: () => el.remove() }, '×') : null);
  shell.toasts.append(el);
  while (shell.toasts.children.length > 2) shell.toasts.firstElementChild.remove();
  if (error) return;
  setTimeout(() => el.classList.add('leaving'), 3200);
  setTimeout(() => el.remove(), 3600);
}

/** After a page change, keyboard and screen-reader users start at the new page's heading
 * (views may draw it only when their data arrives), unless they already moved on in it. */
function focusHeading(view) {
  const focus = (heading) => {
    if (view.contains(document.activeElement) && document.activeElement !== view) return;
    heading.setAttribute('tabindex', '-1');
    heading.focus({ preventScroll: true });
  };
  const heading = view.querySelector('h1');
  if (heading) return focus(heading);
  const observer = new MutationObserver(() => {
    const drawn = view.querySelector('h1');
    if (drawn) { observer.disconnect(); focus(drawn); }
  });
  observer.observe(view, { childList: true, subtree: true });
  setTimeout(() => observer.disconnect(), 15_000);
}

function route({ focus = true } = {}) {
  if (cleanup) cleanup();
  cleanup = null;
  const path = location.pathname;
  if (!state.user && path !== '/signin') return navigate('/signin', { replace: true });
  if (state.user && path === '/signin') return navigate('/', { replace: true });
  const match = ROUTES.map(([re, view]) => [path.match(re), view]).find(([m]) => m);
  const ctx = { navigate, toast, params: match ? match[0].slice(1) : [], query: new URLSearchParams(location.search) };
  renderNav();
  window.scrollTo(0, 0);
  if (!match) {
    mount(shell.main, h('section', { class: 'card empty-state' }, h('h1', {}, t('app.not_found')), h('a', { href: '/' }, t('app.back_to_dashboard'))));
    if (focus) focusHeading(shell.main);
    return;
  }
  // A fresh container per visit: a slow request of the page we left draws into a
  // detached element instead of over the page we are on.
  const view = h('div', { class: 'view' });
  mount(shell.main, view);
  if (focus) focusHeading(view);
  const result = match[1].render(view, ctx);
  cleanup = typeof result === 'function' ? result : null;
  Promise.resolve(result).then((fn) => { if (typeof fn === 'function') cleanup = fn; }).catch(showError);
}

function showError(error) {
  if (error instanceof ApiError && error.status === 401) return signedOut();
  if (error instanceof OfflineError) return setOffline(true);
  toast(errorMessage(error), 'error');
}

// ---------------------------------------------------------------- header

const dot = h('span', { class: 'conn-dot', 'data-testid': 'conn-dot', 'data-state': 'connecting', role: 'status' });

function setDot(connection) {
  dot.dataset.state = connection;
  const text = t(`live.${connection}`);
  dot.title = text;
  dot.setAttribute('aria-label', t('live.label', { state: text }));
}

function navLinks() {
  if (!state.user) return [];
  const vendor = state.user.role === 'vendor';
  return vendor
    ? [['/', t('nav.dashboard')], ['/orders', t('nav.orders')], ['/notifications', t('nav.notifications')], ['/devices', t('nav.devices')], ['/preferences', t('nav.settings')]]
    : [['/checkout', t('nav.new_order')], ['/orders', t('nav.my_orders')], ['/notifications', t('nav.notifications')], ['/devices', t('nav.devices')], ['/preferences', t('nav.settings')]];
}

function renderNav() {
  const nav = shell.header.querySelector('nav');
  if (!nav) return;
  const here = location.pathname;
  mount(nav, navLinks().map(([href, label]) => {
    const active = href === '/' ? here === '/' : here.startsWith(href);
    return h('a', { href, class: active ? 'active' : null, 'aria-current': active ? 'page' : null }, label);
  }));
}

function renderHeader() {
  const brand = h('a', { href: '/', class: 'brand' }, h('img', { src: '/icons/icon-192.png', alt: '', width: 28, height: 28 }), h('span', {}, 'vendorbell'));
  if (!state.user) return mount(shell.header, h('div', { class: 'header-row' }, brand));
  const signOut = h('button', { class: 'link-button', type: 'button', onclick: logout }, t('app.sign_out'));
  mount(
    shell.header,
    h(
      'div',
      { class: 'header-row' },
      brand,
      h('nav', { class: 'main-nav', 'aria-label': t('nav.label') }),
      h('div', { class: 'header-tools' }, dot, createBell(navigate),
        h('div', { class: 'who' }, h('span', { class: 'who-name' }, state.user.name), h('span', { class: 'who-role' }, t(`role.${state.user.role}`)), signOut)),
    ),
  );
  renderNav();
}

let savedAt = null; // the oldest saved answer shown while offline (ms), or null
let offlineShown = false;

function setOffline(offline) {
  state.offline = offline;
  offlineShown = offline;
  if (!offline) savedAt = null;
  document.body.classList.toggle('is-offline', offline);
  const when = savedAt ? new Intl.DateTimeFormat(formatLocale(), { dateStyle: 'medium', timeStyle: 'short' }).format(savedAt) : null;
  mount(shell.banner, offline
    ? h('div', { class: 'banner banner-offline', role: 'alert', 'data-testid': 'offline-banner' },
      h('strong', {}, `${t('offline.title')} `),
      when ? t('offline.saved_at', { when }) : t('offline.saved_app'))
    : null);
  if (offline) setDot('offline');
}

// api.get answered from this device's saved copy: say so, with the copy's age.
on('showing-saved', (at) => {
  if (savedAt === null || at < savedAt) savedAt = at;
  setOffline(true);
});

// ---------------------------------------------------------------- session

// Counts that arrived over the WebSocket are newer than a REST answer to a request sent
// before them: such an answer must not put a stale badge back.
let liveCountsSeen = 0;

async function refreshCounts() {
  const before = liveCountsSeen;
  try {
    const counts = await get('/api/notifications/count');
    if (liveCountsSeen === before) setCounts(counts);
  } catch (error) {
    if (error instanceof OfflineError) setOffline(true);
  }
}

function startLive() {
  const live = new Live();
  state.live = live;
  live.addEventListener('state', (e) => {
    setDot(e.detail);
    if (e.detail === 'live' && state.offline) {
      // Back from an outage: drop the banner and redraw the page with fresh data.
      setOffline(false);
      route({ focus: false });
    }
  });
  // After any (re)connect the counts may have changed without a new notification.
  live.addEventListener('open', refreshCounts);
  live.addEventListener('notification', (e) => {
    const { notification } = e.detail;
    liveCountsSeen += 1;
    setCounts(e.detail);
    emit('notification', notification);
    if (notification.event === 'order.created') chime();
  });
  live.addEventListener('counts', (e) => {
    liveCountsSeen += 1;
    setCounts(e.detail);
    emit('remote-counts', e.detail);
  });
  live.addEventListener('unauthorized', signedOut);
  live.start();
}

function syncAppBadge({ unseen }) {
  // The app icon shows what is new since the vendor last looked (the push payload's app_badge).
  if ('setAppBadge' in navigator) (unseen ? navigator.setAppBadge(unseen) : navigator.clearAppBadge()).catch(() => {});
}

/** Redraw the whole app in another language at once (Settings' language select). */
export async function changeLocale(lang) {
  await setLocale(lang);
  if (state.user) state.user = { ...state.user, locale: lang };
  if (state.user) rememberUser(state.user);
  renderHeader();
  if (state.live) setDot(state.live.state);
  if (offlineShown) setOffline(true);
  route({ focus: false });
}

export async function signedIn(user) {
  if (user.locale && user.locale !== locale()) await setLocale(user.locale);
  const before = rememberedUser();
  if (before && before.id !== user.id) forgetAll(); // another account's saved inbox
  state.user = user;
  rememberUser(user);
  renderHeader();
  startLive();
  // The newest notification we know of: where a reconnect resumes (`since`).
  get('/api/notifications?limit=1').then((page) => {
    if (page.items[0] && state.live) state.live.seed(page.items[0].id);
  }).catch(() => null);
  await refreshCounts();
  syncSubscription();
}

async function signedOut() {
  // Signed out, the browser's language again: the sign-in page is nobody's yet.
  await setLocale(browserLocale()).catch(() => null);
  if (state.live) state.live.stop();
  state.live = null;
  state.user = null;
  rememberUser(null);
  forgetAll();
  renderHeader();
  navigate('/signin', { replace: true });
}

async function logout() {
  await post('/api/auth/logout').catch(() => null);
  signedOut();
}

// ---------------------------------------------------------------- start

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

async function start() {
  // The words come before the first render: the account's language from the last visit,
  // else the browser's; /api/me may then switch to the account's current one.
  await setLocale(rememberedUser()?.locale || browserLocale()).catch(() => null);
  registerServiceWorker();
  window.addEventListener('popstate', route);
  document.querySelector('.skip-link')?.addEventListener('click', (event) => {
    event.preventDefault(); // a #fragment would be a history entry, and a re-route
    const target = shell.main.querySelector('h1') || shell.main;
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

  try {
    const user = await get('/api/me');
    await signedIn(user);
  } catch (error) {
    if (error instanceof OfflineError && rememberedUser()) {
      state.user = rememberedUser();
      renderHeader();
      setOffline(true);
      refreshCounts(); // the saved counts: the badge as it was
      startLive(); // keeps trying; when it connects the page redraws with fresh data
    } else if (error instanceof OfflineError) {
      renderHeader();
      setOffline(true);
    } else {
      renderHeader();
    }
  }
  route();
}

start();
