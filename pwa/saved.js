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

/** `{ at, data }` saved for `path`, or null. */
export function saved(path) {
  try {
    return JSON.parse(localStorage.getItem(PREFIX + path) || 'null');
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
