// The operator's console, Health (admins only): each push service's last hour and day
// as a small bar (what share it accepted, what it refused or never answered), the
// outboxes with a stuck one marked in words as well as red, and the workers' heartbeats.
// It reloads itself every REFRESH_MS while shown.

import { ApiError, get } from '../api.js';
import { ago, dateTime, number } from '../format.js';
import { h, mount } from '../dom.js';
import { t } from '../i18n.js';
import { errorMessage } from '../messages.js';
import { duration, percent } from './analytics.js';

const SVG = 'http://www.w3.org/2000/svg';
const REFRESH_MS = 15_000;
// The parts of a window's POSTs, drawn left to right; "other" is every refusal that is
// none of these (a 404/410 for a gone device, a 400).
const PARTS = ['delivered', 'rate_limited', 'server_errors', 'timeouts', 'other'];
const QUEUE_COLUMNS = ['pending', 'in_flight', 'delayed', 'oldest', 'state'];

function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) if (value !== null && value !== undefined) el.setAttribute(key, String(value));
  for (const child of children) el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return el;
}

function parts(window) {
  const counted = window.delivered + window.rate_limited + window.server_errors + window.timeouts;
  return { ...window, other: Math.max(0, window.sent - counted) };
}

function ms(value) {
  return value === null || value === undefined ? '—' : `${number(Math.round(value))} ms`;
}

/** One window's POSTs as a bar split by outcome (its own width is 100 %: the share, not
 * the volume, is what tells a healthy service from a failing one). */
function bar(window, label) {
  const split = parts(window);
  const desc = t('console.push.chart_desc', {
    label, sent: window.sent, delivered: window.delivered, rate_limited: window.rate_limited,
    server_errors: window.server_errors, timeouts: window.timeouts,
  });
  const root = svg('svg', { class: 'health-bar', viewBox: '0 0 100 10', preserveAspectRatio: 'none', role: 'img', 'aria-label': desc });
  if (!window.sent) {
    root.append(svg('rect', { class: 'bar-empty', x: 0, y: 0, width: 100, height: 10 }));
    return root;
  }
  let x = 0;
  for (const key of PARTS) {
    const width = (100 * split[key]) / window.sent;
    if (width > 0) root.append(svg('rect', { class: `bar-${key.replace('_', '-')}`, x: x.toFixed(3), y: 0, width: width.toFixed(3), height: 10, 'data-part': key, 'data-value': split[key] }));
    x += width;
  }
  return root;
}

function windowRow(window, label, testid) {
  const figures = window.sent
    ? [
      t('console.push.sent', { count: window.sent }),
      t('console.push.delivered', { percent: percent(window.delivered_percent / 100) }),
      t('console.push.latency', { p50: ms(window.p50_ms), p99: ms(window.p99_ms) }),
      t('console.push.errors', { rate_limited: number(window.rate_limited), server_errors: number(window.server_errors), timeouts: number(window.timeouts) }),
    ].join(' · ')
    : t('console.push.nothing_sent');
  return h('div', { class: 'health-window', 'data-testid': testid },
    h('div', { class: 'health-window-head' }, h('span', { class: 'health-window-label' }, label), h('span', { class: 'muted small' }, figures)),
    bar(window, label));
}

function circuit(service) {
  const state = service.circuit;
  const text = state === 'open' && service.next_try_at
    ? `${t(`console.circuit.${state}`)} · ${t('console.circuit.next_try', { time: dateTime(service.next_try_at) })}`
    : t(`console.circuit.${state}`);
  return h('span', { class: `pill circuit-${state.replace('_', '-')}`, 'data-testid': 'circuit' }, text);
}

function serviceBlock(service) {
  return h('li', { class: 'health-service', 'data-service': service.service },
    h('div', { class: 'health-service-head' }, h('strong', { class: 'health-service-name' }, service.service), circuit(service)),
    windowRow(service.last_hour, t('console.push.hour'), 'last-hour'),
    windowRow(service.last_day, t('console.push.day'), 'last-day'));
}

function kept(days, oldest) {
  return h('p', { class: 'muted small' }, oldest
    ? t('console.kept_since', { count: days, date: dateTime(oldest) })
    : t('console.kept', { count: days }));
}

