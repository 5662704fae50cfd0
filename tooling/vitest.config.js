import { vitestPreset } from './vitest.preset.js';

export default vitestPreset('tooling', { include: ['scripts/**/*.test.js', 'bench/**/*.test.js'] });
