import { describe, expect, it } from 'vitest';
import { selectBackend } from './backend.ts';
import { BackendUnavailableError } from './errors/backend-unavailable-error.ts';

// One process, one backend: these tests run in order and share the selection.
describe('selectBackend', () => {
  it('says what is available when the preferred backend is not installed', async () => {
    const failure = selectBackend({ prefer: 'tensorflow' });
    await expect(failure).rejects.toBeInstanceOf(BackendUnavailableError);
    await expect(failure).rejects.toThrow(/tensorflow is not available here; available: wasm, cpu/);
    await expect(failure).rejects.toMatchObject({ retryable: false, details: { available: ['wasm', 'cpu'] } });
  });

  it('picks WASM with SIMD and the fast kernels when no native package is installed', async () => {
    const backend = await selectBackend();
    expect(backend).toEqual({
      name: 'wasm',
      tfBackend: 'wasm',
      simd: true,
      threads: false,
      fastMatMul: true,
      fusedAdam: true,
    });
  });

  it('returns the same selection when called again', async () => {
    const first = await selectBackend();
    expect(await selectBackend()).toBe(first);
    expect(await selectBackend({ prefer: 'wasm' })).toBe(first);
  });

  it('refuses to switch to another backend once one runs', async () => {
    await expect(selectBackend({ prefer: 'cpu' })).rejects.toThrow(/cpu requested, but wasm already runs in this thread/);
  });
});
