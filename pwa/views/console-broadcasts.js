// The operator's console, Broadcasts (admins only): write one notice to every vendor,
// customer or both, see it as a phone's lock screen will show it while typing, send it
// after a second look, and follow the recent ones as the worker fans them out chunk by
// chunk (polled while one runs), with a button to stop one between two chunks.

import { ApiError, get, post } from '../api.js';
import { dateTime } from '../format.js';
import { h, mount } from '../dom.js';
import { LOCALES, locale, t } from '../i18n.js';
import { errorMessage } from '../messages.js';
import { MAX_PLAINTEXT, pushPreview } from '../push-preview.js';
import { state } from '../state.js';

const POLL_MS = 3000; // how often a running broadcast's progress is asked for
const AUDIENCES = ['vendors', 'customers', 'all'];
const RUNNING = new Set(['queued', 'sending']);
const DEFAULT_LINK = '/notifications';

/** A language in its own words ("Deutsch"), as language pickers name them. */
function ownName(code) {
  try {
    const name = new Intl.DisplayNames([code], { type: 'language' }).of(code) || code;
    return name.charAt(0).toLocaleUpperCase(code) + name.slice(1);
  } catch {
    return code;
  }
}

/** A language in the page's words ("German" on an English page). */
function nameIn(code) {
  try {
    return new Intl.DisplayNames([locale()], { type: 'language' }).of(code) || code;
  } catch {
    return code;
  }
}

/** "now" as a phone in `lang` says it beside a notification that just came. */
function justNow(lang) {
  try {
    return new Intl.RelativeTimeFormat(lang, { numeric: 'auto' }).format(0, 'second');
  } catch {
    return t('time.just_now');
  }
}

function adminsOnly(main) {
  mount(main, h('section', { class: 'card empty-state', 'data-testid': 'console-refused' },
    h('h1', {}, t('console.admins_only')), h('a', { href: '/' }, t('app.back_to_dashboard'))));
}

// ------------------------------------------------------------------ preview

/** The lock-screen card and its notes, redrawn from the form's values as one types. */
function previewPanel() {
  let reader = locale();
  const card = h('div', { class: 'lock-push', 'data-testid': 'push-preview' });
  const notes = h('ul', { class: 'push-notes muted small' });
  const readers = h('div', { class: 'segmented', role: 'radiogroup', 'aria-label': t('broadcasts.preview.reader') },
    LOCALES.map((code) => h('label', {},
      h('input', { type: 'radio', name: 'preview-reader', value: code, checked: code === reader,
        onchange: () => { reader = code; draw(last); } }),
      h('span', { lang: code }, ownName(code)))));
  let last = null;

  function draw(values) {
    last = values;
    const { title, body, url, lang } = values;
    const shown = pushPreview({ title, body, url, lang });
    mount(card,
      h('div', { class: 'lock-push-head' },
        h('img', { src: '/icons/icon-192.png', alt: '', width: 20, height: 20 }),
        h('span', { class: 'push-app' }, 'vendorbell'),
        h('span', { class: 'push-when', lang: reader }, `· ${justNow(reader)}`)),
      h('strong', { class: `push-title${title ? '' : ' placeholder'}`, lang: title ? lang : null, 'data-testid': 'preview-title' },
        title || t('broadcasts.preview.no_title')),
      shown.body
        ? h('p', { class: 'push-body', lang, 'data-testid': 'preview-body' }, shown.body)
        : h('p', { class: 'push-body placeholder', 'data-testid': 'preview-body' }, t('broadcasts.preview.no_body')));
    mount(notes,
      reader !== lang ? h('li', { 'data-testid': 'preview-language' }, t('broadcasts.preview.as_typed', { reader: nameIn(reader), written: nameIn(lang) })) : null,
      shown.shortened ? h('li', { class: 'push-warning', 'data-testid': 'preview-shortened' }, t('broadcasts.preview.shortened')) : null,
      h('li', { 'data-testid': 'preview-size' }, t('broadcasts.preview.size', { bytes: shown.bytes, max: MAX_PLAINTEXT })));
  }

  const panel = h('section', { class: 'push-preview', 'aria-labelledby': 'preview-heading' },
    h('h3', { id: 'preview-heading' }, t('broadcasts.preview.title')),
    readers,
    h('div', { class: 'lock-screen' }, card),
    notes);
  return { panel, draw };
}

