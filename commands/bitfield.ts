/**
 * (Being written.)
 *
 * @module
 */

import type { CommandSpec } from "../core/command.ts";

/** Commands of this family. */
export const bitfieldCommands: CommandSpec[] = [];
