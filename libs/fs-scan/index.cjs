'use strict';
// Loads the native scanner if it was built; exports null otherwise (callers fall back).
let addon = null;
if (process.env.FILER_NATIVE_SCAN !== '0') {
  try {
    addon = require('./build/Release/fs_scan.node');
  } catch {
    addon = null;
  }
}
module.exports = addon;
