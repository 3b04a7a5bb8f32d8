// A notification as a row (the dropdown and the notifications page share it) and what
// opening one does: mark it read, then go to its page.

import { post } from './api.js';
import { h, icon } from './dom.js';
import { ago } from './format.js';
import { t } from './i18n.js';

const TYPE_ICONS = { order: 'box', payment: 'card', message: 'chat', system: 'info' };

export async function openNotification(notification, navigate) {
  if (!notification.read_at) {
    notification.read_at = new Date().toISOString();
    await post(`/api/notifications/${encodeURIComponent(notification.id)}/read`).catch(() => null);
  }
  navigate(notification.url || '/notifications');
}

export function notificationRow(notification, { onOpen, compact = false } = {}) {
  const unread = !notification.read_at;
  return h(
    'li',
    { class: `note${unread ? ' unread' : ''}${compact ? ' compact' : ''}`, dataset: { id: notification.id, type: notification.type } },
    h(
      'a',
      {
        href: notification.url || '/notifications',
        class: 'note-link',
        onclick: (event) => {
          event.preventDefault();
          onOpen(notification);
        },
      },
      h('span', { class: `note-icon type-${notification.type}` }, icon(TYPE_ICONS[notification.type], 18)),
      h(
        'span',
        { class: 'note-text' },
        h('span', { class: 'note-title' }, notification.title),
        notification.body ? h('span', { class: 'note-body' }, notification.body) : null,
        h('time', { class: 'note-time', datetime: notification.created_at }, ago(notification.created_at)),
      ),
      unread ? h('span', { class: 'unread-dot', 'aria-label': t('inbox.unread') }) : null,
    ),
  );
}
