// The last answers of the inbox, the orders and the counts, kept on this device so that a
// start without a network shows them (marked as saved) instead of an empty app. Only the
// signed-in user's, and forgotten on sign-out.

const PREFIX = 'vb.saved:';
const MAX_ENTRIES = 40;
const KEPT = [/^\/api\/notifications(\?.*)?$/, /^\/api\/notifications\/count$/, /^\/api\/orders(\?.*)?$/, /^\/api\/orders\/\d+$/];

export function keepsAnswer(path) {
  return KEPT.some((pattern) => pattern.test(path));
}

export function save(path, data) {
  try {
    localStorage.setItem(PREFIX + path, JSON.stringify({ at: Date.now(), data }));
    prune();
  } catch {
    // Storage full or disabled: the app works, only without the offline copy.
  }
}

/** `{ at, data }` saved for `path`, or null. An order never opened online is found in
 * a saved order list (the list's items are whole orders), so a listed order opens offline. */
export function saved(path) {
  const own = read(PREFIX + path);
  const order = path.match(/^\/api\/orders\/(\d+)$/);
  if (own || !order) return own;
  let found = null;
  for (const key of savedKeys()) {
    if (!/^\/api\/orders(\?.*)?$/.test(key.slice(PREFIX.length))) continue;
    const list = read(key);
    const item = Array.isArray(list?.data) && list.data.find((o) => String(o.id) === order[1]);
    if (item && (!found || list.at > found.at)) found = { at: list.at, data: item };
  }
  return found;
}

function read(key) {
  try {
    return JSON.parse(localStorage.getItem(key) || 'null');
  } catch {
    return null;
  }
}

export function forgetAll() {
  for (const key of savedKeys()) localStorage.removeItem(key);
}

function savedKeys() {
  const keys = [];
  for (let i = 0; i < localStorage.length; i += 1) {
    const key = localStorage.key(i);
    if (key && key.startsWith(PREFIX)) keys.push(key);
  }
  return keys;
}

/** Keeps the newest MAX_ENTRIES (order pages add up). */
function prune() {
  const keys = savedKeys();
  if (keys.length <= MAX_ENTRIES) return;
  const age = (key) => { try { return JSON.parse(localStorage.getItem(key)).at || 0; } catch { return 0; } };
  keys.sort((a, b) => age(a) - age(b)).slice(0, keys.length - MAX_ENTRIES).forEach((key) => localStorage.removeItem(key));
}
