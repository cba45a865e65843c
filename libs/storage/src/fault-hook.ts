import type { FaultHook, FaultSpec } from '@filer/engine';

/**
 * The process kills itself with SIGKILL the `n`-th time it reaches `step`: the crash tests'
 * fault points. SIGKILL, not an exception, so nothing gets to clean up.
 */
export function faultHook(spec: FaultSpec): FaultHook {
  let seen = 0;
  return (step) => {
    if (step !== spec.step || ++seen < spec.n) return;
    process.stderr.write(`filer: fault point ${spec.step}:${spec.n} reached: killing this process\n`);
    process.kill(process.pid, 'SIGKILL');
  };
}