// ------------------------------------------------------------------ compose

function field(label, control, hint) {
  const id = `broadcast-${control.name}`;
  control.id = id;
  const hintEl = hint ? h('span', { class: 'muted small', id: `${id}-hint` }, hint) : null;
  if (hintEl) control.setAttribute('aria-describedby', hintEl.id);
  return h('div', { class: 'field' }, h('label', { for: id }, label), control, hintEl);
}

const FIELDS = '.broadcast-fields input, .broadcast-fields textarea, .broadcast-fields select';

/** The compose form's controls: title, message, link, language and audience. */
function composeControls() {
  return {
    title: h('input', { name: 'title', required: true, maxlength: 200, autocomplete: 'off' }),
    body: h('textarea', { name: 'body', required: true, maxlength: 2000, rows: 4 }),
    url: h('input', { name: 'url', required: true, maxlength: 500, value: DEFAULT_LINK, autocomplete: 'off', spellcheck: 'false' }),
    lang: h('select', { name: 'lang' }, LOCALES.map((code) => h('option', { value: code, selected: code === locale(), lang: code }, ownName(code)))),
    audience: h('fieldset', { class: 'role-picker audience-picker' },
      h('legend', {}, t('broadcasts.audience')),
      AUDIENCES.map((value, i) => h('label', {},
        h('input', { type: 'radio', name: 'audience', value, checked: i === 0 }), ` ${t(`broadcasts.audience.${value}`)}`))),
  };
}

/** The question before sending. What is asked about stays what is sent: the fields wait
 * while it is open; Escape or Back returns to them. */
function confirmStep(form, review) {
  const question = h('p', { class: 'confirm-question', id: 'broadcast-confirm-question' });
  const send = h('button', { class: 'button primary', type: 'button', 'aria-describedby': question.id }, t('broadcasts.send_now'));
  const back = h('button', { class: 'button ghost', type: 'button' }, t('broadcasts.back'));
  const box = h('div', { class: 'broadcast-confirm', role: 'group', 'aria-labelledby': question.id, hidden: true, 'data-testid': 'broadcast-confirm' },
    question, h('div', { class: 'button-row' }, send, back));
  const lock = (locked) => form.querySelectorAll(FIELDS).forEach((el) => { el.disabled = locked; });
  const open = (text) => {
    question.textContent = text;
    lock(true);
    review.hidden = true;
    box.hidden = false;
    send.focus();
  };
  const close = (focus = true) => {
    box.hidden = true;
    review.hidden = false;
    lock(false);
    if (focus) review.focus();
  };
  back.addEventListener('click', () => close());
  box.addEventListener('keydown', (event) => { if (event.key === 'Escape') close(); });
  return { box, send, back, open, close };
}

