// Unit tests of server/server.js, loaded the way the Freshworks platform runs it: in a vm sandbox
// with `$request`, `renderData` and `console` mocked, and nothing else (no timers, and `require`
// gives Node's built-in crypto only).
import fs from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import crypto from 'node:crypto';

const SERVER = path.resolve(__dirname, '../../server/server.js');
const FIXTURES = path.resolve(__dirname, 'fixtures');

function fixture(name) {
  return JSON.parse(fs.readFileSync(path.join(FIXTURES, name + '.json'), 'utf8'));
}

function load() {
  const sandbox = {
    exports: {},
    $request: { invokeTemplate: vi.fn() },
    renderData: vi.fn(),
    console: { log: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn() },
    Buffer,
    require: (name) => {
      if (name === 'crypto') {
        return crypto;
      }
      throw new Error('server.js may require only crypto, not ' + name);
    }
  };
  vm.runInNewContext(fs.readFileSync(SERVER, 'utf8'), sandbox, { filename: SERVER });
  return sandbox;
}

function answer(status, body) {
  return { status, headers: {}, response: typeof body === 'string' ? body : JSON.stringify(body) };
}

// The backend's side of the contract, written independently of server.js: each purpose
// ('install', 'uninstall', 'event') has its own key, so a request cannot be replayed as another.
function expectedSignature(purpose, apiToken, id, timestamp, body) {
  const key = crypto.createHash('sha256').update(apiToken, 'utf8').digest('hex') + ':' + purpose;
  const mac = crypto.createHmac('sha256', Buffer.from(key, 'utf8'));
  return 'v1,' + mac.update(`${id}.${timestamp}.${body}`).digest('base64');
}

let fw;

beforeEach(() => {
  fw = load();
});

describe('exports', () => {
  test('every handler named in manifest.json is exported', () => {
    const manifest = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../manifest.json'), 'utf8'));
    const handlers = Object.values(manifest.modules).flatMap((m) =>
      Object.values(m.events || {}).map((e) => e.handler)
    );
    expect(handlers.sort()).toEqual(
      [
        'onAppInstallHandler',
        'onAppUninstallHandler',
        'onContactCreateHandler',
        'onContactUpdateHandler',
        'onDealUpdateHandler',
        'onTicketCreateHandler'
      ].sort()
    );
    for (const name of handlers) {
      expect(typeof fw.exports[name]).toBe('function');
    }
  });
});

