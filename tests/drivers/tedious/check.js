// Checks the Counterpoint simulator through tedious, a TDS driver written independently of tiberius:
// TLS negotiation (full, login in the clear, strict TDS 8.0, refused certificates) and the SQL Server
// semantics of issue #13. Prints one line per check and exits non-zero if any failed.
// Usage: node check.js <tls|semantics>   with CP_PORT, CP_USER, CP_PASSWORD, CP_CA, CP_WRONG_CA,
// CP_PORT_OFF, CP_PORT_STRICT, CP_PORT_NOTLS in the environment.
'use strict';
const { Connection, Request, TYPES } = require('tedious');
const fs = require('fs');
const assert = require('assert');

const env = process.env;
const failures = [];

function connect(port, encrypt, extra = {}) {
  return new Promise((resolve, reject) => {
    const options = {
      port: Number(port),
      database: 'CPSQL',
      encrypt,
      trustServerCertificate: false,
      connectTimeout: 5000,
      rowCollectionOnRequestCompletion: true,
      useColumnNames: true,
      ...extra,
    };
    const conn = new Connection({
      server: '127.0.0.1',
      authentication: { type: 'default', options: { userName: env.CP_USER, password: env.CP_PASSWORD } },
      options,
    });
    conn.on('error', () => {});
    conn.connect((err) => (err ? reject(err) : resolve(conn)));
  });
}

function ca(path) {
  return { cryptoCredentialsDetails: { ca: fs.readFileSync(path) } };
}

// Runs a batch; resolves { error, rows } where error is the first server error (the batch may go on).
function exec(conn, sql, params = []) {
  return new Promise((resolve) => {
    const request = new Request(sql, (error, _count, rows) => resolve({ error, rows: rows || [] }));
    for (const [name, type, value, options] of params) request.addParameter(name, type, value, options);
    conn.execSql(request);
  });
}

async function value(conn, sql, params) {
  const { error, rows } = await exec(conn, sql, params);
  if (error) throw error;
  const first = rows[0];
  return first[Object.keys(first)[0]].value;
}

function tx(conn, method, name) {
  return new Promise((resolve, reject) => conn[method]((err) => (err ? reject(err) : resolve()), name));
}

async function check(name, body) {
  try {
    await body();
    console.log(`ok   ${name}`);
  } catch (err) {
    failures.push(name);
    console.log(`FAIL ${name}: ${err && err.stack ? err.stack : err}`);
  }
}

async function tls() {
  await check('encrypt=true with the CA file: whole session encrypted', async () => {
    const conn = await connect(env.CP_PORT, true, ca(env.CP_CA));
    assert.strictEqual(await value(conn, "SELECT CAST(CONNECTIONPROPERTY('encrypt_option') AS NVARCHAR(10)) AS e"), 'TRUE');
    conn.close();
  });
  await check('encrypt=true with a wrong CA: refused, naming the certificate', async () => {
    await assert.rejects(connect(env.CP_PORT, true, ca(env.CP_WRONG_CA)), (err) => {
      assert.match(String(err.message), /certificate/i);
      return true;
    });
  });
  await check('encrypt=true with trustServerCertificate: encrypted without a CA', async () => {
    const conn = await connect(env.CP_PORT, true, { trustServerCertificate: true });
    assert.strictEqual(await value(conn, "SELECT CAST(CONNECTIONPROPERTY('encrypt_option') AS NVARCHAR(10)) AS e"), 'TRUE');
    conn.close();
  });
  await check('encrypt=false against a forced-encryption server: refused', async () => {
    await assert.rejects(connect(env.CP_PORT, false), /requires encryption/);
  });
  await check('encrypt=false against a default server: logs in (not encrypted)', async () => {
    const conn = await connect(env.CP_PORT_OFF, false);
    assert.strictEqual(await value(conn, "SELECT CAST(CONNECTIONPROPERTY('encrypt_option') AS NVARCHAR(10)) AS e"), 'FALSE');
    conn.close();
  });
  await check('encrypt=strict (TDS 8.0) against a strict server', async () => {
    const conn = await connect(env.CP_PORT_STRICT, 'strict', ca(env.CP_CA_STRICT));
    assert.strictEqual(await value(conn, "SELECT CAST(CONNECTIONPROPERTY('encrypt_option') AS NVARCHAR(10)) AS e"), 'TRUE');
    conn.close();
  });
  await check('encrypt=true against a server without a certificate: tedious goes on in the clear, and the server says so', async () => {
    // MS-TDS has the client end the connection here; tedious does not. The simulator must not pretend.
    const conn = await connect(env.CP_PORT_NOTLS, true, ca(env.CP_CA));
    assert.strictEqual(await value(conn, "SELECT CAST(CONNECTIONPROPERTY('encrypt_option') AS NVARCHAR(10)) AS e"), 'FALSE');
    conn.close();
  });
  await check('TDS 7.1 client: LOGINACK agrees to 7.1 and queries work', async () => {
    const conn = await connect(env.CP_PORT_OFF, false, { tdsVersion: '7_1' });
    assert.strictEqual(await value(conn, 'SELECT 6 * 7 AS n'), 42);
    // tedious replaces its configured version with the one LOGINACK carries.
    assert.strictEqual(conn.config.options.tdsVersion, '7_1');
    conn.close();
  });
}

