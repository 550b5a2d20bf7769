/*
 * Freshsales IDV: the Freshworks serverless forwarder (platform 3.0).
 *
 * A thin relay with no business logic: every decision is the backend's.
 *  - onAppInstall registers this Freshsales account with the backend and blocks the install with
 *    the backend's own message when it refuses (wrong key, unknown token, bad policy).
 *  - onAppUninstall tells the backend; it never blocks the uninstall.
 *  - onContactCreate and onDealUpdate forward the event (ids and changes only, no personal data)
 *    through the forwardEvent request template; onContactUpdate forwards the contact's id and the
 *    names of the fields that changed, never their values.
 *  - Installed in Freshdesk, onAppInstall registers the Freshdesk account (its own template sends
 *    the Freshdesk key), and onTicketCreate forwards the ticket's id, requester id, type and group.
 *
 * Every call is signed the Standard Webhooks way with a key derived from the API token, which
 * only this serverless code can read: the widget can invoke the same templates but cannot sign,
 * so the backend takes install and uninstall from here only.
 *
 * The backend is reached only through request templates (config/requests.json). The platform
 * forbids timers here, and every promise below is handled. Node's built-in crypto only.
 */
'use strict';

var crypto = require('crypto');

var DEFAULT_VALIDITY_DAYS = 365;

function isSuccess(status) {
  return typeof status === 'number' && status >= 200 && status < 300;
}

function iparamsOf(payload) {
  return (payload && payload.iparams) || {};
}

/* Which product this installation is in: Freshdesk when the host subscribes to its modules
 * (or names only a Freshdesk endpoint), else Freshsales. */
function productOf(payload) {
  var host = (payload && payload.currentHost) || {};
  var modules = host.subscribed_modules || [];
  var urls = host.endpoint_urls || {};
  var desk = modules.indexOf('support_ticket') >= 0 || modules.indexOf('support_contact') >= 0;
  var sales = Boolean(urls.freshworks_crm || urls.freshsales);
  return desk || (urls.freshdesk && !sales) ? 'freshdesk' : 'freshsales';
}

/* The account's URL: Freshsales Suite (https://acme.myfreshworks.com) or Freshdesk
 * (https://acme.freshdesk.com). */
function accountUrl(payload) {
  var host = (payload && payload.currentHost) || {};
  var urls = host.endpoint_urls || {};
  if (productOf(payload) === 'freshdesk') {
    return urls.freshdesk || '';
  }
  return urls.freshworks_crm || urls.freshsales || '';
}

/* Install-form values arrive as the form saved them; pass them on in the contract's types. */
function asBool(value) {
  return value === true || value === 'true' || value === 'yes' || value === 'Yes';
}

function asList(value) {
  var items = Array.isArray(value) ? value : String(value === undefined || value === null ? '' : value).split(',');
  return items
    .map(function (item) {
      return String(item).trim();
    })
    .filter(function (item) {
      return item.length > 0;
    });
}

/* A dropdown's choice, or `fallback` when unset. Any other value is passed on as chosen: the
 * backend refuses it with a message the install shows. */
function asChoice(value, fallback) {
  var text = value === undefined || value === null ? '' : String(value).trim();
  return text === '' ? fallback : text;
}

/* "provider default" (or unset) leaves the choice to the backend: email when offered, else show. */
function asDelivery(value) {
  var text = asChoice(value, '').toLowerCase();
  return text === '' || text === 'provider default' ? null : text;
}

function asDays(value) {
  if (value === undefined || value === null || String(value).trim() === '') {
    return DEFAULT_VALIDITY_DAYS;
  }
  return Number(value);
}

function asMinutes(value) {
  if (value === undefined || value === null || String(value).trim() === '') {
    return 30;
  }
  return Number(value);
}

/* Group ids as numbers; anything else is passed on as typed, for the backend to name. */
function asIds(value) {
  return asList(value).map(function (item) {
    return /^[0-9]+$/.test(item) ? Number(item) : item;
  });
}

