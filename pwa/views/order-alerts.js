// The vendor's one line on how an order reached them: "Rang on 2 devices · reminded 2× ·
// emailed at 14:05", or "No device rang — emailed at 14:05". Parts that did not happen
// are left out; times are in the browser's locale.

import { h } from '../dom.js';

function sameDay(a, b) {
  return a.toDateString() === b.toDateString();
}

/** 14:05 on the order's own day, else with the date too. */
function when(iso, orderCreated) {
  const at = new Date(iso);
  const style = sameDay(at, new Date(orderCreated)) ? { timeStyle: 'short' } : { dateStyle: 'medium', timeStyle: 'short' };
  return new Intl.DateTimeFormat(undefined, style).format(at);
}

function emailPart(emails, orderCreated) {
  const sent = emails.find((e) => e.status === 'sent' && e.sent_at);
  if (sent) return `emailed at ${when(sent.sent_at, orderCreated)}`;
  if (emails.some((e) => e.status === 'queued')) return 'email on its way';
  if (emails.length) return 'email failed';
  return null;
}

/** The line's text, or null when there is nothing to say (no alerts: not the vendor). */
export function alertsText(alerts, orderCreated) {
  if (!alerts) return null;
  const n = alerts.devices_rung;
  const rang = n ? `Rang on ${n} device${n === 1 ? '' : 's'}` : 'No device rang';
  const rest = [
    alerts.reminders_sent ? `reminded ${alerts.reminders_sent}×` : null,
    emailPart(alerts.emails, orderCreated),
  ].filter(Boolean);
  if (!rest.length) return rang;
  return `${rang}${n ? ' · ' : ' — '}${rest.join(' · ')}`;
}

export function alertsLine(order) {
  const text = alertsText(order.alerts, order.created_at);
  if (!text) return null;
  const a = order.alerts;
  const title = a.devices_rung ? `${a.devices_reached} of ${a.devices_rung} reached by their push service` : null;
  return h('p', { class: 'muted small order-alerts', 'data-testid': 'order-alerts', title }, text);
}
