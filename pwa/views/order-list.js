// Orders as a list of cards/rows (dashboard, orders page, customer's own orders).

import { h } from '../dom.js';
import { ago, itemCount, money, statusLabel } from '../format.js';

export function statusPill(status) {
  return h('span', { class: `pill status-${status}`, 'data-testid': 'status' }, statusLabel(status));
}

export function orderList(orders, role, emptyText) {
  if (!orders.length) return h('p', { class: 'empty' }, emptyText);
  return h('ul', { class: 'order-list', 'data-testid': 'order-list' }, orders.map((order) => {
    const other = role === 'vendor' ? order.customer.name : order.vendor.name;
    return h('li', { dataset: { id: order.id } },
      h('a', { href: `/orders/${order.id}`, class: 'order-row' },
        h('span', { class: 'order-number' }, order.number),
        h('span', { class: 'order-who' }, h('strong', {}, other), h('span', { class: 'muted' }, `${itemCount(order)} · ${ago(order.created_at)}`)),
        h('span', { class: 'order-total' }, money(order.total_cents, order.currency)),
        statusPill(order.status)));
  }));
}
