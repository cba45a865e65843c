/**
 * FILER_FS_SCAN_ADDON=off disables the native addon in every process (libs/fs-scan/index.cjs): the
 * test run's portable leg. Tests of the addon itself skip there with `describe.skipIf(nativeAddonOff)`,
 * and the run prints their names (scripts/skipped-tests-reporter.ts). Anywhere else the addon must
 * be there: a test of it fails, rather than skips, when it did not build.
 */
export const nativeAddonOff: boolean = process.env.FILER_FS_SCAN_ADDON === 'off';