function registration(payload) {
  var iparams = iparamsOf(payload);
  var desk = productOf(payload) === 'freshdesk';
  var policy = {
    validity_days: asDays(iparams.validity_days),
    default_ial: asChoice(iparams.default_ial, 'IAL2'),
    min_ial: asChoice(iparams.min_ial, 'IAL1'),
    automation_delivery: asDelivery(iparams.automation_delivery),
    reverify_on_expiry: asBool(iparams.reverify_on_expiry),
    identity_mismatch: asChoice(iparams.identity_mismatch, 'fail'),
    publish_credential_did: asBool(iparams.publish_credential_did)
  };
  if (desk) {
    policy.verify_new_tickets = asBool(iparams.verify_new_tickets);
    policy.ticket_types = asList(iparams.ticket_types);
    policy.ticket_group_ids = asIds(iparams.ticket_group_ids);
    policy.fresh_minutes = asMinutes(iparams.fresh_minutes);
    return { account_url: accountUrl(payload), product: 'freshdesk', policy: policy };
  }
  policy.auto_verify_on_create = asBool(iparams.auto_verify_on_create);
  policy.gated_stages = asList(iparams.gated_stages);
  policy.revert_on_gate = asBool(iparams.revert_on_gate);
  policy.invalidate_on_identity_change = asBool(iparams.invalidate_on_identity_change);
  return { account_url: accountUrl(payload), policy: policy };
}

/* The backend's `{"error": code, "message": text}`, if the answer carries one. */
function backendMessage(answer) {
  var body = answer && answer.response;
  if (typeof body === 'string') {
    try {
      body = JSON.parse(body);
    } catch (e) {
      body = null;
    }
  }
  if (body && typeof body.message === 'string' && body.message.trim() !== '') {
    return body.message.trim();
  }
  return null;
}

function describe(answer) {
  var status = answer && answer.status;
  var message = backendMessage(answer);
  var text = typeof status === 'number' ? 'HTTP ' + status : 'no answer';
  return message ? text + ': ' + message : text;
}

/* A readable reason for the admin when the install cannot go ahead. */
function installRefusal(answer, payload) {
  var message = backendMessage(answer);
  if (message) {
    return message;
  }
  var status = answer && answer.status;
  var host = iparamsOf(payload).backend_host || 'the configured host';
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return 'The Freshsales IDV backend at ' + host + ' refused the installation (HTTP ' + status + '). ' +
      'Check the backend API token and the API key, then try again.';
  }
  return 'Could not reach the Freshsales IDV backend at ' + host + ' (' + describe(answer) + '). ' +
    'Check the backend host name and that the backend is running, then try again.';
}

/* Standard Webhooks: v1,base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}")). The key is the
 * UTF-8 bytes of "{lowercase hex SHA-256 of the API token}:{purpose}" (the backend stores only
 * that hash): an install, an uninstall and an event are each signed for their own endpoint, so
 * none can be replayed as another. */
function signingKey(apiToken, purpose) {
  var hex = crypto.createHash('sha256').update(String(apiToken || ''), 'utf8').digest('hex');
  return Buffer.from(hex + ':' + purpose, 'utf8');
}

function sign(key, id, timestamp, body) {
  var mac = crypto.createHmac('sha256', key).update(id + '.' + timestamp + '.' + body, 'utf8');
  return 'v1,' + mac.digest('base64');
}

