// The router: which view draws which path, in a fresh container per visit. app.js hands it
// the route table and what to do around a page change (redraw the nav, show a failure).

import { h, mount } from './dom.js';
import { t } from './i18n.js';
import { state } from './state.js';
import { toast } from './toast.js';

let routes = [];
let hooks = { onRoute: () => {}, onError: () => {} };
let cleanup = null;

/** The table of [path pattern, view module], and the hooks: `onRoute()` after each page
 * change, `onError(error)` when a view's render fails. */
export function useRoutes(table, { onRoute, onError }) {
  routes = table;
  hooks = { onRoute, onError };
}

export function navigate(path, { replace = false } = {}) {
  if (path.startsWith(location.origin)) path = path.slice(location.origin.length);
  if (replace) history.replaceState(null, '', path);
  else if (path !== location.pathname + location.search) history.pushState(null, '', path);
  route();
}

/** After a page change, keyboard and screen-reader users start at the new page's heading
 * (views may draw it only when their data arrives), unless they already moved on in it. */
function focusHeading(view) {
  const focus = (heading) => {
    if (view.contains(document.activeElement) && document.activeElement !== view) return;
    heading.setAttribute('tabindex', '-1');
    heading.focus({ preventScroll: true });
  };
  const heading = view.querySelector('h1');
  if (heading) return focus(heading);
  const observer = new MutationObserver(() => {
    const drawn = view.querySelector('h1');
    if (drawn) { observer.disconnect(); focus(drawn); }
  });
  observer.observe(view, { childList: true, subtree: true });
  setTimeout(() => observer.disconnect(), 15_000);
}

// Paths people guess (the page is called Settings): sent on to the page they mean.
const ALIASES = { '/settings': '/preferences', '/inbox': '/notifications' };

function notFound(main) {
  return mount(main, h('section', { class: 'card empty-state' }, h('h1', {}, t('app.not_found')), h('a', { href: '/' }, t('app.back_to_dashboard'))));
}

/** Draw the page for the current location (signed out, only the sign-in page). */
export function route({ focus = true } = {}) {
  if (cleanup) cleanup();
  cleanup = null;
  const main = document.getElementById('main');
  const path = location.pathname;
  if (ALIASES[path]) return navigate(ALIASES[path] + location.search, { replace: true });
  if (!state.user && path !== '/signin') return navigate('/signin', { replace: true });
  if (state.user && path === '/signin') return navigate('/', { replace: true });
  const match = routes.map(([re, view]) => [path.match(re), view]).find(([m]) => m);
  const ctx = { navigate, toast, params: match ? match[0].slice(1) : [], query: new URLSearchParams(location.search) };
  hooks.onRoute();
  window.scrollTo(0, 0);
  if (!match) {
    notFound(main);
    if (focus) focusHeading(main);
    return;
  }
  // A fresh container per visit: a slow request of the page we left draws into a
  // detached element instead of over the page we are on.
  const view = h('div', { class: 'view' });
  mount(main, view);
  if (focus) focusHeading(view);
  const result = match[1].render(view, ctx);
  cleanup = typeof result === 'function' ? result : null;
  Promise.resolve(result).then((fn) => { if (typeof fn === 'function') cleanup = fn; }).catch(hooks.onError);
}
