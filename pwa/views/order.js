// One order: items and totals, the actions the viewer may take, payments, refunds, messages.

import { get, post } from '../api.js';
import { h, mount } from '../dom.js';
import { actionLabel, dateTime, money, toCents } from '../format.js';
import { t } from '../i18n.js';
import { errorMessage } from '../messages.js';
import { permission } from '../push.js';
import { on, state } from '../state.js';
import { alertsLine } from './order-alerts.js';
import { statusPill } from './order-list.js';
import { pushCard } from './push-card.js';

// What is still to pay, as the server counts it: a refund is money given back, it lowers
// what the order costs and never reopens the bill. (An order saved offline by an older
// version has no `outstanding_cents`.)
export function stillToPay(order) {
  return order.outstanding_cents ?? Math.max(0, order.total_cents - order.paid_cents);
}

export function render(main, { params, toast }) {
  const id = params[0];
  const base = `/api/orders/${encodeURIComponent(id)}`;
  let order = null;
  let offer = null; // the customer's "Follow your orders" card, kept across redraws

  let generation = 0; // only the newest answer may draw (live reloads and actions overlap)
  async function load() {
    const mine = ++generation;
    try {
      const fresh = await get(base);
      if (mine !== generation) return;
      order = fresh;
      draw();
    } catch (error) {
      mount(main, h('section', { class: 'card empty-state' }, h('h1', {}, t('order.unavailable')), h('p', { class: 'muted' }, errorMessage(error)), h('a', { href: '/orders' }, t('order.back_to_orders'))));
    }
  }

  async function act(path, body, done, headers) {
    const mine = ++generation;
    try {
      const fresh = await post(`${base}${path}`, body, headers);
      if (mine !== generation) return load();
      order = fresh;
      draw();
      // The pressed button was redrawn away: keyboard and screen reader restart at the title.
      if (!main.contains(document.activeElement)) {
        const title = main.querySelector('h1');
        title.setAttribute('tabindex', '-1');
        title.focus({ preventScroll: true });
      }
      if (done) toast(done, 'success');
    } catch (error) {
      // What the page knows words the API's codes: "only €3.50 is still open", not cents.
      const owed = order ? { currency: order.currency, outstanding: stillToPay(order), refundable: order.paid_cents - order.refunded_cents } : {};
      toast(errorMessage(error, owed), 'error');
    }
  }

  function move(status) {
    if (status === 'accepted') return act('/accept', undefined, t('order.accepted_toast'));
    if (status === 'rejected') return showReject();
    return act('/status', { status }, t('order.status_updated'));
  }

  const rejectBox = h('div');
  function showReject() {
    const input = h('input', { name: 'reason', placeholder: t('order.reject_reason'), 'aria-label': t('order.reject_reason_label'), maxlength: 1000 });
    mount(rejectBox, h('form', { class: 'inline-form', onsubmit: (e) => { e.preventDefault(); act('/reject', { reason: input.value.trim() || null }, t('order.declined_toast')); } },
      input, h('button', { class: 'button danger', type: 'submit' }, t('order.decline'))));
    input.focus();
  }

  function actions(vendor) {
    const buttons = order.allowed_transitions.map((status) =>
      h('button', {
        type: 'button',
        class: `button ${status === 'accepted' ? 'primary' : status === 'rejected' || status === 'cancelled' ? 'danger-ghost' : ''}`,
        'data-action': status,
        onclick: () => move(status),
      }, actionLabel(status)));
    if (!buttons.length) return null;
    return h('section', { class: 'card' }, h('h2', {}, vendor ? t('order.next_step') : t('order.change')), h('div', { class: 'row' }, buttons), rejectBox);
  }

  function moneyForm(label, withReason, path, done, amountLabel = t('order.amount_of', { label })) {
    const amount = h('input', { name: 'amount', inputmode: 'decimal', placeholder: '0.00', required: true, class: 'amount', 'aria-label': amountLabel });
    const reason = withReason ? h('input', { name: 'reason', placeholder: t('order.reason_optional'), 'aria-label': t('order.reason_of', { label }), maxlength: 1000 }) : null;
    // One Idempotency-Key per payment meant: a second press, or a retry after an answer
    // was lost, is recorded once; another amount or reason is another payment.
    const keys = new Map();
    return h('form', {
      class: 'inline-form',
      onsubmit: (e) => {
        e.preventDefault();
        const cents = toCents(amount.value, order.currency);
        if (!cents) return toast(t('order.amount_needed'), 'error');
        const body = withReason ? { amount_cents: cents, reason: reason.value.trim() || null } : { amount_cents: cents };
        const meant = JSON.stringify(body);
        if (!keys.has(meant)) keys.set(meant, crypto.randomUUID());
        act(path, body, done, { 'Idempotency-Key': keys.get(meant) });
      },
    }, amount, reason, h('button', { class: 'button', type: 'submit' }, label));
  }

  function messages() {
    const input = h('textarea', { name: 'body', rows: 2, maxlength: 2000, required: true, placeholder: t('order.write_message'), 'aria-label': t('order.message') });
    const thread = order.messages.length
      ? h('ul', { class: 'messages' }, order.messages.map((m) => {
        const mine = m.sender_id === state.user.id;
        const who = mine ? t('order.you') : (m.sender_id === order.vendor.id ? order.vendor.name : order.customer.name);
        return h('li', { class: mine ? 'mine' : 'theirs' }, h('p', {}, m.body), h('span', { class: 'muted small' }, `${who} · ${dateTime(m.created_at)}`));
      }))
      : h('p', { class: 'muted' }, t('order.no_messages'));
    return h('section', { class: 'card' }, h('h2', {}, t('order.messages')), thread,
      h('form', { class: 'composer', onsubmit: (e) => { e.preventDefault(); const body = input.value.trim(); if (body) act('/messages', { body }); } },
        input, h('button', { class: 'button primary', type: 'submit' }, t('order.send'))));
  }

  function draw() {
    const vendor = order.vendor.id === state.user.id;
    const outstanding = stillToPay(order);
    const refundable = order.paid_cents - order.refunded_cents;
    const ledger = order.payments.length
      ? h('ul', { class: 'ledger' }, order.payments.map((p) =>
        h('li', {}, h('span', {}, p.kind === 'refund' ? (p.reason ? t('order.refund_reason', { reason: p.reason }) : t('order.refund')) : t('order.payment')),
          h('span', { class: 'muted small' }, dateTime(p.created_at)),
          h('strong', {}, `${p.kind === 'refund' ? '−' : ''}${money(p.amount_cents, order.currency)}`))))
      : null;
    const payable = outstanding > 0 && order.status !== 'rejected' && order.status !== 'cancelled';
    mount(main,
      h('div', { class: 'page-head' },
        h('div', {}, h('a', { href: '/orders', class: 'back' }, `← ${t('nav.orders')}`),
          h('h1', { 'data-testid': 'order-title' }, t('order.title', { number: order.number })),
          h('p', { class: 'muted' }, `${vendor ? t('order.from', { name: order.customer.name }) : t('order.at', { name: order.vendor.name })} · ${dateTime(order.created_at)}`),
          vendor ? alertsLine(order) : null),
        statusPill(order.status)),
      order.reject_reason ? h('p', { class: 'banner banner-warn' }, t('order.declined_reason', { reason: order.reject_reason })) : null,
      // A customer hears of this order's progress only while the tab is open, unless
      // they turn notifications on: offered here, after ordering, not on a settings page.
      !vendor && permission() === 'default' ? (offer ||= pushCard({ toast, compact: true })) : null,
      actions(vendor),
      h('div', { class: 'grid-2' },
        h('section', { class: 'card' }, h('h2', {}, t('order.items_title')),
          h('table', { class: 'items' },
            h('tbody', {}, order.items.map((item) => h('tr', {},
              h('td', {}, `${item.quantity} ×`), h('td', {}, item.name),
              h('td', { class: 'num' }, money(item.unit_price_cents * item.quantity, order.currency))))),
            h('tfoot', {}, h('tr', {}, h('td', {}), h('th', {}, t('order.total')), h('th', { class: 'num' }, money(order.total_cents, order.currency))))),
          order.note ? h('p', { class: 'note-text-block' }, h('strong', {}, `${t('order.note')} `), order.note) : null),
        h('section', { class: 'card' }, h('h2', {}, t('order.payment_title')),
          h('dl', { class: 'totals' },
            h('dt', {}, t('order.paid')), h('dd', {}, money(order.paid_cents, order.currency)),
            h('dt', {}, t('order.refunded')), h('dd', {}, money(order.refunded_cents, order.currency)),
            h('dt', {}, t('order.outstanding')), h('dd', {}, money(outstanding, order.currency))),
          ledger,
          vendor && refundable > 0 ? moneyForm(t('order.refund'), true, '/refunds', t('order.refund_toast')) : null,
          // Cash taken at pickup: the vendor records it, the customer is told.
          vendor && payable ? moneyForm(t('order.record_cash'), false, '/cash-payments', t('order.cash_toast'), t('order.cash_received')) : null,
          !vendor && payable ? moneyForm(t('order.pay'), false, '/payments', t('order.pay_toast'), t('order.amount_to_pay')) : null)),
      messages());
  }

  mount(main, h('p', { class: 'muted' }, t('order.loading')));
  load();
  return on('notification', (n) => { if (n.data && String(n.data.order_id) === String(id)) load(); });
}
