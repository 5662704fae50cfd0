// Hugging Face `config.json` from disk (Node); parsing and validation are in ../config.ts.
import { constants, type Stats } from 'node:fs';
import { open } from 'node:fs/promises';
import { type LlamaConfig, parseLlamaConfig } from '../config.js';
import { ModelError } from '../errors.js';

/**
 * Flags that open a model file for reading without blocking: opening a FIFO for reading would
 * otherwise wait forever for a writer (a regular file is unaffected).
 */
export const OPEN_READ_NONBLOCK = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);

/** The error for a path of a model folder that is not a regular file (FIFO, device, folder). */
export function notRegularFile(path: string, st: Stats): ModelError {
  const kind = st.isFIFO()
    ? 'a FIFO (named pipe)'
    : st.isDirectory()
      ? 'a folder'
      : st.isSocket()
        ? 'a socket'
        : st.isCharacterDevice() || st.isBlockDevice()
          ? 'a device'
          : 'not a regular file';
  return new ModelError(
    'IO',
    `${path} is ${kind}, not a regular file: reading it could block forever or never end. A model folder holds regular files; replace it with the real file.`,
  );
}

/**
 * Reads a text file of a model folder; refuses (without blocking) anything but a regular file.
 * @throws ModelError `IO` for a file that is not regular; the system error when it cannot be read
 */
export async function readModelText(path: string): Promise<string> {
  const handle = await open(path, OPEN_READ_NONBLOCK);
  try {
    const st = await handle.stat();
    if (!st.isFile()) throw notRegularFile(path, st);
    return await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
}

/**
 * Read and validate a Hugging Face `config.json`.
 * @throws ModelError `BAD_CONFIG` (naming the file and key) or `IO`
 */
export async function loadLlamaConfig(path: string): Promise<LlamaConfig> {
  let text: string;
  try {
    text = await readModelText(path);
  } catch (cause) {
    if (cause instanceof ModelError) throw cause;
    throw new ModelError('IO', `cannot read model config ${path} (${(cause as Error).message})`, {
      cause,
    });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new ModelError('BAD_CONFIG', `${path}: not valid JSON (${String(cause)})`, { cause });
  }
  return parseLlamaConfig(json, path);
}
