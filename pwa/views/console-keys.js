// The operator's console, Integrations and keys (admins only): each marketplace's
// origins, link base, embed keys, HMAC keys (revocable) and how its webhook is doing,
// with a Redeliver button on each failed delivery; and the VAPID keys with the number
// of subscriptions signed with each, rotated or pruned after a confirm step (both are
// felt by every browser: a rotation changes the key new subscriptions are made with).

import { ApiError, del, get, post } from '../api.js';
import { ago, dateTime, number } from '../format.js';
import { h, mount } from '../dom.js';
import { t } from '../i18n.js';
import { errorMessage } from '../messages.js';
import { toast } from '../toast.js';

function when(iso) {
  return iso ? dateTime(iso) : '—';
}

function used(iso) {
  return iso ? ago(iso) : t('console.keys.never');
}

function fact(label, value) {
  return h('div', { class: 'keys-fact' }, h('dt', {}, label), h('dd', {}, value));
}

/** A button that asks once more before `action`: the first press shows the question
 * and a confirm and a cancel button in its place. */
function confirming({ label, question, confirm, action, testid, danger = false }) {
  const box = h('div', { class: 'keys-confirm' });
  const ask = () => mount(box,
    h('p', { class: 'keys-question', role: 'alert' }, question),
    h('div', { class: 'keys-actions' },
      h('button', {
        class: `button small ${danger ? 'danger' : 'primary'}`, type: 'button', 'data-testid': `${testid}-confirm`,
        onclick: async (event) => {
          event.currentTarget.disabled = true;
          try {
            await action();
          } catch (error) {
            toast(errorMessage(error), 'error');
            idle();
          }
        },
      }, confirm),
      h('button', { class: 'button small ghost', type: 'button', onclick: () => idle() }, t('console.keys.cancel'))));
  const idle = () => mount(box, h('button', {
    class: `button small ${danger ? 'danger-ghost' : ''}`, type: 'button', 'data-testid': testid, onclick: ask,
  }, label));
  idle();
  return box;
}

// -- VAPID keys -------------------------------------------------------------------

function vapidRow(key) {
  return h('li', { class: 'keys-item', 'data-kid': key.kid, 'data-current': String(key.current) },
    h('div', { class: 'keys-item-head' },
      h('code', { class: 'keys-id' }, key.kid),
      key.current ? h('span', { class: 'pill key-current' }, t('console.keys.current')) : null,
      h('span', { class: 'keys-count', 'data-testid': 'subscriptions' }, t('console.keys.subscriptions', { count: key.subscriptions }))),
    h('dl', { class: 'keys-facts' },
      fact(t('console.keys.created'), when(key.created_at)),
      fact(t('console.keys.public_key'), h('code', { class: 'keys-public' }, key.public_key))));
}

function vapidCard(data, reload) {
  const unused = data.keys.filter((k) => !k.current && !k.subscriptions).length;
  return h('section', { class: 'card keys-card', 'data-testid': 'vapid-keys' },
    h('h2', {}, t('console.keys.vapid_title')),
    h('p', { class: 'muted small' }, t('console.keys.vapid_intro')),
    data.unknown_subscriptions
      ? h('p', { class: 'health-alert', role: 'alert' }, t('console.keys.unknown', { count: data.unknown_subscriptions }))
      : null,
    h('ul', { class: 'keys-list' }, data.keys.map(vapidRow)),
    h('div', { class: 'keys-actions' },
      confirming({
        label: t('console.keys.rotate'),
        question: t('console.keys.rotate_question'),
        confirm: t('console.keys.rotate_confirm'),
        testid: 'rotate',
        action: async () => {
          await post('/api/admin/vapid-keys/rotate');
          toast(t('console.keys.rotated'), 'success');
          await reload();
        },
      }),
      confirming({
        label: unused ? t('console.keys.retire', { count: unused }) : t('console.keys.retire_unused'),
        question: unused ? t('console.keys.retire_question', { count: unused }) : t('console.keys.retire_none'),
        confirm: t('console.keys.retire_confirm'),
        testid: 'retire',
        danger: true,
        action: async () => {
          const answer = await post('/api/admin/vapid-keys/retire');
          toast(t('console.keys.retired', { count: answer.retired.length }), 'success');
          await reload();
        },
      })));
}

