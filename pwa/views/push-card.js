// "Enable notifications": explains what the vendor gets, asks only on a click, shows the
// state, and tells how to undo a "Block".

import { ApiError, OfflineError, post } from '../api.js';
import { h, icon, mount } from '../dom.js';
import { t } from '../i18n.js';
import { errorMessage } from '../messages.js';
import { currentSubscription, enableNotifications, permission, subscribe } from '../push.js';
import { setSoundEnabled, soundEnabled } from '../sound.js';
import { state } from '../state.js';

// Why turning notifications on failed, kept for this tab's session: the dashboard's and
// the Devices page's cards both show it, with a retry, until it works.
const FAILURE_KEY = 'vb.push-failure';

/** What failed, in words: the browser's own message ("Registration failed - permission
 * denied") means nothing to a vendor whose browser did allow notifications. */
const FAILURES = new Set(['offline', 'server', 'push_service']);

function failureKind(error) {
  if (error instanceof OfflineError) return 'offline';
  if (error instanceof ApiError) return 'server';
  return 'push_service';
}

function stillWorks(vendor) {
  return vendor
    ? t('push.still_works_vendor')
    : t('push.still_works_customer');
}

function soundToggle(vendor) {
  if (!vendor) return null;
  const input = h('input', { type: 'checkbox', checked: soundEnabled(), 'data-testid': 'sound-toggle', onchange: (e) => setSoundEnabled(e.target.checked) });
  return h('label', { class: 'toggle' }, input, h('span', { class: 'toggle-track', 'aria-hidden': 'true' }), h('span', {}, t('push.sound')));
}

function unsupported() {
  // iPhone and iPad only offer Web Push to apps added to the Home Screen (iOS 16.4+).
  const ios = /iPhone|iPad/.test(navigator.userAgent) && !matchMedia('(display-mode: standalone)').matches;
  return [h('h2', {}, t('push.title')), h('p', { class: 'muted' }, ios ? t('push.ios') : t('push.unsupported'))];
}

/** The browser says "Block": how to undo it. */
function blocked() {
  return [h('h2', {}, t('push.blocked_title')),
    h('p', {}, t('push.blocked')),
    h('ol', { class: 'steps' },
      h('li', {}, t('push.unblock_1')),
      h('li', {}, t('push.unblock_2')),
      h('li', {}, t('push.unblock_3')))];
}

function failed(kind, vendor, enable) {
  return [h('h2', {}, t('push.failed_title')),
    h('div', { role: 'alert', 'data-testid': 'push-failure' },
      h('p', {}, t(`push.failure.${FAILURES.has(kind) ? kind : 'push_service'}`)),
      h('p', {}, stillWorks(vendor))),
    h('div', { class: 'row' },
      h('button', { class: 'button primary', type: 'button', 'data-testid': 'enable-push', onclick: enable }, t('push.try_again')),
      vendor ? h('a', { class: 'button ghost', href: '/preferences' }, t('push.email_settings')) : null)];
}

function subscribed(vendor, { compact, sendTest }) {
  return [h('div', { class: 'push-on' }, h('span', { class: 'ok-badge' }, icon('check', 16)),
    h('div', {}, h('h2', {}, t('push.on_title')),
      h('p', { class: 'muted' }, vendor ? t('push.on_vendor') : t('push.on_customer')))),
  h('div', { class: 'row' },
    h('button', { class: 'button', type: 'button', onclick: sendTest }, t('push.send_test')),
    compact ? null : h('a', { class: 'button ghost', href: '/devices' }, t('push.manage_devices')))];
}

function offer(vendor, enable) {
  return [h('h2', {}, vendor ? t('push.offer_title_vendor') : t('push.offer_title_customer')),
    h('p', {}, vendor ? t('push.offer_vendor') : t('push.offer_customer')),
    h('div', { class: 'row' },
      h('button', { class: 'button primary', type: 'button', 'data-testid': 'enable-push', onclick: enable }, icon('bell', 18), ` ${t('push.enable')}`))];
}

async function sendTest(toast) {
  try {
    const result = await post('/api/push/test');
    toast(t('push.test_sent', { count: result.queued }), 'success');
  } catch (error) {
    toast(errorMessage(error), 'error');
  }
}

/** The card's state ('subscribed', 'failed' or the permission) and its content. */
async function cardContent(vendor, { compact, toast, enable }) {
  const allowed = permission();
  const subscription = allowed === 'granted' ? await currentSubscription().catch(() => null) : null;
  if (allowed === 'unsupported') return ['unsupported', unsupported()];
  if (allowed === 'denied') return ['denied', blocked()];
  const failure = allowed === 'granted' && !subscription ? sessionStorage.getItem(FAILURE_KEY) : null;
  if (failure) return ['failed', failed(failure, vendor, enable)];
  if (allowed === 'granted' && subscription) return ['subscribed', subscribed(vendor, { compact, sendTest: () => sendTest(toast) })];
  return [allowed, offer(vendor, enable)];
}

export function pushCard({ toast, compact = false } = {}) {
  const card = h('section', { class: 'card push-card', 'data-testid': 'push-card' });
  const vendor = state.user && state.user.role === 'vendor';

  async function render() {
    const [cardState, content] = await cardContent(vendor, { compact, toast, enable });
    card.dataset.state = cardState;
    mount(card, content, soundToggle(vendor));
  }

  async function enable(event) {
    event.target.disabled = true;
    try {
      const result = permission() === 'granted' ? { state: 'subscribed', device: await subscribe() } : await enableNotifications();
      sessionStorage.removeItem(FAILURE_KEY);
      if (result.state === 'subscribed') toast(t('push.on_toast'), 'success');
    } catch (error) {
      console.warn('vendorbell: push subscription failed', error); // the browser's words, for support
      sessionStorage.setItem(FAILURE_KEY, failureKind(error));
    }
    await render();
    // The pressed button was redrawn away: keep the keyboard in the card, at its news.
    const heading = card.querySelector('h2');
    if (heading) { heading.tabIndex = -1; heading.focus(); }
  }

  render();
  return card;
}
