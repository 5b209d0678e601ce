/**
 * Container image references, as far as defaulting needs them: parsers.ParseImageName (the docker
 * reference grammar of github.com/distribution/reference) decides whether an image names a tag,
 * and imagePullPolicy defaults to Always for ":latest" (or no tag and no digest), else IfNotPresent.
 */

const alnum = '[a-z0-9]+';
const separator = '(?:[._]|__|[-]+)';
const pathComponent = `${alnum}(?:${separator}${alnum})*`;
const domainComponent = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const ipv6 = '\\[(?:[a-fA-F0-9:]+)\\]';
const domainName = `${domainComponent}(?:\\.${domainComponent})*`;
const host = `(?:${domainName}|${ipv6})`;
const domain = `${host}(?::[0-9]+)?`;
const tag = '[\\w][\\w.-]{0,127}';
const digest = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9a-fA-F]{32,}';
const name = `(?:${domain}/)?${pathComponent}(?:/${pathComponent})*`;
const referenceRe = new RegExp(`^(${name})(?::(${tag}))?(?:@(${digest}))?$`);
const identifierRe = /^[a-f0-9]{64}$/;

/** The parts of an image reference, or undefined when it does not parse. */
export function parseImage(image: string): { name: string; tag: string; digest: string } | undefined {
  if (image.length === 0 || identifierRe.test(image)) return undefined;
  const m = referenceRe.exec(image);
  if (!m) return undefined;
  const n = m[1] ?? '';
  if (n.length > 255) return undefined;
  return { name: n, tag: m[2] ?? '', digest: m[3] ?? '' };
}

/** The tag ParseImageName reports: "latest" when there is neither tag nor digest, '' on error. */
export function imageTag(image: string): string {
  const ref = parseImage(image);
  if (!ref) return '';
  return ref.tag === '' && ref.digest === '' ? 'latest' : ref.tag;
}

/** The default imagePullPolicy for an image. */
export function defaultPullPolicy(image: string): 'Always' | 'IfNotPresent' {
  return imageTag(image) === 'latest' ? 'Always' : 'IfNotPresent';
}
