// @atmanrl/trainer: the atmanrl CLI's programmatic face.

/** CLI name. */
export const CLI_NAME = 'atmanrl';
