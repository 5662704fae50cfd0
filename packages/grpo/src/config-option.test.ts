// A BAD_CONFIG error names the option it concerns as a field (callers map it to their own flag).
import { describe, expect, it } from 'vitest';
import { resolveGrpoConfig } from './config.js';
import { GrpoError } from './errors.js';

const optionOf = (input: Parameters<typeof resolveGrpoConfig>[0]): string | undefined => {
  try {
    resolveGrpoConfig(input);
  } catch (e) {
    expect(e).toBeInstanceOf(GrpoError);
    return (e as GrpoError).option;
  }
  throw new Error('expected a GrpoError');
};

describe('GrpoError.option', () => {
  it('names the offending key', () => {
    expect(optionOf({ numGenerations: 0 })).toBe('numGenerations');
    expect(optionOf({ topP: 1.5 })).toBe('topP');
    expect(optionOf({ delta: 1.1 })).toBe('delta');
    expect(optionOf({ lossType: 'x' as never })).toBe('lossType');
    expect(optionOf({ adamBeta2: 1 })).toBe('adamBeta2');
    expect(optionOf({ lrSchedulerType: 'cosine' })).toBe('lrSchedulerType');
    expect(optionOf({ maxTokensPerMicroBatch: 8, topEntropyQuantile: 0.2 })).toBe(
      'maxTokensPerMicroBatch',
    );
    expect(optionOf({ nope: 1 } as never)).toBe('nope');
  });
});
