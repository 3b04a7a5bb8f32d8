// "Enable notifications": explains what the vendor gets, asks only on a click, shows the
// state, and tells how to undo a "Block".

import { ApiError, OfflineError, post } from '../api.js';
import { h, icon, mount } from '../dom.js';
import { errorMessage } from '../messages.js';
import { currentSubscription, enableNotifications, permission, subscribe } from '../push.js';
import { setSoundEnabled, soundEnabled } from '../sound.js';
import { state } from '../state.js';

// Why turning notifications on failed, kept for this tab's session: the dashboard's and
// the Devices page's cards both show it, with a retry, until it works.
const FAILURE_KEY = 'vb.push-failure';

/** What failed, in words: the browser's own message ("Registration failed - permission
 * denied") means nothing to a vendor whose browser did allow notifications. */
const FAILURES = {
  offline: 'You are offline, so this browser could not be registered for notifications.',
  server: 'vendorbell could not save this browser’s notification address.',
  push_service: 'Your browser allowed notifications, but it could not reach its push service to set them up. '
    + 'The browser makes that connection, not vendorbell: a network, a VPN, a privacy setting or a private window can block it.',
};

function failureKind(error) {
  if (error instanceof OfflineError) return 'offline';
  if (error instanceof ApiError) return 'server';
  return 'push_service';
}

function stillWorks(vendor) {
  return vendor
    ? 'Until then, nothing is lost: while vendorbell is open in a tab, every new order appears at once and the bell rings; and an order that reaches none of your devices is emailed to you (Settings, Email column: on by default).'
    : 'Until then, nothing is lost: while vendorbell is open in a tab, your orders update live, and every update waits for you under Notifications.';
}

export function pushCard({ toast, compact = false } = {}) {
  const card = h('section', { class: 'card push-card', 'data-testid': 'push-card' });
  const vendor = state.user && state.user.role === 'vendor';

  async function render() {
    const allowed = permission();
    const subscription = allowed === 'granted' ? await currentSubscription().catch(() => null) : null;
    card.dataset.state = allowed === 'granted' && subscription ? 'subscribed' : allowed;
    if (allowed === 'unsupported') {
      // iPhone and iPad only offer Web Push to apps added to the Home Screen (iOS 16.4+).
      const ios = /iPhone|iPad/.test(navigator.userAgent) && !matchMedia('(display-mode: standalone)').matches;
      return mount(card, h('h2', {}, 'Notifications'),
        h('p', { class: 'muted' }, ios
          ? 'On iPhone and iPad, add vendorbell to your Home Screen first (Share → Add to Home Screen), then open it from there to turn on notifications.'
          : 'This browser cannot receive push notifications. Keep this tab open: new orders still appear live.'),
        soundToggle());
    }
    if (allowed === 'denied') {
      return mount(card, h('h2', {}, 'Notifications are blocked'),
        h('p', {}, 'You blocked notifications for vendorbell in this browser, so new orders cannot reach you when the app is closed.'),
        h('ol', { class: 'steps' },
          h('li', {}, 'Click the lock or site-settings icon left of the address.'),
          h('li', {}, 'Set “Notifications” to “Allow”.'),
          h('li', {}, 'Reload this page.')),
        soundToggle());
    }
    const failed = allowed === 'granted' && !subscription ? sessionStorage.getItem(FAILURE_KEY) : null;
    if (failed) {
      card.dataset.state = 'failed';
      return mount(card,
        h('h2', {}, 'Notifications could not be turned on'),
        h('div', { role: 'alert', 'data-testid': 'push-failure' },
          h('p', {}, FAILURES[failed] || FAILURES.push_service),
          h('p', {}, stillWorks(vendor))),
        h('div', { class: 'row' },
          h('button', { class: 'button primary', type: 'button', 'data-testid': 'enable-push', onclick: enable }, 'Try again'),
          vendor ? h('a', { class: 'button ghost', href: '/preferences' }, 'Email settings') : null),
        soundToggle());
    }
    if (allowed === 'granted' && subscription) {
      return mount(card,
        h('div', { class: 'push-on' }, h('span', { class: 'ok-badge' }, icon('check', 16)),
          h('div', {}, h('h2', {}, 'Notifications are on'),
            h('p', { class: 'muted' }, vendor
              ? 'This browser rings for new orders, payments and messages, even when vendorbell is closed.'
              : 'This browser tells you about your orders and messages, even when vendorbell is closed.'))),
        h('div', { class: 'row' },
          h('button', { class: 'button', type: 'button', onclick: sendTest }, 'Send test notification'),
          compact ? null : h('a', { class: 'button ghost', href: '/devices' }, 'Manage devices')),
        soundToggle());
    }
    return mount(card,
      h('h2', {}, vendor ? 'Never miss an order' : 'Follow your orders'),
      h('p', {}, vendor
        ? 'Turn on notifications and this device alerts you the moment a customer orders, pays or writes — even when vendorbell is closed. You can turn them off any time.'
        : 'Turn on notifications to hear when your order is accepted, on its way, or the vendor writes — even when vendorbell is closed. You can turn them off any time.'),
      h('div', { class: 'row' },
        h('button', { class: 'button primary', type: 'button', 'data-testid': 'enable-push', onclick: enable }, icon('bell', 18), ' Enable notifications')),
      soundToggle());
  }

  async function enable(event) {
    event.target.disabled = true;
    try {
      const result = permission() === 'granted' ? { state: 'subscribed', device: await subscribe() } : await enableNotifications();
      sessionStorage.removeItem(FAILURE_KEY);
      if (result.state === 'subscribed') toast('Notifications are on for this browser.', 'success');
    } catch (error) {
      console.warn('vendorbell: push subscription failed', error); // the browser's words, for support
      sessionStorage.setItem(FAILURE_KEY, failureKind(error));
    }
    await render();
    // The pressed button was redrawn away: keep the keyboard in the card, at its news.
    const heading = card.querySelector('h2');
    if (heading) { heading.tabIndex = -1; heading.focus(); }
  }

  async function sendTest() {
    try {
      const result = await post('/api/push/test');
      toast(`Test notification sent to ${result.queued} device${result.queued === 1 ? '' : 's'}.`, 'success');
    } catch (error) {
      toast(errorMessage(error), 'error');
    }
  }

  function soundToggle() {
    if (!vendor) return null;
    const input = h('input', { type: 'checkbox', checked: soundEnabled(), 'data-testid': 'sound-toggle', onchange: (e) => setSoundEnabled(e.target.checked) });
    return h('label', { class: 'toggle' }, input, h('span', { class: 'toggle-track', 'aria-hidden': 'true' }), h('span', {}, 'Play a sound for new orders while the app is open'));
  }

  render();
  return card;
}
