import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FilerError } from '@filer/core';
import { admitPath, resolveAllowedRoots } from './allowed-roots.js';

const base = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'filer-allowed-')));
const root = path.join(base, 'root');
fs.mkdirSync(path.join(root, 'sub'), { recursive: true });
fs.mkdirSync(path.join(base, 'root-evil'));
fs.symlinkSync('/etc', path.join(root, 'out'));
fs.symlinkSync('sub', path.join(root, 'in'));
const allowed = resolveAllowedRoots([root]);

function refusal(p: string, opts?: { mustExist?: boolean }): string {
  try {
    admitPath(p, allowed, 'roots.0', opts);
  } catch (e) {
    expect(e).toBeInstanceOf(FilerError);
    return (e as FilerError).code;
  }
  throw new Error(`${p} was admitted`);
}

describe('admitPath', () => {
  afterAll(() => fs.rmSync(base, { recursive: true, force: true }));

  it('admits paths inside, resolving symlinks that stay inside', () => {
    expect(admitPath(root, allowed, 'roots.0')).toBe(root);
    expect(admitPath(path.join(root, 'in'), allowed, 'roots.0')).toBe(path.join(root, 'sub'));
    expect(admitPath(path.join(root, 'new/deeper'), allowed, 'dest', { mustExist: false })).toBe(path.join(root, 'new/deeper'));
  });

  it('refuses escapes before touching anything', () => {
    for (const p of [
      '/etc',
      '/',
      `${root}/../root-evil`,
      `${base}/root-evil`,
      `${root}/out`,
      `${root}/out/passwd`,
      'relative/path',
      '',
      `${root}/\0x`,
      `${root}/${'a'.repeat(5000)}`,
    ])
      expect(['E_PATH_NOT_ALLOWED', 'E_ROOT_NOT_FOUND']).toContain(refusal(p));
    expect(refusal('/etc')).toBe('E_PATH_NOT_ALLOWED');
    expect(refusal(`${root}/out`)).toBe('E_PATH_NOT_ALLOWED');
    expect(refusal(`${root}/out/new-file`, { mustExist: false })).toBe('E_PATH_NOT_ALLOWED');
    expect(refusal(`${root}/missing`)).toBe('E_ROOT_NOT_FOUND');
  });
});
