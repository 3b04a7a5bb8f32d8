// Sign in and sign up (vendors and customers). Both answers set the HttpOnly session
// cookie, so sign-up needs no second call that a sign-in limit could refuse.

import { get, post } from '../api.js';
import { signedIn } from '../session.js';
import { h, mount } from '../dom.js';
import { locale, t } from '../i18n.js';
import { errorMessage } from '../messages.js';

function field(label, attrs) {
  return h('label', { class: 'field' }, h('span', {}, label), h('input', attrs));
}

function rolePicker() {
  return h('fieldset', { class: 'role-picker' },
    h('legend', {}, t('auth.i_am')),
    h('label', {}, h('input', { type: 'radio', name: 'role', value: 'vendor', checked: true }), ` ${t('auth.vendor')}`),
    h('label', {}, h('input', { type: 'radio', name: 'role', value: 'customer' }), ` ${t('auth.customer')}`));
}

/** The sign-in or sign-up form; `error` is the paragraph a refusal is written in. */
function authForm(mode, { error, submit }) {
  const signup = mode === 'signup';
  return h(
    'form',
    { class: 'form', 'data-testid': `${mode}-form`, onsubmit: submit },
    signup ? field(t('auth.name'), { name: 'name', required: true, maxlength: 120, autocomplete: 'organization' }) : null,
    field(t('auth.email'), { name: 'email', type: 'email', required: true, autocomplete: 'email' }),
    field(t('auth.password'), { name: 'password', type: 'password', required: true, minlength: signup ? 8 : null, autocomplete: signup ? 'new-password' : 'current-password' }),
    signup ? rolePicker() : null,
    error,
    h('button', { class: 'button primary wide', type: 'submit' }, signup ? t('auth.create_account') : t('auth.sign_in')),
  );
}

/** The card's content for `mode`: logo, title, form, and the switch to the other mode. */
function authCardContent(mode, { form, switchMode }) {
  const signup = mode === 'signup';
  return [
    h('img', { src: '/icons/icon-192.png', alt: '', class: 'auth-logo', width: 56, height: 56 }),
    h('h1', {}, signup ? t('auth.create_title') : t('auth.sign_in_title')),
    h('p', { class: 'muted' }, t('auth.tagline')),
    form,
    h('p', { class: 'switch' }, signup ? `${t('auth.have_account')} ` : `${t('auth.new_here')} `,
      h('button', { type: 'button', class: 'link-button', onclick: switchMode }, signup ? t('auth.sign_in') : t('auth.create_an_account'))),
  ];
}

/** Sign up or sign in, then load who that is. */
async function authenticate(mode, data) {
  if (mode === 'signup') await post('/api/auth/register', { ...data, locale: locale() });
  else await post('/api/auth/login', { email: data.email, password: data.password });
  return get('/api/me');
}

export function render(main, { navigate }) {
  let mode = 'signin';
  const error = h('p', { class: 'form-error', role: 'alert', hidden: true });
  const card = h('section', { class: 'card auth-card' });

  function show(nextMode, { focus = false } = {}) {
    mode = nextMode;
    error.hidden = true;
    const other = mode === 'signup' ? 'signin' : 'signup';
    const form = authForm(mode, { error, submit });
    mount(card, authCardContent(mode, { form, switchMode: () => show(other, { focus: true }) }));
    // The button pressed is gone with the old form: start the new one at its heading.
    if (focus) {
      const heading = card.querySelector('h1');
      heading.setAttribute('tabindex', '-1');
      heading.focus();
    }
  }

  async function submit(event) {
    event.preventDefault();
    const data = Object.fromEntries(new FormData(event.target));
    const button = event.target.querySelector('button[type=submit]');
    button.disabled = true;
    error.hidden = true;
    try {
      await signedIn(await authenticate(mode, data));
      navigate('/', { replace: true });
    } catch (e) {
      error.textContent = errorMessage(e);
      error.hidden = false;
      button.disabled = false;
    }
  }

  show(mode);
  mount(main, h('div', { class: 'auth-page' }, card));
}
