// Money, dates and labels, formatted for people.

const ZERO_DECIMAL = new Set(['JPY', 'KRW', 'VND', 'CLP', 'ISK']);

export function money(cents, currency) {
  const digits = ZERO_DECIMAL.has(currency) ? 0 : 2;
  const amount = digits ? cents / 100 : cents;
  try {
    return new Intl.NumberFormat(undefined, { style: 'currency', currency }).format(amount);
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
  if (seconds < 45) return 'just now';
  const rtf = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
  if (seconds < 3600) return rtf.format(-Math.round(seconds / 60), 'minute');
  if (seconds < 86400) return rtf.format(-Math.round(seconds / 3600), 'hour');
  if (seconds < 7 * 86400) return rtf.format(-Math.round(seconds / 86400), 'day');
  return dateTime(iso);
}

export function dateTime(iso) {
  if (!iso) return '—';
  return new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(iso));
}

export const STATUS_LABELS = {
  pending: 'New',
  accepted: 'Accepted',
  rejected: 'Declined',
  preparing: 'Preparing',
  shipped: 'Shipped',
  delivered: 'Delivered',
  cancelled: 'Cancelled',
};

/** Button text for moving an order to `status`. */
export const ACTION_LABELS = {
  accepted: 'Accept',
  rejected: 'Decline',
  preparing: 'Start preparing',
  shipped: 'Mark shipped',
  delivered: 'Mark delivered',
  cancelled: 'Cancel order',
};

export const TYPE_LABELS = { order: 'Orders', payment: 'Payments', message: 'Messages', system: 'System' };

export function itemCount(order) {
  const n = order.items.reduce((sum, item) => sum + item.quantity, 0);
  return n === 1 ? '1 item' : `${n} items`;
}
