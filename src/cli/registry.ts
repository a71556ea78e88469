import type { Command } from './command';
import { infoCommand } from './commands/info';
import { benchCommand } from './commands/bench';
import { proposalsCommand } from './commands/proposals';
import { importCommand } from './commands/import';
import { forwardCommand } from './commands/forward';
import { trainCommand } from './commands/train';
import { detectCommand } from './commands/detect';
import { evalCommand } from './commands/eval';
import { cacheCommand } from './commands/cache';

/**
 * Every sub-command of `rcnn`. A command is listed here only when it is implemented: the help
 * text never advertises something that does not exist.
 */
export const commands: Command[] = [infoCommand, benchCommand, proposalsCommand, importCommand, forwardCommand, trainCommand, detectCommand, evalCommand, cacheCommand];
