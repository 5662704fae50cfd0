// The webgpu backend through Dawn: adapter routes, software-adapter detection, the quiet probe,
// strict explicit selection with the adapter reported, automatic selection skipping software
// adapters, and matMul's two formulations giving identical numbers there. The webgpu-dependent
// cases are skipped with the reason when Dawn offers no adapter (failing instead on CI with
// ATMANRL_REQUIRE_WEBGPU=1).
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { isSoftwareAdapter } from '../src/adapter.js';
import { forceMatMulFormulation, matMul } from '../src/matmul.js';
import { initBackend } from '../src/node/backend.js';
import { probeWebgpu, webgpuRoutes } from '../src/node/webgpu.js';
import { webgpuGate } from './helpers.js';

const gpu = await webgpuGate();
const none = { vendor: '', architecture: '', device: '', description: '' };

describe('webgpu adapter selection (no GPU needed)', () => {
  it('detects software adapters by the fallback flag or by name', () => {
    expect(isSoftwareAdapter({ ...none, isFallbackAdapter: true })).toBe(true);
    expect(isSoftwareAdapter({ ...none, vendor: 'mesa', device: 'llvmpipe-llvm-15' })).toBe(true);
    expect(isSoftwareAdapter({ ...none, description: 'lavapipe' })).toBe(true);
    expect(isSoftwareAdapter({ ...none, description: 'SwiftShader Device (Subzero)' })).toBe(true);
    expect(isSoftwareAdapter({ ...none, vendor: 'nvidia', device: 'nvidia-h200' })).toBe(false);
  });

  it('tries Vulkan, then OpenGL ES with a compatibility adapter on Linux', () => {
    const [vk, gles, ...rest] = webgpuRoutes([], 'linux');
    expect(rest).toEqual([]);
    expect(vk).toMatchObject({ name: 'vulkan', flags: ['backend=vulkan'] });
    expect(vk!.requestOptions).not.toHaveProperty('featureLevel');
    expect(gles).toMatchObject({
      name: 'opengles',
      flags: ['backend=opengles'],
      requestOptions: { featureLevel: 'compatibility' },
      env: { EGL_PLATFORM: 'surfaceless' },
    });
    expect(webgpuRoutes([], 'darwin').map((r) => r.name)).toEqual(['default']);
    expect(webgpuRoutes(['backend=opengl'], 'linux')).toEqual([
      expect.objectContaining({
        name: 'flags',
        requestOptions: expect.objectContaining({ featureLevel: 'compatibility' }),
      }),
    ]);
  });

  it('probes once per flag set and says why when there is no adapter', async () => {
    const p = probeWebgpu();
    expect(probeWebgpu()).toBe(p);
    const result = await p;
    if (result.available) expect(result.adapter.route).toMatch(/^(vulkan|opengles|default|flags)$/);
    else expect(result.reason).not.toBe('');
    const bogus = await probeWebgpu(['backend=no-such-backend']);
    expect(bogus.available).toBe(false);
  });
});

describe.skipIf(!gpu.run)(`initBackend ${gpu.label}`, () => {
  it('sets webgpu up on request and reports the adapter in the result and the log', async () => {
    const lines: string[] = [];
    const logger = {
      info: (m: string) => lines.push(`info ${m}`),
      warn: (m: string) => lines.push(`warn ${m}`),
    };
    const info = await initBackend({ prefer: 'webgpu', logger });
    expect(info.name).toBe('webgpu');
    expect(tf.getBackend()).toBe('webgpu');
    const a = info.adapter!;
    expect(a.route).toMatch(/^(vulkan|opengles|default|flags)$/);
    expect(a.software).toBe(isSoftwareAdapter(a));
    expect(info.detail).toContain(a.device || a.vendor);
    expect(lines[0]).toBe(`info tfjs backend: ${info.detail}`);
    if (a.software) expect(lines[1]).toMatch(/^warn webgpu runs on a software/);
    // The same adapter the quiet probe saw.
    const probe = await probeWebgpu();
    if (probe.available) expect(probe.adapter.device).toBe(a.device);
  });

  it('picks webgpu automatically only for a hardware adapter', async () => {
    const info = await initBackend({ prefer: 'webgpu' });
    const auto = await initBackend();
    expect(auto.name === 'webgpu').toBe(!info.adapter!.software);
    await initBackend({ prefer: 'webgpu' });
  });

  it('adds more tensors than the device binds per shader stage (AddN split), and leaks nothing', async () => {
    await initBackend({ prefer: 'webgpu' });
    const limits = (tf.backend() as unknown as { device: { limits: Record<string, number> } })
      .device.limits;
    const limit = limits['maxStorageBuffersPerShaderStage']!;
    expect(limit).toBeGreaterThan(1);
    const n = 2 * limit + 3; // three levels of partial sums at the device's limit
    const xs = Array.from({ length: n }, (_, i) => tf.fill([3], i + 1));
    const before = tf.memory().numTensors;
    const sum = tf.addN(xs);
    const values = Array.from(await sum.data());
    sum.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose(xs);
    expect(values).toEqual([0, 1, 2].map(() => (n * (n + 1)) / 2)); // hand-computed: 1 + … + n
  });

  it('matMul gives identical values and gradients in both formulations, and leaks nothing', async () => {
    await initBackend({ prefer: 'webgpu' });
    const a = tf.randomNormal([2, 3, 8, 16], 0, 1, 'float32', 1);
    const b = tf.randomNormal([2, 3, 12, 16], 0, 1, 'float32', 2);
    const run = async (f: 'explicit' | 'flags') => {
      forceMatMulFormulation(f);
      const before = tf.memory().numTensors;
      const out = matMul(a, b, false, true);
      const grads = tf.grads((x: tf.Tensor, y: tf.Tensor) =>
        tf.sum(tf.square(matMul(x, y, false, true))),
      )([a, b]);
      const values = await Promise.all([out, ...grads].map((t) => t.data()));
      tf.dispose([out, ...grads]);
      expect(tf.memory().numTensors).toBe(before);
      return values;
    };
    try {
      const explicit = await run('explicit');
      const flags = await run('flags');
      for (let i = 0; i < 3; i++) expect(Array.from(flags[i]!)).toEqual(Array.from(explicit[i]!));
    } finally {
      forceMatMulFormulation(null);
      tf.dispose([a, b]);
    }
  });
});
