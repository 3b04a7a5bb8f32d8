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

function unavailable(error) {
  return h('section', { class: 'card empty-state' }, h('h1', {}, t('order.unavailable')), h('p', { class: 'muted' }, errorMessage(error)), h('a', { href: '/orders' }, t('order.back_to_orders')));
}

/** The title, who ordered where and when, and the status. */
function orderHead(order, vendor) {
  return h('div', { class: 'page-head' },
    h('div', {}, h('a', { href: '/orders', class: 'back' }, `← ${t('nav.orders')}`),
      h('h1', { 'data-testid': 'order-title' }, t('order.title', { number: order.number })),
      h('p', { class: 'muted' }, `${vendor ? t('order.from', { name: order.customer.name }) : t('order.at', { name: order.vendor.name })} · ${dateTime(order.created_at)}`),
      vendor ? alertsLine(order) : null),
    statusPill(order.status));
}

function actionButtonClass(status) {
  if (status === 'accepted') return 'button primary';
  return `button ${status === 'rejected' || status === 'cancelled' ? 'danger-ghost' : ''}`;
}

/** A button per status the viewer may move the order to; `rejectBox` holds the decline form. */
function actionsCard(order, vendor, { move, rejectBox }) {
  // A new order is declined (with a reason for the customer), not also "cancelled": two
  // red buttons side by side that end it alike.
  const next = order.allowed_transitions;
  const shown = next.includes('rejected') ? next.filter((status) => status !== 'cancelled') : next;
  const buttons = shown.map((status) =>
    h('button', { type: 'button', class: actionButtonClass(status), 'data-action': status, onclick: () => move(status) }, actionLabel(status)));
  if (!buttons.length) return null;
  return h('section', { class: 'card' }, h('h2', {}, vendor ? t('order.next_step') : t('order.change')), h('div', { class: 'row' }, buttons), rejectBox);
}

/** The decline form: an optional reason; `decline(reason)` sends it. */
function rejectForm(decline) {
  const input = h('input', { name: 'reason', placeholder: t('order.reject_reason'), 'aria-label': t('order.reject_reason_label'), maxlength: 1000 });
  const form = h('form', { class: 'inline-form', onsubmit: (e) => { e.preventDefault(); decline(input.value.trim() || null); } },
    input, h('button', { class: 'button danger', type: 'submit' }, t('order.decline')));
  return { form, input };
}

/** What an action button does: accept, ask for a reason before declining, or move on;
 * `act(path, body, done)` posts it. */
function mover(act, rejectBox) {
  function showReject() {
    const { form, input } = rejectForm((reason) => act('/reject', { reason }, t('order.declined_toast')));
    mount(rejectBox, form);
    input.focus();
  }
  return (status) => {
    if (status === 'accepted') return act('/accept', undefined, t('order.accepted_toast'));
    if (status === 'rejected') return showReject();
    return act('/status', { status }, t('order.status_updated'));
  };
}

/** An amount (and maybe a reason) to pay, record or refund; `send(body, headers)` posts it. */
function moneyForm(order, { label, withReason = false, amountLabel = t('order.amount_of', { label }), toast, send }) {
  const amount = h('input', { name: 'amount', inputmode: 'decimal', placeholder: '0.00', required: true, class: 'amount', 'aria-label': amountLabel });
  const reason = withReason ? h('input', { name: 'reason', placeholder: t('order.reason_optional'), 'aria-label': t('order.reason_of', { label }), maxlength: 1000 }) : null;
  // One Idempotency-Key per payment meant: a second press, or a retry after an answer
  // was lost, is recorded once; another amount or reason is another payment.
  const keys = new Map();
  const submit = (e) => {
    e.preventDefault();
    const cents = toCents(amount.value, order.currency);
    if (!cents) return toast(t('order.amount_needed'), 'error');
    const body = withReason ? { amount_cents: cents, reason: reason.value.trim() || null } : { amount_cents: cents };
    const meant = JSON.stringify(body);
    if (!keys.has(meant)) keys.set(meant, crypto.randomUUID());
    send(body, { 'Idempotency-Key': keys.get(meant) });
  };
  return h('form', { class: 'inline-form', onsubmit: submit }, amount, reason, h('button', { class: 'button', type: 'submit' }, label));
}

function itemsCard(order) {
  return h('section', { class: 'card' }, h('h2', {}, t('order.items_title')),
    h('table', { class: 'items' },
      h('tbody', {}, order.items.map((item) => h('tr', {},
        h('td', {}, `${item.quantity} ×`), h('td', {}, item.name),
        h('td', { class: 'num' }, money(item.unit_price_cents * item.quantity, order.currency))))),
      h('tfoot', {}, h('tr', {}, h('td', {}), h('th', {}, t('order.total')), h('th', { class: 'num' }, money(order.total_cents, order.currency))))),
    order.note ? h('p', { class: 'note-text-block' }, h('strong', {}, `${t('order.note')} `), order.note) : null);
}

function ledgerRow(payment, currency) {
  const refund = payment.kind === 'refund';
  const what = refund ? (payment.reason ? t('order.refund_reason', { reason: payment.reason }) : t('order.refund')) : t('order.payment');
  return h('li', {}, h('span', {}, what),
    h('span', { class: 'muted small' }, dateTime(payment.created_at)),
    h('strong', {}, `${refund ? '−' : ''}${money(payment.amount_cents, currency)}`));
}