/* payload.data trimmed to ids and changes, both change forms kept as received. */
function eventData(data) {
  var out = {};
  if (data.contact) {
    out.contact = { id: data.contact.id };
  }
  if (data.deal) {
    out.deal = { id: data.deal.id, deal_stage_id: data.deal.deal_stage_id };
    if (data.deal.changes !== undefined) {
      out.deal.changes = data.deal.changes;
    }
  }
  if (data.changes && data.changes.model_changes !== undefined) {
    out.changes = { model_changes: data.changes.model_changes };
  }
  if (data.ticket) {
    out.ticket = {
      id: data.ticket.id,
      requester_id: data.ticket.requester_id !== undefined ? data.ticket.requester_id : (data.requester || {}).id,
      type: data.ticket.type,
      group_id: data.ticket.group_id
    };
  }
  return out;
}

/* A contact update: its id and the names of the changed fields (their values are personal data). */
function contactUpdateData(data) {
  var changes = (data.changes && data.changes.model_changes) || (data.contact && data.contact.changes) || {};
  return {
    contact: { id: data.contact ? data.contact.id : undefined },
    changed_fields: Object.keys(changes).sort()
  };
}

/* The event with ids only: who acted is not needed by the backend and stays in Freshsales. */
function eventBody(eventName, payload) {
  var data = (payload && payload.data) || {};
  var trimmed = eventName === 'onContactUpdate' ? contactUpdateData(data) : eventData(data);
  return { event: eventName, account_url: accountUrl(payload), data: trimmed };
}

/* The options of a request template call with `body` signed under the API token's key for
 * `purpose` ('install', 'uninstall' or 'event'). */
function signed(payload, purpose, body) {
  var id = crypto.randomUUID();
  var timestamp = String(Math.floor(Date.now() / 1000));
  var signature = sign(signingKey(iparamsOf(payload).api_token, purpose), id, timestamp, body);
  return {
    context: { webhook_id: id, webhook_timestamp: timestamp, webhook_signature: signature },
    body: body
  };
}

function forward(eventName, payload) {
  return Promise.resolve()
    .then(function () {
      return $request.invokeTemplate('forwardEvent', signed(payload, 'event', JSON.stringify(eventBody(eventName, payload))));
    })
    .then(
      function (answer) {
        if (!isSuccess(answer && answer.status)) {
          console.error('Freshsales IDV: the backend did not accept ' + eventName + ' (' + describe(answer) + ')');
        }
      },
      function (error) {
        console.error('Freshsales IDV: could not forward ' + eventName + ' (' + describe(error) + ')');
      }
    );
}

exports = {
  onAppInstallHandler: function (payload) {
    return Promise.resolve()
      .then(function () {
        var options = signed(payload, 'install', JSON.stringify(registration(payload)));
        if (productOf(payload) === 'freshdesk') {
          return $request.invokeTemplate('registerDeskInstall', options);
        }
        return $request.invokeTemplate('registerInstall', options);
      })
      .then(
        function (answer) {
          if (isSuccess(answer && answer.status)) {
            renderData();
          } else {
            renderData({ message: installRefusal(answer, payload) });
          }
        },
        function (error) {
          renderData({ message: installRefusal(error, payload) });
        }
      );
  },

  onAppUninstallHandler: function (payload) {
    return Promise.resolve()
      .then(function () {
        return $request.invokeTemplate(
          'unregisterInstall',
          signed(payload, 'uninstall', JSON.stringify({ account_url: accountUrl(payload) }))
        );
      })
      .then(
        function (answer) {
          if (!isSuccess(answer && answer.status)) {
            console.error('Freshsales IDV: the backend did not record the uninstall (' + describe(answer) + ')');
          }
        },
        function (error) {
          console.error('Freshsales IDV: could not tell the backend about the uninstall (' + describe(error) + ')');
        }
      )
      .then(function () {
        renderData();
      });
  },

  onContactCreateHandler: function (payload) {
    return forward('onContactCreate', payload);
  },

  onContactUpdateHandler: function (payload) {
    return forward('onContactUpdate', payload);
  },

  onDealUpdateHandler: function (payload) {
    return forward('onDealUpdate', payload);
  },

  onTicketCreateHandler: function (payload) {
    return forward('onTicketCreate', payload);
  }
};
