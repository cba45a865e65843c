'use strict';
// Preloaded (NODE_OPTIONS=--require) into the node processes the tests start when scripts/test.sh
// measures coverage: Node writes a process's V8 coverage (NODE_V8_COVERAGE) when it exits, but not
// when a signal ends it, which is how tests stop the API, the workers and many CLI runs. Here a
// terminating signal that nothing else handles still ends the process by that signal (exit status
// and behaviour as without this file), after the coverage so far is written (v8.takeCoverage).
// While the process has handlers of its own (graceful shutdown), this one does nothing: they run
// as before, and if they re-raise the signal once done (Nest does), it comes back here alone.
const { isMainThread } = require('node:worker_threads');
const v8 = require('node:v8');
const process = require('node:process');

if (isMainThread && process.env.NODE_V8_COVERAGE) {
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) {
    const onSignal = () => {
      if (process.listenerCount(signal) > 1) return;
      try {
        v8.takeCoverage();
      } finally {
        process.removeListener(signal, onSignal);
        process.kill(process.pid, signal);
      }
    };
    process.on(signal, onSignal);
  }
}
