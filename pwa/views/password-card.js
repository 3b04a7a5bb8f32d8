// Change the password: the current one, then the new one (the sign-up rules apply on the
// server). Every other signed-in session ends; this one stays.

import { post } from '../api.js';
import { h } from '../dom.js';
import { t } from '../i18n.js';
import { errorMessage } from '../messages.js';

/** The card; `onChanged` runs after a change (the sessions list then shows one left). */
export function passwordCard(ctx, onChanged = () => {}) {
  const current = h('input', { type: 'password', id: 'current-password', autocomplete: 'current-password', required: true, 'data-testid': 'current-password' });
  const fresh = h('input', { type: 'password', id: 'new-password', autocomplete: 'new-password', minlength: '8', required: true, 'data-testid': 'new-password' });
  const error = h('p', { class: 'form-error', role: 'alert', hidden: true, 'data-testid': 'password-error' });
  const save = h('button', { class: 'button primary', type: 'submit' }, t('password.save'));

  async function submit(event) {
    event.preventDefault();
    error.hidden = true;
    save.disabled = true;
    try {
      await post('/api/me/password', { current_password: current.value, new_password: fresh.value });
      current.value = '';
      fresh.value = '';
      ctx.toast(t('password.changed'), 'success');
      onChanged();
    } catch (failure) {
      error.textContent = errorMessage(failure);
      error.hidden = false;
    } finally {
      save.disabled = false;
    }
  }

  return h('section', { class: 'card' },
    h('h2', {}, t('password.title')),
    h('p', { class: 'muted small' }, t('password.hint')),
    h('form', { class: 'form', novalidate: true, onsubmit: submit, 'data-testid': 'password-form' },
      h('label', { class: 'field', for: 'current-password' }, t('password.current'), current),
      h('label', { class: 'field', for: 'new-password' }, t('password.new'), fresh),
      error,
      h('div', { class: 'row' }, save)));
}
