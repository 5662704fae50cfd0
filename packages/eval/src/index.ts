// @atmanrl/eval: public face (named re-exports only).

/** Package name marker; replaced by real exports as the package is built. */
export const PACKAGE_NAME = '@atmanrl/eval';