function composeCard({ onSent }) {
  const { title, body, url, lang, audience } = composeControls();
  const error = h('p', { class: 'form-error', role: 'alert', hidden: true });
  const review = h('button', { class: 'button primary', type: 'submit' }, t('broadcasts.review'));
  const preview = previewPanel();
  const form = h('form', { class: 'card broadcast-compose', 'data-testid': 'broadcast-compose', novalidate: true },
    h('h2', {}, t('broadcasts.compose')),
    h('div', { class: 'broadcast-fields' },
      field(t('broadcasts.field.title'), title),
      field(t('broadcasts.field.body'), body),
      field(t('broadcasts.field.url'), url, t('broadcasts.field.url_hint')),
      audience,
      field(t('broadcasts.field.lang'), lang, t('broadcasts.field.lang_hint'))),
    preview.panel, error, h('div', { class: 'button-row' }, review));
  const confirm = confirmStep(form, review);
  form.append(confirm.box);

  const chosenAudience = () => form.querySelector('input[name=audience]:checked').value;
  const values = () => ({ title: title.value.trim(), body: body.value.trim(), url: url.value.trim() || DEFAULT_LINK, lang: lang.value });
  const redraw = () => preview.draw(values());
  form.addEventListener('input', redraw);
  form.addEventListener('change', redraw);
  redraw();

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    error.hidden = true;
    for (const control of [title, body, url]) control.value = control.value.trim() ? control.value : '';
    if (!form.reportValidity()) return;
    confirm.open(t('broadcasts.confirm', { title: values().title, audience: t(`broadcasts.audience.${chosenAudience()}`) }));
  });
  confirm.send.addEventListener('click', async () => {
    confirm.send.disabled = true;
    confirm.back.disabled = true;
    try {
      const created = await post('/api/admin/broadcasts', { ...values(), audience: chosenAudience() });
      title.value = '';
      body.value = '';
      confirm.close(false);
      redraw();
      onSent(created);
    } catch (problem) {
      confirm.close();
      error.textContent = errorMessage(problem);
      error.hidden = false;
    } finally {
      confirm.send.disabled = false;
      confirm.back.disabled = false;
    }
  });
  return form;
}

// ------------------------------------------------------------------ recent broadcasts

function progressOf(b) {
  const total = Math.max(b.recipients_total, b.recipients_done);
  // An audience of nobody is all done once done; before, nothing of nothing.
  if (!total) return { value: b.status === 'done' ? 1 : 0, max: 1 };
  return { value: b.recipients_done, max: total };
}

/** One broadcast's row; `update(b)` moves it on in place, so focus stays where it is. */
function broadcastRow(b, { onCancelled, onStale }) {
  const heading = h('h3', { class: 'broadcast-title', tabindex: '-1', lang: b.lang }, b.title);
  const status = h('span', { class: 'pill', 'data-testid': 'broadcast-status' });
  const meta = h('p', { class: 'muted small broadcast-meta' });
  const bar = h('progress', { class: 'broadcast-progress', 'aria-label': t('broadcasts.progress_label', { title: b.title }) });
  const figures = h('p', { class: 'small broadcast-figures', 'data-testid': 'broadcast-figures' });
  const pushes = h('p', { class: 'muted small', 'data-testid': 'broadcast-pushes' });
  const error = h('p', { class: 'form-error small', role: 'alert', hidden: true });
  const cancel = h('button', { class: 'button danger-ghost small', type: 'button' }, t('broadcasts.cancel'));
  const row = h('li', { class: 'broadcast-row', dataset: { id: b.id } },
    h('div', { class: 'broadcast-head' }, heading, status), meta, bar, figures, pushes, error, cancel);
  let pushKnown = false;

  function update(next) {
    row.dataset.status = next.status;
    status.className = `pill broadcast-${next.status}`;
    status.textContent = t(`broadcasts.status.${next.status}`);
    meta.textContent = [
      t(`broadcasts.audience.${next.audience}`),
      nameIn(next.lang),
      dateTime(next.created_at),
      next.finished_at ? t(`broadcasts.finished.${next.status}`, { time: dateTime(next.finished_at) }) : null,
    ].filter(Boolean).join(' · ');
    const { value, max } = progressOf(next);
    bar.max = max;
    bar.value = value;
    figures.textContent = t('broadcasts.figures', { done: next.recipients_done, total: Math.max(next.recipients_total, next.recipients_done) })
      + ' · ' + t('broadcasts.notifications', { count: next.recipients });
    // The list leaves push outcomes out; they are shown once this one was asked for alone.
    if (next.push && (pushKnown || Object.values(next.push).some(Boolean))) {
      pushKnown = true;
      pushes.textContent = t('broadcasts.pushes', next.push);
    }
    pushes.hidden = !pushKnown;
    cancel.hidden = !RUNNING.has(next.status);
  }

  cancel.addEventListener('click', async () => {
    cancel.disabled = true;
    error.hidden = true;
    try {
      onCancelled(await post(`/api/admin/broadcasts/${encodeURIComponent(b.id)}/cancel`));
      heading.focus(); // the button is gone: the row it was in keeps the focus
    } catch (problem) {
      error.textContent = errorMessage(problem);
      error.hidden = false;
      if (problem instanceof ApiError && problem.code === 'broadcast_finished') onStale(b.id);
    } finally {
      cancel.disabled = false;
    }
  });
  update(b);
  return { row, update, heading };
}

