// Engagement on the dashboard: notifications received and read per day for the last 14
// days, with pushes delivered when any were sent (a dependency-free SVG chart), the
// figures the server computed, and how the vendor's orders were answered. It redraws
// itself (debounced) while live notifications and counts arrive.

import { get, query } from '../api.js';
import { number } from '../format.js';
import { h, mount } from '../dom.js';
import { formatLocale, t } from '../i18n.js';
import { errorMessage } from '../messages.js';
import { on } from '../state.js';
import { browserTimeZone } from '../time-zone.js';

const SVG = 'http://www.w3.org/2000/svg';
const DAYS = 14;
// A vendor without a device still sees the inbox's figures; pushes only when there were any.
const BASE_SERIES = ['notifications', 'read'];
const PUSH_SERIES = ['notifications', 'delivered', 'read'];
const seriesOf = (totals) => (totals.sent ? PUSH_SERIES : BASE_SERIES);
const REFRESH_DELAY = 1000; // live events in a burst cost one summary request
const seriesName = (key) => t(`analytics.series.${key}`);
// Chart geometry in viewBox units; the SVG scales to the card's width, so a phone gets a
// narrower box (text stays readable) and fewer day labels.
const PAD = { top: 12, right: 8, bottom: 26, left: 34 };

let uid = 0;

function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) if (value !== null && value !== undefined) el.setAttribute(key, String(value));
  for (const child of children) el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return el;
}

/** YYYY-MM-DD of a local date (the server's by_day dates are local days in `tz`). */
function isoDay(date) {
  const pad = (n) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/** The last DAYS local days, oldest first, and the range that covers them exactly. */
export function window14(now = new Date()) {
  const days = [];
  for (let i = DAYS - 1; i >= 0; i -= 1) days.push(new Date(now.getFullYear(), now.getMonth(), now.getDate() - i));
  const to = new Date(now.getFullYear(), now.getMonth(), now.getDate() + 1);
  return { days, from: days[0], to };
}

export function percent(ratio) {
  if (ratio === null || ratio === undefined) return '—';
  return new Intl.NumberFormat(formatLocale(), { style: 'percent', maximumFractionDigits: 1 }).format(ratio);
}

export function duration(seconds) {
  if (seconds === null || seconds === undefined) return '—';
  const s = Math.round(seconds);
  const unit = (value, name) => new Intl.NumberFormat(formatLocale(), { style: 'unit', unit: name, unitDisplay: 'short' }).format(value);
  if (s < 60) return unit(s, 'second');
  const minutes = Math.round(s / 60);
  if (minutes < 60) return unit(minutes, 'minute');
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return minutes % 60 ? `${unit(hours, 'hour')} ${unit(minutes % 60, 'minute')}` : unit(hours, 'hour');
  return t('analytics.days', { count: Math.round(hours / 24) });
}

function niceMax(value) {
  if (value <= 4) return 4;
  const step = 10 ** Math.floor(Math.log10(value));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * step >= value) return m * step;
  return 10 * step;
}

/** The horizontal lines at 0, half and the top, with their figures. */
function chartGrid({ W, max, y }) {
  const grid = svg('g', { class: 'chart-grid', 'aria-hidden': 'true' });
  for (const v of [0, max / 2, max]) {
    grid.append(svg('line', { x1: PAD.left, x2: W - PAD.right, y1: y(v), y2: y(v) }),
      svg('text', { x: PAD.left - 6, y: y(v) + 4, 'text-anchor': 'end' }, new Intl.NumberFormat(formatLocale(), { maximumFractionDigits: 1 }).format(v)));
  }
  return grid;
}

