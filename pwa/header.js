// The header: brand, the signed-in user's links, the live dot, the bell and Sign out.

import { createBell } from './bell.js';
import { dot } from './connection.js';
import { h, mount } from './dom.js';
import { t } from './i18n.js';
import { navigate } from './router.js';
import { state } from './state.js';

function navLinks() {
  if (!state.user) return [];
  const { role } = state.user;
  // The console is for administrators only: nobody else is shown a link to it.
  if (role === 'admin') {
    return [
      ['/console/activity', t('nav.activity')],
      ['/console/health', t('nav.console_health')],
      ['/console/broadcasts', t('nav.broadcasts')],
      ['/console/keys', t('nav.console_keys')],
      ['/notifications', t('nav.notifications')], ['/devices', t('nav.devices')], ['/preferences', t('nav.settings')],
    ];
  }
  return role === 'vendor'
    ? [['/', t('nav.dashboard')], ['/orders', t('nav.orders')], ['/notifications', t('nav.notifications')], ['/devices', t('nav.devices')], ['/preferences', t('nav.settings')]]
    : [['/checkout', t('nav.new_order')], ['/orders', t('nav.my_orders')], ['/notifications', t('nav.notifications')], ['/devices', t('nav.devices')], ['/preferences', t('nav.settings')]];
}

/** The nav's links, the current page's marked (after each page change). */
export function renderNav() {
  const nav = document.querySelector('#header nav');
  if (!nav) return;
  const here = location.pathname;
  mount(nav, navLinks().map(([href, label]) => {
    const active = href === '/' ? here === '/' : here.startsWith(href);
    return h('a', { href, class: active ? 'active' : null, 'aria-current': active ? 'page' : null }, label);
  }));
}

/** The whole header for whoever is signed in (only the brand for nobody); `onSignOut`
 * runs when Sign out is pressed. */
export function renderHeader({ onSignOut }) {
  const header = document.getElementById('header');
  const brand = h('a', { href: '/', class: 'brand' }, h('img', { src: '/icons/icon-192.png', alt: '', width: 28, height: 28 }), h('span', {}, 'vendorbell'));
  if (!state.user) return mount(header, h('div', { class: 'header-row' }, brand));
  const signOut = h('button', { class: 'link-button', type: 'button', onclick: onSignOut }, t('app.sign_out'));
  mount(
    header,
    h(
      'div',
      { class: 'header-row' },
      brand,
      h('nav', { class: 'main-nav', 'aria-label': t('nav.label') }),
      h('div', { class: 'header-tools' }, dot, createBell(navigate),
        h('div', { class: 'who' }, h('span', { class: 'who-name' }, state.user.name), h('span', { class: 'who-role' }, t(`role.${state.user.role}`)), signOut)),
    ),
  );
  renderNav();
}