/** Paid, refunded, still open, each payment, and the money forms the viewer may use. */
function paymentCard(order, vendor, { toast, act }) {
  const outstanding = stillToPay(order);
  const refundable = order.paid_cents - order.refunded_cents;
  const payable = outstanding > 0 && order.status !== 'rejected' && order.status !== 'cancelled';
  const form = (path, done, options) => moneyForm(order, { ...options, toast, send: (body, headers) => act(path, body, done, headers) });
  return h('section', { class: 'card' }, h('h2', {}, t('order.payment_title')),
    h('dl', { class: 'totals' },
      h('dt', {}, t('order.paid')), h('dd', {}, money(order.paid_cents, order.currency)),
      h('dt', {}, t('order.refunded')), h('dd', {}, money(order.refunded_cents, order.currency)),
      h('dt', {}, t('order.outstanding')), h('dd', {}, money(outstanding, order.currency))),
    order.payments.length ? h('ul', { class: 'ledger' }, order.payments.map((p) => ledgerRow(p, order.currency))) : null,
    vendor && refundable > 0 ? form('/refunds', t('order.refund_toast'), { label: t('order.refund'), withReason: true }) : null,
    // Cash taken at pickup: the vendor records it, the customer is told.
    vendor && payable ? form('/cash-payments', t('order.cash_toast'), { label: t('order.record_cash'), amountLabel: t('order.cash_received') }) : null,
    !vendor && payable ? form('/payments', t('order.pay_toast'), { label: t('order.pay'), amountLabel: t('order.amount_to_pay') }) : null);
}

function messageItem(order, message) {
  const mine = message.sender_id === state.user.id;
  const who = mine ? t('order.you') : (message.sender_id === order.vendor.id ? order.vendor.name : order.customer.name);
  return h('li', { class: mine ? 'mine' : 'theirs' }, h('p', {}, message.body), h('span', { class: 'muted small' }, `${who} · ${dateTime(message.created_at)}`));
}

/** The thread between vendor and customer, and a box to write in; `send(body)` posts it. */
function messagesCard(order, send) {
  const input = h('textarea', { name: 'body', rows: 2, maxlength: 2000, required: true, placeholder: t('order.write_message'), 'aria-label': t('order.message') });
  const thread = order.messages.length
    ? h('ul', { class: 'messages' }, order.messages.map((m) => messageItem(order, m)))
    : h('p', { class: 'muted' }, t('order.no_messages'));
  return h('section', { class: 'card' }, h('h2', {}, t('order.messages')), thread,
    h('form', { class: 'composer', onsubmit: (e) => { e.preventDefault(); const body = input.value.trim(); if (body) send(body); } },
      input, h('button', { class: 'button primary', type: 'submit' }, t('order.send'))));
}

/** What the page knows words the API's codes: "only €3.50 is still open", not cents. */
function owedWords(order) {
  return order ? { currency: order.currency, outstanding: stillToPay(order), refundable: order.paid_cents - order.refunded_cents } : {};
}

/** After an action redrew the page away from the pressed button, keyboard and screen
 * reader restart at the title. */
function refocusTitle(main) {
  if (main.contains(document.activeElement)) return;
  const title = main.querySelector('h1');
  title.setAttribute('tabindex', '-1');
  title.focus({ preventScroll: true });
}

/** The whole page of one order, as the viewer (its vendor or its customer) sees it. */
function orderPage(order, vendor, { offer, toast, act, move, rejectBox }) {
  return [
    orderHead(order, vendor),
    order.reject_reason ? h('p', { class: 'banner banner-warn' }, t('order.declined_reason', { reason: order.reject_reason })) : null,
    offer,
    actionsCard(order, vendor, { move, rejectBox }),
    h('div', { class: 'grid-2' }, itemsCard(order), paymentCard(order, vendor, { toast, act })),
    messagesCard(order, (body) => act('/messages', { body })),
  ];
}

export function render(main, { params, toast }) {
  const id = params[0];
  const base = `/api/orders/${encodeURIComponent(id)}`;
  let order = null;
  let offer = null; // the customer's "Follow your orders" card, kept across redraws
  const rejectBox = h('div');

  let generation = 0; // only the newest answer may draw (live reloads and actions overlap)
  async function load() {
    const mine = ++generation;
    try {
      const fresh = await get(base);
      if (mine !== generation) return;
      order = fresh;
      draw();
    } catch (error) {
      mount(main, unavailable(error));
    }
  }

  async function act(path, body, done, headers) {
    const mine = ++generation;
    try {
      const fresh = await post(`${base}${path}`, body, headers);
      if (mine !== generation) return load();
      order = fresh;
      draw();
      refocusTitle(main);
      if (done) toast(done, 'success');
    } catch (error) {
      toast(errorMessage(error, owedWords(order)), 'error');
    }
  }

  const move = mover(act, rejectBox);

  function draw() {
    const vendor = order.vendor.id === state.user.id;
    // A customer hears of this order's progress only while the tab is open, unless
    // they turn notifications on: offered here, after ordering, not on a settings page.
    const offered = !vendor && permission() === 'default' ? (offer ||= pushCard({ toast, compact: true })) : null;
    mount(main, orderPage(order, vendor, { offer: offered, toast, act, move, rejectBox }));
  }

  mount(main, h('p', { class: 'muted' }, t('order.loading')));
  load();
  return on('notification', (n) => { if (n.data && String(n.data.order_id) === String(id)) load(); });
}
