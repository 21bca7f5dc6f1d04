// jsforce 3 (unmodified, from npm) against the fake org. jsforce speaks plain http to the
// login URL it is given, so no transport hook is needed.
//
// Environment: SF_URL (http://127.0.0.1:PORT), SF_CLIENT_ID, SF_CLIENT_SECRET.

import jsforce from 'jsforce';
import assert from 'node:assert/strict';

const loginUrl = process.env.SF_URL;
const clientId = process.env.SF_CLIENT_ID;
const clientSecret = process.env.SF_CLIENT_SECRET;

const conn = new jsforce.Connection({
  oauth2: { loginUrl, clientId, clientSecret },
  version: '59.0',
});

const BULK_SOQL = 'SELECT Id, Name, Owner.Name, Industry FROM Account';
const BULK_COLUMNS = ['Id', 'Name', 'Owner.Name', 'Industry'];

function collect(stream) {
  const records = [];
  return new Promise((resolve, reject) => {
    stream
      .on('record', (r) => records.push(r))
      .on('end', () => resolve(records))
      .on('error', reject);
  });
}

// A REST record's value for a dotted column, as Bulk's CSV writes it (null is empty).
function cell(record, column) {
  const value = column.split('.').reduce((v, key) => (v == null ? v : v[key]), record);
  return value == null ? '' : String(value);
}

const checks = [
  async function authorizeWithClientCredentials() {
    const info = await conn.authorize({ grant_type: 'client_credentials' });
    assert.ok(conn.accessToken && conn.accessToken.includes('!'), 'an access token');
    assert.equal(conn.instanceUrl, loginUrl);
    assert.match(info.organizationId, /^00D\w{15}$/);
    assert.match(info.id, /^005\w{15}$/);
  },

  async function describeGlobal() {
    const result = await conn.describeGlobal();
    const names = new Set(result.sobjects.map((s) => s.name));
    for (const name of ['Account', 'Case', 'Contact', 'Invoice__c']) {
      assert.ok(names.has(name), `${name} missing`);
    }
  },

  async function autoFetchQueryOver2000Records() {
    const count = (await conn.query('SELECT COUNT() FROM Account')).totalSize;
    assert.ok(count > 2000, `only ${count} accounts`);
    const records = [];
    await new Promise((resolve, reject) => {
      conn
        .query('SELECT Id, Name FROM Account')
        .on('record', (r) => records.push(r))
        .on('end', resolve)
        .on('error', reject)
        .run({ autoFetch: true, maxFetch: 100000 });
    });
    assert.equal(records.length, count);
    assert.equal(new Set(records.map((r) => r.Id)).size, count, 'no row twice');
  },

  async function identityAndLimits() {
    const identity = await conn.identity();
    assert.match(identity.user_id, /^005\w{15}$/);
    assert.match(identity.organization_id, /^00D\w{15}$/);
    const limits = await conn.limits();
    assert.ok(limits.DailyApiRequests.Max > 0);
    assert.ok(limits.DailyApiRequests.Remaining < limits.DailyApiRequests.Max);
  },

  async function createRetrieveUpdateDestroy() {
    const created = await conn.sobject('Account').create({ Name: 'jsforce conformance' });
    assert.equal(created.success, true);
    await conn.sobject('Account').update({ Id: created.id, Industry: 'Energy' });
    const record = await conn.sobject('Account').retrieve(created.id);
    assert.equal(record.Name, 'jsforce conformance');
    assert.equal(record.Industry, 'Energy');
    await conn.sobject('Account').destroy(created.id);
    const gone = await conn.query(`SELECT Id FROM Account WHERE Id = '${created.id}'`);
    assert.equal(gone.totalSize, 0);
  },

  async function bulk2QueryReturnsTheRowsOfARestQuery() {
    const rest = await collect(
      conn.query(BULK_SOQL).run({ autoFetch: true, maxFetch: 100000 }),
    );
    // pollInterval: the fake completes jobs at once; no need to wait jsforce's default second.
    const stream = await conn.bulk2.query(BULK_SOQL, { pollInterval: 100 });
    const bulk = await collect(stream);
    assert.ok(rest.length > 2000, `only ${rest.length} accounts`);
    const asRows = (records, read) => records.map((r) => BULK_COLUMNS.map((c) => read(r, c)));
    assert.deepEqual(
      asRows(bulk, (r, c) => (r[c] == null ? '' : String(r[c]))),
      asRows(rest, cell),
    );
  },

  async function soslSearchFindsACreatedRecord() {
    const created = await conn.sobject('Account').create({ Name: 'Jsforce Numbat Search' });
    const result = await conn.search(
      'FIND {numbat} IN NAME FIELDS RETURNING Account(Id, Name WHERE Name LIKE \'Jsforce%\')',
    );
    assert.deepEqual(
      result.searchRecords.map((r) => [r.attributes.type, r.Id, r.Name]),
      [['Account', created.id, 'Jsforce Numbat Search']],
    );
    await conn.sobject('Account').destroy(created.id);
  },

  async function toolingQueryAnswersAsAProductionOrg() {
    const classes = await conn.tooling.query('SELECT Id, Name FROM ApexClass');
    assert.equal(classes.totalSize, 0);
    const objects = await conn.tooling.query('SELECT Id, DeveloperName FROM CustomObject');
    assert.ok(objects.records.some((r) => r.DeveloperName === 'Invoice'));
  },

  async function compositeTreeCreatesParentAndChildren() {
    const result = await conn.requestPost(`/services/data/v${conn.version}/composite/tree/Account`, {
      records: [{
        attributes: { type: 'Account', referenceId: 'acct' },
        Name: 'Jsforce Tree Parent',
        Contacts: { records: [
          { attributes: { type: 'Contact', referenceId: 'c1' }, LastName: 'Leaf' },
        ] },
      }],
    });
    assert.equal(result.hasErrors, false);
    assert.deepEqual(result.results.map((r) => r.referenceId), ['acct', 'c1']);
    const account = result.results[0].id;
    const children = await conn.query(`SELECT LastName FROM Contact WHERE AccountId = '${account}'`);
    assert.equal(children.records[0].LastName, 'Leaf');
  },

  async function invalidFieldErrorCode() {
    await assert.rejects(
      conn.query('SELECT Id, NoSuchField__c FROM Account'),
      (err) => {
        assert.equal(err.errorCode, 'INVALID_FIELD');
        assert.match(err.message, /NoSuchField__c/);
        return true;
      },
    );
  },
];

let failures = 0;
for (const check of checks) {
  try {
    await check();
    console.log(`ok    jsforce ${check.name}`);
  } catch (err) {
    failures += 1;
    console.log(`FAIL  jsforce ${check.name}: ${err && err.stack ? err.stack : err}`);
  }
}
console.log(`jsforce: ${checks.length - failures}/${checks.length} checks passed`);
process.exit(failures ? 1 : 0);
