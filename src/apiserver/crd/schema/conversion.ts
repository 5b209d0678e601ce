/**
 * The CRD checks beyond its schema and names: the conversion strategy and its webhook
 * (validateCustomResourceConversion, with the internal field names `webhookClientConfig` and
 * `conversionReviewVersions`), and the API approval annotation that groups under k8s.io and
 * kubernetes.io must carry (validateAPIApproval).
 */
import { FieldError, FieldPath } from '../../../api/errors.ts';
import { isDNS1035Label } from '../../../api/validation.ts';
import type { CustomResourceDefinition } from './types.ts';
import { isObject } from './util.ts';

const CONVERSION_REVIEW_VERSIONS = ['v1', 'v1beta1'];
const APPROVAL_ANNOTATION = 'api-approved.kubernetes.io';

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

function arr<T>(v: unknown): T[] {
  return Array.isArray(v) ? (v as T[]) : [];
}

/** validateCustomResourceConversion, at `spec.conversion`. */
export function validateConversion(crd: CustomResourceDefinition, path: FieldPath): FieldError[] {
  const conv = crd.spec?.conversion;
  if (!isObject(conv)) return [];
  const errs: FieldError[] = [];
  const strategy = str(conv.strategy);
  if (strategy !== '' && strategy !== 'None' && crd.spec?.preserveUnknownFields === true) {
    errs.push(
      FieldError.invalid(
        path.child('strategy').toString(),
        strategy,
        'must be None if spec.preserveUnknownFields is true',
      ),
    );
  }
  if (strategy === '') errs.push(FieldError.required(path.child('strategy').toString()));
  else if (strategy !== 'None' && strategy !== 'Webhook') {
    errs.push(FieldError.notSupported(path.child('strategy').toString(), strategy, ['None', 'Webhook']));
  }
  const webhook = isObject(conv.webhook) ? conv.webhook : undefined;
  const cc = webhook && isObject(webhook.clientConfig) ? webhook.clientConfig : undefined;
  const reviewVersions = webhook?.conversionReviewVersions;
  const ccPath = path.child('webhookClientConfig');
  if (strategy === 'Webhook') {
    if (!cc) errs.push(FieldError.required(ccPath.toString(), 'required when strategy is set to Webhook'));
    else {
      const hasURL = typeof cc.url === 'string';
      const hasService = isObject(cc.service);
      if (hasURL === hasService)
        errs.push(FieldError.required(ccPath.toString(), 'exactly one of url or service is required'));
      else if (hasURL) errs.push(...validateWebhookURL(str(cc.url), ccPath.child('url')));
      else if (isObject(cc.service)) {
        const svc = cc.service;
        const sp = ccPath.child('service');
        if (!str(svc.name))
          errs.push(FieldError.required(sp.child('name').toString(), 'service name is required'));
        if (!str(svc.namespace))
          errs.push(FieldError.required(sp.child('namespace').toString(), 'service namespace is required'));
        const port = svc.port;
        if (typeof port === 'number' && (port < 1 || port > 65535 || !Number.isInteger(port))) {
          errs.push(
            FieldError.invalid(
              sp.child('port').toString(),
              port,
              'port is not valid: must be between 1 and 65535, inclusive',
            ),
          );
        }
      }
    }
    errs.push(...validateReviewVersions(reviewVersions, path.child('conversionReviewVersions')));
  } else {
    if (cc)
      errs.push(
        FieldError.forbidden(ccPath.toString(), 'should not be set when strategy is not set to Webhook'),
      );
    if (arr(reviewVersions).length > 0) {
      errs.push(
        FieldError.forbidden(
          path.child('conversionReviewVersions').toString(),
          'should not be set when strategy is not set to Webhook',
        ),
      );
    }
  }
  return errs;
}

/** webhook.ValidateWebhookURL, for the common mistakes. */
function validateWebhookURL(raw: string, path: FieldPath): FieldError[] {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return [FieldError.invalid(path.toString(), raw, 'host must be specified')];
  }
  if (u.protocol !== 'https:')
    return [FieldError.invalid(path.toString(), raw, "'https' is the only allowed URL scheme")];
  if (u.username || u.password)
    return [FieldError.invalid(path.toString(), raw, 'user information is not permitted in the URL')];
  if (u.hash) return [FieldError.invalid(path.toString(), raw, 'fragments are not permitted in the URL')];
  if (u.search)
    return [FieldError.invalid(path.toString(), raw, 'query parameters are not permitted in the URL')];
  return [];
}

function validateReviewVersions(versions: unknown, path: FieldPath): FieldError[] {
  const list = arr<unknown>(versions);
  if (list.length === 0) return [FieldError.required(path.toString())];
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  let accepted = false;
  list.forEach((v, i) => {
    const s = str(v);
    if (seen.has(s)) {
      errs.push(FieldError.invalid(path.index(i).toString(), v, 'duplicate version'));
      return;
    }
    seen.add(s);
    for (const e of isDNS1035Label(s)) errs.push(FieldError.invalid(path.index(i).toString(), v, e));
    if (CONVERSION_REVIEW_VERSIONS.includes(s)) accepted = true;
  });
  if (!accepted)
    errs.push(
      FieldError.invalid(
        path.toString(),
        list,
        `must include at least one of ${CONVERSION_REVIEW_VERSIONS.join(', ')}`,
      ),
    );
  return errs;
}

/** validateAPIApproval: groups under k8s.io and kubernetes.io need the api-approved annotation. */
export function validateAPIApproval(
  crd: CustomResourceDefinition,
  old?: CustomResourceDefinition,
): FieldError[] {
  const group = str(crd.spec?.group);
  const isProtected = ['k8s.io', 'kubernetes.io'].some((d) => group === d || group.endsWith(`.${d}`));
  if (!isProtected) return [];
  const state = (c: CustomResourceDefinition | undefined) =>
    approvalState(str(c?.metadata?.annotations?.[APPROVAL_ANNOTATION]));
  const next = state(crd);
  if (old && state(old).state === next.state) return [];
  const p = new FieldPath('metadata').child('annotations').key(APPROVAL_ANNOTATION).toString();
  if (next.state === 'missing') return [FieldError.required(p, next.reason)];
  if (next.state === 'invalid')
    return [FieldError.invalid(p, crd.metadata?.annotations?.[APPROVAL_ANNOTATION], next.reason)];
  return [];
}

function approvalState(annotation: string): {
  state: 'missing' | 'bypassed' | 'approved' | 'invalid';
  reason: string;
} {
  const see = 'see https://github.com/kubernetes/enhancements/pull/1111';
  if (annotation === '')
    return {
      state: 'missing',
      reason: `protected groups must have approval annotation "${APPROVAL_ANNOTATION}", ${see}`,
    };
  if (annotation.startsWith('unapproved'))
    return { state: 'bypassed', reason: `not approved: "${annotation}"` };
  try {
    const u = new URL(annotation);
    if (u.host && u.protocol) return { state: 'approved', reason: `approved in ${annotation}` };
  } catch {
    // invalid below
  }
  return {
    state: 'invalid',
    reason: `protected groups must have approval annotation "${APPROVAL_ANNOTATION}" with either a URL or a reason starting with "unapproved", ${see}`,
  };
}
