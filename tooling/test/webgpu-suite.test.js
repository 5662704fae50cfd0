// webgpuSuiteGate: which webgpu suites run, whether their adapter is conformant, and their label.
import { afterEach, describe, expect, it } from 'vitest';
import { webgpuSuiteGate } from '../webgpu-suite.js';

const saved = { CI: process.env.CI, REQ: process.env.ATMANRL_REQUIRE_WEBGPU };
afterEach(() => {
  for (const [k, v] of [
    ['CI', saved.CI],
    ['ATMANRL_REQUIRE_WEBGPU', saved.REQ],
  ]) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

describe('webgpuSuiteGate', () => {
  it('runs on a Vulkan adapter (conformant) and on an OpenGL ES one (not), naming it', () => {
    const vk = { available: true, adapter: { device: 'llvmpipe (LLVM 19)', route: 'vulkan' } };
    expect(webgpuSuiteGate(vk)).toEqual({
      run: true,
      conformant: true,
      label: 'on webgpu (llvmpipe (LLVM 19))',
    });
    const gl = { available: true, adapter: { device: 'llvmpipe-llvm-15', route: 'opengles' } };
    expect(webgpuSuiteGate(gl)).toEqual({
      run: true,
      conformant: false,
      label: 'on webgpu (llvmpipe-llvm-15, OpenGL ES compatibility adapter)',
    });
  });

  it('skips without an adapter, except on CI with ATMANRL_REQUIRE_WEBGPU=1', () => {
    const none = { available: false, reason: 'no adapter' };
    delete process.env.CI;
    process.env.ATMANRL_REQUIRE_WEBGPU = '1';
    expect(webgpuSuiteGate(none)).toEqual({
      run: false,
      conformant: false,
      label: 'on webgpu: skipped, no adapter',
    });
    process.env.CI = 'true';
    expect(webgpuSuiteGate(none)).toEqual({
      run: true,
      conformant: false,
      label: 'on webgpu: REQUIRED but unavailable (no adapter)',
    });
  });
});