async function semantics() {
  const conn = await connect(env.CP_PORT, true, ca(env.CP_CA));
  await check('a batch goes on after a duplicate key (XACT_ABORT OFF)', async () => {
    const { error } = await exec(conn,
      "INSERT INTO AR_CUST (CUST_NO, NAM) VALUES ('C01000', 'dup'); INSERT INTO AR_CUST (CUST_NO, NAM) VALUES ('TD-AFTER', 'after')");
    assert.ok(error, 'the duplicate is reported');
    assert.strictEqual(error.number, 2627);
    assert.strictEqual(await value(conn, "SELECT COUNT(*) AS n FROM AR_CUST WHERE CUST_NO = 'TD-AFTER'"), 1);
  });
  await check('XACT_ABORT ON ends the batch and rolls the transaction back', async () => {
    const { error } = await exec(conn,
      "SET XACT_ABORT ON; BEGIN TRAN; INSERT INTO AR_CUST (CUST_NO, NAM) VALUES ('TD-GONE', 'g'); " +
      "INSERT INTO AR_CUST (CUST_NO, NAM) VALUES ('C01000', 'dup'); COMMIT");
    assert.strictEqual(error && error.number, 2627);
    assert.strictEqual(await value(conn, "SELECT COUNT(*) AS n FROM AR_CUST WHERE CUST_NO = 'TD-GONE'"), 0);
    assert.strictEqual(await value(conn, 'SELECT @@TRANCOUNT AS n'), 0);
    await exec(conn, 'SET XACT_ABORT OFF');
  });
  await check('named transactions and savepoints (TM requests, names counted in bytes)', async () => {
    await tx(conn, 'beginTransaction', 'tedious_tx');
    await exec(conn, "INSERT INTO AR_CUST (CUST_NO, NAM) VALUES ('TD-KEEP', 'k')");
    await tx(conn, 'saveTransaction', 'sp_one');
    await exec(conn, "INSERT INTO AR_CUST (CUST_NO, NAM) VALUES ('TD-UNDO', 'u')");
    await tx(conn, 'rollbackTransaction', 'sp_one');
    assert.strictEqual(await value(conn, 'SELECT @@TRANCOUNT AS n'), 1);
    await tx(conn, 'commitTransaction', 'tedious_tx');
    assert.strictEqual(await value(conn, "SELECT COUNT(*) AS n FROM AR_CUST WHERE CUST_NO IN ('TD-KEEP', 'TD-UNDO')"), 1);
    assert.strictEqual(await value(conn, 'SELECT @@TRANCOUNT AS n'), 0);
  });
  await check('T-SQL SAVE TRANSACTION / ROLLBACK TRANSACTION name', async () => {
    const n = await value(conn,
      "BEGIN TRAN t; INSERT INTO AR_CUST (CUST_NO, NAM) VALUES ('TD-S1', 'a'); SAVE TRANSACTION s; " +
      "INSERT INTO AR_CUST (CUST_NO, NAM) VALUES ('TD-S2', 'b'); ROLLBACK TRANSACTION s; COMMIT; " +
      "SELECT COUNT(*) AS n FROM AR_CUST WHERE CUST_NO LIKE 'TD-S%'");
    assert.strictEqual(n, 1);
  });
  await check('decimal and money arithmetic stay exact', async () => {
    const { error, rows } = await exec(conn,
      'SELECT 0.1 + 0.2 AS a, CAST(19.99 AS MONEY) * 3 AS m, CAST(1.005 AS DECIMAL(10,3)) * 1.5 AS d');
    if (error) throw error;
    assert.strictEqual(rows[0].a.value, 0.3);
    assert.match(rows[0].a.metadata.type.name, /^Decimal/);
    assert.strictEqual(rows[0].m.value, 59.97);
    assert.match(rows[0].m.metadata.type.name, /^Money/);
    assert.strictEqual(rows[0].d.value, 1.5075);
    assert.strictEqual(rows[0].d.metadata.scale, 4);
  });
  await check('a decimal parameter times a decimal stays decimal', async () => {
    const { error, rows } = await exec(conn, 'SELECT @q * 2.5 AS r',
      [['q', TYPES.Decimal, 1.25, { precision: 10, scale: 2 }]]);
    if (error) throw error;
    assert.strictEqual(rows[0].r.value, 3.125);
    assert.match(rows[0].r.metadata.type.name, /^Decimal/);
  });
  await check("CAST('abc' AS INT) is Msg 245 and 1/0 is Msg 8134", async () => {
    const cast = await exec(conn, "SELECT CAST('abc' AS INT) AS x");
    assert.strictEqual(cast.error && cast.error.number, 245);
    assert.strictEqual(cast.error.message, "Conversion failed when converting the varchar value 'abc' to data type int.");
    const div = await exec(conn, 'SELECT 1/0 AS x');
    assert.strictEqual(div.error && div.error.number, 8134);
    assert.strictEqual(div.error.message, 'Divide by zero error encountered.');
  });
  await check('an over-long string is Msg 2628, nothing stored', async () => {
    const { error } = await exec(conn, "INSERT INTO AR_CUST (CUST_NO, NAM) VALUES ('TD-0123456789ABCDEF', 'x')");
    assert.strictEqual(error && error.number, 2628);
    assert.match(error.message, /column 'CUST_NO'\. Truncated value: 'TD-0123456789AB'\./);
    assert.strictEqual(await value(conn, "SELECT COUNT(*) AS n FROM AR_CUST WHERE CUST_NO LIKE 'TD-0123%'"), 0);
  });
  await check('= ignores trailing spaces', async () => {
    assert.strictEqual(await value(conn, "SELECT CASE WHEN 'abc' = 'abc   ' THEN 1 ELSE 0 END AS e"), 1);
    assert.strictEqual(await value(conn, 'SELECT COUNT(*) AS n FROM IM_ITEM WHERE ITEM_NO = @i',
      [['i', TYPES.NVarChar, 'SKU-10001   ']]), 1);
  });
  await check('@@TRANCOUNT, DB_NAME(), @@VERSION', async () => {
    const { error, rows } = await exec(conn, 'SELECT @@TRANCOUNT AS t, DB_NAME() AS d, @@VERSION AS v');
    if (error) throw error;
    assert.strictEqual(rows[0].t.value, 0);
    assert.strictEqual(rows[0].d.value, 'CPSQL');
    assert.match(rows[0].v.value, /^Microsoft SQL Server 2019/);
  });
  await check('messages are SQL Server\'s, not SQLite\'s', async () => {
    const { error } = await exec(conn, 'SELECT NOPE FROM IM_ITEM');
    assert.strictEqual(error && error.number, 207);
    assert.strictEqual(error.message, "Invalid column name 'NOPE'.");
  });
  await check('the shop has documents to query', async () => {
    assert.ok(await value(conn, 'SELECT COUNT(*) AS n FROM PS_DOC_HDR') > 0);
    assert.ok(await value(conn, 'SELECT COUNT(*) AS n FROM PS_TKT_HIST') > 0);
  });
  conn.close();
}

(async () => {
  const mode = process.argv[2];
  if (mode === 'tls') await tls();
  else if (mode === 'semantics') await semantics();
  else throw new Error(`unknown mode ${mode}`);
  console.log(failures.length ? `${failures.length} check(s) failed` : 'all checks passed');
  process.exit(failures.length ? 1 : 0);
})().catch((err) => {
  console.log(`FAIL setup: ${err && err.stack ? err.stack : err}`);
  process.exit(1);
});
