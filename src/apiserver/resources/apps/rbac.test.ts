import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { create, edit, type Loose, update } from './testing.ts';

const ROLE = 'rbac.authorization.k8s.io/roles';
const CROLE = 'rbac.authorization.k8s.io/clusterroles';
const RB = 'rbac.authorization.k8s.io/rolebindings';
const CRB = 'rbac.authorization.k8s.io/clusterrolebindings';

describe('Role and ClusterRole rules', () => {
  it('accepts resource and non-resource rules', () => {
    const rules = [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }];
    assert.deepEqual(create(ROLE, { metadata: { name: 'r' }, rules }).errors, []);
    const nonResource = [{ nonResourceURLs: ['/healthz'], verbs: ['get'] }];
    assert.deepEqual(create(CROLE, { metadata: { name: 'r' }, rules: nonResource }, '').errors, []);
  });

  it('requires verbs, api groups and resources', () => {
    assert.deepEqual(create(ROLE, { metadata: { name: 'r' }, rules: [{}] }).errors, [
      'rules[0].verbs: Required value: verbs must contain at least one value',
      'rules[0].apiGroups: Required value: resource rules must supply at least one api group',
      'rules[0].resources: Required value: resource rules must supply at least one resource',
    ]);
  });

  it('keeps non-resource URLs out of namespaced roles and away from resources', () => {
    const rules = [{ nonResourceURLs: ['/metrics'], resources: ['pods'], verbs: ['get'] }];
    assert.deepEqual(create(ROLE, { metadata: { name: 'r' }, rules }).errors, [
      'rules[0].nonResourceURLs: Invalid value: ["/metrics"]: namespaced rules cannot apply to non-resource URLs',
      'rules[0].nonResourceURLs: Invalid value: ["/metrics"]: rules cannot apply to both regular resources and non-resource URLs',
    ]);
  });

  it('checks aggregation rules', () => {
    assert.deepEqual(create(CROLE, { metadata: { name: 'agg' }, aggregationRule: {} }, '').errors, [
      'aggregationRule.clusterRoleSelectors: Required value: at least one clusterRoleSelector required if aggregationRule is non-nil',
    ]);
    const aggregationRule = {
      clusterRoleSelectors: [{ matchLabels: { 'rbac.example.com/aggregate': 'true' } }],
    };
    assert.deepEqual(create(CROLE, { metadata: { name: 'agg' }, aggregationRule }, '').errors, []);
  });
});

describe('RoleBinding and ClusterRoleBinding', () => {
  const binding = (extra: Record<string, unknown> = {}) => ({
    metadata: { name: 'b' },
    roleRef: { kind: 'ClusterRole', name: 'view' },
    subjects: [
      { kind: 'User', name: 'alice' },
      { kind: 'ServiceAccount', name: 'default', namespace: 'default' },
    ],
    ...extra,
  });

  it('defaults the roleRef and subject api groups', () => {
    const { obj, errors } = create(RB, binding());
    assert.deepEqual(errors, []);
    const b = obj as Loose;
    assert.equal(b.roleRef.apiGroup, 'rbac.authorization.k8s.io');
    assert.equal(b.subjects[0].apiGroup, 'rbac.authorization.k8s.io');
    assert.equal(b.subjects[1].apiGroup, '');
  });

  it('checks the roleRef', () => {
    assert.deepEqual(
      create(RB, binding({ roleRef: { apiGroup: 'example.com', kind: 'Thing', name: 'a/b' } })).errors,
      [
        'roleRef.apiGroup: Unsupported value: "example.com": supported values: "rbac.authorization.k8s.io"',
        'roleRef.kind: Unsupported value: "Thing": supported values: "Role", "ClusterRole"',
        'roleRef.name: Invalid value: "a/b": may not contain \'/\'',
      ],
    );
    assert.deepEqual(create(CRB, binding({ roleRef: { kind: 'Role', name: '' } }), '').errors, [
      'roleRef.kind: Unsupported value: "Role": supported values: "ClusterRole"',
      'roleRef.name: Required value',
    ]);
  });

  it('checks subjects', () => {
    const subjects = [
      { kind: 'ServiceAccount', name: 'Bad_Name', apiGroup: 'rbac.authorization.k8s.io' },
      { kind: 'User', name: '', apiGroup: 'example.com' },
      { kind: 'Robot', name: 'r2' },
    ];
    const errors = create(CRB, binding({ subjects }), '').errors;
    assert.match(
      errors[0] ?? '',
      /^subjects\[0\]\.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain/,
    );
    assert.deepEqual(errors.slice(1), [
      'subjects[0].apiGroup: Unsupported value: "rbac.authorization.k8s.io": supported values: ""',
      'subjects[0].namespace: Required value',
      'subjects[1].name: Required value',
      'subjects[1].apiGroup: Unsupported value: "example.com": supported values: "rbac.authorization.k8s.io"',
      'subjects[2].kind: Unsupported value: "Robot": supported values: "ServiceAccount", "User", "Group"',
    ]);
  });

  it('makes roleRef immutable', () => {
    const base = create(RB, binding()).obj;
    assert.deepEqual(
      update(
        RB,
        base,
        edit(base, (x) => void x.subjects.pop()),
      ).errors,
      [],
    );
    assert.deepEqual(
      update(
        RB,
        base,
        edit(base, (x) => {
          x.roleRef.name = 'edit';
        }),
      ).errors,
      [
        'roleRef: Invalid value: rbac.RoleRef{APIGroup:"rbac.authorization.k8s.io", Kind:"ClusterRole", Name:"edit"}: cannot change roleRef',
      ],
    );
  });
});