describe('onAppInstall', () => {
  test('registers the account and its policy, then allows the install', async () => {
    fw.$request.invokeTemplate.mockResolvedValue(answer(201, { tenant_id: 't1' }));
    await fw.exports.onAppInstallHandler(fixture('onAppInstall'));

    expect(fw.$request.invokeTemplate).toHaveBeenCalledTimes(1);
    const [name, options] = fw.$request.invokeTemplate.mock.calls[0];
    expect(name).toBe('registerInstall');
    expect(JSON.parse(options.body)).toEqual({
      account_url: 'https://acme.myfreshworks.com',
      policy: {
        auto_verify_on_create: true,
        gated_stages: ['Proposal', 'Closed Won', 'Negotiation'],
        revert_on_gate: false,
        validity_days: 180,
        default_ial: 'IAL2',
        min_ial: 'IAL2',
        automation_delivery: 'sms',
        reverify_on_expiry: true,
        publish_credential_did: false,
        identity_mismatch: 'review',
        invalidate_on_identity_change: true
      }
    });
    expect(fw.renderData).toHaveBeenCalledTimes(1);
    expect(fw.renderData.mock.calls[0]).toEqual([]);
  });

  test('the registration is signed with the API token, which the widget cannot do', async () => {
    fw.$request.invokeTemplate.mockResolvedValue(answer(200, {}));
    const before = Math.floor(Date.now() / 1000);
    await fw.exports.onAppInstallHandler(fixture('onAppInstall'));
    const { context, body } = fw.$request.invokeTemplate.mock.calls[0][1];
    expect(Object.keys(context).sort()).toEqual(['webhook_id', 'webhook_signature', 'webhook_timestamp']);
    expect(Number(context.webhook_timestamp)).toBeGreaterThanOrEqual(before);
    expect(context.webhook_signature).toBe(
      expectedSignature('install', 'idv_tok_0123456789abcdef', context.webhook_id, context.webhook_timestamp, body)
    );
    expect(context.webhook_signature).not.toContain('idv_tok_');
  });

  test('the secrets travel only in the template headers, never in the body', async () => {
    fw.$request.invokeTemplate.mockResolvedValue(answer(200, {}));
    await fw.exports.onAppInstallHandler(fixture('onAppInstall'));
    const body = fw.$request.invokeTemplate.mock.calls[0][1].body;
    expect(body).not.toContain('idv_tok_');
    expect(body).not.toContain('fs_key_');
  });

  test('unset policy choices take the defaults', async () => {
    fw.$request.invokeTemplate.mockResolvedValue(answer(200, {}));
    const payload = fixture('onAppInstall');
    payload.iparams = { backend_host: 'idv.example.com', validity_days: ' ' };
    await fw.exports.onAppInstallHandler(payload);
    expect(JSON.parse(fw.$request.invokeTemplate.mock.calls[0][1].body).policy).toEqual({
      auto_verify_on_create: false,
      gated_stages: [],
      revert_on_gate: false,
      validity_days: 365,
      default_ial: 'IAL2',
      min_ial: 'IAL1',
      automation_delivery: null,
      reverify_on_expiry: false,
      publish_credential_did: false,
      identity_mismatch: 'fail',
      invalidate_on_identity_change: false
    });
  });

  test('policy values of other shapes are passed on in the contract types', async () => {
    fw.$request.invokeTemplate.mockResolvedValue(answer(200, {}));
    const payload = fixture('onAppInstall');
    payload.iparams = {
      auto_verify_on_create: 'Yes',
      gated_stages: ['Won ', ''],
      revert_on_gate: true,
      validity_days: 30,
      default_ial: ' IAL1 ',
      automation_delivery: 'Provider default',
      reverify_on_expiry: 'yes',
      identity_mismatch: ' review ',
      invalidate_on_identity_change: false
    };
    delete payload.currentHost;
    await fw.exports.onAppInstallHandler(payload);
    expect(JSON.parse(fw.$request.invokeTemplate.mock.calls[0][1].body)).toEqual({
      account_url: '',
      policy: {
        auto_verify_on_create: true,
        gated_stages: ['Won'],
        revert_on_gate: true,
        validity_days: 30,
        default_ial: 'IAL1',
        min_ial: 'IAL1',
        automation_delivery: null,
        reverify_on_expiry: true,
        publish_credential_did: false,
        identity_mismatch: 'review',
        invalidate_on_identity_change: false
      }
    });
  });

  test.each([
    ['onAppInstall', ['contact', 'deal']],
    ['onAppInstall.freshdesk', ['support_ticket', 'support_contact']]
  ])('every policy switch the install form shows in %s reaches the backend', async (name, modules) => {
    fw.$request.invokeTemplate.mockResolvedValue(answer(200, {}));
    await fw.exports.onAppInstallHandler(fixture(name));
    const policy = JSON.parse(fw.$request.invokeTemplate.mock.calls[0][1].body).policy;
    const form = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../config/iparams.json'), 'utf8'));
    const connection = ['backend_host', 'api_token', 'freshsales_api_key', 'freshdesk_api_key'];
    const shown = (k) => !form[k].modules || form[k].modules.some((m) => modules.includes(m));
    const switches = Object.keys(form).filter((k) => !connection.includes(k) && shown(k));
    expect(Object.keys(policy).sort()).toEqual(switches.sort());
  });

  test("a refusal answered as a resolved 4xx blocks the install with the backend's message", async () => {
    fw.$request.invokeTemplate.mockResolvedValue(
      answer(401, { error: 'freshsales_key_rejected', message: 'Freshsales rejected the API key.' })
    );
    await fw.exports.onAppInstallHandler(fixture('onAppInstall'));
    expect(fw.renderData).toHaveBeenCalledWith({ message: 'Freshsales rejected the API key.' });
  });

  test("a refusal answered as a rejected 4xx blocks the install with the backend's message", async () => {
    fw.$request.invokeTemplate.mockRejectedValue(
      answer(403, { error: 'unknown_token', message: 'This API token is not known to the backend.' })
    );
    await fw.exports.onAppInstallHandler(fixture('onAppInstall'));
    expect(fw.renderData).toHaveBeenCalledWith({ message: 'This API token is not known to the backend.' });
  });

  test('an error body that arrives already parsed is read too', async () => {
    fw.$request.invokeTemplate.mockRejectedValue({
      status: 422,
      response: { error: 'bad_policy', message: 'validity_days must be between 1 and 3650.' }
    });
    await fw.exports.onAppInstallHandler(fixture('onAppInstall'));
    expect(fw.renderData).toHaveBeenCalledWith({ message: 'validity_days must be between 1 and 3650.' });
  });

  test('a 4xx without a JSON message still gives a readable reason', async () => {
    fw.$request.invokeTemplate.mockResolvedValue(answer(403, '<html>Forbidden</html>'));
    await fw.exports.onAppInstallHandler(fixture('onAppInstall'));
    const { message } = fw.renderData.mock.calls[0][0];
    expect(message).toContain('idv.example.com');
    expect(message).toContain('refused the installation (HTTP 403)');
    expect(message).toContain('API token');
  });

  test('an unreachable backend gives a readable reason', async () => {
    fw.$request.invokeTemplate.mockRejectedValue({
      status: 502,
      response: 'Error in establishing connection',
      errorSource: 'PLATFORM'
    });
    await fw.exports.onAppInstallHandler(fixture('onAppInstall'));
    const { message } = fw.renderData.mock.calls[0][0];
    expect(message).toMatch(/^Could not reach the Freshsales IDV backend at idv\.example\.com \(HTTP 502\)/);
    expect(message).toContain('host name');
  });

  test('a failure without any status, even a thrown one, still answers the platform', async () => {
    fw.$request.invokeTemplate.mockImplementation(() => {
      throw new Error('boom');
    });
    const payload = fixture('onAppInstall');
    delete payload.iparams;
    await fw.exports.onAppInstallHandler(payload);
    const { message } = fw.renderData.mock.calls[0][0];
    expect(message).toContain('the configured host (no answer)');
  });
});

