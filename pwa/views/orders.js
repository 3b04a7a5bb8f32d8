// All orders (vendor: received, with status filter) or a customer's own orders, kept live.

import { get, query } from '../api.js';
import { h, mount } from '../dom.js';
import { errorMessage } from '../messages.js';
import { STATUS_LABELS } from '../format.js';
import { on, state } from '../state.js';
import { orderList } from './order-list.js';

const FILTERS = ['', 'pending', 'accepted', 'preparing', 'shipped', 'delivered', 'rejected', 'cancelled'];

export function render(main, { query: params, navigate }) {
  const vendor = state.user.role === 'vendor';
  const status = params.get('status') || '';
  const list = h('div', {}, h('p', { class: 'muted' }, 'Loading…'));

  let generation = 0; // only the newest request may draw
  async function load() {
    const mine = ++generation;
    try {
      const orders = await get(`/api/orders${query({ status, limit: 200 })}`);
      if (mine !== generation) return;
      const empty = vendor ? 'No orders here yet.' : 'You have not ordered anything yet.';
      mount(list, orderList(orders, state.user.role, empty));
    } catch (error) {
      mount(list, h('p', { class: 'muted' }, errorMessage(error)));
    }
  }

  const chips = h('div', { class: 'chips', role: 'group', 'aria-label': 'Filter by status' }, FILTERS.map((value) =>
    h('button', {
      type: 'button',
      class: `chip${value === status ? ' active' : ''}`,
      'aria-pressed': String(value === status),
      onclick: () => navigate(`/orders${query({ status: value })}`),
    }, value ? STATUS_LABELS[value] : 'All')));

  mount(main,
    h('div', { class: 'page-head' },
      h('h1', {}, vendor ? 'Orders' : 'My orders'),
      vendor ? null : h('a', { href: '/checkout', class: 'button primary' }, 'New order')),
    chips,
    h('section', { class: 'card' }, list));
  load();
  // Status changes arrive as notifications: refresh so the customer sees them without reloading.
  return on('notification', (n) => { if (n.data && n.data.order_id) load(); });
}
