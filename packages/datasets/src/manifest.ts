// Official download locations of the datasets, with sizes and sha256 where they are known (data).

/** One file of a dataset release. */
export interface ManifestFile {
  /** File name inside the dataset's cache folder (and under `baseUrl` when one is given). */
  name: string;
  /** Official URL. */
  url: string;
  /** Size in bytes, or null when unknown (then not checked). */
  size: number | null;
  /** Lower-case hex sha256, or null when unknown (then not checked; the download is logged as unverified). */
  sha256: string | null;
  /** `'tar'`: an uncompressed tar archive unpacked into the cache folder after download. */
  extract?: 'tar';
}

/** One dataset: its files and the sub-folder of the cache to hand to the loader. */
export interface ManifestEntry {
  homepage: string;
  license: string;
  files: readonly ManifestFile[];
  /** Path, relative to `<cacheDir>/<name>`, to pass as `path` to the loader. */
  loadPath: string;
}

/**
 * The datasets {@link downloadDataset} knows. GSM8K sizes/hashes were computed from the files of
 * github.com/openai/grade-school-math (`grade_school_math/data/*.jsonl`). MMLU's official
 * release is one tarball whose hash is not recorded here (optional check; pass your own via
 * a custom manifest when you pin it).
 */
export const DATASET_MANIFEST = {
  gsm8k: {
    homepage: 'https://github.com/openai/grade-school-math',
    license: 'MIT',
    loadPath: '.',
    files: [
      {
        name: 'train.jsonl',
        url: 'https://raw.githubusercontent.com/openai/grade-school-math/master/grade_school_math/data/train.jsonl',
        size: 4166206,
        sha256: '17f347dc51477c50d4efb83959dbb7c56297aba886e5544ee2aaed3024813465',
      },
      {
        name: 'test.jsonl',
        url: 'https://raw.githubusercontent.com/openai/grade-school-math/master/grade_school_math/data/test.jsonl',
        size: 749738,
        sha256: '3730d312f6e3440559ace48831e51066acaca737f6eabec99bccb9e4b3c39d14',
      },
    ],
  },
  mmlu: {
    homepage: 'https://github.com/hendrycks/test',
    license: 'MIT',
    loadPath: 'data',
    files: [
      {
        name: 'data.tar',
        url: 'https://people.eecs.berkeley.edu/~hendrycks/data.tar',
        size: null,
        sha256: null,
        extract: 'tar',
      },
    ],
  },
} as const satisfies Record<string, ManifestEntry>;

/** Names accepted by {@link downloadDataset}. */
export type DatasetName = keyof typeof DATASET_MANIFEST;
