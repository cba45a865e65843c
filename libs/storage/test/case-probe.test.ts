import * as fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { file, makeTree, type TempTree } from '@filer/testing';
import { isCaseInsensitiveAt } from '../src/local/case-probe.js';

// No case-insensitive file system can be mounted here: a hard link under the case-swapped name
// makes a directory answer lookups the way one would, which is all the probe looks at.
describe('isCaseInsensitiveAt', () => {
  let t: TempTree;
  beforeAll(() => {
    t = makeTree({ 'sensitive/Photo.JPG': file('x'), 'insensitive/Photo.JPG': file('y'), 'digits/123': file('z') });
    fs.linkSync(t.path('insensitive/Photo.JPG'), t.path('insensitive/pHOTO.jpg'));
  });
  afterAll(() => t.cleanup());

  it('is false on this case-sensitive file system', () => {
    expect(isCaseInsensitiveAt(t.path('sensitive/new/name.jpg'))).toBe(false);
  });
  it('is true where a case-swapped lookup finds the same file', () => {
    expect(isCaseInsensitiveAt(t.path('insensitive/x.jpg'))).toBe(true);
  });
  it('climbs to a directory with a name it can swap', () => {
    expect(isCaseInsensitiveAt(t.path('digits/not/yet/there'))).toBe(false);
  });
});
