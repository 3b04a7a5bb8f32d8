// Where this account is signed in: each session's device, address and last use, with
// "Sign out" for each other one and "Sign out everywhere else" (DELETE /api/me/sessions).

import { del, get } from '../api.js';
import '../device-label.js';  // defines self.deviceLabel(), the name push devices get too
import { h, mount } from '../dom.js';
import { ago, dateTime } from '../format.js';
import { t } from '../i18n.js';
import { errorMessage } from '../messages.js';

function sessionItem(session, signOut) {
  const name = session.user_agent ? self.deviceLabel(session.user_agent) : t('sessions.unknown_device');
  const since = t('sessions.since', { when: dateTime(session.created_at) });
  const where = session.client_address ? ` · ${session.client_address}` : '';
  return h('li', { class: `device${session.current ? ' this-device' : ''}`, dataset: { id: session.id } },
    h('div', { class: 'device-main' },
      h('strong', {}, name),
      session.current ? h('span', { class: 'pill status-accepted' }, t('sessions.this_device')) : null,
      h('span', { class: 'muted small' }, `${since}${where}`)),
    h('div', { class: 'device-side' },
      h('span', { class: 'muted small' }, t('sessions.used', { when: ago(session.last_used_at) })),
      session.current ? null : h('button', {
        class: 'button danger-ghost small', type: 'button', 'data-testid': 'end-session',
        'aria-label': t('sessions.sign_out_name', { name }), onclick: () => signOut(session),
      }, t('sessions.sign_out'))));
}

/** The card, and `reload()` to redraw its list (after a password change, say). */
export function sessionsCard(ctx) {
  const list = h('div', {}, h('p', { class: 'muted' }, t('sessions.loading')));
  const others = h('button', { class: 'button danger-ghost', type: 'button', hidden: true, 'data-testid': 'end-other-sessions', onclick: () => end('/api/me/sessions') }, t('sessions.sign_out_others'));

  async function end(path) {
    try {
      await del(path);
      ctx.toast(t('sessions.signed_out'), 'success');
    } catch (error) {
      ctx.toast(errorMessage(error), 'error');
    }
    reload();
  }

  async function reload() {
    let sessions;
    try {
      sessions = await get('/api/me/sessions');
    } catch (error) {
      mount(list, h('p', { class: 'muted' }, errorMessage(error)));
      return;
    }
    others.hidden = !sessions.some((s) => !s.current);
    sessions.sort((a, b) => Number(b.current) - Number(a.current));  // this one first
    mount(list, h('ul', { class: 'devices', 'data-testid': 'session-list' }, sessions.map((session) =>
      sessionItem(session, (s) => end(`/api/me/sessions/${encodeURIComponent(s.id)}`)))));
  }

  reload();
  const section = h('section', { class: 'card' },
    h('h2', {}, t('sessions.title')),
    h('p', { class: 'muted small' }, t('sessions.hint')),
    list,
    h('div', { class: 'row' }, others));
  return { section, reload };
}
