// Shared app state: who is signed in, the inbox counts, and a bus for live events.

export const bus = new EventTarget();

export const state = {
  user: null,
  counts: { unread: 0, unseen: 0 },
  live: null,
  offline: false,
};

export function emit(type, detail) {
  bus.dispatchEvent(new CustomEvent(type, { detail }));
}

/** Subscribe to a bus event; returns the unsubscribe function (views call it on unmount). */
export function on(type, handler) {
  const listener = (event) => handler(event.detail);
  bus.addEventListener(type, listener);
  return () => bus.removeEventListener(type, listener);
}

export function setCounts(counts) {
  state.counts = { unread: counts.unread ?? 0, unseen: counts.unseen ?? 0 };
  emit('counts', state.counts);
}

const ME_KEY = 'vb.me';

/** Only name, role and language are kept, so the offline shell can greet the user; never the token. */
export function rememberUser(user) {
  if (user) localStorage.setItem(ME_KEY, JSON.stringify({ id: user.id, name: user.name, role: user.role, email: user.email, locale: user.locale }));
  else localStorage.removeItem(ME_KEY);
}

export function rememberedUser() {
  try {
    return JSON.parse(localStorage.getItem(ME_KEY) || 'null');
  } catch {
    return null;
  }
}
