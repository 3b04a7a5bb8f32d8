// Settings: which notification types ring (push), stay in the inbox and fall back to email,
// how a waiting order rings again, and quiet hours in the vendor's own time zone. One Save
// sends the whole set (`PUT /api/preferences`).

import { api, get } from '../api.js';
import { h, mount } from '../dom.js';
import { errorMessage } from '../messages.js';
import { TYPE_LABELS } from '../format.js';

const TYPES = ['order', 'payment', 'message', 'system'];
const HINTS = {
  order: 'New orders and changes to them',
  payment: 'Payments and refunds',
  message: 'Messages from customers or vendors',
  system: 'Notices from the marketplace',
};

// Ring-again spacings offered (seconds; 0 = off). The server accepts 0 or 30-3600.
const REPEAT_CHOICES = [0, 30, 60, 120, 300, 600, 900, 1800, 3600];

function spacingLabel(seconds) {
  if (!seconds) return 'Never';
  if (seconds < 60) return `Every ${seconds} seconds`;
  const minutes = Math.round(seconds / 60);
  return minutes === 1 ? 'Every minute' : `Every ${minutes} minutes`;
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
    h('h2', {}, 'Orders waiting for you'),
    h('p', { class: 'muted small' }, 'A new order rings your devices again until you accept or reject it, replacing its notification (never adding one). If it is still waiting after that, you get an email.'),
    h('div', { class: 'alert-fields' },
      h('label', { class: 'field' }, 'Ring again', repeat),
      h('label', { class: 'field' }, 'At most (times)', repeats)));
  const read = () => ({ repeat_every_seconds: Number(repeat.value), max_repeats: repeats.valueAsNumber });
  return { section, read };
}

export function browserTimeZone() {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  } catch {
    return 'UTC';
  }
}

function zoneNames(current) {
  let names = [];
  try {
    names = Intl.supportedValuesOf('timeZone');
  } catch {
    names = [];
  }
  return [...new Set([current, browserTimeZone(), 'UTC', ...names])].filter(Boolean).sort();
}

/** A checkbox drawn as a switch: a real, focusable input with its own accessible name. */
function switchInput(name, checked, attrs = {}) {
  return h('input', { type: 'checkbox', role: 'switch', class: 'switch', 'aria-label': name, checked, ...attrs });
}

