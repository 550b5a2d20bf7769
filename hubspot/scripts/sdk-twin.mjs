// HubSpot's own Node SDK (@hubspot/api-client) against the backend's HubSpot twin: if the
// official client reads the twin's answers and errors as it reads HubSpot's, the twin is a
// fair stand-in. Run by the backend's contract tests:
//   node scripts/sdk-twin.mjs <twin base URL> <access token> <contact id> <deal id>
import assert from 'node:assert/strict';

import { Client } from '@hubspot/api-client';

const [base, accessToken, contactId, dealId] = process.argv.slice(2);
if (!base || !accessToken || !contactId || !dealId) {
  console.error('usage: sdk-twin.mjs <base URL> <access token> <contact id> <deal id>');
  process.exit(2);
}
const hubspot = new Client({ accessToken, basePath: base, numberOfApiCallRetries: 0 });

/** The SDK's error for a call that HubSpot (the twin) refused. */
async function refusal(call) {
  try {
    await call();
  } catch (e) {
    return e;
  }
  assert.fail('the call was not refused');
}

const steps = [];
const step = (name) => steps.push(name);
// A refusal the steps did not expect: its status and body, for the test's log.
process.on('unhandledRejection', (e) => {
  console.error(`after ${steps.join(', ') || 'no step'}:`, e?.code ?? '', JSON.stringify(e?.body ?? e?.message ?? e));
  process.exit(1);
});

// Property group and properties: the type/fieldType pair is enforced, duplicates are 409.
await hubspot.crm.properties.groupsApi.create('contacts', {
  name: 'sdk_check',
  label: 'SDK check',
  displayOrder: 1,
});
const made = await hubspot.crm.properties.coreApi.create('contacts', {
  name: 'sdk_status',
  label: 'SDK status',
  type: 'enumeration',
  fieldType: 'select',
  groupName: 'sdk_check',
  options: [
    { label: 'Verified', value: 'verified', displayOrder: 0, hidden: false },
    { label: 'Failed', value: 'failed', displayOrder: 1, hidden: false },
  ],
});
assert.equal(made.name, 'sdk_status');
const pair = await refusal(() =>
  hubspot.crm.properties.coreApi.create('contacts', {
    name: 'sdk_bad',
    label: 'Bad',
    type: 'bool',
    fieldType: 'text',
    groupName: 'sdk_check',
  }),
);
assert.equal(pair.code, 400);
assert.equal(pair.body.category, 'VALIDATION_ERROR');
const again = await refusal(() =>
  hubspot.crm.properties.coreApi.create('contacts', {
    name: 'sdk_status',
    label: 'SDK status',
    type: 'string',
    fieldType: 'text',
    groupName: 'sdk_check',
  }),
);
assert.equal(again.code, 409);
const all = await hubspot.crm.properties.coreApi.getAll('contacts');
assert.ok(all.results.some((p) => p.name === 'sdk_status' && p.groupName === 'sdk_check'));
step('properties');

// A contact read and written; a value outside the options is VALIDATION_ERROR.
const contact = await hubspot.crm.contacts.basicApi.getById(contactId, ['firstname', 'email']);
assert.equal(contact.id, contactId);
assert.equal(typeof contact.properties.firstname, 'string');
const updated = await hubspot.crm.contacts.basicApi.update(contactId, {
  properties: { sdk_status: 'verified' },
});
assert.equal(updated.properties.sdk_status, 'verified');
const bad = await refusal(() =>
  hubspot.crm.contacts.basicApi.update(contactId, { properties: { sdk_status: 'maybe' } }),
);
assert.equal(bad.code, 400);
assert.equal(bad.body.category, 'VALIDATION_ERROR');
const missing = await refusal(() => hubspot.crm.contacts.basicApi.getById('999999999'));
assert.equal(missing.code, 404);
step('contacts');

// Pipelines with string stage ids; a deal's contacts; association types from the labels.
const pipelines = await hubspot.crm.pipelines.pipelinesApi.getAll('deals');
const stages = pipelines.results.flatMap((p) => p.stages.map((s) => s.id));
assert.ok(stages.includes('closedwon'));
const labels = await hubspot.crm.associations.v4.schema.definitionsApi.getAll('notes', 'contacts');
const noteToContact = labels.results.find((l) => l.category === 'HUBSPOT_DEFINED');
assert.ok(noteToContact && Number.isInteger(noteToContact.typeId));
const onDeal = await hubspot.crm.associations.v4.batchApi.getPage('deals', 'contacts', {
  inputs: [{ id: dealId }],
});
assert.equal(String(onDeal.results[0].to[0].toObjectId), contactId);
step('pipelines and associations');

// A note on the contact, with the type id the labels gave.
const note = await hubspot.crm.objects.notes.basicApi.create({
  properties: { hs_timestamp: new Date().toISOString(), hs_note_body: 'Identity verified' },
  associations: [
    {
      to: { id: contactId },
      types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: noteToContact.typeId }],
    },
  ],
});
assert.ok(note.id);
step('notes');

// A token HubSpot never gave.
const stranger = new Client({ accessToken: 'not-a-token', basePath: base, numberOfApiCallRetries: 0 });
const denied = await refusal(() => stranger.crm.contacts.basicApi.getById(contactId));
assert.equal(denied.code, 401);
step('authentication');

console.log(JSON.stringify({ ok: true, steps }));
