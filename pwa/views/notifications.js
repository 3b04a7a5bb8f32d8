// Every notification: filter by type and read state, load more, mark read.

import { get, post, query } from '../api.js';
import { h, mount } from '../dom.js';
import { t } from '../i18n.js';
import { errorMessage } from '../messages.js';
import { typeLabel } from '../format.js';
import { declaredTypes } from '../kinds.js';
import { notificationRow, openNotification } from '../inbox.js';
import { on, setCounts } from '../state.js';

const PAGE = 20;

async function markAllRead({ toast, reload }) {
  try {
    await post('/api/notifications/mark-all-read');
    setCounts({ unread: 0, unseen: 0 });
    reload();
    toast(t('notifications.all_marked_read'), 'success');
  } catch (error) {
    toast(errorMessage(error), 'error');
  }
}

function chip(label, active, href) {
  return h('a', { class: `chip${active ? ' active' : ''}`, href, 'aria-current': active ? 'true' : null }, label);
}

/** The type and read-state chips: links to this page with the filter changed. `types` are
 * the server's (kinds.js); until they are known, the chosen one alone stands for them. */
function filters(type, status, types) {
  const link = (changes) => `/notifications${query({ type, status: status === 'all' ? '' : status, ...changes })}`;
  const shown = types ?? (type ? [type] : []);
  return h('div', { class: 'filters' },
    h('div', { class: 'chips', 'aria-label': t('notifications.filter_type'), 'data-testid': 'type-chips' },
      chip(t('notifications.all_types'), !type, link({ type: '' })),
      shown.map((value) => chip(typeLabel(value), type === value, link({ type: value })))),
    h('div', { class: 'chips', 'aria-label': t('notifications.filter_read') },
      chip(t('notifications.all'), status === 'all', link({ status: '' })),
      chip(t('notifications.unread'), status === 'unread', link({ status: 'unread' })),
      chip(t('notifications.read'), status === 'read', link({ status: 'read' }))));
}

export function render(main, { query: params, navigate, toast }) {
  const type = params.get('type') || '';
  const status = params.get('status') || 'all';
  const list = h('ul', { class: 'note-list', 'data-testid': 'notification-list' });
  const more = h('button', { class: 'button ghost wide', type: 'button', hidden: true, onclick: () => load() }, t('notifications.load_more'));
  let cursor = null;
  let items = [];

  function draw() {
    if (!items.length) {
      return mount(list, h('li', { class: 'empty' }, status === 'unread' ? t('notifications.caught_up') : t('notifications.none_match')));
    }
    mount(list, items.map((n) => notificationRow(n, { onOpen: (x) => openNotification(x, navigate) })));
  }

  let generation = 0; // a reload supersedes pages still in flight
  async function load(reset = false) {
    if (reset) { cursor = null; items = []; generation += 1; }
    const mine = generation;
    try {
      const page = await get(`/api/notifications${query({ type, status, limit: PAGE, cursor })}`);
      if (mine !== generation) return;
      items = items.concat(page.items.filter((n) => !items.some((x) => x.id === n.id)));
      cursor = page.next_cursor;
      more.hidden = !cursor;
      draw();
    } catch (error) {
      mount(list, h('li', { class: 'empty' }, errorMessage(error)));
    }
  }

  let chips = filters(type, status, null);
  mount(main,
    h('div', { class: 'page-head' }, h('h1', {}, t('notifications.title')),
      h('button', { class: 'button', type: 'button', onclick: () => markAllRead({ toast, reload: () => load(true) }) }, t('bell.mark_all_read'))),
    chips,
    h('section', { class: 'card flush' }, list, more));
  load(true);
  let alive = true;
  // Without the list (offline, say) the page still works: "All" and the chosen type.
  declaredTypes().then((types) => {
    if (!alive) return;
    const drawn = filters(type, status, types);
    chips.replaceWith(drawn);
    chips = drawn;
  }).catch(() => {});
  const offs = [
    on('notification', (n) => {
      if ((!type || n.type === type) && status !== 'read') { items = [n, ...items.filter((x) => x.id !== n.id)]; draw(); }
    }),
    on('remote-counts', () => load(true)),
  ];
  return () => { alive = false; offs.forEach((off) => off()); };
}
