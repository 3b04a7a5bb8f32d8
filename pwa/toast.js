// Toasts: a short word after an action, or a failure that stays until it is dismissed.

import { h } from './dom.js';
import { t } from './i18n.js';

export function toast(text, kind = 'info') {
  // A failure stays until it is dismissed: it may take longer to read than any timeout.
  const toasts = document.getElementById('toasts');
  const error = kind === 'error';
  // A success supersedes the failures before it (the retry worked): they go.
  if (kind === 'success') toasts.querySelectorAll('.toast-error').forEach((old) => old.remove());
  const el = h('div', { class: `toast toast-${kind}`, role: error ? 'alert' : 'status' }, h('span', {}, text),
    error ? h('button', { type: 'button', class: 'toast-close', 'aria-label': t('app.dismiss'), onclick: () => el.remove() }, '×') : null);
  toasts.append(el);
  while (toasts.children.length > 2) toasts.firstElementChild.remove();
  if (error) return;
  setTimeout(() => el.classList.add('leaving'), 3200);
  setTimeout(() => el.remove(), 3600);
}
