// What a person reads when a request fails: the API's stable `code`s (and, for a refused
// form, pydantic's error `type`s) as sentences in the reader's language, from the
// catalogues' `error.*`, `field.*` and `problem.*` keys; the server's `detail` is only
// the last resort.

import { OfflineError } from './api.js';
import { money } from './format.js';
import { locale, t } from './i18n.js';

/** Refused fields that have their own name in the catalogues (`field.<name>`). */
const FIELDS = new Set([
  'name', 'email', 'password', 'body', 'note', 'reason', 'amount_cents', 'unit_price_cents', 'quantity',
  'vendor_id', 'currency', 'items', 'label', 'max_repeats', 'repeat_every_seconds', 'locale', 'title', 'url',
]);
const CENTS = new Set(['amount_cents', 'unit_price_cents']);

/** pydantic's error types worded in the catalogues (`problem.<type>`); those that name a
 * limit have a `problem.<type>.limit` form too. */
const PROBLEMS = new Set([
  'missing', 'text_blank', 'text_control_character', 'string_too_short', 'string_too_long', 'too_short',
  'too_long', 'greater_than_equal', 'greater_than', 'less_than_equal', 'value_error',
  'string_pattern_mismatch', 'int_type', 'int_parsing', 'unknown_locale',
  'link_characters', 'link_not_a_path', 'link_invalid',
]);
const WITH_LIMIT = new Set(['greater_than_equal', 'less_than_equal']);

/** The API's codes that need more than their catalogue sentence (`error.<code>`). */
const CODES = {
  login_rate_limited: (e) => `${t('error.login_rate_limited')} ${waitWords(e.retryAfter)}`,
  register_rate_limited: (e) => `${t('error.register_rate_limited')} ${waitWords(e.retryAfter)}`,
  password_rate_limited: (e) => `${t('error.password_rate_limited')} ${waitWords(e.retryAfter)}`,
  too_many_requests: (e) => `${t('error.too_many_requests')} ${waitWords(e.retryAfter)}`,
  overpayment: (e, c) => (c.outstanding !== undefined
    ? t('error.overpayment.amount', { amount: money(c.outstanding, c.currency) })
    : t('error.overpayment')),
  invalid_time_zone: (e, c) => (c.zone ? t('error.invalid_time_zone.zone', { zone: c.zone }) : t('error.invalid_time_zone')),
  refund_exceeds_paid: (e, c) => (c.refundable !== undefined
    ? t('error.refund_exceeds_paid.amount', { amount: money(c.refundable, c.currency) })
    : t('error.refund_exceeds_paid')),
};
const PLAIN = new Set([
  'offline', 'malformed_json', 'not_authenticated', 'invalid_credentials', 'email_taken', 'order_closed',
  'illegal_transition', 'vendor_only', 'customer_only', 'order_not_found', 'unknown_vendor',
  'idempotency_key_reused', 'csrf_origin_mismatch', 'subscription_not_found', 'notification_not_found',
  'too_large', 'order_inbox_required', 'empty_quiet_hours',
  'wrong_password', 'password_too_common', 'password_like_account', 'session_not_found',
  'admin_only', 'user_not_found', 'search_required', 'invalid_id', 'invalid_range', 'invalid_cursor',
  'broadcast_finished', 'broadcast_not_found',
]);

/** "Try again in 4 minutes." for a wait in seconds, rounded up as the server words it. */
export function tryAgainIn(seconds) {
  if (seconds >= 2 * 3600) return t('error.try_again_hours', { count: Math.ceil(seconds / 3600) });
  if (seconds >= 60) return t('error.try_again_minutes', { count: Math.ceil(seconds / 60) });
  return t('error.try_again_seconds', { count: Math.max(1, seconds) });
}

function waitWords(seconds) {
  return seconds ? tryAgainIn(seconds) : t('error.wait_a_few_minutes');
}

function fieldSentence(error) {
  const [first] = error.errors || [];
  if (!first) return null;
  const path = (first.loc || []).filter((part) => part !== 'body' && typeof part === 'string');
  const field = path[path.length - 1];
  const name = t(FIELDS.has(field) ? `field.${field}` : 'field.entry');
  // A limit in cents would read wrong ("at least 1"): money fields get the words without it.
  const number = String(first.msg || '').match(/-?\d+(\.\d+)?/);
  const limit = number && !CENTS.has(field) ? number[0] : null;
  if (first.type === 'value_error' && field === 'email') return t('problem.value_error.email');
  if (!PROBLEMS.has(first.type)) return t('problem.check', { field: name });
  const key = WITH_LIMIT.has(first.type) && limit !== null ? `problem.${first.type}.limit` : `problem.${first.type}`;
  return t(key, { field: name, limit });
}

/**
 * The sentence to show for `error` (an ApiError or any Error). `context` carries what the
 * page knows that the code does not: e.g. `{ outstanding, refundable, currency }` on an order.
 */
export function errorMessage(error, context = {}) {
  if (error instanceof OfflineError) return t('error.offline');
  const code = error && error.code;
  if (code && CODES[code]) return CODES[code](error, context);
  if (code && PLAIN.has(code)) return t(`error.${code}`);
  if (code === 'validation_error') return fieldSentence(error) || t('error.validation_error');
  if (error && error.status === 429) return CODES.too_many_requests(error);
  if (error && error.status >= 500) return t('error.server');
  // A service's own refusal is written as a sentence already, but in English: other
  // readers get their language's general words (a code missing here is worth adding).
  if (error && error.status && error.message) return locale() === 'en' ? error.message : t('error.refused');
  return t('error.unknown');
}