// -- integrations -----------------------------------------------------------------

function embedRow(integrationId, key, reload) {
  return h('li', { class: 'keys-item', 'data-kid': key.kid },
    h('div', { class: 'keys-item-head' },
      h('code', { class: 'keys-id' }, key.kid),
      h('span', { class: 'pill' }, key.alg),
      key.retired_at ? h('span', { class: 'pill key-off' }, t('console.keys.retired_at', { time: dateTime(key.retired_at) })) : null),
    h('p', { class: 'muted small keys-line' }, [
      t('console.keys.created_on', { time: when(key.created_at) }),
      t('console.keys.last_used', { time: used(key.last_used_at) }),
    ].join(' · ')),
    key.retired_at ? null : confirming({
      label: t('console.keys.retire_embed'),
      question: t('console.keys.retire_embed_question', { kid: key.kid }),
      confirm: t('console.keys.retire_embed_confirm'),
      testid: 'retire-embed',
      danger: true,
      action: async () => {
        await del(`/api/admin/integrations/${encodeURIComponent(integrationId)}/embed-keys/${encodeURIComponent(key.kid)}`);
        toast(t('console.keys.embed_retired'), 'success');
        await reload();
      },
    }));
}

function hmacRow(key, reload) {
  return h('li', { class: 'keys-item', 'data-key-id': key.key_id },
    h('div', { class: 'keys-item-head' },
      h('code', { class: 'keys-id' }, key.key_id),
      h('span', { class: 'keys-name' }, key.name),
      key.revoked_at ? h('span', { class: 'pill key-off' }, t('console.keys.revoked_at', { time: dateTime(key.revoked_at) })) : null),
    h('p', { class: 'muted small keys-line' }, [
      t('console.keys.created_on', { time: when(key.created_at) }),
      t('console.keys.last_used', { time: used(key.last_used_at) }),
    ].join(' · ')),
    key.revoked_at ? null : confirming({
      label: t('console.keys.revoke'),
      question: t('console.keys.revoke_question', { name: key.name }),
      confirm: t('console.keys.revoke_confirm'),
      testid: 'revoke',
      danger: true,
      action: async () => {
        await del(`/api/admin/integration-keys/${encodeURIComponent(key.id)}`);
        toast(t('console.keys.revoked'), 'success');
        await reload();
      },
    }));
}

function statusPill(status) {
  return h('span', { class: `pill delivery-${status}` }, t(`console.keys.delivery.${status}`));
}

function deliveryRow(integration, delivery, reload) {
  const answer = delivery.error || (delivery.last_status ? t('console.status_code', { code: delivery.last_status }) : null);
  return h('li', { class: 'keys-item', 'data-delivery': delivery.id, 'data-status': delivery.status },
    h('div', { class: 'keys-item-head' }, h('strong', {}, delivery.type), statusPill(delivery.status)),
    h('p', { class: 'muted small keys-line' }, [
      h('code', {}, delivery.event_id), ' · ',
      t('console.keys.created_on', { time: when(delivery.created_at) }), ' · ',
      t('console.attempts', { count: delivery.attempts }),
    ]),
    answer ? h('p', { class: delivery.status === 'failed' ? 'timeline-error small' : 'muted small' }, answer) : null,
    delivery.status === 'failed'
      ? h('button', {
        class: 'button small', type: 'button', 'data-testid': 'redeliver',
        onclick: async (event) => {
          const button = event.currentTarget;
          button.disabled = true;
          try {
            const path = `/api/admin/integrations/${encodeURIComponent(integration.id)}/webhook-deliveries/${encodeURIComponent(delivery.id)}/redeliver`;
            await post(path);
            toast(t('console.keys.redelivered'), 'success');
            await reload();
          } catch (error) {
            toast(errorMessage(error), 'error');
            button.disabled = false;
          }
        },
      }, t('console.keys.redeliver'))
      : null);
}

