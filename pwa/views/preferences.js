// Settings: the account's language (saved at once), which notification types ring (push),
// stay in the inbox and fall back to email, how a waiting order rings again, and quiet
// hours in the vendor's own time zone. One Save sends the whole set (`PUT /api/preferences`).
// Above them, with the language, the account: its password and where it is signed in.
// A customer sees only what reaches a customer: no order alerts, no email (only a
// vendor's orders fall back to email), no "new orders ring anyway".

import { api, get } from '../api.js';
import { changeLocale } from '../session.js';
import { h, mount } from '../dom.js';
import { LOCALES, known, locale, t } from '../i18n.js';
import { errorMessage } from '../messages.js';
import { typeLabel } from '../format.js';
import { typeNames } from '../kinds.js';
import { state } from '../state.js';
import { browserTimeZone, zoneNames } from '../time-zone.js';
import { passwordCard } from './password-card.js';
import { sessionsCard } from './sessions-card.js';

/** Each language named in itself, so a reader lost in a foreign one finds their own. */
const LANGUAGE_NAMES = { en: 'English', de: 'Deutsch', fr: 'Français' };

// Ring-again spacings offered (seconds; 0 = off). The server accepts 0 or 30-3600.
const REPEAT_CHOICES = [0, 30, 60, 120, 300, 600, 900, 1800, 3600];

function spacingLabel(seconds) {
  if (!seconds) return t('prefs.never');
  if (seconds < 60) return t('prefs.every_seconds', { count: seconds });
  return t('prefs.every_minutes', { count: Math.round(seconds / 60) });
}

/** How a pending order rings again: the spacing (a select) and how many times. */
function orderAlertFields(alerts) {
  const every = alerts.repeat_every_seconds ?? 120;
  const choices = REPEAT_CHOICES.includes(every) ? REPEAT_CHOICES : [...REPEAT_CHOICES, every].sort((a, b) => a - b);
  const repeat = h('select', { 'data-testid': 'alerts-every' },
    choices.map((seconds) => h('option', { value: String(seconds), selected: seconds === every }, spacingLabel(seconds))));
  const repeats = h('input', {
    type: 'number', min: '0', max: '10', step: '1', inputmode: 'numeric', required: true,
    value: String(alerts.max_repeats ?? 3), 'data-testid': 'alerts-repeats',
  });
  const section = h('section', { class: 'card' },
    h('h2', {}, t('prefs.waiting_title')),
    h('p', { class: 'muted small' }, t('prefs.waiting_hint')),
    h('div', { class: 'alert-fields' },
      h('label', { class: 'field' }, t('prefs.ring_again'), repeat),
      h('label', { class: 'field' }, t('prefs.at_most'), repeats)));
  const read = () => ({ repeat_every_seconds: Number(repeat.value), max_repeats: repeats.valueAsNumber });
  return { section, read };
}

/** A checkbox drawn as a switch: a real, focusable input with its own accessible name. */
function switchInput(name, checked, attrs = {}) {
  return h('input', { type: 'checkbox', role: 'switch', class: 'switch', 'aria-label': name, checked, ...attrs });
}

/** The account's language: saved on the server (its notifications and emails follow)
 * and the app redrawn in it at once. */
function languageCard(ctx) {
  const select = h('select', { id: 'language', 'data-testid': 'language-select' },
    LOCALES.map((code) => h('option', { value: code, lang: code, selected: code === locale() }, LANGUAGE_NAMES[code])));
  select.addEventListener('change', async () => {
    const chosen = select.value;
    select.disabled = true;
    try {
      await api('/api/me', { method: 'PATCH', body: { locale: chosen } });
      await changeLocale(chosen);
      // The page was redrawn in the new language: keyboard users stay at the language.
      document.getElementById('language')?.focus();
      ctx.toast(t('prefs.language_saved'), 'success');
    } catch (error) {
      select.value = locale();
      select.disabled = false;
      ctx.toast(errorMessage(error), 'error');
    }
  });
  return h('section', { class: 'card' },
    h('h2', {}, h('label', { for: 'language' }, t('prefs.language_title'))),
    h('p', { class: 'muted small' }, t('prefs.language_hint')),
    select);
}

