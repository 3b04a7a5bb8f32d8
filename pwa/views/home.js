// The vendor dashboard: notifications set-up, today at a glance, orders needing attention.

import { get } from '../api.js';
import { h, mount } from '../dom.js';
import { money, number } from '../format.js';
import { t } from '../i18n.js';
import { errorMessage } from '../messages.js';
import { on, state } from '../state.js';
import { engagementCard } from './analytics.js';
import { orderList } from './order-list.js';
import { pushCard } from './push-card.js';

const OPEN = new Set(['pending', 'accepted', 'preparing', 'shipped']);

function stat(label, value, testid) {
  return h('div', { class: 'stat', 'data-testid': testid }, h('span', { class: 'stat-value' }, value), h('span', { class: 'stat-label' }, label));
}

/** Money that came in today (payments less refunds, whatever day the order is from):
 * an unpaid order is not a sale yet. */
function paidToday(orders, currency) {
  const today = new Date().toDateString();
  return orders.filter((o) => o.currency === currency).flatMap((o) => o.payments)
    .filter((p) => new Date(p.created_at).toDateString() === today)
    .reduce((sum, p) => sum + (p.kind === 'refund' ? -p.amount_cents : p.amount_cents), 0);
}

/** Today at a glance: pending and open orders, money in today, unread notifications. */
function todayStats(orders) {
  const currency = orders[0]?.currency || 'EUR';
  return [
    stat(t('home.stat_pending'), number(orders.filter((o) => o.status === 'pending').length), 'stat-pending'),
    stat(t('home.stat_open'), number(orders.filter((o) => OPEN.has(o.status) && o.status !== 'pending').length), 'stat-open'),
    stat(t('home.stat_paid_today'), money(paidToday(orders, currency), currency), 'stat-sales'),
    stat(t('home.stat_unread'), number(state.counts.unread), 'stat-unread'),
  ];
}

export function render(main, ctx) {
  if (state.user.role !== 'vendor') return ctx.navigate('/orders', { replace: true });
  const stats = h('div', { class: 'stats' });
  const recent = h('div', {}, h('p', { class: 'muted' }, t('home.loading_orders')));

  let generation = 0; // only the newest request may draw
  async function load() {
    const mine = ++generation;
    let orders;
    try {
      orders = await get('/api/orders?limit=50');
      if (mine !== generation) return;
    } catch (error) {
      mount(recent, h('p', { class: 'muted' }, errorMessage(error)));
      return;
    }
    mount(stats, todayStats(orders));
    const attention = orders.filter((o) => OPEN.has(o.status)).slice(0, 10);
    mount(recent, orderList(attention, 'vendor', t('home.no_open_orders')));
  }

  const engagement = engagementCard();
  mount(main,
    h('div', { class: 'page-head' }, h('h1', {}, t('home.hello', { name: state.user.name })), h('a', { href: '/orders', class: 'button ghost' }, t('home.all_orders'))),
    pushCard(ctx),
    stats,
    h('section', { class: 'card' }, h('h2', {}, t('home.open_orders')), recent),
    engagement.card);
  load();
  const offs = [on('notification', (n) => { if (n.type === 'order' || n.type === 'payment') load(); }), on('counts', (c) => {
    const value = stats.querySelector('[data-testid=stat-unread] .stat-value');
    if (value) value.textContent = number(c.unread);
  }), engagement.stop];
  return () => offs.forEach((off) => off());
}
