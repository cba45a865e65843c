'use strict';
// Loads the native scanner if it was built; exports null otherwise (callers fall back).
let addon = null;
try {
  addon = require('./build/Release/fs_scan.node');
} catch {
  addon = null;
}
module.exports = addon;
