// The connection: the live dot in the header, the offline banner, the live channel and
// the inbox counts it keeps current.

import { get, OfflineError } from './api.js';
import { h, mount } from './dom.js';
import { Live } from './live.js';
import { formatLocale, t } from './i18n.js';
import { route } from './router.js';
import { chime } from './sound.js';
import { emit, on, setCounts, state } from './state.js';

export const dot = h('span', { class: 'conn-dot', 'data-testid': 'conn-dot', 'data-state': 'connecting', role: 'status' });

export function setDot(connection) {
  dot.dataset.state = connection;
  const text = t(`live.${connection}`);
  dot.title = text;
  dot.setAttribute('aria-label', t('live.label', { state: text }));
}

let savedAt = null; // the oldest saved answer shown while offline (ms), or null
let offlineShown = false;

export function setOffline(offline) {
  state.offline = offline;
  offlineShown = offline;
  if (!offline) savedAt = null;
  document.body.classList.toggle('is-offline', offline);
  const when = savedAt ? new Intl.DateTimeFormat(formatLocale(), { dateStyle: 'medium', timeStyle: 'short' }).format(savedAt) : null;
  mount(document.getElementById('banner'), offline
    ? h('div', { class: 'banner banner-offline', role: 'alert', 'data-testid': 'offline-banner' },
      h('strong', {}, `${t('offline.title')} `),
      when ? t('offline.saved_at', { when }) : t('offline.saved_app'))
    : null);
  if (offline) setDot('offline');
}

/** The dot and the banner again, in the language just chosen. */
export function retranslateConnection() {
  if (state.live) setDot(state.live.state);
  if (offlineShown) setOffline(true);
}

// api.get answered from this device's saved copy: say so, with the copy's age.
on('showing-saved', (at) => {
  if (savedAt === null || at < savedAt) savedAt = at;
  setOffline(true);
});

// Counts that arrived over the WebSocket are newer than a REST answer to a request sent
// before them: such an answer must not put a stale badge back.
let liveCountsSeen = 0;

export async function refreshCounts() {
  const before = liveCountsSeen;
  try {
    const counts = await get('/api/notifications/count');
    if (liveCountsSeen === before) setCounts(counts);
  } catch (error) {
    if (error instanceof OfflineError) setOffline(true);
  }
}

function liveCounts(detail) {
  liveCountsSeen += 1;
  setCounts(detail);
}

/** Open the live channel; `onUnauthorized` runs when the server no longer knows the session. */
export function startLive({ onUnauthorized }) {
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
    liveCounts(e.detail);
    emit('notification', notification);
    if (notification.event === 'order.created') chime();
  });
  live.addEventListener('counts', (e) => {
    liveCounts(e.detail);
    emit('remote-counts', e.detail);
  });
  live.addEventListener('unauthorized', onUnauthorized);
  live.start();
}
