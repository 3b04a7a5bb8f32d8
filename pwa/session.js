// Who is signed in, and in which language: signing in and out, and switching the language.

import { get, post } from './api.js';
import { refreshCounts, retranslateConnection, startLive } from './connection.js';
import { renderHeader } from './header.js';
import { browserLocale, locale, setLocale } from './i18n.js';
import { syncSubscription } from './push.js';
import { navigate, route } from './router.js';
import { forgetAll } from './saved.js';
import { rememberedUser, rememberUser, state } from './state.js';

/** The header for the current user, its Sign out wired to `logout`. */
export function drawHeader() {
  renderHeader({ onSignOut: logout });
}

/** Redraw the whole app in another language at once (Settings' language select). */
export async function changeLocale(lang) {
  await setLocale(lang);
  if (state.user) state.user = { ...state.user, locale: lang };
  if (state.user) rememberUser(state.user);
  drawHeader();
  retranslateConnection();
  route({ focus: false });
}

/** Start the live channel for the signed-in user; a session the server ended signs out. */
export function goLive() {
  startLive({ onUnauthorized: signedOut });
}

export async function signedIn(user) {
  if (user.locale && user.locale !== locale()) await setLocale(user.locale);
  const before = rememberedUser();
  if (before && before.id !== user.id) forgetAll(); // another account's saved inbox
  state.user = user;
  rememberUser(user);
  drawHeader();
  goLive();
  // The newest notification we know of: where a reconnect resumes (`since`).
  get('/api/notifications?limit=1').then((page) => {
    if (page.items[0] && state.live) state.live.seed(page.items[0].id);
  }).catch(() => null);
  await refreshCounts();
  syncSubscription();
}

export async function signedOut() {
  // Signed out, the browser's language again: the sign-in page is nobody's yet.
  await setLocale(browserLocale()).catch(() => null);
  if (state.live) state.live.stop();
  state.live = null;
  state.user = null;
  rememberUser(null);
  forgetAll();
  drawHeader();
  navigate('/signin', { replace: true });
}

async function logout() {
  await post('/api/auth/logout').catch(() => null);
  signedOut();
}