/** A group per day: its title, a bar per series, and (some days) the date below. */
function dayBars(rows, series, { H, slot, barW, plotH, every, y, dayLabel }) {
  const bars = svg('g', { class: 'chart-bars' });
  rows.forEach(({ date, figures }, i) => {
    const x0 = PAD.left + i * slot + (slot - barW * series.length) / 2;
    const label = `${dayLabel.format(date)}: ${series.map((key) => t(`analytics.count.${key}`, { count: figures[key] || 0 })).join(', ')}`;
    const group = svg('g', { class: 'chart-day', 'data-date': isoDay(date) }, svg('title', {}, label));
    series.forEach((key, k) => {
      const value = figures[key] || 0;
      const top = y(value);
      group.append(svg('rect', { class: `bar bar-${key}`, x: (x0 + k * barW).toFixed(2), y: top.toFixed(2), width: (barW - 1).toFixed(2), height: Math.max(0, PAD.top + plotH - top).toFixed(2), 'data-value': value }));
    });
    // Every 2nd (phone: 3rd) day labelled, always today, so labels never collide.
    if ((rows.length - 1 - i) % every === 0) {
      group.append(svg('text', { class: 'chart-x', x: (PAD.left + i * slot + slot / 2).toFixed(2), y: H - 8, 'text-anchor': 'middle', 'aria-hidden': 'true' }, dayLabel.format(date)));
    }
    bars.append(group);
  });
  return bars;
}

function chart(days, byDay, totals) {
  const series = seriesOf(totals);
  const id = `chart-${++uid}`;
  const narrow = matchMedia('(max-width: 640px)').matches;
  const W = narrow ? 360 : 760;
  const H = narrow ? 220 : 210;
  const every = narrow ? 3 : 2;
  const dayLabel = new Intl.DateTimeFormat(formatLocale(), { month: 'short', day: 'numeric' });
  const rows = days.map((date) => ({ date, figures: byDay.get(isoDay(date)) || {} }));
  const max = niceMax(Math.max(1, ...rows.flatMap((r) => series.map((key) => r.figures[key] || 0))));
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const slot = plotW / rows.length;
  const barW = Math.max(2, (slot * 0.78) / series.length);
  const y = (v) => PAD.top + plotH - (v / max) * plotH;

  const title = t('analytics.per_day', { count: DAYS });
  const desc = t('analytics.chart_desc', {
    notifications: totals.notifications, read: totals.read, delivered: totals.delivered, sent: totals.sent, from: dayLabel.format(days[0]), to: dayLabel.format(days[days.length - 1]),
  });
  const root = svg('svg', {
    class: 'chart', viewBox: `0 0 ${W} ${H}`, role: 'img', preserveAspectRatio: 'xMidYMid meet',
    'aria-labelledby': `${id}-title ${id}-desc`, 'data-testid': 'engagement-chart',
  }, svg('title', { id: `${id}-title` }, title), svg('desc', { id: `${id}-desc` }, desc));

  root.append(chartGrid({ W, max, y }), dayBars(rows, series, { H, slot, barW, plotH, every, y, dayLabel }));
  return root;
}

/** The chart's numbers for screen readers (an img role hides the SVG's parts). */
function table(days, byDay, series) {
  const dayLabel = new Intl.DateTimeFormat(formatLocale(), { month: 'short', day: 'numeric' });
  // Hidden inside a div: a table grows to its content whatever its width (and would
  // widen a phone's page in a longer language).
  return h('div', { class: 'visually-hidden' }, h('table', {},
    h('caption', {}, t('analytics.per_day', { count: DAYS })),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('analytics.day')), series.map((key) => h('th', { scope: 'col' }, seriesName(key))))),
    h('tbody', {}, days.map((date) => {
      const figures = byDay.get(isoDay(date)) || {};
      return h('tr', {}, h('th', { scope: 'row' }, dayLabel.format(date)), series.map((key) => h('td', {}, String(figures[key] || 0))));
    }))));
}

function figure(label, value, testid, hint) {
  return h('div', { class: 'figure', 'data-testid': testid },
    h('span', { class: 'figure-value' }, value), h('span', { class: 'figure-label' }, label),
    hint ? h('span', { class: 'muted small' }, hint) : null);
}

/** The vendor's orders in the range, in one line: how fast and how surely they were
 * answered. Only figures that say something: no median without an accepted order, and
 * orders still waiting apart from those that ended unaccepted. */
