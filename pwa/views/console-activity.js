// The operator's console, Activity: "why did vendor X not hear about order #12?". An
// admin searches a user (name, email, id or marketplace sub), a notification or an order;
// each notification comes with the server's sentence on top and the timeline of stored
// facts under it. The search lives in the URL, so a link to it can be shared.

import { get, query } from '../api.js';
import { h, mount } from '../dom.js';
import { typeLabel } from '../format.js';
import { formatLocale, t } from '../i18n.js';
import { declaredTypes } from '../kinds.js';
import { errorMessage } from '../messages.js';
import { state } from '../state.js';
import { browserTimeZone } from '../time-zone.js';

const PAGE = 20;
const SEARCH_BY = ['q', 'notification', 'order'];

function when(iso) {
  if (!iso) return t('console.time_unknown');
  return new Intl.DateTimeFormat(formatLocale(), { dateStyle: 'medium', timeStyle: 'medium' }).format(new Date(iso));
}

/** What the URL asks: one of q / notification / order, and the filters. */
function readSearch(params) {
  const by = SEARCH_BY.find((key) => params.get(key)) || 'q';
  return { by, term: params.get(by) || '', failedOnly: params.get('failed_only') === 'true', type: params.get('type') || '' };
}

function searchForm(search, navigate) {
  const by = h('select', { name: 'by', 'aria-label': t('console.search_by') },
    SEARCH_BY.map((key) => h('option', { value: key, selected: key === search.by }, t(`console.by.${key}`))));
  const term = h('input', { type: 'search', name: 'term', value: search.term, required: true, maxlength: 320, autocomplete: 'off', 'aria-label': t('console.search_label'), placeholder: t('console.search_placeholder') });
  const option = (value) => h('option', { value, selected: value === search.type }, typeLabel(value));
  const all = () => h('option', { value: '' }, t('notifications.all_types'));
  const type = h('select', { name: 'type', 'aria-label': t('console.filter_type') },
    all(), search.type ? option(search.type) : null);
  // The types the server declares (server/notifications/types.py), in its order; offline,
  // the chosen one stays.
  declaredTypes().then((types) => type.replaceChildren(all(), ...types.map(option))).catch(() => null);
  const failed = h('input', { type: 'checkbox', role: 'switch', class: 'switch', name: 'failed_only', checked: search.failedOnly });
  const form = h('form', { class: 'card console-search', role: 'search' },
    h('div', { class: 'console-search-row' }, by, term, h('button', { class: 'button primary', type: 'submit' }, t('console.search'))),
    h('div', { class: 'console-search-row' }, type, h('label', { class: 'switch-row compact' }, failed, h('span', {}, t('console.failed_only')))));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const value = term.value.trim();
    if (!value) return;
    navigate(`/console/activity${query({ [by.value]: value, type: type.value, failed_only: failed.checked ? 'true' : '' })}`);
  });
  return form;
}

function details(event) {
  const parts = [];
  const device = event.device;
  if (device && device.known && device.service) parts.push(t('console.via', { service: device.service }));
  if (device && !device.known) parts.push(t('console.device_removed'));
  if (event.status_code) parts.push(t('console.status_code', { code: event.status_code }));
  if (event.attempts) parts.push(t('console.attempts', { count: event.attempts }));
  if (event.latency_ms !== null && event.latency_ms !== undefined) parts.push(t('console.latency', { ms: event.latency_ms }));
  if (event.next_retry_at) parts.push(t('console.next_try', { when: when(event.next_retry_at) }));
  return parts;
}

const BAD = new Set(['failed', 'expired', 'no_push']);
const GOOD = new Set(['delivered', 'sent', 'push_now', 'clicked', 'read', 'shown']);