function pushCard(data) {
  const legend = h('ul', { class: 'legend health-legend', 'aria-hidden': 'true' },
    PARTS.map((key) => h('li', {}, h('span', { class: `swatch bar-${key.replace('_', '-')}` }), t(`console.part.${key}`))));
  return h('section', { class: 'card', 'data-testid': 'push-services' },
    h('h2', {}, t('console.push.title')),
    data.services.length
      ? [h('ul', { class: 'health-services' }, data.services.map(serviceBlock)), legend]
      : h('p', { class: 'muted' }, t('console.push.none')),
    kept(data.retention_days, data.oldest_kept_at));
}

function queueRow(queue) {
  const cells = {
    pending: number(queue.pending),
    in_flight: number(queue.in_flight),
    delayed: number(queue.delayed),
    oldest: duration(queue.oldest_pending_seconds),
    state: queue.stuck
      ? h('span', { class: 'queue-state stuck' }, `⚠ ${t('console.queues.stuck')}`)
      : h('span', { class: 'queue-state' }, t('console.queues.ok')),
  };
  return h('tr', { class: queue.stuck ? 'queue-stuck' : null, 'data-queue': queue.name, 'data-stuck': String(queue.stuck) },
    h('th', { scope: 'row' }, t(`console.queue.${queue.name}`)),
    QUEUE_COLUMNS.map((key) => h('td', { 'data-label': t(`console.queues.col.${key}`) }, cells[key])));
}

function queuesCard(data) {
  const stuck = data.queues.filter((q) => q.stuck);
  return h('section', { class: 'card', 'data-testid': 'queues' },
    h('h2', {}, t('console.queues.title')),
    stuck.length
      ? h('p', { class: 'health-alert', role: 'alert' }, t('console.queues.stuck_hint', { count: Math.round(data.stuck_after_seconds / 60) }))
      : null,
    h('table', { class: 'queue-table' },
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('console.queues.col.queue')), QUEUE_COLUMNS.map((key) => h('th', { scope: 'col' }, t(`console.queues.col.${key}`))))),
      h('tbody', {}, data.queues.map(queueRow))),
    kept(data.retention_days, oldestOf(data.queues.map((q) => q.oldest_kept_at))));
}

function oldestOf(dates) {
  const known = dates.filter(Boolean).sort((a, b) => new Date(a) - new Date(b));
  return known[0] || null;
}

function workersCard(data) {
  const alive = data.workers.filter((w) => w.alive).length;
  return h('section', { class: 'card', 'data-testid': 'workers' },
    h('h2', {}, t('console.workers.title')),
    alive ? null : h('p', { class: 'health-alert', role: 'alert' }, t('console.workers.none')),
    data.workers.length
      ? h('ul', { class: 'health-workers' }, data.workers.map((worker) => h('li', { 'data-worker': worker.name },
        h('div', { class: 'health-service-head' }, h('strong', { class: 'health-service-name' }, worker.name),
          h('span', { class: `pill ${worker.alive ? 'worker-alive' : 'worker-silent'}` }, t(worker.alive ? 'console.workers.alive' : 'console.workers.silent'))),
        h('p', { class: 'muted small' }, [
          t('console.workers.role', { role: worker.role }),
          t('console.workers.beat', { ago: ago(worker.beat_at) }),
          worker.loops.join(', '),
        ].join(' · ')))))
      : null);
}

export async function render(view) {
  const body = h('div', {}, h('p', { class: 'muted' }, t('console.loading')));
  mount(view, h('h1', {}, t('console.health.title')), body);
  let timer = null;
  let stopped = false;
  const load = async (first = false) => {
    try {
      const [services, queues] = await Promise.all([get('/api/admin/push-services'), get('/api/admin/queues')]);
      if (stopped) return;
      mount(body, queuesCard(queues), workersCard(queues), pushCard(services),
        h('p', { class: 'muted small' }, t('console.updated', { time: dateTime(queues.generated_at) })));
    } catch (error) {
      if (stopped) return;
      // Signed out, or offline at the first load: the app's own handling (router).
      if (first && error instanceof ApiError && (error.status === 401 || error.status === 0)) throw error;
      if (error instanceof ApiError && error.status === 403) {
        mount(body, h('section', { class: 'card empty-state' }, h('p', {}, t('console.admin_only'))));
        return; // no point asking again
      }
      mount(body, h('p', { class: 'form-error', role: 'alert' }, errorMessage(error)));
    }
    if (!stopped) timer = setTimeout(load, REFRESH_MS);
  };
  await load(true);
  return () => { stopped = true; clearTimeout(timer); };
}
