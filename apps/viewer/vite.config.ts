import preact from '@preact/preset-vite';
import { defineConfig } from 'vite';

// The browser site. `base: './'` keeps asset URLs relative so the same build is served by
// `startViewerServer` at `/` and copied into static exports (opened from file:// too).
// One chunk (no dynamic imports) so an export can inline it into index.html.
export default defineConfig({
  base: './',
  plugins: [preact()],
  build: {
    outDir: 'dist/site',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    rollupOptions: {
      output: { inlineDynamicImports: true },
      onwarn(warning, warn) {
        // zod's comments trip Rollup's annotation parser; harmless, and not ours to fix.
        if (warning.code === 'INVALID_ANNOTATION' && warning.id?.includes('node_modules')) return;
        warn(warning);
      },
    },
  },
});
