// Money, dates and labels, formatted for people in the chosen language (i18n.js).

import { formatLocale, known, t } from './i18n.js';

const ZERO_DECIMAL = new Set(['JPY', 'KRW', 'VND', 'CLP', 'ISK']);

export function money(cents, currency) {
  const digits = ZERO_DECIMAL.has(currency) ? 0 : 2;
  const amount = digits ? cents / 100 : cents;
  try {
    return new Intl.NumberFormat(formatLocale(), { style: 'currency', currency }).format(amount);
  } catch {
    return `${amount.toFixed(digits)} ${currency}`;
  }
}

/** Parse a user-typed amount ("12.5", "12,50") into integer cents, or null. */
export function toCents(text, currency = 'EUR') {
  const value = Number(String(text).trim().replace(',', '.'));
  if (!Number.isFinite(value) || value < 0) return null;
  return ZERO_DECIMAL.has(currency) ? Math.round(value) : Math.round(value * 100);
}

export function ago(iso) {
  const seconds = Math.round((Date.now() - new Date(iso).getTime()) / 1000);
  if (seconds < 45) return t('time.just_now');
  const rtf = new Intl.RelativeTimeFormat(formatLocale(), { numeric: 'auto' });
  if (seconds < 3600) return rtf.format(-Math.round(seconds / 60), 'minute');
  if (seconds < 86400) return rtf.format(-Math.round(seconds / 3600), 'hour');
  if (seconds < 7 * 86400) return rtf.format(-Math.round(seconds / 86400), 'day');
  return dateTime(iso);
}

export function dateTime(iso) {
  if (!iso) return '—';
  return new Intl.DateTimeFormat(formatLocale(), { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(iso));
}

/** An order status in words ("New", "Neu", "Nouvelle"). */
export function statusLabel(status) {
  return t(`status.${status}`);
}

/** Button text for moving an order to `status`. */
export function actionLabel(status) {
  return t(`action.${status}`);
}

/** A notification type's name, as the filters and settings list it. The types are the
 * server's (kinds.js); one the catalogues have no words for yet shows its own name. */
export function typeLabel(type) {
  return known(`type.${type}`) ? t(`type.${type}`) : type;
}

/** Numbers as the chosen language writes them. */
export function number(value, options = {}) {
  return new Intl.NumberFormat(formatLocale(), options).format(value);
}

export function itemCount(order) {
  const n = order.items.reduce((sum, item) => sum + item.quantity, 0);
  return t('order.items', { count: n });
}
