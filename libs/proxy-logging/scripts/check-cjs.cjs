// `check-package` runs this against the built CommonJS entry: a CommonJS consumer must be able
// to use what needs a module URL at run time (the SQLite write thread resolves better-sqlite3
// from `import.meta.url`, which esbuild leaves empty in a CJS build unless tsup shims it).
'use strict';
const { mkdtempSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const { SqliteWriteThread } = require('../dist/index.cjs');

const dir = mkdtempSync(join(tmpdir(), 'switchyard-cjs-check-'));
const thread = new SqliteWriteThread({ path: join(dir, 'check.db') });
thread
  .transaction([
    { sql: 'CREATE TABLE t (x INTEGER)', params: [] },
    { sql: 'INSERT INTO t (x) VALUES (?)', params: [1] },
  ])
  .then(() => thread.execute({ sql: 'DELETE FROM t WHERE x = ?', params: [1] }))
  .then((changes) => {
    if (changes !== 1) throw new Error(`expected 1 row deleted, got ${changes}`);
    console.log('dist/index.cjs: the SQLite write thread runs from CommonJS');
  })
  .catch((error) => {
    console.error(`dist/index.cjs: the SQLite write thread failed from CommonJS: ${error.message}`);
    process.exitCode = 1;
  })
  .finally(() => thread.close().finally(() => rmSync(dir, { recursive: true, force: true })));
