'use strict';
// Loads the native scanner if it was built; exports null otherwise (callers fall back).
// FILER_FS_SCAN_ADDON=/path/to/fs_scan.node loads that build instead (the sanitizer and coverage
// builds of scripts/native-*.sh). It must load: a failure throws rather than falling back unseen.
// FILER_FS_SCAN_ADDON=off exports null in every process that inherits it (CLI, API, workers, the
// test processes): the portable code everywhere, as on a machine where the addon did not build.
let addon = null;
const override = require('node:process').env.FILER_FS_SCAN_ADDON;
if (override === 'off') {
  addon = null;
} else if (override) {
  addon = require(require('node:path').resolve(override));
} else {
  try {
    addon = require('./build/Release/fs_scan.node');
  } catch {
    addon = null;
  }
}
module.exports = addon;
