import type { Command } from '../command';
import { CliError } from '../command';
import { loadImageFile } from '../io';

export const infoCommand: Command = {
  name: 'info',
  summary: 'Decode an image as the pipeline sees it and print its format, sizes and orientation as JSON.',
  usage: 'info <image>',
  details: 'Formats: JPEG and PNG, recognised by content (not by file name); EXIF orientation is applied.',
  options: {},
  positionals: true,
  async run({ positionals, stdout }) {
    if (positionals.length !== 1) throw new CliError('expected exactly one image path', 2);
    const img = loadImageFile(positionals[0]);
    stdout(
      JSON.stringify({
        format: img.format,
        orientation: img.orientation,
        width: img.originalWidth,
        height: img.originalHeight,
        workingWidth: img.image.width,
        workingHeight: img.image.height,
        warnings: img.warnings,
      }) + '\n',
    );
    return 0;
  },
};
