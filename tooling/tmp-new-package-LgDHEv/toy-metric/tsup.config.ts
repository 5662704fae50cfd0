import { preset } from '@atmanrl/tooling/tsup';
import { defineConfig } from 'tsup';

export default defineConfig(preset());
