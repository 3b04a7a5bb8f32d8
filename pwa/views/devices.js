// Devices that receive pushes: this browser first, the others with their last delivery
// outcome; remove one, or send a test notification to all.

import { api, del, get } from '../api.js';
import { h, mount } from '../dom.js';
import { ago, dateTime } from '../format.js';
import { t } from '../i18n.js';
import { errorMessage } from '../messages.js';
import { currentSubscription, disableNotifications } from '../push.js';
import { pushCard } from './push-card.js';

function pushService(endpoint) {
  try {
    return new URL(endpoint).host;
  } catch {
    return t('devices.unknown_service');
  }
}

function health(device) {
  const ok = device.last_success_at ? new Date(device.last_success_at).getTime() : 0;
  const bad = device.last_failure_at ? new Date(device.last_failure_at).getTime() : 0;
  if (bad > ok) return h('span', { class: 'pill status-rejected' }, device.last_failure_reason ? t('devices.failing_reason', { reason: device.last_failure_reason }) : t('devices.failing'));
  if (ok) return h('span', { class: 'pill status-delivered' }, t('devices.delivered', { when: ago(device.last_success_at) }));
  return h('span', { class: 'pill' }, t('devices.no_pushes'));
}

/** Muted: this device gets no pushes (the others still ring); the inbox is unchanged. */
function muteSwitch(device, { toast }) {
  const name = device.label || t('devices.unnamed');
  const input = h('input', { type: 'checkbox', role: 'switch', class: 'switch', checked: device.muted, 'aria-label': t('devices.mute_name', { name }), 'data-testid': 'mute-device' });
  input.addEventListener('change', async () => {
    const muted = input.checked;
    input.disabled = true;
    try {
      const result = await api(`/api/push/subscriptions/${encodeURIComponent(device.id)}`, { method: 'PATCH', body: { muted } });
      input.checked = result.muted;
      const pill = input.closest('.device').querySelector('.muted-pill');
      if (pill) pill.hidden = !result.muted;
      toast(result.muted ? t('devices.muted_toast', { name }) : t('devices.unmuted_toast', { name }), 'success');
    } catch (error) {
      input.checked = !muted;
      toast(errorMessage(error), 'error');
    } finally {
      input.disabled = false;
    }
  });
  return h('label', { class: 'switch-row compact' }, input, h('span', {}, t('devices.mute')));
}

/** One device: its name, whether it is this browser, muted, its push service and age,
 * then its health, the mute switch and Remove (`remove(device, mine)`). */
function deviceItem(device, mine, { toast, remove }) {
  return h('li', { class: `device${mine ? ' this-device' : ''}`, dataset: { id: device.id } },
    h('div', { class: 'device-main' },
      h('strong', {}, device.label || t('devices.unnamed')),
      mine ? h('span', { class: 'pill status-accepted' }, t('devices.this_browser')) : null,
      h('span', { class: 'pill muted-pill', hidden: !device.muted }, t('devices.muted')),
      h('span', { class: 'muted small' }, `${pushService(device.endpoint)} · ${t('devices.added', { when: dateTime(device.created_at) })}`)),
    h('div', { class: 'device-side' }, health(device), muteSwitch(device, { toast }),
      h('button', { class: 'button danger-ghost small', type: 'button', onclick: () => remove(device, mine) }, t('devices.remove'))));
}

/** The account's devices, this browser's first (null when the list could not be read). */
async function loadDevices() {
  const [devices, mine] = await Promise.all([get('/api/push/subscriptions'), currentSubscription().catch(() => null)]);
  const items = Array.isArray(devices) ? devices : devices.items || [];
  const isMine = (d) => Boolean(mine && d.endpoint === mine.endpoint);
  items.sort((a, b) => Number(isMine(b)) - Number(isMine(a)));
  return { items, isMine };
}

export function render(main, ctx) {
  const list = h('div', {}, h('p', { class: 'muted' }, t('devices.loading')));

  async function load() {
    let devices;
    try {
      devices = await loadDevices();
    } catch (error) {
      return mount(list, h('p', { class: 'muted' }, errorMessage(error)));
    }
    const { items, isMine } = devices;
    if (!items.length) return mount(list, h('p', { class: 'empty' }, t('devices.empty')));
    mount(list, h('ul', { class: 'devices', 'data-testid': 'device-list' },
      items.map((device) => deviceItem(device, isMine(device), { toast: ctx.toast, remove }))));
  }

  async function remove(device, mine) {
    try {
      if (mine) await disableNotifications();
      else await del(`/api/push/subscriptions/${encodeURIComponent(device.id)}`);
      ctx.toast(t('devices.removed'), 'success');
    } catch (error) {
      ctx.toast(errorMessage(error), 'error');
    }
    render(main, ctx);
  }

  mount(main,
    h('div', { class: 'page-head' }, h('h1', {}, t('devices.title'))),
    pushCard({ ...ctx, compact: true }),
    h('section', { class: 'card' }, h('h2', {}, t('devices.list_title')), list));
  load();
}
