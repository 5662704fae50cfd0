import type { CausalLM } from '@atmanrl/model';
import { describe, expect, it } from 'vitest';
import { evaluate } from './evaluate.js';

// The key check runs before the model is touched, so a placeholder model suffices.
const model = {} as CausalLM;

describe('evaluate options', () => {
  it('rejects an unknown option, naming it and the known ones', async () => {
    await expect(evaluate(model, [], { limt: 3 } as never)).rejects.toThrow(
      /evaluate: unknown option limt; known options: name, modelName/,
    );
  });

  it('rejects an unknown metric selection key', async () => {
    await expect(evaluate(model, [], { metrics: { earlyAnswer: true } } as never)).rejects.toThrow(
      /unknown option metrics\.earlyAnswer/,
    );
  });
});
