// Customer checkout: pick a vendor, add items, place the order (idempotently).

import { get, post } from '../api.js';
import { h, mount } from '../dom.js';
import { errorMessage } from '../messages.js';
import { money, toCents } from '../format.js';
import { state } from '../state.js';

const SUGGESTIONS = [['Flat white', '3.50'], ['Croissant', '2.20'], ['Sourdough loaf', '5.80'], ['Orange juice', '3.90']];
const CURRENCIES = ['EUR', 'USD', 'GBP'];

export function render(main, { navigate, toast }) {
  if (state.user.role !== 'customer') {
    mount(main, h('section', { class: 'card empty-state' }, h('h1', {}, 'Checkout is for customers'), h('p', { class: 'muted' }, 'Sign in with a customer account to place orders.')));
    return;
  }
  // One key per checkout: a retried click after a network error cannot order twice.
  let idempotencyKey = crypto.randomUUID();
  const vendorSelect = h('select', { name: 'vendor', required: true, 'data-testid': 'vendor-select' }, h('option', { value: '' }, 'Loading vendors…'));
  const currency = h('select', { name: 'currency' }, CURRENCIES.map((c) => h('option', { value: c }, c)));
  const rows = h('tbody');
  const total = h('strong', { 'data-testid': 'checkout-total' });
  const note = h('textarea', { name: 'note', rows: 2, maxlength: 1000, placeholder: 'Anything the vendor should know? (optional)' });
  const error = h('p', { class: 'form-error', role: 'alert', hidden: true });
  const submit = h('button', { class: 'button primary wide', type: 'submit', 'data-testid': 'place-order' }, 'Place order');

  function addRow(name = '', price = '', quantity = 1) {
    const row = h('tr', { class: 'item-row' },
      h('td', {}, h('input', { name: 'name', value: name, placeholder: 'Item', required: true, maxlength: 200, 'aria-label': 'Item name' })),
      h('td', {}, h('input', { name: 'quantity', type: 'number', min: 1, max: 10000, value: quantity, required: true, class: 'qty', 'aria-label': 'Quantity' })),
      h('td', {}, h('input', { name: 'price', inputmode: 'decimal', value: price, placeholder: '0.00', required: true, class: 'amount', 'aria-label': 'Unit price' })),
      h('td', {}, h('button', { type: 'button', class: 'icon-button remove', 'aria-label': 'Remove item', onclick: () => { row.remove(); changed(); } }, '×')));
    rows.append(row);
    updateTotal();
  }

  function items() {
    return [...rows.querySelectorAll('tr')].map((tr) => ({
      name: tr.querySelector('[name=name]').value.trim(),
      quantity: Number.parseInt(tr.querySelector('[name=quantity]').value, 10),
      unit_price_cents: toCents(tr.querySelector('[name=price]').value, currency.value),
    }));
  }

  function updateTotal() {
    const sum = items().reduce((s, i) => s + (Number.isInteger(i.quantity) && i.unit_price_cents !== null ? i.quantity * i.unit_price_cents : 0), 0);
    total.textContent = money(sum, currency.value);
  }

  async function place(event) {
    event.preventDefault();
    error.hidden = true;
    const body = { vendor_id: vendorSelect.value, items: items(), currency: currency.value, note: note.value.trim() || null };
    if (!body.items.length) return showError('Add at least one item.');
    if (body.items.some((i) => !i.name || !Number.isInteger(i.quantity) || i.quantity < 1 || i.unit_price_cents === null)) {
      return showError('Every item needs a name, a quantity and a price.');
    }
    submit.disabled = true;
    try {
      const order = await post('/api/orders', body, { 'Idempotency-Key': idempotencyKey });
      idempotencyKey = crypto.randomUUID();
      toast(`Order ${order.number} placed. ${order.vendor.name} has been notified.`, 'success');
      navigate(`/orders/${order.id}`);
    } catch (e) {
      showError(errorMessage(e));
      submit.disabled = false;
    }
  }

  // A refusal is about the form as it was sent: once it changes, the message is stale.
  function changed() {
    updateTotal();
    error.hidden = true;
  }

  function showError(text) {
    error.textContent = text;
    error.hidden = false;
  }

  mount(main,
    h('div', { class: 'page-head' }, h('h1', {}, 'New order')),
    h('form', { class: 'card form checkout', 'data-testid': 'checkout-form', onsubmit: place, oninput: changed },
      h('label', { class: 'field' }, h('span', {}, 'Vendor'), vendorSelect),
      h('table', { class: 'item-editor' },
        h('thead', {}, h('tr', {}, h('th', {}, 'Item'), h('th', {}, 'Qty'), h('th', {}, 'Price'), h('th', {}))),
        rows),
      h('div', { class: 'row' },
        h('button', { type: 'button', class: 'button ghost', 'data-testid': 'add-item', onclick: () => addRow() }, '+ Add item'),
        h('span', { class: 'muted small' }, 'Quick add:'),
        SUGGESTIONS.map(([name, price]) => h('button', { type: 'button', class: 'chip', onclick: () => addRow(name, price) }, name))),
      h('label', { class: 'field' }, h('span', {}, 'Note'), note),
      h('div', { class: 'checkout-foot' },
        h('label', { class: 'field inline' }, h('span', {}, 'Currency'), currency),
        h('span', { class: 'checkout-total' }, 'Total ', total)),
      error,
      submit));
  currency.addEventListener('change', updateTotal);
  addRow(...SUGGESTIONS[0]);

  get('/api/vendors').then((vendors) => {
    mount(vendorSelect, h('option', { value: '' }, vendors.length ? 'Choose a vendor…' : 'No vendors yet'),
      vendors.map((v) => h('option', { value: v.id }, v.name)));
  }).catch((e) => showError(errorMessage(e)));
}