function orderFigures(s) {
  if (!s.orders_received) return null;
  const parts = [
    s.median_seconds_to_accept == null ? null : t('analytics.fig.median', { median: duration(s.median_seconds_to_accept) }),
    s.orders_reminded ? t('analytics.fig.reminded', { count: s.orders_reminded }) : null,
    s.orders_emailed ? t('analytics.fig.emailed', { count: s.orders_emailed }) : null,
    s.orders_waiting ? t('analytics.fig.waiting', { count: s.orders_waiting }) : null,
    s.orders_never_accepted ? t('analytics.fig.never', { count: s.orders_never_accepted }) : null,
  ].filter(Boolean);
  return h('p', { class: 'muted small order-figures', 'data-testid': 'order-figures' },
    h('strong', {}, t('analytics.orders', { count: s.orders_received })),
    parts.map((part) => ` · ${part}`).join(''));
}

function figures(totals) {
  return h('div', { class: 'figures' },
    figure(t('analytics.ctr'), percent(totals.ctr), 'figure-ctr', t('analytics.ctr_hint', { clicked: totals.clicked, reached: totals.reached })),
    figure(t('analytics.median_read'), duration(totals.median_seconds_to_read), 'figure-read', t('analytics.read_count', { count: totals.read })),
    figure(t('analytics.delivered'), `${number(totals.delivered)} / ${number(totals.sent)}`, 'figure-delivered', t('analytics.delivered_hint')),
    figure(t('analytics.failed_expired'), `${number(totals.failed)} / ${number(totals.expired)}`, 'figure-failed', totals.queued ? t('analytics.queued', { count: totals.queued }) : null));
}

/** The card's body for a summary: figures, orders, the chart, its table and legend. */
function summaryParts(summary, days) {
  const series = seriesOf(summary.totals);
  const byDay = new Map(summary.by_day.map((d) => [d.date, d]));
  const totals = summary.totals;
  return [
    figures(totals),
    orderFigures(summary),
    chart(days, byDay, totals),
    table(days, byDay, series),
    h('ul', { class: 'legend', 'aria-hidden': 'true' }, series.map((key) => h('li', {}, h('span', { class: `swatch bar-${key}` }), seriesName(key)))),
    totals.notifications ? null : h('p', { class: 'muted small' }, t('analytics.no_notifications')),
    totals.notifications && !totals.delivered ? h('p', { class: 'muted small', 'data-testid': 'no-pushes' }, t('analytics.no_pushes')) : null,
  ];
}

/** The card; it loads itself, and again (debounced) on each live notification or counts
 * change while it is shown. Returns the card and `stop` (call it when the view unmounts). */
export function engagementCard() {
  const body = h('div', {}, h('p', { class: 'muted' }, t('analytics.loading')));
  const card = h('section', { class: 'card engagement', 'data-testid': 'engagement' },
    h('div', { class: 'card-head' }, h('h2', {}, t('analytics.title')), h('span', { class: 'muted small' }, t('analytics.last_days', { count: DAYS }))),
    body);

  let generation = 0; // only the newest request may draw
  async function load() {
    const mine = ++generation;
    const { days, from, to } = window14();
    const tz = browserTimeZone();
    let summary;
    try {
      summary = await get(`/api/analytics/summary${query({ from: from.toISOString(), to: to.toISOString(), tz })}`);
    } catch (error) {
      if (mine === generation) mount(body, h('p', { class: 'muted' }, errorMessage(error)));
      return;
    }
    if (mine !== generation) return;
    mount(body, summaryParts(summary, days));
  }

  let timer = null;
  const refresh = () => {
    clearTimeout(timer);
    timer = setTimeout(load, REFRESH_DELAY);
  };
  const offs = [on('notification', refresh), on('counts', refresh)];
  const stop = () => {
    clearTimeout(timer);
    offs.forEach((off) => off());
  };

  load();
  return { card, stop };
}