function webhookBlock(integration, reload) {
  const hook = integration.webhook;
  if (!hook.url) return h('p', { class: 'muted' }, t('console.keys.no_webhook'));
  const last = hook.last_status === null
    ? (hook.last_error ? h('span', { class: 'pill delivery-failed' }, hook.last_error) : h('span', { class: 'muted' }, t('console.keys.no_answer')))
    : h('span', { class: `pill ${hook.last_status >= 200 && hook.last_status < 300 ? 'delivery-delivered' : 'delivery-failed'}` }, String(hook.last_status));
  return h('div', { 'data-testid': 'webhook' },
    h('dl', { class: 'keys-facts' },
      fact(t('console.keys.webhook_url'), h('code', {}, hook.url)),
      fact(t('console.keys.last_status'), last),
      fact(t('console.keys.queued'), number(hook.queued)),
      fact(t('console.keys.failures'), h('span', { class: hook.failures_last_day ? 'keys-failures' : null, 'data-testid': 'failures' }, number(hook.failures_last_day)))),
    h('h4', {}, t('console.keys.recent')),
    hook.recent.length
      ? h('ul', { class: 'keys-list' }, hook.recent.map((d) => deliveryRow(integration, d, reload)))
      : h('p', { class: 'muted small' }, t('console.keys.no_deliveries')));
}

function integrationCard(integration, reload) {
  return h('section', { class: 'card keys-card', 'data-testid': 'integration', 'data-integration': integration.id },
    h('h2', {}, integration.name),
    h('dl', { class: 'keys-facts' },
      fact(t('console.keys.iss'), h('code', {}, integration.id)),
      fact(t('console.keys.origins'), h('span', {}, integration.allowed_origins.map((o) => h('code', { class: 'keys-origin' }, o)))),
      fact(t('console.keys.link_base'), h('code', {}, integration.link_base))),
    h('h3', {}, t('console.keys.embed_keys')),
    integration.embed_keys.length
      ? h('ul', { class: 'keys-list' }, integration.embed_keys.map((k) => embedRow(integration.id, k, reload)))
      : h('p', { class: 'muted small' }, t('console.keys.none')),
    h('h3', {}, t('console.keys.hmac_keys')),
    integration.hmac_keys.length
      ? h('ul', { class: 'keys-list' }, integration.hmac_keys.map((k) => hmacRow(k, reload)))
      : h('p', { class: 'muted small' }, t('console.keys.none')),
    h('h3', {}, t('console.keys.webhook')),
    webhookBlock(integration, reload));
}

export async function render(view) {
  const body = h('div', {}, h('p', { class: 'muted' }, t('console.loading')));
  mount(view, h('h1', {}, t('console.keys.title')), body);
  let stopped = false;
  const load = async (first = false) => {
    try {
      const [keys, integrations] = await Promise.all([get('/api/admin/vapid-keys'), get('/api/admin/integrations-overview')]);
      if (stopped) return;
      mount(body,
        vapidCard(keys, load),
        h('h2', { class: 'keys-section' }, t('console.keys.integrations_title')),
        integrations.length
          ? integrations.map((i) => integrationCard(i, load))
          : h('section', { class: 'card empty-state' }, h('p', {}, t('console.keys.no_integrations'))));
    } catch (error) {
      if (stopped) return;
      // Signed out, or offline at the first load: the app's own handling (router).
      if (first && error instanceof ApiError && (error.status === 401 || error.status === 0)) throw error;
      if (error instanceof ApiError && error.status === 403) {
        mount(body, h('section', { class: 'card empty-state' }, h('p', {}, t('console.admin_only'))));
        return;
      }
      mount(body, h('p', { class: 'form-error', role: 'alert' }, errorMessage(error)));
    }
  };
  await load(true);
  return () => { stopped = true; };
}
