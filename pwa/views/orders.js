// All orders (vendor: received, with status filter) or a customer's own orders, kept live.

import { get, query } from '../api.js';
import { h, mount } from '../dom.js';
import { t } from '../i18n.js';
import { errorMessage } from '../messages.js';
import { statusLabel } from '../format.js';
import { on, state } from '../state.js';
import { orderList } from './order-list.js';

const FILTERS = ['', 'pending', 'accepted', 'preparing', 'shipped', 'delivered', 'rejected', 'cancelled'];

export function render(main, { query: params, navigate }) {
  const vendor = state.user.role === 'vendor';
  const status = params.get('status') || '';
  const list = h('div', {}, h('p', { class: 'muted' }, t('common.loading')));

  let chips = null;
  let generation = 0; // only the newest request may draw
  async function load() {
    const mine = ++generation;
    try {
      const orders = await get(`/api/orders${query({ status, limit: 200 })}`);
      if (mine !== generation) return;
      const empty = vendor ? t('orders.empty_vendor') : t('orders.empty_customer');
      // No order at all yet: eight status filters over an empty list only get in the way.
      chips.hidden = !status && orders.length === 0;
      mount(list, orderList(orders, state.user.role, empty));
    } catch (error) {
      chips.hidden = false;
      mount(list, h('p', { class: 'muted' }, errorMessage(error)));
    }
  }

  chips = h('div', { class: 'chips', role: 'group', hidden: !status, 'aria-label': t('orders.filter_status') }, FILTERS.map((value) =>
    h('button', {
      type: 'button',
      class: `chip${value === status ? ' active' : ''}`,
      'aria-pressed': String(value === status),
      onclick: () => navigate(`/orders${query({ status: value })}`),
    }, value ? statusLabel(value) : t('orders.all'))));

  mount(main,
    h('div', { class: 'page-head' },
      h('h1', {}, vendor ? t('nav.orders') : t('nav.my_orders')),
      vendor ? null : h('a', { href: '/checkout', class: 'button primary' }, t('nav.new_order'))),
    chips,
    h('section', { class: 'card' }, list));
  load();
  // Status changes arrive as notifications: refresh so the customer sees them without reloading.
  return on('notification', (n) => { if (n.data && n.data.order_id) load(); });
}