/** The recent broadcasts: drawn once, a running one asked for every POLL_MS until it
 * ends (announced to screen readers when it does). */
function recentBroadcasts(announce) {
  const list = h('ul', { class: 'broadcast-list' });
  const listBody = h('div', {}, h('p', { class: 'muted' }, t('console.loading')));
  const rows = new Map(); // id → {row, update, heading, status}
  let timer = null;
  let stopped = false;

  function show(b) {
    const known = rows.get(b.id);
    if (known) {
      if (RUNNING.has(known.status) && !RUNNING.has(b.status)) {
        announce.textContent = t(`broadcasts.announce.${b.status}`, { title: b.title, count: b.recipients_done });
      }
      known.status = b.status;
      known.update(b);
      return known;
    }
    const made = { ...broadcastRow(b, { onCancelled: show, onStale: (id) => refresh([id]) }), status: b.status };
    rows.set(b.id, made);
    return made;
  }

  const drawList = () => mount(listBody, rows.size ? list : h('p', { class: 'muted' }, t('broadcasts.none')));

  async function refresh(ids) {
    await Promise.all(ids.map(async (id) => {
      try {
        const b = await get(`/api/admin/broadcasts/${encodeURIComponent(id)}`);
        if (!stopped) show(b);
      } catch {
        // A poll that failed is asked again at the next one; the row keeps its last state.
      }
    }));
  }

  function schedule() {
    clearTimeout(timer);
    timer = null;
    const running = [...rows].filter(([, r]) => RUNNING.has(r.status)).map(([id]) => id);
    if (stopped || !running.length) return;
    timer = setTimeout(async () => {
      await refresh(running);
      schedule();
    }, POLL_MS);
  }

  async function load() {
    try {
      const recent = await get('/api/admin/broadcasts');
      if (stopped) return;
      for (const b of recent) list.append(show(b).row);
      drawList();
      // The list has no push outcomes: the running ones are asked for at once.
      await refresh(recent.filter((b) => RUNNING.has(b.status)).map((b) => b.id));
      schedule();
    } catch (problem) {
      if (!stopped) mount(listBody, h('p', { class: 'form-error', role: 'alert' }, errorMessage(problem)));
    }
  }

  function added(b) {
    const made = show(b);
    list.prepend(made.row);
    drawList();
    announce.textContent = t('broadcasts.announce.queued', { title: b.title });
    made.heading.focus();
    schedule();
  }

  return { listBody, load, added, stop: () => { stopped = true; clearTimeout(timer); } };
}

export function render(main) {
  if (!state.user || state.user.role !== 'admin') return adminsOnly(main);
  const announce = h('p', { class: 'visually-hidden', role: 'status', 'data-testid': 'broadcast-announce' });
  const recent = recentBroadcasts(announce);
  mount(main,
    h('div', { class: 'page-head' }, h('div', {}, h('h1', {}, t('broadcasts.title')), h('p', { class: 'muted' }, t('broadcasts.intro')))),
    composeCard({ onSent: recent.added }),
    h('section', { class: 'card', 'data-testid': 'broadcast-list' }, h('h2', {}, t('broadcasts.recent')), recent.listBody),
    announce);
  recent.load();
  return recent.stop;
}
