// What a person reads when a request fails: the API's stable `code`s (and, for a refused
// form, pydantic's error `type`s) as plain sentences. All of them live here, so that a
// translation replaces this one module; the server's `detail` is only the last resort.

import { OfflineError } from './api.js';
import { money } from './format.js';

/** How a refused field is called in a sentence. */
const FIELDS = {
  name: 'name', email: 'email address', password: 'password', body: 'message', note: 'note',
  reason: 'reason', amount_cents: 'amount', unit_price_cents: 'price', quantity: 'quantity',
  vendor_id: 'vendor', currency: 'currency', items: 'list of items', label: 'device name',
  max_repeats: 'number of reminders', repeat_every_seconds: 'time between reminders',
};
const CENTS = new Set(['amount_cents', 'unit_price_cents']);

/** pydantic's error types, for the field they refused (`limit`: the number its message names). */
const FIELD_PROBLEMS = {
  missing: (f) => `Please fill in the ${f}.`,
  text_blank: (f) => `Please fill in the ${f}: it cannot be only spaces.`,
  text_control_character: (f) => `The ${f} contains invisible control characters. Please type it again.`,
  string_too_short: (f) => `The ${f} is too short.`,
  string_too_long: (f) => `The ${f} is too long.`,
  too_short: (f) => `Please add at least one entry to the ${f}.`,
  too_long: (f) => `The ${f} has too many entries.`,
  greater_than_equal: (f, limit) => (limit === null ? `The ${f} must be greater than zero.` : `The ${f} must be at least ${limit}.`),
  greater_than: (f) => `The ${f} must be greater than zero.`,
  less_than_equal: (f, limit) => (limit === null ? `The ${f} is larger than we accept.` : `The ${f} can be at most ${limit}.`),
  value_error: (f) => (f === 'email address' ? 'Please enter a valid email address, like name@example.com.' : `Please check the ${f}.`),
  string_pattern_mismatch: (f) => `Please check the ${f}.`,
  int_type: (f) => `The ${f} must be a whole number.`,
  int_parsing: (f) => `The ${f} must be a whole number.`,
};

/** The API's codes; a function gets the error and what the page knows (`context`). */
const CODES = {
  offline: 'You are offline. This will work again when the connection is back.',
  malformed_json: 'Something went wrong sending this. Please reload the page and try again.',
  not_authenticated: 'Your session has ended. Please sign in again.',
  invalid_credentials: 'That email and password do not match an account.',
  email_taken: 'An account with this email already exists. Sign in instead, or use another email.',
  login_rate_limited: (e) => `Too many sign-in attempts. ${waitWords(e.retryAfter)}`,
  register_rate_limited: (e) => `Too many accounts were created from this network. ${waitWords(e.retryAfter)}`,
  too_many_requests: (e) => `Too many attempts. ${waitWords(e.retryAfter)}`,
  overpayment: (e, c) => (c.outstanding !== undefined
    ? `That is more than is left to pay: only ${money(c.outstanding, c.currency)} is still open on this order.`
    : 'That is more than is left to pay on this order.'),
  refund_exceeds_paid: (e, c) => (c.refundable !== undefined
    ? `You can refund at most ${money(c.refundable, c.currency)}: never more than was paid.`
    : 'You cannot refund more than was paid.'),
  order_closed: 'This order is closed, so it cannot be paid any more.',
  illegal_transition: 'This order has moved on in the meantime. The page now shows where it stands.',
  vendor_only: 'Only the shop that received this order can do that.',
  customer_only: 'Only the customer who placed this order can do that.',
  order_not_found: 'This order does not exist, or it is not one of yours.',
  unknown_vendor: 'That shop no longer exists. Please choose another one.',
  idempotency_key_reused: 'This order was already sent with different items. Please reload the page and place it again.',
  csrf_origin_mismatch: 'This request came from another site and was refused. Please use vendorbell directly.',
  subscription_not_found: 'This device was already removed.',
  notification_not_found: 'This notification no longer exists.',
  too_large: 'That is too much text to send at once. Please shorten it.',
};

/** "Try again in 4 minutes." for a wait in seconds, rounded up as the server words it. */
export function tryAgainIn(seconds) {
  let amount = Math.max(1, seconds);
  let unit = 'second';
  if (seconds >= 2 * 3600) [amount, unit] = [Math.ceil(seconds / 3600), 'hour'];
  else if (seconds >= 60) [amount, unit] = [Math.ceil(seconds / 60), 'minute'];
  return `Try again in ${amount} ${unit}${amount === 1 ? '' : 's'}.`;
}

function waitWords(seconds) {
  return seconds ? tryAgainIn(seconds) : 'Please wait a few minutes, then try again.';
}

function fieldSentence(error) {
  const [first] = error.errors || [];
  if (!first) return null;
  const path = (first.loc || []).filter((part) => part !== 'body' && typeof part === 'string');
  const field = path[path.length - 1];
  const name = FIELDS[field] || 'entry';
  // A limit in cents would read wrong ("at least 1"): money fields get the words without it.
  const number = String(first.msg || '').match(/-?\d+(\.\d+)?/);
  const limit = number && !CENTS.has(field) ? number[0] : null;
  const problem = FIELD_PROBLEMS[first.type];
  return problem ? problem(name, limit) : `Please check the ${name}.`;
}

/**
 * The sentence to show for `error` (an ApiError or any Error). `context` carries what the
 * page knows that the code does not: e.g. `{ outstanding, refundable, currency }` on an order.
 */
export function errorMessage(error, context = {}) {
  if (error instanceof OfflineError) return CODES.offline;
  const known = error && CODES[error.code];
  if (typeof known === 'function') return known(error, context);
  if (known) return known;
  if (error && error.code === 'validation_error') return fieldSentence(error) || 'Please check what you entered.';
  if (error && error.status === 429) return CODES.too_many_requests(error);
  if (error && error.status >= 500) return 'Something went wrong on our side. Please try again in a moment.';
  // A service's own refusal is written as a sentence already; anything else was not meant for people.
  if (error && error.status && error.message) return error.message;
  return 'Something went wrong. Please try again.';
}
