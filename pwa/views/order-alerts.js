// The vendor's one line on how an order reached them: "Rang on 2 devices · reminded 2× ·
// emailed at 14:05", or "No device rang — emailed at 14:05". Parts that did not happen
// are left out; times in the reader's language.

import { h } from '../dom.js';
import { formatLocale, t } from '../i18n.js';

function sameDay(a, b) {
  return a.toDateString() === b.toDateString();
}

/** 14:05 on the order's own day, else with the date too. */
function when(iso, orderCreated) {
  const at = new Date(iso);
  const style = sameDay(at, new Date(orderCreated)) ? { timeStyle: 'short' } : { dateStyle: 'medium', timeStyle: 'short' };
  return new Intl.DateTimeFormat(formatLocale(), style).format(at);
}

function emailPart(emails, orderCreated) {
  // Every email sent, not only the first: "emailed at 14:05 and 14:20" (no device, then
  // still unanswered), joined as the reader's language joins a list.
  const sent = emails.filter((e) => e.status === 'sent' && e.sent_at).map((e) => when(e.sent_at, orderCreated));
  if (sent.length) return t('alerts.emailed_at', { time: new Intl.ListFormat(formatLocale(), { type: 'conjunction' }).format(sent) });
  if (emails.some((e) => e.status === 'queued')) return t('alerts.email_queued');
  if (emails.length) return t('alerts.email_failed');
  return null;
}

/** The line's text, or null when there is nothing to say (no alerts: not the vendor). */
export function alertsText(alerts, orderCreated) {
  if (!alerts) return null;
  const n = alerts.devices_rung;
  const rang = n ? t('alerts.rang', { count: n }) : t('alerts.no_device');
  const rest = [
    alerts.reminders_sent ? t('alerts.reminded', { count: alerts.reminders_sent }) : null,
    emailPart(alerts.emails, orderCreated),
  ].filter(Boolean);
  if (!rest.length) return rang;
  return `${rang}${n ? ' · ' : ' — '}${rest.join(' · ')}`;
}

export function alertsLine(order) {
  const text = alertsText(order.alerts, order.created_at);
  if (!text) return null;
  const a = order.alerts;
  const title = a.devices_rung ? t('alerts.reached', { reached: a.devices_reached, count: a.devices_rung }) : null;
  return h('p', { class: 'muted small order-alerts', 'data-testid': 'order-alerts', title }, text);
}