describe('onAppInstall in Freshdesk', () => {
  test('registers the Freshdesk account through its own template, with the help-desk policy', async () => {
    fw.$request.invokeTemplate.mockResolvedValue(answer(200, { installed: true }));
    await fw.exports.onAppInstallHandler(fixture('onAppInstall.freshdesk'));

    expect(fw.$request.invokeTemplate).toHaveBeenCalledTimes(1);
    const [name, options] = fw.$request.invokeTemplate.mock.calls[0];
    expect(name).toBe('registerDeskInstall');
    expect(JSON.parse(options.body)).toEqual({
      account_url: 'https://acmehelp.freshdesk.com',
      product: 'freshdesk',
      policy: {
        verify_new_tickets: true,
        ticket_types: ['Account change', 'Refund'],
        ticket_group_ids: [4, 17],
        fresh_minutes: 15,
        validity_days: 365,
        default_ial: 'IAL2',
        min_ial: 'IAL1',
        automation_delivery: null,
        reverify_on_expiry: false,
        identity_mismatch: 'fail',
        publish_credential_did: false
      }
    });
    // The Freshdesk key travels in the template's header only.
    expect(options.body).not.toContain('fd_key_');
    expect(options.context.webhook_signature).toBe(
      expectedSignature('install', 'idv_tok_0123456789abcdef', options.context.webhook_id, options.context.webhook_timestamp, options.body)
    );
    expect(fw.renderData.mock.calls[0]).toEqual([]);
  });

  test('the Freshdesk template sends the Freshdesk key, the Freshsales one the Freshsales key', () => {
    const templates = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../config/requests.json'), 'utf8'));
    expect(templates.registerDeskInstall.schema.headers['X-Freshdesk-Api-Key']).toBe('<%= iparam.freshdesk_api_key %>');
    expect(templates.registerDeskInstall.schema.headers['X-Freshsales-Api-Key']).toBeUndefined();
    expect(templates.registerInstall.schema.headers['X-Freshsales-Api-Key']).toBe('<%= iparam.freshsales_api_key %>');
  });

  test('a refusal blocks the install with the backend\'s message', async () => {
    fw.$request.invokeTemplate.mockResolvedValue(
      answer(422, { error: 'unprocessable', message: 'Freshdesk refused the API key (HTTP 401)' })
    );
    await fw.exports.onAppInstallHandler(fixture('onAppInstall.freshdesk'));
    expect(fw.renderData).toHaveBeenCalledWith({ message: 'Freshdesk refused the API key (HTTP 401)' });
  });
});

