import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AdmissionPluginError, parseDisabledAdmissionPlugins } from './admission.ts';

describe('--disable-admission-plugins', () => {
  it('reads comma-separated plugin names, blanks ignored', () => {
    assert.deepEqual([...parseDisabledAdmissionPlugins(undefined)], []);
    assert.deepEqual([...parseDisabledAdmissionPlugins('')], []);
    assert.deepEqual(
      [...parseDisabledAdmissionPlugins(' ServiceAccount, ,DefaultTolerationSeconds,ServiceAccount')],
      ['ServiceAccount', 'DefaultTolerationSeconds'],
    );
  });

  it('refuses a name skiff has no plugin for, saying which it has', () => {
    assert.throws(
      () => parseDisabledAdmissionPlugins('ServiceAccount,Priority'),
      (err: Error) =>
        err instanceof AdmissionPluginError &&
        /"Priority" is not an admission plugin skiff can turn off; the ones it has are DefaultTolerationSeconds, ServiceAccount/.test(
          err.message,
        ),
    );
    assert.throws(() => parseDisabledAdmissionPlugins('serviceaccount'), AdmissionPluginError);
  });
});
