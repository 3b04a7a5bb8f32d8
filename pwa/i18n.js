// The PWA's words in the reader's language: one JSON catalogue per language in /i18n/
// (flat keys, `{name}` placeholders, plural forms as `key.one` / `key.other` chosen by
// Intl.PluralRules), loaded before the first render. Translators edit only the JSON.

export const LOCALES = ['en', 'de', 'fr'];
const FALLBACK = 'en';
// The service worker reads the chosen language here (it has no localStorage).
export const LOCALE_CACHE = 'vendorbell-locale';

let current = FALLBACK;
let strings = {};
let english = {};
let plurals = new Intl.PluralRules(FALLBACK);

/** The first of the browser's languages we have ("de-AT" → "de"), else English. */
export function browserLocale(languages = navigator.languages || [navigator.language]) {
  for (const tag of languages) {
    const base = String(tag || '').toLowerCase().split('-')[0];
    if (LOCALES.includes(base)) return base;
  }
  return FALLBACK;
}

async function catalogue(lang) {
  const response = await fetch(`/i18n/${lang}.json`, { cache: 'no-cache' });
  if (!response.ok) throw new Error(`catalogue ${lang}: ${response.status}`);
  return response.json();
}

/** Load `lang`'s catalogue (English fills any gap), and make it the page's language. */
export async function setLocale(lang) {
  const next = LOCALES.includes(lang) ? lang : FALLBACK;
  if (!Object.keys(english).length) english = await catalogue(FALLBACK);
  strings = next === FALLBACK ? english : await catalogue(next).catch(() => english);
  current = strings === english ? FALLBACK : next;
  plurals = new Intl.PluralRules(current);
  document.documentElement.lang = current;
  translateStatic(document);
  tellServiceWorker(current);
  return current;
}

export function locale() {
  return current;
}

/** For numbers, money and dates: the browser's own tag when it is of the chosen language
 * ("en-GB" keeps 14:05, "de-CH" its own money), else the language itself. */
export function formatLocale() {
  const languages = navigator.languages || [navigator.language];
  return languages.find((tag) => String(tag || '').toLowerCase().split('-')[0] === current) || current;
}

/** Whether a catalogue has `key` (the server may name things the PWA has no words for yet). */
export function known(key) {
  return key in strings || key in english;
}

/** `key`'s text with `{name}`s filled in; with a numeric `count`, its plural form. */
export function t(key, params = {}) {
  let text;
  if (typeof params.count === 'number') {
    const form = plurals.select(params.count);
    text = strings[`${key}.${form}`] ?? strings[`${key}.other`] ?? english[`${key}.other`];
  }
  text ??= strings[key] ?? english[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (whole, name) => {
    if (!(name in params)) return whole;
    const value = params[name];
    return typeof value === 'number' ? new Intl.NumberFormat(formatLocale()).format(value) : String(value);
  });
}

/** index.html's fixed words: `data-i18n` sets the text, `data-i18n-content` a meta's content. */
export function translateStatic(root) {
  root.querySelectorAll('[data-i18n]').forEach((el) => { el.textContent = t(el.dataset.i18n); });
  root.querySelectorAll('[data-i18n-content]').forEach((el) => { el.setAttribute('content', t(el.dataset.i18nContent)); });
}

function tellServiceWorker(lang) {
  if (!('caches' in self)) return;
  caches.open(LOCALE_CACHE)
    .then((cache) => cache.put('/i18n/current', new Response(JSON.stringify({ locale: lang }), { headers: { 'Content-Type': 'application/json' } })))
    .catch(() => {});
}