describe('onAppUninstall', () => {
  test('tells the backend and allows the uninstall', async () => {
    fw.$request.invokeTemplate.mockResolvedValue(answer(204, ''));
    await fw.exports.onAppUninstallHandler(fixture('onAppUninstall'));
    expect(fw.$request.invokeTemplate).toHaveBeenCalledTimes(1);
    const [name, { context, body }] = fw.$request.invokeTemplate.mock.calls[0];
    expect(name).toBe('unregisterInstall');
    expect(body).toBe(JSON.stringify({ account_url: 'https://acme.myfreshworks.com' }));
    // Signed like the install: a rep cannot uninstall the app through the widget's templates.
    expect(context.webhook_signature).toBe(
      expectedSignature('uninstall', fixture('onAppUninstall').iparams.api_token, context.webhook_id, context.webhook_timestamp, body)
    );
    expect(fw.renderData.mock.calls).toEqual([[]]);
    expect(fw.console.error).not.toHaveBeenCalled();
  });

  test('never blocks the uninstall when the backend refuses', async () => {
    fw.$request.invokeTemplate.mockResolvedValue(answer(404, { error: 'not_found', message: 'No such tenant.' }));
    await fw.exports.onAppUninstallHandler(fixture('onAppUninstall'));
    expect(fw.renderData.mock.calls).toEqual([[]]);
    expect(fw.console.error.mock.calls[0][0]).toContain('HTTP 404: No such tenant.');
  });

  test('never blocks the uninstall when the backend is unreachable', async () => {
    fw.$request.invokeTemplate.mockRejectedValue({ status: 504, response: 'timeout' });
    await fw.exports.onAppUninstallHandler({});
    expect(fw.renderData.mock.calls).toEqual([[]]);
    expect(fw.console.error.mock.calls[0][0]).toContain('HTTP 504');
  });
});

