/** Service account tokens: claims, JWT signing and verification, and the bearer-token authenticator. */
export * from './claims.ts';
export { decodeJwt, keyIdOf, signJwt, verifyJwtSignature } from './jwt.ts';
export {
  LEEWAY_SECONDS,
  type ObjectGetter,
  type ServiceAccountInfo,
  type ServiceAccountTokenOptions,
  ServiceAccountTokens,
  serviceAccountUser,
  TokenError,
} from './tokens.ts';