export function render(main, ctx) {
  const body = h('div', {}, h('p', { class: 'muted' }, 'Loading settings…'));
  mount(main,
    h('div', { class: 'page-head' }, h('div', {}, h('h1', {}, 'Settings'),
      h('p', { class: 'muted' }, 'Choose what rings your devices and when to keep them quiet.'))),
    body);

  let alive = true;
  get('/api/preferences').then((prefs) => { if (alive) mount(body, form(prefs)); }).catch((error) => {
    if (alive) mount(body, h('section', { class: 'card' }, h('p', { class: 'form-error', role: 'alert' }, errorMessage(error))));
  });

  function form(prefs) {
    const switches = {};
    const rows = TYPES.map((type) => {
      const channels = prefs.types?.[type] || { push: true, inbox: true, email: type === 'order' };
      const label = TYPE_LABELS[type];
      const push = switchInput(`Push for ${label}`, channels.push, { 'data-testid': `push-${type}` });
      const alwaysInbox = type === 'order';
      const inbox = switchInput(`Inbox for ${label}`, alwaysInbox || channels.inbox, {
        'data-testid': `inbox-${type}`,
        disabled: alwaysInbox,
        'aria-describedby': alwaysInbox ? 'order-inbox-note' : null,
      });
      // Email is the fallback: sent when no device rang for an order, or it went unanswered.
      const email = switchInput(`Email for ${label}`, channels.email ?? type === 'order', { 'data-testid': `email-${type}` });
      switches[type] = { push, inbox, email };
      return h('tr', { dataset: { type } },
        h('th', { scope: 'row' }, h('span', { class: 'pref-type' }, label), h('span', { class: 'muted small' }, HINTS[type]),
          alwaysInbox ? h('span', { class: 'muted small', id: 'order-inbox-note' }, 'Orders always stay in the inbox, so none is ever lost.') : null),
        h('td', {}, push),
        h('td', {}, inbox),
        h('td', {}, email));
    });

    const quiet = prefs.quiet_hours || {};
    // Never set up: start from this browser's zone rather than the server's UTC default.
    const fresh = !quiet.enabled && (!quiet.time_zone || quiet.time_zone === 'UTC');
    const zone = fresh ? browserTimeZone() : quiet.time_zone;
    const enabled = switchInput('Quiet hours', quiet.enabled, { 'data-testid': 'quiet-enabled' });
    const start = h('input', { type: 'time', value: quiet.start || '22:00', required: true, 'data-testid': 'quiet-start' });
    const end = h('input', { type: 'time', value: quiet.end || '07:00', required: true, 'data-testid': 'quiet-end' });
    const timeZone = h('input', { type: 'text', list: 'time-zones', value: zone, autocomplete: 'off', spellcheck: 'false', 'data-testid': 'quiet-zone' });
    const zones = h('datalist', { id: 'time-zones' }, zoneNames(zone).map((name) => h('option', { value: name })));
    const ordersRing = switchInput('New orders ring anyway', quiet.orders_ring ?? true, { 'data-testid': 'quiet-orders-ring' });
    const quietFields = h('fieldset', { class: 'quiet-fields', disabled: !quiet.enabled },
      h('legend', { class: 'visually-hidden' }, 'Quiet hours times'),
      h('div', { class: 'quiet-times' },
        h('label', { class: 'field' }, 'From', start),
        h('label', { class: 'field' }, 'Until', end),
        h('label', { class: 'field zone-field' }, 'Time zone', timeZone, zones)),
      h('label', { class: 'switch-row' }, ordersRing,
        h('span', {}, h('span', { class: 'switch-text' }, 'New orders ring anyway'),
          h('span', { class: 'muted small' }, 'So do their reminders. Other pushes wait and arrive as one summary per type when quiet hours end.'))));
    enabled.addEventListener('change', () => { quietFields.disabled = !enabled.checked; });

    const alerts = orderAlertFields(prefs.order_alerts || {});

    const error = h('p', { class: 'form-error', role: 'alert', hidden: true, 'data-testid': 'preferences-error' });
    const save = h('button', { class: 'button primary', type: 'submit' }, 'Save settings');

    async function submit(event) {
      event.preventDefault();
      error.hidden = true;
      if (!start.value || !end.value) {
        error.textContent = 'Choose when quiet hours start and end.';
        error.hidden = false;
        return;
      }
      const payload = {
        types: Object.fromEntries(TYPES.map((type) => [type, {
          push: switches[type].push.checked,
          inbox: switches[type].inbox.checked,
          email: switches[type].email.checked,
        }])),
        quiet_hours: {
          enabled: enabled.checked,
          start: start.value,
          end: end.value,
          time_zone: timeZone.value.trim(),
          orders_ring: ordersRing.checked,
        },
        // Sent as typed: the server checks the range and answers 422 with the reason.
        order_alerts: alerts.read(),
      };
      save.disabled = true;
      try {
        const saved = await api('/api/preferences', { method: 'PUT', body: payload });
        if (!alive) return;
        ctx.toast('Settings saved.', 'success');
        mount(body, form(saved));
      } catch (failure) {
        if (!alive) return;
        if (failure.status === 422) {
          error.textContent = errorMessage(failure);
          error.hidden = false;
          error.scrollIntoView({ block: 'nearest' });
        } else {
          ctx.toast(errorMessage(failure), 'error');
        }
      } finally {
        save.disabled = false;
      }
    }

    return h('form', { class: 'form', novalidate: true, onsubmit: submit, 'data-testid': 'preferences-form' },
      h('section', { class: 'card' },
        h('h2', {}, 'Notifications by type'),
        h('p', { class: 'muted small' }, 'Push rings your phones and computers (see Devices to mute one); the inbox keeps a list in the bell; email reaches your account address when an order found no device to ring, or is still waiting.'),
        h('table', { class: 'pref-table' },
          h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Type'), h('th', { scope: 'col' }, 'Push'), h('th', { scope: 'col' }, 'Inbox'), h('th', { scope: 'col' }, 'Email'))),
          h('tbody', {}, rows))),
      alerts.section,
      h('section', { class: 'card' },
        h('h2', {}, 'Quiet hours'),
        h('label', { class: 'switch-row' }, enabled,
          h('span', {}, h('span', { class: 'switch-text' }, 'Keep devices quiet at night'),
            h('span', { class: 'muted small' }, 'Pushes are held between these times, in your time zone; the inbox still fills up.'))),
        quietFields),
      error,
      h('div', { class: 'row' }, save));
  }

  return () => { alive = false; };
}
