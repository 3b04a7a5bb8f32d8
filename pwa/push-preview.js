// What a broadcast's push will carry, worked out in the page as the server does it
// (server/push/payload.py build_message): the body is shortened, never the JSON, until the
// whole document fits one encrypted Web Push record. The inbox keeps the whole text.

// server/push/payload.py MAX_PLAINTEXT: 4096 − the record's header, tag and delimiter − the
// room each device's receipt token takes (tests/console/test_broadcasts.py keeps them equal).
export const MAX_PLAINTEXT = 3928;
// The server fills these per push; the preview assumes the longest a real one has, so a
// body it shows whole is whole on every phone (ids and unread counts under 10 digits).
const WORST_ID = '9999999999';
const WORST_BADGE = 999999999;

const encoder = new TextEncoder();

function documentOf({ title, body, url, lang, origin }) {
  return JSON.stringify({
    web_push: 8030,
    notification: {
      title,
      body,
      navigate: new URL(url || '/', origin).href,
      tag: `system-${WORST_ID}`,
      lang,
      data: { app: 'vendorbell', id: WORST_ID, type: 'system', event: 'system.broadcast' },
    },
    app_badge: WORST_BADGE,
    mutable: true,
  });
}

/** {body, bytes, shortened}: the body as phones will show it, and the push's size. */
export function pushPreview({ title, body, url, lang, origin = location.origin }) {
  let shown = body;
  let bytes = encoder.encode(documentOf({ title, body: shown, url, lang, origin })).length;
  while (bytes > MAX_PLAINTEXT && shown) {
    // Counted in code points, as Python's len() and slices do (an emoji is one).
    const points = Array.from(shown);
    const excess = bytes - MAX_PLAINTEXT;
    const keep = Math.max(0, points.length - Math.max(excess, 1) - 1);
    shown = keep ? `${points.slice(0, keep).join('').trimEnd()}…` : '';
    bytes = encoder.encode(documentOf({ title, body: shown, url, lang, origin })).length;
  }
  return { body: shown, bytes, shortened: shown !== body };
}
