// The notification types are declared once, on the server (server/notifications/types.py).
// `GET /api/preferences` answers the channels of every declared type, in declaration
// order, so the PWA keeps no list of its own: a type added there shows up here.

import { get } from './api.js';

/** The type names a preferences answer lists. */
export function typeNames(prefs) {
  return Object.keys(prefs?.types ?? {});
}

/** The declared type names, asked of the server. */
export async function declaredTypes() {
  return typeNames(await get('/api/preferences'));
}
