/**
 * What the API server does with a CustomResourceDefinition's `openAPIV3Schema`
 * (k8s.io/apiextensions-apiserver): validating the CRD itself (validateCrd, validateCrdUpdate), and,
 * per version, compiling the schema to validate, prune and default custom resources
 * (compileSchema). x-kubernetes-validations (CEL) rules are checked for shape only, never run.
 */
export { type CompiledSchema, compileSchema } from './compile.ts';
export { validateScale } from './scale.ts';
export type * from './types.ts';
export { applyCrdDefaults, validateCrd, validateCrdUpdate } from './validate-crd.ts';
