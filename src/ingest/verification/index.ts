export { compileVerifier, type VerifierConfig } from './compile-verifier.ts';
export { constantTimeEqual, constantTimeEqualSecret } from './constant-time.ts';
export { compileEventFieldReader, type EventFieldReader, type EventFieldSource } from './event-field.ts';
export { compileScheme, type VerifierKeys } from './generic-verifier.ts';
export { type CompiledJsonPath, compileJsonPath, readJsonPath } from './json-path.ts';
export {
  type CapturedRequest,
  type OfflineVerifyInput,
  type OfflineVerifyResult,
  verifyCapturedRequest,
} from './offline-verify.ts';
export {
  DEFAULT_TOLERANCE_SECONDS,
  getProviderPreset,
  listProviderPresets,
  PROVIDER_NAMES,
  type ProviderPreset,
} from './provider-presets.ts';
export { headerValue, lowerCaseHeaders, type RawRequest } from './raw-request.ts';
export { parseVerificationScheme } from './scheme-validation.ts';
export type { SchemeVariant } from './scheme-variants.ts';
export { SECRET_ENCODINGS, type Secret, type SecretEncoding } from './secrets.ts';
export * from './verification-scheme.ts';
export type { VerifyFn, VerifyOptions, VerifyResult } from './verify-result.ts';