/** One notification type's row: its name and hint, then a switch per channel. An email
 * switch only where the server offers this account one (`email_offered`: today a
 * vendor's orders, the one email there is). */
function typeRow(type, prefs, vendor, emailColumn) {
  const channels = prefs.types?.[type] || { push: true, inbox: true };
  const label = typeLabel(type);
  const push = switchInput(t('prefs.push_for', { type: label }), channels.push, { 'data-testid': `push-${type}` });
  const alwaysInbox = type === 'order';
  const inbox = switchInput(t('prefs.inbox_for', { type: label }), alwaysInbox || channels.inbox, {
    'data-testid': `inbox-${type}`,
    disabled: alwaysInbox,
    'aria-describedby': alwaysInbox ? 'order-inbox-note' : null,
  });
  const email = prefs.email_offered?.includes(type)
    ? switchInput(t('prefs.email_for', { type: label }), channels.email ?? true, { 'data-testid': `email-${type}` })
    : null;
  // A type the catalogues have no hint for yet (newly declared on the server) shows its name alone.
  const hint = vendor ? `prefs.hint.${type}` : `prefs.hint_customer.${type}`;
  const row = h('tr', { dataset: { type } },
    h('th', { scope: 'row' }, h('span', { class: 'pref-type' }, label),
      known(hint) ? h('span', { class: 'muted small' }, t(hint)) : null,
      alwaysInbox ? h('span', { class: 'muted small', id: 'order-inbox-note' }, t('prefs.orders_always_inbox')) : null),
    h('td', { 'data-label': t('prefs.col_push') }, push),
    h('td', { 'data-label': t('prefs.col_inbox') }, inbox),
    emailColumn ? h('td', email ? { 'data-label': t('prefs.col_email') } : {}, email) : null);
  return { row, push, inbox, email };
}

/** Which channels each notification type uses: a table of switches, one row per type the
 * server declares (its answer lists them all). */
function typesCard(prefs, vendor) {
  const types = typeNames(prefs);
  const emailColumn = Boolean(prefs.email_offered?.length);
  const rows = Object.fromEntries(types.map((type) => [type, typeRow(type, prefs, vendor, emailColumn)]));
  const columns = ['prefs.col_type', 'prefs.col_push', 'prefs.col_inbox', ...(emailColumn ? ['prefs.col_email'] : [])];
  const section = h('section', { class: 'card' },
    h('h2', {}, t('prefs.by_type_title')),
    h('p', { class: 'muted small' }, t(vendor ? 'prefs.by_type_hint' : 'prefs.by_type_hint_customer')),
    h('table', { class: 'pref-table' },
      h('thead', {}, h('tr', {}, columns.map((key) => h('th', { scope: 'col' }, t(key))))),
      h('tbody', {}, types.map((type) => rows[type].row))));
  // A type without an email switch leaves `email` out: the server keeps its default.
  const read = () => Object.fromEntries(types.map((type) => [type, {
    push: rows[type].push.checked,
    inbox: rows[type].inbox.checked,
    ...(rows[type].email ? { email: rows[type].email.checked } : {}),
  }]));
  return { section, read };
}

/** A switch with its words beside it: the title and a muted hint. */
function switchRow(input, text, hint) {
  return h('label', { class: 'switch-row' }, input,
    h('span', {}, h('span', { class: 'switch-text' }, text), h('span', { class: 'muted small' }, hint)));
}

