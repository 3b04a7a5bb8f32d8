// "Enable notifications": explains what the vendor gets, asks only on a click, shows the
// state, and tells how to undo a "Block".

import { post } from '../api.js';
import { h, icon, mount } from '../dom.js';
import { currentSubscription, enableNotifications, permission, subscribe } from '../push.js';
import { setSoundEnabled, soundEnabled } from '../sound.js';
import { state } from '../state.js';

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
      if (result.state === 'subscribed') toast('Notifications are on for this browser.', 'success');
    } catch (error) {
      toast(`Could not turn on notifications: ${error.message}`, 'error');
    }
    render();
  }

  async function sendTest() {
    try {
      const result = await post('/api/push/test');
      toast(`Test notification sent to ${result.queued} device${result.queued === 1 ? '' : 's'}.`, 'success');
    } catch (error) {
      toast(error.message, 'error');
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