describe('event forwarding', () => {
  function sent() {
    expect(fw.$request.invokeTemplate).toHaveBeenCalledTimes(1);
    const [name, options] = fw.$request.invokeTemplate.mock.calls[0];
    expect(name).toBe('forwardEvent');
    return options;
  }

  test('onContactCreate is forwarded signed, trimmed to ids and changes', async () => {
    fw.$request.invokeTemplate.mockResolvedValue(answer(202, ''));
    const before = Math.floor(Date.now() / 1000);
    await fw.exports.onContactCreateHandler(fixture('onContactCreate'));
    const after = Math.floor(Date.now() / 1000);
    const { context, body } = sent();

    expect(JSON.parse(body)).toEqual({
      event: 'onContactCreate',
      account_url: 'https://acme.myfreshworks.com',
      data: { contact: { id: 1234 }, changes: { model_changes: { first_name: [null, 'Jane'] } } }
    });
    // Personal data of the contact stays in Freshsales.
    expect(body).not.toContain('jane@customer.example');
    expect(body).not.toContain('+15555550100');
    expect(body).not.toContain('idv_tok_');

    expect(Object.keys(context).sort()).toEqual(['webhook_id', 'webhook_signature', 'webhook_timestamp']);
    expect(context.webhook_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(context.webhook_timestamp).toMatch(/^\d+$/);
    expect(Number(context.webhook_timestamp)).toBeGreaterThanOrEqual(before);
    expect(Number(context.webhook_timestamp)).toBeLessThanOrEqual(after);
    expect(context.webhook_signature).toBe(
      expectedSignature('event', 'idv_tok_0123456789abcdef', context.webhook_id, context.webhook_timestamp, body)
    );
    expect(fw.console.error).not.toHaveBeenCalled();
  });

  test('onContactUpdate is forwarded signed with the changed field names, never their values', async () => {
    fw.$request.invokeTemplate.mockResolvedValue(answer(200, '{}'));
    await fw.exports.onContactUpdateHandler(fixture('onContactUpdate'));
    const { context, body } = sent();
    expect(JSON.parse(body)).toEqual({
      event: 'onContactUpdate',
      account_url: 'https://acme.myfreshworks.com',
      data: { contact: { id: 1234 }, changed_fields: ['email', 'last_name'] }
    });
    expect(body).not.toContain('Sampleton');
    expect(body).not.toContain('King');
    expect(body).not.toContain('customer.example');
    expect(context.webhook_signature).toBe(
      expectedSignature('event', 'idv_tok_0123456789abcdef', context.webhook_id, context.webhook_timestamp, body)
    );
    expect(fw.console.error).not.toHaveBeenCalled();
  });

  test('onTicketCreate carries the ticket, its requester id, type and group, no personal data', async () => {
    fw.$request.invokeTemplate.mockResolvedValue(answer(200, '{}'));
    await fw.exports.onTicketCreateHandler(fixture('onTicketCreate'));
    const { context, body } = sent();
    expect(JSON.parse(body)).toEqual({
      event: 'onTicketCreate',
      account_url: 'https://acmehelp.freshdesk.com',
      data: { ticket: { id: 500, requester_id: 70, type: 'Account change', group_id: 4 } }
    });
    for (const personal of ['jane@customer.example', '+15555550100', 'Jane', 'bank details', 'DE89', 'sam@']) {
      expect(body).not.toContain(personal);
    }
    expect(context.webhook_signature).toBe(
      expectedSignature('event', 'idv_tok_0123456789abcdef', context.webhook_id, context.webhook_timestamp, body)
    );
    expect(fw.console.error).not.toHaveBeenCalled();
  });

  test('onDealUpdate carries the stage and the 3.0 model_changes', async () => {
    fw.$request.invokeTemplate.mockResolvedValue(answer(200, '{}'));
    await fw.exports.onDealUpdateHandler(fixture('onDealUpdate'));
    const { context, body } = sent();
    expect(JSON.parse(body)).toEqual({
      event: 'onDealUpdate',
      account_url: 'https://acme.myfreshworks.com',
      data: { deal: { id: 88, deal_stage_id: 4 }, changes: { model_changes: { deal_stage_id: [3, 4] } } }
    });
    expect(body).not.toContain('12000');
    expect(context.webhook_signature).toBe(
      expectedSignature('event', 'idv_tok_0123456789abcdef', context.webhook_id, context.webhook_timestamp, body)
    );
  });

  test('the older data.deal.changes form is kept as received', async () => {
    fw.$request.invokeTemplate.mockResolvedValue(answer(200, '{}'));
    await fw.exports.onDealUpdateHandler(fixture('onDealUpdate.classic'));
    const { body } = sent();
    expect(JSON.parse(body)).toEqual({
      event: 'onDealUpdate',
      account_url: 'https://acme.freshsales.io',
      data: {
        deal: {
          id: 89,
          deal_stage_id: 3,
          changes: {
            deal_stage_id: [2, 3],
            updated_at: ['2026-11-22T09:00:00Z', '2026-11-22T09:01:00Z']
          }
        }
      }
    });
  });

  test("events carry ids only: the acting user's email is not sent", async () => {
    fw.$request.invokeTemplate.mockResolvedValue(answer(200, '{}'));
    await fw.exports.onContactCreateHandler(fixture('onContactCreate'));
    await fw.exports.onDealUpdateHandler(fixture('onDealUpdate'));
    for (const [, { body }] of fw.$request.invokeTemplate.mock.calls) {
      expect(JSON.parse(body)).not.toHaveProperty('actor');
      expect(body).not.toContain('riley@acme.example');
    }
  });

  test('every forward has a fresh id', async () => {
    fw.$request.invokeTemplate.mockResolvedValue(answer(200, '{}'));
    await fw.exports.onDealUpdateHandler(fixture('onDealUpdate'));
    await fw.exports.onDealUpdateHandler(fixture('onDealUpdate'));
    const [a, b] = fw.$request.invokeTemplate.mock.calls.map((c) => c[1].context.webhook_id);
    expect(a).not.toBe(b);
  });

  test('a payload without data is still forwarded, and signed with an empty token', async () => {
    fw.$request.invokeTemplate.mockResolvedValue(answer(200, '{}'));
    await fw.exports.onContactCreateHandler({});
    const { context, body } = sent();
    expect(JSON.parse(body)).toEqual({ event: 'onContactCreate', account_url: '', data: {} });
    expect(context.webhook_signature).toBe(
      expectedSignature('event', '', context.webhook_id, context.webhook_timestamp, body)
    );
  });

  test('a refused forward is logged, without secrets, and the handler settles', async () => {
    fw.$request.invokeTemplate.mockResolvedValue(
      answer(401, { error: 'bad_signature', message: 'The signature does not match.' })
    );
    await expect(fw.exports.onDealUpdateHandler(fixture('onDealUpdate'))).resolves.toBeUndefined();
    const logged = fw.console.error.mock.calls.flat().join(' ');
    expect(logged).toContain('did not accept onDealUpdate (HTTP 401: The signature does not match.)');
    expect(logged).not.toContain('idv_tok_');
  });

  test('an unreachable backend is logged and the handler settles', async () => {
    fw.$request.invokeTemplate.mockRejectedValue(new Error('socket hang up'));
    await expect(fw.exports.onContactCreateHandler(fixture('onContactCreate'))).resolves.toBeUndefined();
    expect(fw.console.error.mock.calls[0][0]).toContain('could not forward onContactCreate (no answer)');
  });
});
