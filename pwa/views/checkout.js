// Customer checkout: pick a vendor, add items, place the order (idempotently).

import { get, post } from '../api.js';
import { h, mount } from '../dom.js';
import { t } from '../i18n.js';
import { errorMessage } from '../messages.js';
import { money, number, toCents } from '../format.js';
import { state } from '../state.js';

// Quick-add items and their prices in cents, written in the reader's way ("3,50" in French).
const SUGGESTIONS = [['checkout.flat_white', 350], ['checkout.croissant', 220], ['checkout.sourdough', 580], ['checkout.orange_juice', 390]];
const decimal = (cents) => number(cents / 100, { minimumFractionDigits: 2, maximumFractionDigits: 2, useGrouping: false });
const CURRENCIES = ['EUR', 'USD', 'GBP'];

function customersOnly() {
  return h('section', { class: 'card empty-state' }, h('h1', {}, t('checkout.customers_only')), h('p', { class: 'muted' }, t('checkout.customers_only_hint')));
}

/** One line of the order being written: item, quantity, unit price and a remove button. */
function itemRow({ name = '', price = '', quantity = 1, onRemove }) {
  const row = h('tr', { class: 'item-row' },
    h('td', {}, h('input', { name: 'name', value: name, placeholder: t('checkout.item'), required: true, maxlength: 200, 'aria-label': t('checkout.item_name') })),
    h('td', {}, h('input', { name: 'quantity', type: 'number', min: 1, max: 10000, value: quantity, required: true, class: 'qty', 'aria-label': t('checkout.quantity') })),
    h('td', {}, h('input', { name: 'price', inputmode: 'decimal', value: price, placeholder: decimal(0), required: true, class: 'amount', 'aria-label': t('checkout.unit_price') })),
    h('td', {}, h('button', { type: 'button', class: 'icon-button remove', 'aria-label': t('checkout.remove_item'), onclick: () => { row.remove(); onRemove(); } }, '×')));
  return row;
}

/** The items as typed, in the API's shape (a price that does not parse is null). */
function readItems(rows, currency) {
  return [...rows.querySelectorAll('tr')].map((tr) => ({
    name: tr.querySelector('[name=name]').value.trim(),
    quantity: Number.parseInt(tr.querySelector('[name=quantity]').value, 10),
    unit_price_cents: toCents(tr.querySelector('[name=price]').value, currency),
  }));
}

function complete(item) {
  return Boolean(item.name) && Number.isInteger(item.quantity) && item.quantity >= 1 && item.unit_price_cents !== null;
}

function totalCents(items) {
  return items.reduce((s, i) => s + (Number.isInteger(i.quantity) && i.unit_price_cents !== null ? i.quantity * i.unit_price_cents : 0), 0);
}

/** The add-item button and the quick-add chips; `addRow(name, price)` adds a line. */
function quickAdd(addRow) {
  return h('div', { class: 'row' },
    h('button', { type: 'button', class: 'button ghost', 'data-testid': 'add-item', onclick: () => addRow() }, `+ ${t('checkout.add_item')}`),
    h('span', { class: 'muted small' }, t('checkout.quick_add')),
    SUGGESTIONS.map(([key, cents]) => h('button', { type: 'button', class: 'chip', onclick: () => addRow(t(key), decimal(cents)) }, t(key))));
}

/** The checkout form around its fields (built by render, which reads them). */
function checkoutForm(fields, { place, changed, addRow }) {
  const { vendorSelect, rows, note, currency, total, error, submit } = fields;
  return h('form', { class: 'card form checkout', 'data-testid': 'checkout-form', onsubmit: place, oninput: changed },
    h('label', { class: 'field' }, h('span', {}, t('checkout.vendor')), vendorSelect),
    h('table', { class: 'item-editor' },
      h('thead', {}, h('tr', {}, h('th', {}, t('checkout.item')), h('th', {}, t('checkout.qty')), h('th', {}, t('checkout.price')), h('th', {}))),
      rows),
    quickAdd(addRow),
    h('label', { class: 'field' }, h('span', {}, t('checkout.note')), note),
    h('div', { class: 'checkout-foot' },
      h('label', { class: 'field inline' }, h('span', {}, t('checkout.currency')), currency),
      h('span', { class: 'checkout-total' }, `${t('order.total')} `, total)),
    error,
    submit);
}

function checkoutFields() {
  return {
    vendorSelect: h('select', { name: 'vendor', required: true, 'data-testid': 'vendor-select' }, h('option', { value: '' }, t('checkout.loading_vendors'))),
    currency: h('select', { name: 'currency' }, CURRENCIES.map((c) => h('option', { value: c }, c))),
    rows: h('tbody'),
    total: h('strong', { 'data-testid': 'checkout-total' }),
    note: h('textarea', { name: 'note', rows: 2, maxlength: 1000, placeholder: t('checkout.note_placeholder') }),
    error: h('p', { class: 'form-error', role: 'alert', hidden: true }),
    submit: h('button', { class: 'button primary wide', type: 'submit', 'data-testid': 'place-order' }, t('checkout.place_order')),
  };
}

function vendorOptions(vendors) {
  return [h('option', { value: '' }, vendors.length ? t('checkout.choose_vendor') : t('checkout.no_vendors')),
    vendors.map((v) => h('option', { value: v.id }, v.name))];
}

export function render(main, { navigate, toast }) {
  if (state.user.role !== 'customer') {
    mount(main, customersOnly());
    return;
  }
  // One key per checkout: a retried click after a network error cannot order twice.
  let idempotencyKey = crypto.randomUUID();
  const fields = checkoutFields();
  const { vendorSelect, currency, rows, total, note, error, submit } = fields;
  const items = () => readItems(rows, currency.value);
  const updateTotal = () => { total.textContent = money(totalCents(items()), currency.value); };
  const showError = (text) => {
    error.textContent = text;
    error.hidden = false;
  };
  // A refusal is about the form as it was sent: once it changes, the message is stale.
  const changed = () => {
    updateTotal();
    error.hidden = true;
  };
  const addRow = (name, price) => {
    rows.append(itemRow({ name, price, onRemove: changed }));
    updateTotal();
  };

  async function place(event) {
    event.preventDefault();
    error.hidden = true;
    const body = { vendor_id: vendorSelect.value, items: items(), currency: currency.value, note: note.value.trim() || null };
    if (!body.items.length) return showError(t('checkout.add_one'));
    if (!body.items.every(complete)) return showError(t('checkout.item_incomplete'));
    submit.disabled = true;
    try {
      const order = await post('/api/orders', body, { 'Idempotency-Key': idempotencyKey });
      idempotencyKey = crypto.randomUUID();
      toast(t('checkout.placed', { number: order.number, vendor: order.vendor.name }), 'success');
      navigate(`/orders/${order.id}`);
    } catch (e) {
      showError(errorMessage(e));
      submit.disabled = false;
    }
  }

  mount(main, h('div', { class: 'page-head' }, h('h1', {}, t('nav.new_order'))), checkoutForm(fields, { place, changed, addRow }));
  currency.addEventListener('change', updateTotal);
  addRow(t(SUGGESTIONS[0][0]), decimal(SUGGESTIONS[0][1]));
  get('/api/vendors').then((vendors) => mount(vendorSelect, vendorOptions(vendors))).catch((e) => showError(errorMessage(e)));
}