function timelineItem(event) {
  const tone = BAD.has(event.status) ? 'bad' : GOOD.has(event.status) ? 'good' : event.status === 'held' || event.status === 'queued' ? 'wait' : '';
  const extra = details(event);
  return h('li', { class: `timeline-event${tone ? ` ${tone}` : ''}`, dataset: { kind: event.kind, status: event.status || '' } },
    h('time', { class: 'muted small', datetime: event.at || '' }, when(event.at)),
    h('div', { class: 'timeline-text' }, event.text),
    extra.length ? h('div', { class: 'muted small' }, extra.join(' · ')) : null,
    event.error ? h('div', { class: 'timeline-error small' }, event.error) : null);
}

function notificationCard(item) {
  return h('article', { class: 'card activity-item', 'data-testid': 'activity-item', dataset: { id: item.id } },
    h('div', { class: 'activity-head' },
      h('span', { class: 'pill' }, typeLabel(item.type)),
      item.failed ? h('span', { class: 'pill activity-failed' }, t('console.failed')) : null,
      h('span', { class: 'muted small' }, `#${item.id} · ${item.event} · ${when(item.created_at)}`)),
    h('h2', { class: 'activity-title' }, item.title),
    h('p', { class: 'activity-sentence', 'data-testid': 'activity-sentence' }, item.sentence),
    h('ol', { class: 'timeline', 'aria-label': t('console.timeline') }, item.timeline.map(timelineItem)));
}

function whoCard(user) {
  return h('p', { class: 'activity-who', 'data-testid': 'activity-who' },
    h('strong', {}, user.name), ` · ${user.email} · ${t(`role.${user.role}`)} · ${t('console.user_id', { id: user.id })}`,
    user.sub ? ` · ${t('console.sub', { sub: user.sub })}` : '');
}

function matchList(matches, navigate) {
  return h('section', { class: 'card' }, h('h2', {}, t('console.several')),
    h('ul', { class: 'activity-matches' }, matches.map((user) => h('li', {},
      h('button', { class: 'button ghost', type: 'button', onclick: () => navigate(`/console/activity${query({ q: user.id })}`) },
        `${user.name} · ${user.email} · ${t(`role.${user.role}`)}`)))));
}

function adminsOnly(main) {
  mount(main, h('section', { class: 'card empty-state', 'data-testid': 'console-refused' },
    h('h1', {}, t('console.admins_only')), h('a', { href: '/' }, t('app.back_to_dashboard'))));
}

export function render(main, { query: params, navigate }) {
  if (!state.user || state.user.role !== 'admin') return adminsOnly(main);
  const search = readSearch(params);
  const results = h('div', { class: 'activity-results', 'aria-live': 'polite' });
  const more = h('button', { class: 'button ghost wide', type: 'button', hidden: true, onclick: () => load() }, t('console.load_more'));
  mount(main,
    h('div', { class: 'page-head' }, h('div', {}, h('h1', {}, t('console.activity_title')), h('p', { class: 'muted' }, t('console.activity_intro')))),
    searchForm(search, navigate), results, more);
  if (!search.term) return undefined;

  let cursor = null;
  let drawnUser = false;
  let loading = false;
  async function load() {
    if (loading) return;
    loading = true;
    more.disabled = true;
    const first = cursor === null;
    if (first) mount(results, h('p', { class: 'muted' }, t('common.loading')));
    try {
      const page = await get(`/api/admin/activity${query({
        [search.by]: search.term, type: search.type, failed_only: search.failedOnly ? 'true' : '', limit: PAGE, cursor, tz: browserTimeZone(),
      })}`);
      if (first) results.replaceChildren();
      if (page.matches.length > 1) {
        mount(results, matchList(page.matches, navigate));
        more.hidden = true;
        return;
      }
      if (page.user && !drawnUser) { results.append(whoCard(page.user)); drawnUser = true; }
      if (first && !page.items.length) results.append(h('p', { class: 'card empty' }, t('console.none')));
      results.append(...page.items.map(notificationCard));
      cursor = page.next_cursor;
      more.hidden = !cursor;
    } catch (error) {
      mount(results, h('p', { class: 'card form-error', role: 'alert' }, errorMessage(error)));
      more.hidden = true;
    } finally {
      loading = false;
      more.disabled = false;
    }
  }
  load();
  return undefined;
}
