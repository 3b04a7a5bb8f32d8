// The bell: red unread badge, a dropdown of the latest notifications, mark all read.

import { get, post } from './api.js';
import { h, icon, mount } from './dom.js';
import { t } from './i18n.js';
import { notificationRow, openNotification } from './inbox.js';
import { on, setCounts, state } from './state.js';

const LATEST = 8;

/** The button with its badge, and the panel it opens (hidden). */
function bellParts({ markAllRead, seeAll }) {
  const badge = h('span', { class: 'bell-badge', 'data-testid': 'bell-badge', hidden: true });
  const button = h(
    'button',
    { class: 'icon-button bell-button', type: 'button', 'aria-haspopup': 'dialog', 'aria-expanded': 'false', 'aria-controls': 'bell-dropdown', 'data-testid': 'bell' },
    icon('bell', 22),
    badge,
  );
  const list = h('ul', { class: 'dropdown-list', 'data-testid': 'dropdown-list' });
  const markAll = h('button', { class: 'link-button', type: 'button', onclick: () => markAllRead() }, t('bell.mark_all_read'));
  const panel = h(
    'div',
    { class: 'dropdown', id: 'bell-dropdown', role: 'dialog', 'aria-label': t('bell.latest'), 'data-testid': 'dropdown', hidden: true },
    h('div', { class: 'dropdown-head' }, h('strong', {}, t('bell.title')), markAll),
    list,
    h('a', { href: '/notifications', class: 'dropdown-foot', onclick: (e) => { e.preventDefault(); seeAll(); } }, t('bell.see_all')),
  );
  return { badge, button, list, markAll, panel, root: h('div', { class: 'bell' }, button, panel) };
}

function drawBadge({ badge, button, markAll }, { unread }) {
  badge.hidden = unread === 0;
  badge.textContent = unread > 99 ? '99+' : String(unread);
  button.setAttribute('aria-label', unread ? t('bell.label_unread', { count: unread }) : t('bell.title'));
  markAll.disabled = unread === 0;
}

/** The latest notifications (null: still loading); `onOpen(notification)` opens one. */
function drawList(list, items, onOpen) {
  if (items === null) return mount(list, h('li', { class: 'empty' }, t('common.loading')));
  if (!items.length) return mount(list, h('li', { class: 'empty' }, t('bell.empty')));
  mount(list, items.map((n) => notificationRow(n, { compact: true, onOpen })));
}

/** Below the bell, as far right as it goes, but always whole inside the viewport: on a
 * phone the bell is not at the screen's right edge ("Sign out" is), so a panel aligned
 * with the bell would start left of the screen. */
function place(panel, button) {
  const margin = 8;
  const viewport = document.documentElement.clientWidth;
  const bell = button.getBoundingClientRect();
  const width = Math.min(380, viewport - 2 * margin);
  const left = Math.min(Math.max(margin, bell.right + margin - width), viewport - margin - width);
  panel.style.width = `${width}px`;
  panel.style.left = `${left}px`;
  panel.style.top = `${bell.bottom + margin}px`;
}

/** A click outside or Escape closes the panel; a resized window places it again. */
function listenAround({ root, panel, button }, { open, close }) {
  button.addEventListener('click', () => (panel.hidden ? open() : close()));
  document.addEventListener('click', (event) => { if (!root.contains(event.target)) close(); });
  document.addEventListener('keydown', (event) => { if (event.key === 'Escape' && !panel.hidden) close({ refocus: true }); });
  window.addEventListener('resize', () => { if (!panel.hidden) place(panel, button); });
}

export function createBell(navigate) {
  let items = null; // loaded on first open, then kept current by live events
  const parts = bellParts({ markAllRead: () => markAllRead(), seeAll: () => { close(); navigate('/notifications'); } });
  const { button, list, panel } = parts;
  const renderList = () => drawList(list, items, openItem);

  async function openItem(notification) {
    close();
    await openNotification(notification, navigate);
    renderList();
  }

  async function load() {
    const page = await get(`/api/notifications?limit=${LATEST}`).catch(() => null);
    items = page ? page.items : items || [];
    renderList();
  }

  async function open() {
    panel.hidden = false;
    place(panel, button);
    button.setAttribute('aria-expanded', 'true');
    renderList();
    await load();
    // Opening the dropdown means the vendor has seen what is new: clears the app icon badge.
    if (state.counts.unseen) post('/api/notifications/mark-all-seen').catch(() => null);
  }

  function close({ refocus = false } = {}) {
    if (panel.hidden) return;
    const inside = panel.contains(document.activeElement);
    panel.hidden = true;
    button.setAttribute('aria-expanded', 'false');
    // Focus inside the panel would fall to the page's body when it hides.
    if (refocus || inside) button.focus();
  }

  async function markAllRead() {
    const result = await post('/api/notifications/mark-all-read').catch(() => null);
    if (!result) return;
    const now = new Date().toISOString();
    (items || []).forEach((n) => { n.read_at = n.read_at || now; });
    setCounts({ unread: 0, unseen: 0 });
    renderList();
  }

  listenAround(parts, { open, close });
  on('counts', (counts) => drawBadge(parts, counts));
  on('notification', (notification) => {
    if (!items) return;
    items = [notification, ...items.filter((n) => n.id !== notification.id)].slice(0, LATEST);
    renderList();
  });
  drawBadge(parts, state.counts);
  return parts.root;
}
