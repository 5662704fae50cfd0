import { vitestPreset } from '@atmanrl/tooling/vitest';
import { defineConfig } from 'vitest/config';

export default defineConfig(vitestPreset('toy-metric'));
