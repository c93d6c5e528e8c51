#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
'use strict';
const path = require('node:path');
let cli;
try {
  cli = require(path.join(__dirname, '..', 'dist', 'control', 'src', 'cli', 'main.js'));
} catch (err) {
  process.stderr.write(`fulcrum: not built (${err.message}); run 'npm run build'\n`);
  process.exit(1);
}
cli.main(process.argv.slice(2)).then((code) => process.exit(code));