/** Quiet hours: on or off, from and until, in which time zone, and whether orders still ring. */
function quietHoursCard(quiet, vendor) {
  // Never set up: start from this browser's zone rather than the server's UTC default.
  const fresh = !quiet.enabled && (!quiet.time_zone || quiet.time_zone === 'UTC');
  const zone = fresh ? browserTimeZone() : quiet.time_zone;
  const enabled = switchInput(t('prefs.quiet_title'), quiet.enabled, { 'data-testid': 'quiet-enabled' });
  const start = h('input', { type: 'time', value: quiet.start || '22:00', required: true, 'data-testid': 'quiet-start' });
  const end = h('input', { type: 'time', value: quiet.end || '07:00', required: true, 'data-testid': 'quiet-end' });
  const timeZone = h('input', { type: 'text', list: 'time-zones', value: zone, autocomplete: 'off', spellcheck: 'false', 'data-testid': 'quiet-zone' });
  const zones = h('datalist', { id: 'time-zones' }, zoneNames(zone).map((name) => h('option', { value: name })));
  const ordersRing = switchInput(t('prefs.orders_ring'), quiet.orders_ring ?? true, { 'data-testid': 'quiet-orders-ring' });
  const quietFields = h('fieldset', { class: 'quiet-fields', disabled: !quiet.enabled },
    h('legend', { class: 'visually-hidden' }, t('prefs.quiet_times')),
    h('div', { class: 'quiet-times' },
      h('label', { class: 'field' }, t('prefs.from'), start),
      h('label', { class: 'field' }, t('prefs.until'), end),
      h('label', { class: 'field zone-field' }, t('prefs.time_zone'), timeZone, zones)),
    vendor ? switchRow(ordersRing, t('prefs.orders_ring'), t('prefs.orders_ring_hint')) : null);
  enabled.addEventListener('change', () => { quietFields.disabled = !enabled.checked; });
  const section = h('section', { class: 'card' },
    h('h2', {}, t('prefs.quiet_title')),
    switchRow(enabled, t('prefs.quiet_switch'), t('prefs.quiet_hint')),
    quietFields);
  const complete = () => Boolean(start.value && end.value);
  const read = () => ({
    enabled: enabled.checked,
    start: start.value,
    end: end.value,
    time_zone: timeZone.value.trim(),
    orders_ring: ordersRing.checked,
  });
  return { section, complete, read };
}

/** The preferences form: one Save sends the whole set; `saved(prefs)` gets the server's
 * answer, `alive()` says whether the page is still shown. */
function preferencesForm(prefs, { toast, saved, alive }) {
  const vendor = state.user?.role === 'vendor';
  const types = typesCard(prefs, vendor);
  const alerts = vendor ? orderAlertFields(prefs.order_alerts || {}) : null;
  const quiet = quietHoursCard(prefs.quiet_hours || {}, vendor);
  const error = h('p', { class: 'form-error', role: 'alert', hidden: true, 'data-testid': 'preferences-error' });
  const save = h('button', { class: 'button primary', type: 'submit' }, t('prefs.save'));
  const showError = (text) => {
    error.textContent = text;
    error.hidden = false;
  };

  async function submit(event) {
    event.preventDefault();
    error.hidden = true;
    if (!quiet.complete()) return showError(t('prefs.quiet_times_needed'));
    // order_alerts are sent as typed: the server checks the range and answers 422 with the reason.
    const payload = { types: types.read(), quiet_hours: quiet.read() };
    if (alerts) payload.order_alerts = alerts.read();
    save.disabled = true;
    try {
      const answer = await api('/api/preferences', { method: 'PUT', body: payload });
      if (!alive()) return;
      toast(t('prefs.saved'), 'success');
      saved(answer);
    } catch (failure) {
      if (!alive()) return;
      if (failure.status !== 422) return toast(errorMessage(failure), 'error');
      showError(errorMessage(failure, { zone: payload.quiet_hours.time_zone }));
      error.scrollIntoView({ block: 'nearest' });
    } finally {
      save.disabled = false;
    }
  }

  return h('form', { class: 'form', novalidate: true, onsubmit: submit, 'data-testid': 'preferences-form' },
    types.section, alerts?.section, quiet.section, error, h('div', { class: 'row' }, save));
}

export function render(main, ctx) {
  const body = h('div', {}, h('p', { class: 'muted' }, t('prefs.loading')));
  const sessions = sessionsCard(ctx);
  mount(main,
    h('div', { class: 'page-head' }, h('div', {}, h('h1', {}, t('prefs.title')),
      h('p', { class: 'muted' }, t('prefs.intro')))),
    languageCard(ctx),
    passwordCard(ctx, sessions.reload),
    sessions.section,
    body);

  let alive = true;
  const show = (prefs) => mount(body, preferencesForm(prefs, { toast: ctx.toast, saved: show, alive: () => alive }));
  get('/api/preferences').then((prefs) => { if (alive) show(prefs); }).catch((error) => {
    if (alive) mount(body, h('section', { class: 'card' }, h('p', { class: 'form-error', role: 'alert' }, errorMessage(error))));
  });
  return () => { alive = false; };
}
